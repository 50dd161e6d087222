"""The public "Ask for help at home" page and ``POST /api/v1/help-requests``: bad and
partial input keeps everything typed, a receipt with the reference and the due
time, the honeypot, ``no_contact``, rate limits and merged duplicates."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from core.models import OutboxJob
from frontdoor.models import HelpRequest
from tests.integration.frontdoor.conftest import body, form


def _count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(HelpRequest))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.smoke
@pytest.mark.parametrize("lang, heading, button", [
    ("fi", "Pyydä apua kotiin", "Lähetä pyyntö"),
    ("sv", "Be om hjälp hemma", "Skicka begäran"),
    ("en", "Ask for help at home", "Send the request"),
])
def test_the_page_needs_no_login_and_speaks_each_language(client, lang, heading, button):
    response = client.get(f"/ask-for-help?lang={lang}")
    page = _text(response)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{heading}</h1>" in page and button in page
    assert 'name="homepage"' in page and 'aria-hidden="true"' in page  # the honeypot, hidden from people


@pytest.mark.smoke
def test_partial_input_is_refused_with_every_problem_named_and_nothing_typed_is_lost(client, db):
    typed = {"for_whom": "neighbour", "topics": ["loneliness", "memory"], "name": "Matti Naapuri",
             "message": "Naapurin rouva on ollut yksin jo viikkoja.\nHän unohtelee asioita.",
             "best_time": "iltaisin", "daily_tasks": "some_help"}
    response = client.post("/ask-for-help?lang=en", data=typed)
    page = _text(response)
    assert response.status_code == 422
    assert _count(db) == 0
    # The error summary names what is missing, each field is marked invalid...
    assert 'class="error-summary"' in page
    assert "Write the postal code as five digits" in page
    assert "Give a phone number or an e-mail address" in page
    assert "We can only call you back if you agree to be contacted" in page
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="postal_code"|<input[^>]*id="postal_code"[^>]*aria-invalid="true"', page)
    # ...and everything typed is still there: text, choices and the optional answers.
    assert "Naapurin rouva on ollut yksin jo viikkoja.\nHän unohtelee asioita." in page
    assert 'value="Matti Naapuri"' in page and 'value="iltaisin"' in page
    for value in ("neighbour", "loneliness", "memory", "some_help"):
        assert re.search(rf'<input[^>]*checked[^>]*value="{value}"|<input[^>]*value="{value}"[^>]*checked', page), value
    assert not re.search(r'<input[^>]*checked[^>]*value="cleaning"|<input[^>]*value="cleaning"[^>]*checked', page)


def test_bad_values_are_named_and_kept_for_correcting(client, db):
    response = client.post("/ask-for-help?lang=en", data=form(phone="soita iltaisin", postal_code="331",
                                                                email="liisa(at)example"))
    page = _text(response)
    assert response.status_code == 422 and _count(db) == 0
    assert "Write the phone number with digits" in page
    assert "Check the e-mail address" in page
    assert "Write the postal code as five digits" in page
    assert 'value="soita iltaisin"' in page and 'value="331"' in page and 'value="liisa(at)example"' in page
    assert "Äiti ei enää jaksa siivota." in page


def test_an_expired_form_token_shows_the_form_again_with_the_text(app, client, db):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/ask-for-help?lang=en", data=form(csrf_token="from-a-long-gone-session"))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    page = _text(response)
    assert response.status_code == 422 and _count(db) == 0
    assert "nothing was lost" in page
    assert "Äiti ei enää jaksa siivota." in page and 'value="Liisa Virtanen"' in page
    assert re.search(r'name="csrf_token"[^>]*value="[^"]{20,}"', page)  # a fresh token to send it with


@pytest.mark.smoke
def test_a_valid_request_ends_with_a_receipt_and_lands_in_the_queue(client, db, rules):
    response = client.post("/ask-for-help?lang=en", data=form(daily_tasks="help_every_day", worry="safety"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/ask-for-help/received")
    receipt = _text(client.get("/ask-for-help/received"))
    req = db.session.scalar(sa.select(HelpRequest))
    assert req.reference in receipt and "They call you back by" in receipt
    assert req.status == "open" and req.channel == "web" and req.phone == "0401234567"
    assert req.topics == ["cleaning", "meals"] and req.message == "Äiti ei enää jaksa siivota."
    assert req.assessment.answers == {"daily_tasks": "help_every_day", "worry": "safety"}
    assert req.assessment.suggested_segment == "intensive"  # the rule: help every day
    assert req.callback_due > req.created_at
    job = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.func == "frontdoor.jobs.escalate_if_overdue"))
    assert job.args == [req.id] and job.run_at > req.callback_due.replace(microsecond=0)


def test_the_honeypot_thanks_a_robot_and_stores_nothing(client, db):
    response = client.post("/ask-for-help", data=form(homepage="http://spam.example"))
    assert response.status_code == 302
    page = _text(client.get("/ask-for-help/received?lang=en"))
    assert "A guidance worker will contact you." in page and "AP-" not in page
    assert _count(db) == 0


@pytest.mark.smoke
def test_api_receipt_and_no_contact(client, db):
    response = client.post("/api/v1/help-requests", json=body(daily_tasks="some_help", worry="being_alone"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    stored = db.session.scalar(sa.select(HelpRequest))
    assert stored.assessment.answers == {"daily_tasks": "some_help", "worry": "being_alone"}
    assert re.fullmatch(r"AP-[A-Z0-9]{6}", data["reference"]) and data["callback_due"].endswith("Z")
    assert data["merged"] is False

    refused = client.post("/api/v1/help-requests", json=body(phone=None, email=None, name="Toinen Ihminen"))
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "no_contact" and set(error["fields"]) == {"phone", "email"}
    assert _count(db) == 1


def test_api_names_every_bad_field(client, db):
    response = client.post("/api/v1/help-requests", json={"for_whom": "cousin", "topics": ["gardening"],
                                                           "postal_code": 33100, "consent_to_contact": False,
                                                           "email": "x@example.fi", "language": "de",
                                                           "worry": "taxes"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"for_whom", "topics", "name", "postal_code", "consent_to_contact", "language",
                                    "worry"}
    bad_answer = client.post("/api/v1/help-requests", json=body(worry="taxes"))
    assert bad_answer.status_code == 422 and set(bad_answer.get_json()["error"]["fields"]) == {"worry"}
    assert client.post("/api/v1/help-requests", data="[1]", content_type="application/json").status_code == 400
    assert client.post("/api/v1/help-requests", json=body(channel="phone")).status_code == 422  # staff only
    # Control characters in a text field are named, not stored (they were stored before).
    bell = client.post("/api/v1/help-requests", json=body(name="Aino\x07 Aaltonen", best_time="aamu\x1b"))
    assert bell.status_code == 422 and set(bell.get_json()["error"]["fields"]) == {"name", "best_time"}
    assert _count(db) == 0


def test_a_second_request_from_the_same_contact_within_a_day_is_merged(client, db):
    first = client.post("/api/v1/help-requests", json=body()).get_json()
    second = client.post("/api/v1/help-requests", json=body(
        phone="+358 40 123 4567", topics=["shopping", "cleaning"], message="Myös kauppa-asiat ovat vaikeita.",
        email="liisa@example.fi")).get_json()
    assert second["reference"] == first["reference"] and second["merged"] is True
    req = db.session.scalar(sa.select(HelpRequest))
    assert _count(db) == 1 and req.merged_count == 1
    assert req.topics == ["cleaning", "meals", "shopping"]
    assert req.message == "Äiti ei enää jaksa siivota.\n\nMyös kauppa-asiat ovat vaikeita."
    assert req.email == "liisa@example.fi"
    # Another person is another request.
    other = client.post("/api/v1/help-requests", json=body(phone="050 765 4321")).get_json()
    assert other["reference"] != first["reference"] and _count(db) == 2


def test_rate_limits_per_contact_and_per_address(app, client, db):
    app.config["FRONTDOOR_MAX_PER_CONTACT_DAY"] = 2
    app.config["FRONTDOOR_MAX_PER_ADDRESS_HOUR"] = 4
    assert client.post("/api/v1/help-requests", json=body()).status_code == 201
    assert client.post("/api/v1/help-requests", json=body()).status_code == 201  # merged
    limited = client.post("/api/v1/help-requests", json=body())
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    # The web form says so on the page, with the text kept.
    page = client.post("/ask-for-help?lang=en", data=form())
    assert page.status_code == 429
    assert "there is no need to send more" in _text(page) and "Äiti ei enää jaksa siivota." in _text(page)
    # Per address: the fifth request from the same address within the hour.
    assert client.post("/api/v1/help-requests", json=body(phone="050 111 2222")).status_code == 429
    assert _count(db) == 1
