"""The service-order API of API.md: paths, fields and status codes."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.models import AccessLogEntry
from orders.models import Offer, ServiceOrder
from tests import factories as f

pytestmark = pytest.mark.smoke


def _order_body(market, **kw):
    body = {"client_id": market.client.id, "service_type_id": market.service_type.id,
            "start_date": (date.today() + timedelta(days=2)).isoformat(), "visits_per_week": 2,
            "minutes_per_visit": 60, "instructions": "Avain naapurilla."}
    body.update(kw)
    return body


def test_place_order_offers_every_eligible_provider(client, market, api_token):
    headers = api_token(market.staff)
    r = client.post("/api/v1/orders", json=_order_body(market), headers=headers)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "offered" and body["number"].startswith("SO-")
    assert sorted(o["provider_id"] for o in body["offers"]) == sorted(p.id for p in market.providers)
    assert all(o["status"] == "pending" for o in body["offers"])
    assert body["url"].startswith("http://")


def test_place_order_to_chosen_providers(client, market, api_token):
    r = client.post("/api/v1/orders", json=_order_body(market, provider_ids=[market.providers[1].id]),
                    headers=api_token(market.staff))
    assert r.status_code == 201
    assert [o["provider_id"] for o in r.get_json()["offers"]] == [market.providers[1].id]


def test_no_consent(client, market, api_token, db):
    market.client.consent_to_share = False
    db.session.commit()
    r = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_consent"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 0


def test_no_eligible_provider(client, market, api_token, db):
    market.client.postal_code = "99999"
    db.session.commit()
    r = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_eligible_provider"


def test_language_and_approval_decide_eligibility(client, market, api_token, db):
    market.client.languages = ["sv"]
    db.session.commit()
    r = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff))
    assert r.get_json()["error"]["code"] == "no_eligible_provider"
    swedish = f.ProviderFactory(languages=["sv", "fi"])
    f.OfferingFactory(provider=swedish, service_type=market.service_type, languages=["sv", "fi"])
    pending = f.ProviderFactory(status="pending", languages=["sv"])
    f.OfferingFactory(provider=pending, service_type=market.service_type, languages=["sv"])
    db.session.commit()
    r = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff))
    assert [o["provider_id"] for o in r.get_json()["offers"]] == [swedish.id]


def test_ineligible_provider_is_named(client, market, api_token, db):
    outsider = f.ProviderFactory()
    db.session.commit()
    r = client.post("/api/v1/orders", json=_order_body(market, provider_ids=[market.providers[0].id, outsider.id]),
                    headers=api_token(market.staff))
    error = r.get_json()["error"]
    assert r.status_code == 422 and error["code"] == "ineligible_provider"
    assert str(outsider.id) in error["message"] and "provider_ids" in error["fields"]


@pytest.mark.parametrize("body,fields", [
    ({}, {"client_id", "service_type_id", "start_date"}),
    ({"client_id": "1", "service_type_id": 1, "start_date": "2026-13-01"}, {"client_id", "start_date"}),
    ({"client_id": 1, "service_type_id": 1, "start_date": "2026-12-01", "visits_per_week": 0,
      "provider_ids": "all"}, {"visits_per_week", "provider_ids"}),
])
def test_validation_errors_name_the_fields(client, market, api_token, body, fields):
    r = client.post("/api/v1/orders", json=body, headers=api_token(market.staff))
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == fields


def test_malformed_body_and_wrong_role(client, market, api_token):
    r = client.post("/api/v1/orders", data="{oops", content_type="application/json", headers=api_token(market.staff))
    assert r.status_code == 400
    r = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.members[0]))
    assert r.status_code == 403
    assert client.post("/api/v1/orders", json=_order_body(market)).status_code == 401


def test_provider_sees_no_identity_before_winning(client, market, api_token, db):
    order_id = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff)).get_json()["id"]
    headers = api_token(market.members[0])
    body = client.get(f"/api/v1/orders/{order_id}", headers=headers).get_json()
    assert body["client"] == {"postal_code": "33100", "languages": ["fi"]}
    assert body["client_id"] is None and "Aino" not in str(body) and "Hämeenkatu" not in str(body)
    assert [o["provider_id"] for o in body["offers"]] == [market.providers[0].id]
    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=headers).status_code == 200
    body = client.get(f"/api/v1/orders/{order_id}", headers=headers).get_json()
    assert body["client"]["first_name"] == "Aino" and body["client"]["address"]
    # The loser sees the order only as taken, still without identity.
    loser = client.get(f"/api/v1/orders/{order_id}", headers=api_token(market.members[1])).get_json()
    assert "first_name" not in loser["client"]
    assert loser["offers"][0]["status"] == "withdrawn"


def test_accept_race_answers(client, market, api_token, db):
    order_id = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff)).get_json()["id"]
    first = client.post(f"/api/v1/orders/{order_id}/accept", headers=api_token(market.members[0]))
    assert first.status_code == 200
    assert first.get_json() == {"id": order_id, "number": first.get_json()["number"], "status": "accepted",
                                "provider_id": market.providers[0].id}
    second = client.post(f"/api/v1/orders/{order_id}/accept", headers=api_token(market.members[1]))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_taken"
    stranger = api_token(f_member(db))
    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/orders/{order_id}", headers=stranger).status_code == 404


def f_member(db):
    from tests.factories import ProviderFactory, UserFactory

    user = UserFactory(role="provider", provider_id=ProviderFactory().id, provider_role="admin")
    db.session.commit()
    return user


def test_declined_offer_cannot_be_accepted(client, market, api_token):
    order_id = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff)).get_json()["id"]
    headers = api_token(market.members[0])
    r = client.post(f"/api/v1/orders/{order_id}/decline", json={"reason": "Ei kapasiteettia"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["offer_status"] == "declined"
    r = client.post(f"/api/v1/orders/{order_id}/accept", headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "offer_not_pending"
    r = client.post(f"/api/v1/orders/{order_id}/decline", json={}, headers=api_token(market.members[1]))
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]


def test_all_decline_escalates(client, market, api_token, db):
    order_id = client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff)).get_json()["id"]
    for member in market.members:
        client.post(f"/api/v1/orders/{order_id}/decline", json={"reason": "Ei tekijöitä"}, headers=api_token(member))
    body = client.get(f"/api/v1/orders/{order_id}", headers=api_token(market.staff)).get_json()
    assert body["status"] == "escalated"
    events = client.get(f"/api/v1/orders/{order_id}/events", headers=api_token(market.staff)).get_json()["items"]
    assert events[-1]["to_status"] == "escalated" and events[-1]["from_status"] == "offered"


def test_visits_complete_close(client, market, api_token, db):
    staff, provider = api_token(market.staff), api_token(market.members[0])
    order_id = client.post("/api/v1/orders", json=_order_body(market, start_date=date.today().isoformat()),
                           headers=staff).get_json()["id"]
    client.post(f"/api/v1/orders/{order_id}/accept", headers=provider)
    r = client.post(f"/api/v1/orders/{order_id}/complete", headers=provider)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_visits"
    visit = {"date": date.today().isoformat(), "minutes": 45, "tasks": ["siivous", "kauppa"], "note": "Kaikki hyvin"}
    other = api_token(market.members[1])
    assert client.post(f"/api/v1/orders/{order_id}/visits", json=visit, headers=other).status_code == 404
    r = client.post(f"/api/v1/orders/{order_id}/visits", json=visit, headers=provider)
    assert r.status_code == 201 and r.get_json()["minutes"] == 45
    assert client.get(f"/api/v1/orders/{order_id}", headers=staff).get_json()["status"] == "in_progress"
    bad = client.post(f"/api/v1/orders/{order_id}/visits", json={"date": "tomorrow", "minutes": -5}, headers=provider)
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"date", "minutes"}
    r = client.post(f"/api/v1/orders/{order_id}/close", json={"outcome": "received"}, headers=staff)
    assert r.status_code == 409  # only from completed
    assert client.post(f"/api/v1/orders/{order_id}/complete", json={"reason": "Asiakas muutti"},
                       headers=provider).get_json()["status"] == "completed"
    r = client.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "late"}, headers=staff)
    assert r.status_code == 409  # not after completed
    r = client.post(f"/api/v1/orders/{order_id}/close", json={"outcome": "not_received"}, headers=staff)
    assert r.status_code == 422 and "note" in r.get_json()["error"]["fields"]
    r = client.post(f"/api/v1/orders/{order_id}/close", json={"outcome": "received", "note": "Asiakas tyytyväinen"},
                    headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    statuses = [e["to_status"] for e in
                client.get(f"/api/v1/orders/{order_id}/events", headers=staff).get_json()["items"]]
    assert statuses == ["offered", "accepted", "in_progress", "in_progress", "completed", "closed"]


def test_cancel_withdraws_offers(client, market, api_token, db):
    staff = api_token(market.staff)
    order_id = client.post("/api/v1/orders", json=_order_body(market), headers=staff).get_json()["id"]
    assert client.post(f"/api/v1/orders/{order_id}/cancel", json={}, headers=staff).status_code == 422
    r = client.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "Asiakas muutti"}, headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    db.session.expire_all()
    assert {o.status for o in db.session.scalars(sa.select(Offer))} == {"withdrawn"}
    r = client.post(f"/api/v1/orders/{order_id}/accept", headers=api_token(market.members[0]))
    assert r.status_code == 409


def test_list_scoping_and_paging(client, market, api_token, db):
    staff = api_token(market.staff)
    ids = [client.post("/api/v1/orders", json=_order_body(market, provider_ids=[market.providers[i % 2].id]),
                       headers=staff).get_json()["id"] for i in range(5)]
    page = client.get("/api/v1/orders?limit=2", headers=staff).get_json()
    assert [o["id"] for o in page["items"]] == ids[::-1][:2] and page["next"].startswith("http://")
    rest = client.get(page["next"], headers=staff).get_json()
    assert [o["id"] for o in rest["items"]] == ids[::-1][2:4]
    mine = client.get("/api/v1/orders", headers=api_token(market.members[1])).get_json()["items"]
    assert sorted(o["id"] for o in mine) == [ids[1], ids[3]]
    assert client.get("/api/v1/orders?status=bogus", headers=staff).status_code == 422
    assert client.get("/api/v1/orders?limit=0", headers=staff).status_code == 422
    assert client.get("/api/v1/orders?status=offered", headers=staff).get_json()["items"]
    own = client.get("/api/v1/orders", headers=api_token(f.UserFactory(role="client", client_id=market.client.id)))
    assert len(own.get_json()["items"]) == 5


def test_reading_an_order_writes_the_access_log(client, market, api_token, db):
    staff = api_token(market.staff)
    order_id = client.post("/api/v1/orders", json=_order_body(market), headers=staff).get_json()["id"]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry))
    client.get(f"/api/v1/orders/{order_id}", headers=staff)
    after = db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry))
    assert after == before + 1
    entry = db.session.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert entry.client_id == market.client.id and entry.actor_id == market.staff.id and entry.channel == "api"
    # A provider that has not won reads no identity, so no row for it.
    client.get(f"/api/v1/orders/{order_id}", headers=api_token(market.members[0]))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry)) == after


def test_reoffer_escalated_order(client, market, api_token, db):
    staff = api_token(market.staff)
    order_id = client.post("/api/v1/orders", json=_order_body(market, provider_ids=[market.providers[0].id]),
                           headers=staff).get_json()["id"]
    client.post(f"/api/v1/orders/{order_id}/decline", json={"reason": "Ei"}, headers=api_token(market.members[0]))
    r = client.post(f"/api/v1/orders/{order_id}/reoffer", json={"provider_ids": [market.providers[0].id]}, headers=staff)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "ineligible_provider"
    r = client.post(f"/api/v1/orders/{order_id}/reoffer", json={}, headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "offered"
    assert sorted(o["provider_id"] for o in r.get_json()["offers"] if o["status"] == "pending") == \
        sorted(p.id for p in market.providers[1:])
