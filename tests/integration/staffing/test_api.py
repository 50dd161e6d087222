"""The staffing API as API.md writes it: paths, fields, status codes and who may
call what (others get 403, or 404 for a request not sent to them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.api import iso
from core.db import utcnow
from staffing.models import StaffingCoverage, StaffingRequest
from tests import factories as f
from tests.integration.staffing.conftest import request_body

pytestmark = pytest.mark.smoke


def test_agency_replaces_its_coverage(client, db, api_token, make_agency):
    agency = make_agency(qualifications=("registered_nurse",), postal_codes=("33500",))
    headers = api_token(agency)
    r = client.post("/api/v1/staffing-coverage", headers=headers,
                    json={"qualifications": ["practical_nurse", "home_care_assistant"],
                          "postal_codes": ["33100", "33200"]})
    assert r.status_code == 201
    assert r.get_json() == {"qualifications": ["home_care_assistant", "practical_nurse"],
                            "postal_codes": ["33100", "33200"]}
    db.session.expire_all()
    rows = db.session.execute(sa.select(StaffingCoverage.qualification, StaffingCoverage.postal_code)
                              .where(StaffingCoverage.provider_id == agency.provider_id)).all()
    assert sorted(rows) == [("home_care_assistant", "33100"), ("home_care_assistant", "33200"),
                            ("practical_nurse", "33100"), ("practical_nurse", "33200")]
    assert client.get("/api/v1/staffing-coverage", headers=headers).get_json()["postal_codes"] == ["33100", "33200"]


@pytest.mark.parametrize("body,field", [
    ({"qualifications": ["surgeon"], "postal_codes": ["33100"]}, "qualifications"),
    ({"qualifications": ["practical_nurse"], "postal_codes": ["3310"]}, "postal_codes"),
    ({"qualifications": ["practical_nurse"]}, "postal_codes"),
])
def test_bad_coverage_is_422_naming_the_field(client, api_token, make_agency, body, field):
    r = client.post("/api/v1/staffing-coverage", json=body, headers=api_token(make_agency()))
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("role", ["staff", "client", "manager", "admin", "company provider"])
def test_only_agencies_set_coverage(client, api_token, make_user, role):
    user = make_user("provider") if role == "company provider" else make_user(role)
    r = client.post("/api/v1/staffing-coverage", json={"qualifications": [], "postal_codes": []},
                    headers=api_token(user))
    assert r.status_code == 403


def test_staff_create_a_request(client, db, api_token, staff, run_jobs, make_agency):
    agency = make_agency()
    r = client.post("/api/v1/staffing-requests", json=request_body(), headers=api_token(staff))
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "open" and isinstance(body["id"], int)
    assert body["number"].startswith("SR-") and body["headcount"] == 2 and len(body["shifts"]) == 2
    assert body["offers"] == [] and body["url"].startswith("http://kotiapu.test/staffing/")
    run_jobs()
    seen = client.get(f"/api/v1/staffing-requests/{body['id']}", headers=api_token(agency))
    assert seen.status_code == 200 and seen.get_json()["number"] == body["number"]
    assert "recipients" not in seen.get_json()  # staff only
    assert client.get(f"/api/v1/staffing-requests/{body['id']}", headers=api_token(staff)).get_json()["recipients"] == 1


def _start(hours: float) -> str:
    return iso(utcnow() + timedelta(hours=hours))


@pytest.mark.parametrize("overrides,field", [
    ({"shifts": [{"start": _start(50), "end": _start(49)}]}, "shifts"),            # ends before it starts
    ({"shifts": [{"start": _start(-5), "end": _start(3)}]}, "shifts"),             # in the past
    ({"shifts": []}, "shifts"),
    ({"shifts": [{"start": "tomorrow", "end": _start(60)}]}, "shifts"),
    ({"shifts": [{"start": "2026-05-01T07:00:00", "end": _start(60)}]}, "shifts"),  # no zone
    ({"headcount": 0}, "headcount"),
    ({"headcount": "2"}, "headcount"),
    ({"respond_by": _start(24 * 10)}, "respond_by"),                               # after the first shift
    ({"respond_by": _start(-1)}, "respond_by"),
    ({"qualification": "surgeon"}, "qualification"),
    ({"postal_code": "331"}, "postal_code"),
    ({"unit": "  "}, "unit"),
])
def test_bad_request_is_refused_clearly(client, db, api_token, staff, overrides, field):
    r = client.post("/api/v1/staffing-requests", json=request_body(**overrides), headers=api_token(staff))
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert field in error["fields"] and error["fields"][field][0]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffingRequest)) == 0


def test_body_that_is_not_an_object_is_400(client, api_token, staff):
    r = client.post("/api/v1/staffing-requests", data="[1]", headers={**api_token(staff),
                                                                         "Content-Type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize("role", ["client", "manager", "admin", "provider"])
def test_only_staff_create_requests(client, api_token, make_user, role):
    r = client.post("/api/v1/staffing-requests", json=request_body(), headers=api_token(make_user(role)))
    assert r.status_code == 403


def test_request_is_visible_to_staff_and_agencies_it_was_sent_to_only(client, api_token, make_user, make_agency,
                                                                     new_request, run_jobs):
    covering = make_agency()
    elsewhere = make_agency(postal_codes=("96100",))
    company = make_user("provider")
    req = new_request()
    run_jobs()
    url = f"/api/v1/staffing-requests/{req['id']}"
    assert client.get(url, headers=api_token(make_user("staff"))).status_code == 200
    assert client.get(url, headers=api_token(covering)).status_code == 200
    for other in (elsewhere, company, make_user("client"), make_user("manager"), make_user("admin")):
        r = client.get(url, headers=api_token(other))
        assert r.status_code == 404, other.role
    assert client.get("/api/v1/staffing-requests/999999", headers=api_token(covering)).status_code == 404


def test_agency_offers_and_sees_only_its_own_offers(client, api_token, make_agency, new_request, run_jobs, staff):
    a, b = make_agency(), make_agency()
    req = new_request()
    run_jobs()
    url = f"/api/v1/staffing-requests/{req['id']}"
    r = client.post(f"{url}/offers", headers=api_token(a), json={
        "headcount": 1, "hourly_rate_cents": 3890, "note": "Kokenut lähihoitaja",
        "candidates": [{"name": "Laura K.", "qualification": "practical_nurse", "description": "6 v kotihoidossa"}]})
    assert r.status_code == 201, r.get_json()
    offer = r.get_json()
    assert offer["status"] == "offered" and offer["hourly_rate_cents"] == 3890 and offer["currency"] == "EUR"
    assert offer["candidates"][0]["name"] == "Laura K."
    assert client.post(f"{url}/offers", headers=api_token(b),
                       json={"headcount": 2, "hourly_rate_cents": 4100}).status_code == 201
    seen_by_a = client.get(url, headers=api_token(a)).get_json()["offers"]
    assert [o["provider"]["id"] for o in seen_by_a] == [a.provider_id]
    seen_by_staff = client.get(url, headers=api_token(staff)).get_json()["offers"]
    assert {o["provider"]["id"] for o in seen_by_staff} == {a.provider_id, b.provider_id}


@pytest.mark.parametrize("body,field", [
    ({"headcount": 0, "hourly_rate_cents": 3000}, "headcount"),
    ({"headcount": 3, "hourly_rate_cents": 3000}, "headcount"),     # more than needed
    ({"headcount": 1, "hourly_rate_cents": 0}, "hourly_rate_cents"),
    ({"headcount": 1}, "hourly_rate_cents"),
    ({"headcount": 1, "hourly_rate_cents": 3000, "candidates": [{"name": "X"}]}, "candidates"),
    ({"headcount": 1, "hourly_rate_cents": 3000, "candidates": "Laura"}, "candidates"),
])
def test_bad_offer_is_422(client, api_token, make_agency, new_request, run_jobs, body, field):
    agency = make_agency()
    req = new_request()
    run_jobs()
    r = client.post(f"/api/v1/staffing-requests/{req['id']}/offers", json=body, headers=api_token(agency))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_offer_rules_404_403_409(client, db, api_token, make_agency, make_user, new_request, run_jobs):
    sent_to = make_agency()
    not_sent_to = make_agency(postal_codes=("90100",))
    req = new_request()
    run_jobs()
    url = f"/api/v1/staffing-requests/{req['id']}/offers"
    body = {"headcount": 1, "hourly_rate_cents": 3500}
    assert client.post(url, json=body, headers=api_token(not_sent_to)).status_code == 404
    assert client.post(url, json=body, headers=api_token(make_user("provider"))).status_code == 403
    assert client.post(url, json=body, headers=api_token(make_user("staff"))).status_code == 403
    assert client.post(url, json=body, headers=api_token(sent_to)).status_code == 201
    again = client.post(url, json=body, headers=api_token(sent_to))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_offered"
    # The answer time passes: the request is no longer open.
    db.session.execute(sa.update(StaffingRequest).where(StaffingRequest.id == req["id"])
                       .values(respond_by=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    late = make_agency()
    f.StaffingRecipientFactory(request_id=req["id"], provider_id=late.provider_id)
    r = client.post(url, json=body, headers=api_token(late))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_open"


def test_select_until_filled(client, db, api_token, make_agency, new_request, run_jobs, staff):
    a, b, c = make_agency(), make_agency(), make_agency()
    req = new_request(headcount=3)
    run_jobs()
    url = f"/api/v1/staffing-requests/{req['id']}"
    offers = {}
    for agency, people, rate in ((a, 2, 4200), (b, 1, 3900), (c, 1, 4500)):
        r = client.post(f"{url}/offers", headers=api_token(agency),
                        json={"headcount": people, "hourly_rate_cents": rate})
        offers[agency.provider_id] = r.get_json()["id"]
    headers = api_token(staff)
    # Sorted by price: b (39,00), a (42,00), c (45,00).
    assert [o["provider"]["id"] for o in client.get(url, headers=headers).get_json()["offers"]] == \
        [b.provider_id, a.provider_id, c.provider_id]
    r = client.post(f"{url}/offers/{offers[b.provider_id]}/select", headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "open" and r.get_json()["covered"] == 1
    r = client.post(f"{url}/offers/{offers[a.provider_id]}/select", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "filled" and body["covered"] == 3
    statuses = {o["provider"]["id"]: o["status"] for o in body["offers"]}
    assert statuses == {a.provider_id: "selected", b.provider_id: "selected", c.provider_id: "not_selected"}
    r = client.post(f"{url}/offers/{offers[c.provider_id]}/select", headers=headers)
    assert r.status_code == 409
    assert client.post(f"{url}/offers/999999/select", headers=headers).status_code in (404, 409)
    assert client.post(f"{url}/offers/{offers[a.provider_id]}/select", headers=api_token(a)).status_code == 403


def test_withdrawn_offer_cannot_be_selected(client, api_token, make_agency, new_request, run_jobs, staff):
    agency = make_agency()
    req = new_request()
    run_jobs()
    url = f"/api/v1/staffing-requests/{req['id']}"
    offer = client.post(f"{url}/offers", headers=api_token(agency), json={"headcount": 1, "hourly_rate_cents": 3500})
    offer_id = offer.get_json()["id"]
    r = client.post(f"{url}/offers/{offer_id}/withdraw", headers=api_token(agency))
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    r = client.post(f"{url}/offers/{offer_id}/select", headers=api_token(staff))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "offer_not_available"
    # After withdrawing, the agency may make a new offer.
    assert client.post(f"{url}/offers", headers=api_token(agency),
                       json={"headcount": 2, "hourly_rate_cents": 3400}).status_code == 201


def test_list_is_scoped_and_paged(client, api_token, make_agency, new_request, run_jobs, staff):
    agency = make_agency()
    other = make_agency(postal_codes=("90100",))
    ids = [new_request()["id"] for _ in range(3)]
    run_jobs()
    r = client.get("/api/v1/staffing-requests?limit=2", headers=api_token(staff))
    body = r.get_json()
    assert [i["id"] for i in body["items"]] == ids[::-1][:2] and body["next"].startswith("http://")
    assert len(client.get("/api/v1/staffing-requests", headers=api_token(agency)).get_json()["items"]) == 3
    assert client.get("/api/v1/staffing-requests", headers=api_token(other)).get_json()["items"] == []
    assert client.get("/api/v1/staffing-requests?status=nonsense", headers=api_token(staff)).status_code == 422


def test_openapi_document_lists_the_staffing_calls(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/staffing-coverage", "/staffing-requests", "/staffing-requests/{id}",
                 "/staffing-requests/{id}/offers", "/staffing-requests/{id}/offers/{offer_id}/select"):
        assert path in paths


@pytest.mark.parametrize("lang,one,two", [
    ("fi", "Pyyntöön tarvitaan enintään 1 henkilö.", "Pyyntöön tarvitaan enintään 2 henkilöä."),
    ("sv", "Förfrågan behöver högst 1 person.", "Förfrågan behöver högst 2 personer."),
    ("en", "The request needs 1 person at most.", "The request needs 2 people at most."),
])
def test_too_many_people_is_said_with_the_right_plural(client, api_token, make_agency, new_request, run_jobs,
                                                       lang, one, two):
    agency = make_agency()
    headers = {**api_token(agency), "Accept-Language": lang}
    for needed, message in ((1, one), (2, two)):
        req = new_request(headcount=needed)
        run_jobs()
        r = client.post(f"/api/v1/staffing-requests/{req['id']}/offers", headers=headers,
                        json={"headcount": needed + 1, "hourly_rate_cents": 3000})
        assert r.status_code == 422 and r.get_json()["error"]["fields"]["headcount"] == [message]
