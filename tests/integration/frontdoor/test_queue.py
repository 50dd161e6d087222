"""The callback queue: ordering, claiming (one owner; a concurrent second claim gets
409 ``already_claimed``), logging a guidance contact, closing with advice, and the
conversion into a client record with what was already typed in."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from clients.models import Client, GuidanceContact
from core.db import utcnow
from core.models import AccessLogEntry
from frontdoor.models import HelpRequest, HelpRequestEvent
from tests.integration.frontdoor.conftest import body, form


def _new(client, db, **overrides) -> HelpRequest:
    db.session.commit()  # the request reads the test's rows in its own session
    response = client.post("/api/v1/help-requests", json=body(**overrides))
    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    return db.session.scalar(sa.select(HelpRequest).where(HelpRequest.reference == response.get_json()["reference"]))


@pytest.mark.smoke
def test_the_queue_is_most_urgent_then_oldest_first_and_only_for_staff(client, db, staff, api_token, make_user):
    old = _new(client, db, phone="040 000 0001", topics=["cleaning"])
    safety = _new(client, db, phone="040 000 0002", topics=["shopping", "safety"])
    memory = _new(client, db, phone="040 000 0003", topics=["memory"])
    newer = _new(client, db, phone="040 000 0004", topics=["meals"])
    old.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    headers = api_token(staff)
    items = client.get("/api/v1/help-requests", headers=headers).get_json()["items"]
    assert [i["reference"] for i in items] == [safety.reference, memory.reference, old.reference, newer.reference]
    assert items[0]["urgency"] == 2 and items[0]["callback_due"] <= items[1]["callback_due"]
    assert items[2]["overdue"] in (True, False)
    assert client.get("/api/v1/help-requests").status_code == 401
    manager = make_user("manager")
    assert client.get("/api/v1/help-requests", headers=api_token(manager)).status_code == 403
    bad = client.get("/api/v1/help-requests?status=lost", headers=headers)
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


@pytest.mark.smoke
def test_a_concurrent_second_claim_gets_409_already_claimed(app, client, db, staff, colleague, api_token):
    """Two guidance workers press "claim" at the same moment, ten times over: each
    time exactly one owns the request and the other is told it is already claimed."""
    tokens = {staff.id: api_token(staff), colleague.id: api_token(colleague)}
    winners = []
    for i in range(10):
        req = _new(client, db, phone=f"040 100 00{i:02d}")
        db.session.commit()
        barrier = threading.Barrier(2)
        answers: dict[int, object] = {}

        def press(user_id: int, request_id: int = req.id):
            with app.app_context():
                test_client = app.test_client()
                barrier.wait()
                answers[user_id] = test_client.post(f"/api/v1/help-requests/{request_id}/claim",
                                                    headers=tokens[user_id])

        threads = [threading.Thread(target=press, args=(uid,)) for uid in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [200, 409], codes
        [winner] = [uid for uid, r in answers.items() if r.status_code == 200]
        [loser] = [r for r in answers.values() if r.status_code == 409]
        assert loser.get_json()["error"]["code"] == "already_claimed"
        db.session.expire_all()
        stored = db.session.get(HelpRequest, req.id)
        assert stored.status == "claimed" and stored.claimed_by_id == winner
        claims = db.session.scalar(sa.select(sa.func.count()).select_from(HelpRequestEvent).where(
            HelpRequestEvent.request_id == req.id, HelpRequestEvent.action == "claim"))
        assert claims == 1
        winners.append(winner)
    print("claims won:", {uid: winners.count(uid) for uid in tokens})


def test_only_the_owner_works_on_a_claimed_request(client, db, staff, colleague, login_as):
    req = _new(client, db)
    login_as(colleague)
    assert client.post(f"/front-door/{req.id}/claim").status_code == 302
    client.post("/logout")
    login_as(staff)
    page = client.get(f"/front-door/{req.id}?lang=en").get_data(as_text=True)
    assert "Claim this request" not in page and "Log the contact" not in page
    refused = client.post(f"/front-door/{req.id}/contact", data={"channel": "phone", "outcome": "Soitin."})
    assert refused.status_code == 302
    assert "Only the guidance worker who claimed this request" in client.get(
        f"/front-door/{req.id}?lang=en").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GuidanceContact)) == 0


@pytest.mark.smoke
def test_claim_call_back_and_close_with_advice(client, db, staff, login_as):
    req = _new(client, db)
    login_as(staff)
    assert client.post(f"/front-door/{req.id}/claim").status_code == 302
    # Closing needs the advice written down; nothing changes without it.
    refused = client.post(f"/front-door/{req.id}/close?lang=en", data={"advice": "  "})
    assert refused.status_code == 422 and "This field is required." in refused.get_data(as_text=True)
    logged = client.post(f"/front-door/{req.id}/contact", data={"channel": "phone", "minutes": "15",
                                                                "outcome": "Kerroin siivouspalveluista."})
    assert logged.status_code == 302
    contact = db.session.scalar(sa.select(GuidanceContact))
    assert contact.client_id is None and contact.staff_id == staff.id and contact.topic == "cleaning"
    assert contact.minutes == 15 and contact.channel == "phone"
    closed = client.post(f"/front-door/{req.id}/close", data={"advice": "Siivouspalvelut ja kotitalousvähennys."})
    assert closed.status_code == 302
    db.session.expire_all()
    stored = db.session.get(HelpRequest, req.id)
    assert stored.status == "closed" and stored.advice == "Siivouspalvelut ja kotitalousvähennys."
    assert stored.called_back_at == contact.at and stored.closed_at is not None
    again = client.post(f"/api/v1/help-requests/{req.id}/claim")
    assert again.status_code == 401  # the API needs a token even for a logged-in browser


def test_staff_enter_a_phone_call_through_the_same_form(client, db, staff, login_as):
    login_as(staff)  # commits the test's rows
    partial = client.post("/front-door/new?lang=en", data=form(channel="chat", phone="", postal_code=""))
    assert partial.status_code == 422
    text = partial.get_data(as_text=True)
    assert "Äiti ei enää jaksa siivota." in text and "Give a phone number or an e-mail address" in text
    response = client.post("/front-door/new", data=form(channel="phone", complexity="high"))
    assert response.status_code == 302
    req = db.session.scalar(sa.select(HelpRequest))
    assert req.channel == "phone" and req.created_by_id == staff.id
    assert response.headers["Location"].endswith(f"/front-door/{req.id}")


@pytest.mark.smoke
def test_conversion_into_a_client_record_needs_no_retyping(client, db, staff, login_as):
    req = _new(client, db, email="liisa@example.fi", language="sv", name="Liisa Maria Virtanen")
    login_as(staff)
    client.post(f"/front-door/{req.id}/claim")
    client.post(f"/front-door/{req.id}/contact", data={"channel": "phone", "outcome": "Sovittiin kotikäynnistä."})
    client.post(f"/front-door/{req.id}/assessment", data={"daily_tasks": "some_help", "complexity": "low"})
    # The conversion page is filled in from the request.
    page = client.get(f"/front-door/{req.id}/convert?lang=en").get_data(as_text=True)
    for value in ('value="Liisa Maria"', 'value="Virtanen"', 'value="0401234567"', 'value="liisa@example.fi"',
                  'value="33100"'):
        assert value in page, value
    # Staff add only what the request did not have; a missing address is named.
    fields = {"first_name": "Liisa Maria", "last_name": "Virtanen", "phone": "0401234567",
              "email": "liisa@example.fi", "postal_code": "33100", "languages": ["sv"], "segment": "guidance"}
    refused = client.post(f"/front-door/{req.id}/convert?lang=en", data=fields)
    assert refused.status_code == 422 and db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    response = client.post(f"/front-door/{req.id}/convert", data={
        **fields, "address": "Hämeenkatu 1 A 2", "municipality": "Tampere", "consent_to_share": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    new_client = db.session.scalar(sa.select(Client))
    assert response.headers["Location"].endswith(f"/clients/{new_client.id}")
    assert (new_client.first_name, new_client.last_name, new_client.phone, new_client.email) == (
        "Liisa Maria", "Virtanen", "0401234567", "liisa@example.fi")
    assert new_client.postal_code == "33100" and new_client.languages == ["sv"]
    assert new_client.segment == "guidance" and new_client.responsible_worker_id == staff.id
    stored = db.session.get(HelpRequest, req.id)
    assert stored.status == "converted" and stored.client_id == new_client.id
    # The guidance contact logged during the call now belongs to the client.
    assert db.session.scalar(sa.select(GuidanceContact.client_id)) == new_client.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.client_id == new_client.id, AccessLogEntry.action == "create")) == 1
    # The request cannot be converted twice.
    again = client.post(f"/front-door/{req.id}/convert", data={**fields, "address": "X 1", "municipality": "Y"})
    assert again.status_code == 302 and db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1
