"""The staffing pages as staff and agencies use them: forms with clear errors,
times in Finnish time, offers sorted by price and fit, and role-based access."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from core.db import utcnow
from staffing.models import StaffingCoverage, StaffingOffer, StaffingRequest, StaffingShift
from tests import factories as f

pytestmark = pytest.mark.smoke
HELSINKI = ZoneInfo("Europe/Helsinki")


def _local(dt: datetime) -> str:
    return dt.astimezone(HELSINKI).strftime("%Y-%m-%dT%H:%M")


def _form(**overrides) -> dict:
    day = (utcnow() + timedelta(days=4)).astimezone(HELSINKI).replace(hour=7, minute=0, second=0, microsecond=0)
    data = {"unit": "Kotihoito Hervanta", "qualification": "practical_nurse", "postal_code": "33720", "headcount": "2",
            "shifts-0-start": _local(day), "shifts-0-end": _local(day + timedelta(hours=8)),
            "shifts-1-start": _local(day + timedelta(days=1)), "shifts-1-end": _local(day + timedelta(days=1, hours=8)),
            "respond_by": _local(utcnow() + timedelta(days=1)), "note": "Lääkeluvat"}
    data.update(overrides)
    return data


def test_staff_menu_list_and_new_request(client, db, staff, login_as):
    login_as(staff)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/staffing"' in html  # the menu entry appears
    r = client.get("/staffing")
    assert r.status_code == 200 and "New staffing request" in r.get_data(as_text=True)
    assert client.get("/staffing/new").status_code == 200
    r = client.post("/staffing/new", data=_form())
    assert r.status_code == 302
    req = db.session.scalar(sa.select(StaffingRequest))
    assert r.headers["Location"].endswith(f"/staffing/{req.id}")
    assert req.unit == "Kotihoito Hervanta" and req.headcount == 2 and req.status == "open"
    shifts = db.session.scalars(sa.select(StaffingShift).order_by(StaffingShift.start_at)).all()
    assert len(shifts) == 2
    # 07:00 Finnish time is stored as UTC.
    assert shifts[0].start_at.astimezone(HELSINKI).hour == 7 and shifts[0].start_at.tzinfo == timezone.utc
    page = client.get(f"/staffing/{req.id}").get_data(as_text=True)
    assert req.number in page and "No offers yet." in page
    assert req.number in client.get("/staffing").get_data(as_text=True)


@pytest.mark.parametrize("overrides,message", [
    ({"shifts-0-end": None}, "the end must be after the start"),
    ({"headcount": "0"}, "At least one person"),
    ({"respond_by": "2099-01-01T10:00"}, "before the first shift"),
    ({"shifts-0-start": "2020-01-01T07:00", "shifts-0-end": "2020-01-01T15:00"}, "starts in the past"),
    ({"unit": ""}, "Name the home-care unit"),
    ({"postal_code": "3372"}, "postal code"),
])
def test_bad_request_form_is_refused_clearly(client, db, staff, login_as, overrides, message):
    login_as(staff)
    data = _form(**overrides)
    if overrides.get("shifts-0-end", "x") is None:  # an end before the start
        data["shifts-0-end"] = data["shifts-0-start"].replace("T07:", "T06:")
    r = client.post("/staffing/new", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html and "error-summary" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffingRequest)) == 0


def test_agency_inbox_offer_withdraw_and_staff_select(client, db, staff, make_agency, login_as, run_jobs, app):
    cheap = make_agency(name="Edullinen Oy")
    dear = make_agency(name="Kallis Oy")
    login_as(staff)
    client.post("/staffing/new", data=_form(postal_code="33100"))
    req = db.session.scalar(sa.select(StaffingRequest))
    run_jobs()
    client.post("/logout")

    # The expensive agency offers through its inbox.
    login_as(dear)
    inbox = client.get("/staffing/inbox").get_data(as_text=True)
    assert req.number in inbox and "Open requests waiting for your answer" in inbox
    page = client.get(f"/staffing/{req.id}").get_data(as_text=True)
    assert "Make an offer" in page
    r = client.post(f"/staffing/{req.id}/offers", data={
        "headcount": "2", "hourly_rate": "49,90", "note": "Kaksi kokenutta",
        "candidates-0-name": "Laura K.", "candidates-0-qualification": "practical_nurse",
        "candidates-0-description": "6 v", "candidates-1-name": "", "candidates-1-qualification": "practical_nurse"})
    assert r.status_code == 302
    offer = db.session.scalar(sa.select(StaffingOffer).where(StaffingOffer.provider_id == dear.provider_id))
    assert offer.hourly_rate_cents == 4990 and [c["name"] for c in offer.candidates] == ["Laura K.", None]
    assert "Anonymous candidate" in client.get(f"/staffing/{req.id}").get_data(as_text=True)
    bad = client.post(f"/staffing/{req.id}/offers", data={"headcount": "1", "hourly_rate": "lots"})
    assert bad.status_code == 422
    client.post("/logout")

    # The cheap agency offers, withdraws and offers again.
    login_as(cheap)
    client.post(f"/staffing/{req.id}/offers", data={"headcount": "2", "hourly_rate": "39"})
    first = db.session.scalar(sa.select(StaffingOffer).where(StaffingOffer.provider_id == cheap.provider_id))
    assert client.post(f"/staffing/{req.id}/offers/{first.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffingOffer, first.id).status == "withdrawn"
    client.post(f"/staffing/{req.id}/offers", data={"headcount": "2", "hourly_rate": "41,50"})
    inbox = client.get("/staffing/inbox").get_data(as_text=True)
    assert "No open requests waiting for your answer." in inbox and "€41.50" in inbox
    client.post("/logout")

    # Staff see the offers cheapest first and select one: the request is filled.
    login_as(staff)
    html = client.get(f"/staffing/{req.id}").get_data(as_text=True)
    assert html.index("Edullinen Oy") < html.index("Kallis Oy")
    standing = db.session.scalar(sa.select(StaffingOffer).where(StaffingOffer.provider_id == cheap.provider_id,
                                                                StaffingOffer.status == "offered"))
    r = client.post(f"/staffing/{req.id}/offers/{standing.id}/select", follow_redirects=True)
    assert "The request is now filled" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StaffingRequest, req.id).status == "filled"
    assert db.session.get(StaffingOffer, offer.id).status == "not_selected"


def test_reopen_and_cancel_on_the_web(client, db, staff, login_as, run_jobs):
    req = f.StaffingRequestFactory(created_by_id=staff.id, status="closed", respond_by=utcnow() - timedelta(hours=1))
    start = utcnow() + timedelta(days=2)
    f.StaffingShiftFactory(request_id=req.id, start_at=start, end_at=start + timedelta(hours=8))
    login_as(staff)
    page = client.get(f"/staffing/{req.id}").get_data(as_text=True)
    assert "Re-open the request" in page
    bad = client.post(f"/staffing/{req.id}/reopen", data={"respond_by": _local(start + timedelta(hours=1))})
    assert bad.status_code == 422 and "before the first shift" in bad.get_data(as_text=True)
    r = client.post(f"/staffing/{req.id}/reopen", data={"respond_by": _local(utcnow() + timedelta(hours=5))})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffingRequest, req.id).status == "open"
    r = client.post(f"/staffing/{req.id}/cancel", follow_redirects=True)
    assert "Cancel this staffing request?" in r.get_data(as_text=True)  # the second step asks first
    db.session.expire_all()
    assert db.session.get(StaffingRequest, req.id).status == "open"
    r = client.post(f"/staffing/{req.id}/cancel", data={"confirmed": "yes"}, follow_redirects=True)
    assert "has been cancelled" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StaffingRequest, req.id).status == "cancelled"


def test_coverage_form(client, db, make_agency, login_as):
    agency = make_agency(qualifications=(), postal_codes=())
    login_as(agency)
    assert client.get("/staffing/coverage").status_code == 200
    r = client.post("/staffing/coverage", data={"qualifications": ["practical_nurse", "registered_nurse"],
                                                "postal_codes": "33100, 33200\n33720"})
    assert r.status_code == 302
    rows = db.session.execute(sa.select(StaffingCoverage.qualification, StaffingCoverage.postal_code)
                              .where(StaffingCoverage.provider_id == agency.provider_id)).all()
    assert len(rows) == 6
    bad = client.post("/staffing/coverage", data={"qualifications": ["practical_nurse"], "postal_codes": "331"})
    assert bad.status_code == 422 and "331" in bad.get_data(as_text=True)
    assert "33720" in client.get("/staffing/coverage").get_data(as_text=True)


def test_hours_form_after_the_shifts(client, db, make_agency, login_as):
    agency = make_agency()
    past = utcnow() - timedelta(days=2)
    req = f.StaffingRequestFactory(status="filled", respond_by=past - timedelta(days=1))
    f.StaffingShiftFactory(request_id=req.id, start_at=past, end_at=past + timedelta(hours=8))
    f.StaffingRecipientFactory(request_id=req.id, provider_id=agency.provider_id)
    offer = f.StaffingOfferFactory(request_id=req.id, provider_id=agency.provider_id, headcount=1, status="selected")
    login_as(agency)
    assert "Hours to report" in client.get("/staffing/inbox").get_data(as_text=True)
    too_many = client.post(f"/staffing/{req.id}/offers/{offer.id}/hours", data={f"h{offer.id}-hours": "9"})
    assert too_many.status_code == 422 and "At most 8 hours" in too_many.get_data(as_text=True)
    r = client.post(f"/staffing/{req.id}/offers/{offer.id}/hours", data={f"h{offer.id}-hours": "7,5"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffingOffer, offer.id).minutes_worked == 450
    assert "Hours to report" not in client.get("/staffing/inbox").get_data(as_text=True)


def test_access_by_role(client, db, make_user, make_agency, login_as, staff):
    req = f.StaffingRequestFactory()
    sent_to = make_agency()
    f.StaffingRecipientFactory(request_id=req.id, provider_id=sent_to.provider_id)
    cases = [
        (make_user("provider"), "/staffing/inbox", 403),         # a company is not an agency
        (make_agency(), f"/staffing/{req.id}", 404),               # not sent to this agency
        (sent_to, f"/staffing/{req.id}", 200),
        (sent_to, "/staffing", 403),
        (sent_to, "/staffing/new", 403),
        (staff, "/staffing/inbox", 403),
        (make_user("client"), f"/staffing/{req.id}", 403),
        (make_user("manager"), "/staffing", 403),
    ]
    for user, url, status in cases:
        login_as(user)
        assert client.get(url).status_code == status, (user.role, url)
        client.post("/logout")
    assert client.get("/staffing").status_code == 302  # not logged in: to the login page


def test_pages_have_no_inline_script(client, staff, make_agency, login_as, db):
    req = f.StaffingRequestFactory(created_by_id=staff.id)
    f.StaffingShiftFactory(request_id=req.id)
    login_as(staff)
    for url in ("/staffing", "/staffing/new", f"/staffing/{req.id}"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and not re.search(r"\son[a-z]+=", html)


def _queries(app, client, url) -> int:
    from core.extensions import db

    count = {"n": 0}

    def seen(*_args, **_kwargs):
        count["n"] += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    return count["n"]


def test_list_pages_do_not_query_per_row(app, client, db, staff, make_agency, login_as):
    agency = make_agency()

    def add(n):
        for _ in range(n):
            req = f.StaffingRequestFactory(created_by_id=staff.id)
            f.StaffingShiftFactory(request_id=req.id)
            f.StaffingRecipientFactory(request_id=req.id, provider_id=agency.provider_id)
            f.StaffingOfferFactory(request_id=req.id, provider_id=agency.provider_id)
        db.session.commit()

    add(2)
    login_as(staff)
    few = _queries(app, client, "/staffing")
    add(10)
    assert _queries(app, client, "/staffing") == few
    client.post("/logout")
    login_as(agency)
    few = _queries(app, client, "/staffing/inbox")
    add(10)
    assert _queries(app, client, "/staffing/inbox") == few
