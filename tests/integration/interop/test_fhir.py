"""Orders as FHIR R4 Tasks and clients' networks as CareTeams (API.md "Open data"):
every answer is parsed with the R4B models of fhir.resources; the same policy as
the JSON API (no client identity for a provider before acceptance)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.task import Task

from core.models import AccessLogEntry
from tests import factories as f


def _task(client, order_id, headers) -> tuple[Task, dict, bytes]:
    r = client.get(f"/api/v1/fhir/Task/{order_id}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("application/fhir+json")
    return Task.model_validate_json(r.data), r.get_json(), r.data


def _place(client, market, api_token, start: date | None = None) -> int:
    body = {"client_id": market.client.id, "service_type_id": market.service_type.id,
            "start_date": (start or date.today() + timedelta(days=2)).isoformat(), "visits_per_week": 2,
            "minutes_per_visit": 45}
    r = client.post("/api/v1/orders", json=body, headers=api_token(market.staff))
    assert r.status_code == 201
    return r.get_json()["id"]


@pytest.mark.smoke
def test_task_follows_the_referral_and_hides_identity_before_acceptance(client, market, api_token, db):
    order_id = _place(client, market, api_token)
    staff, winner, loser = api_token(market.staff), api_token(market.admins[0]), api_token(market.admins[1])

    task, raw, data = _task(client, order_id, winner)
    assert task.status == "requested" and task.intent == "order"
    assert "for" not in raw and "owner" not in raw and "output" not in raw
    assert b"Aino" not in data and b"Asiakas" not in data and "Hämeenkatu".encode() not in data
    assert {i["valueString"] for i in raw["input"] if "valueString" in i} == {"33100"}
    staff_task, staff_raw, _ = _task(client, order_id, staff)
    assert staff_raw["for"]["reference"] == f"Patient/{market.client.id}"
    assert staff_raw["for"]["display"] == "Aino Asiakas"

    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=winner).status_code == 200
    task, raw, data = _task(client, order_id, winner)
    assert task.status == "accepted"
    assert raw["owner"] == {"reference": f"Organization/{market.providers[0].id}", "display": "Kotiapu 0 Oy"}
    assert raw["for"]["display"] == "Aino Asiakas" and raw["executionPeriod"]["start"]
    task, raw, data = _task(client, order_id, loser)
    assert task.status == "rejected" and b"Aino" not in data and "for" not in raw
    assert raw["statusReason"]["coding"][0]["code"] == "withdrawn"

    # Every read that named the client is in the access log, as for GET /orders/{id}.
    views = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == market.client.id,
                                                               AccessLogEntry.channel == "api")).all()
    assert {(v.actor_role, v.action) for v in views} >= {("staff", "view"), ("provider", "view")}
    assert len([v for v in views if v.actor_role == "provider"]) == 1


def test_task_output_closes_the_loop(client, market, api_token, db):
    order_id = _place(client, market, api_token, start=date.today())
    winner, staff = api_token(market.admins[0]), api_token(market.staff)
    client.post(f"/api/v1/orders/{order_id}/accept", headers=winner)
    for minutes in (40, 50):
        r = client.post(f"/api/v1/orders/{order_id}/visits", headers=winner,
                        json={"date": date.today().isoformat(), "minutes": minutes,
                              "tasks": ["cleaning"]})
        assert r.status_code == 201, r.get_json()
    task, raw, _ = _task(client, order_id, winner)
    assert task.status == "in-progress"
    # An ongoing order ends early only with a reason (orders: `reason_required`).
    assert client.post(f"/api/v1/orders/{order_id}/complete", headers=winner,
                       json={"reason": "The client moved to sheltered housing."}).status_code == 200
    assert client.post(f"/api/v1/orders/{order_id}/close", headers=staff, json={"outcome": "received"}).status_code == 200
    task, raw, _ = _task(client, order_id, staff)
    assert task.status == "completed" and raw["businessStatus"]["coding"][0]["code"] == "closed"
    outputs = {o["type"]["coding"][0]["code"]: o for o in raw["output"] if o["type"]["coding"][0]["code"] != "visit"}
    assert outputs["visits-delivered"]["valueInteger"] == 2
    assert outputs["minutes-delivered"]["valueQuantity"]["value"] == 90
    assert outputs["outcome"]["valueCode"] == "received"
    assert len([o for o in raw["output"] if o["type"]["coding"][0]["code"] == "visit"]) == 2
    assert raw["executionPeriod"]["end"]


def test_cancelled_and_invisible_orders(client, market, api_token, make_user):
    order_id = _place(client, market, api_token)
    staff = api_token(market.staff)
    assert client.post(f"/api/v1/orders/{order_id}/cancel", headers=staff, json={"reason": "Muutti"}).status_code == 200
    task, raw, _ = _task(client, order_id, staff)
    assert task.status == "cancelled" and raw["statusReason"]["text"] == "Muutti"
    outsider = make_user("provider")
    r = client.get(f"/api/v1/fhir/Task/{order_id}", headers=api_token(outsider))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/fhir/Task/{order_id}").status_code == 401
    assert client.get("/api/v1/fhir/Task/999999", headers=staff).status_code == 404


@pytest.mark.smoke
def test_care_team_bundle_for_staff_and_the_client(client, market, api_token, make_user, db):
    f.NetworkMemberFactory(client_id=market.client.id, name="Liisa Hoitaja", organisation="Kotihoito",
                           role="home nurse", starts_on=date.today() - timedelta(days=30))
    db.session.commit()
    order_id = _place(client, market, api_token)
    client.post(f"/api/v1/orders/{order_id}/accept", headers=api_token(market.admins[0]))
    me = make_user("client", client_id=market.client.id)
    for headers in (api_token(market.staff), api_token(me)):
        r = client.get(f"/api/v1/fhir/CareTeam?patient={market.client.id}", headers=headers)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/fhir+json")
        bundle = Bundle.model_validate_json(r.data)
        assert bundle.type == "searchset" and bundle.total == 1 and len(bundle.entry) == 1
        team = bundle.entry[0].resource
        assert isinstance(team, CareTeam) or team.resource_type == "CareTeam"
        CareTeam.model_validate(r.get_json()["entry"][0]["resource"])
        raw = r.get_json()["entry"][0]["resource"]
        assert raw["subject"]["reference"] == f"Patient/{market.client.id}"
        roles = {p["role"][0]["coding"][0]["code"]: p for p in raw["participant"]}
        assert set(roles) == {"worker", "provider", "member"}
        assert roles["provider"]["member"]["display"] == "Kotiapu 0 Oy"
        assert roles["member"]["member"]["display"] == "Liisa Hoitaja" and roles["member"]["period"]["start"]
    logged = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == market.client.id,
                                                                AccessLogEntry.what == "network")).all()
    assert {e.actor_role for e in logged} == {"staff", "client"}


def test_care_team_refusals(client, market, api_token, make_user):
    staff = api_token(market.staff)
    assert client.get("/api/v1/fhir/CareTeam?patient=999999", headers=staff).status_code == 404
    # Beyond what an id column holds: no such client (it was a database error).
    assert client.get("/api/v1/fhir/CareTeam?patient=99999999999", headers=staff).status_code == 404
    for query in ("", "?patient=abc", "?patient=1.5"):
        r = client.get(f"/api/v1/fhir/CareTeam{query}", headers=staff)
        assert r.status_code == 422 and "patient" in r.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/fhir/CareTeam?patient={market.client.id}",
                      headers=api_token(market.admins[0])).status_code == 403
    other = make_user("client")
    assert client.get(f"/api/v1/fhir/CareTeam?patient={market.client.id}", headers=api_token(other)).status_code == 404
    ok = client.get(f"/api/v1/fhir/CareTeam?patient=Patient/{market.client.id}", headers=staff)
    assert ok.status_code == 200
