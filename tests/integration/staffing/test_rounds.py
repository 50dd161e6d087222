"""A round's life after the fan-out: RQ's scheduler closes it at the answer time
(with a periodic sweep as the safety net), staff are told the offers or the
escalation, select, re-open or cancel, and agencies hear the outcome once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.api import iso
from core.db import utcnow
from core.jobs import enqueue
from core.worker import run_periodic
from staffing.models import StaffingRequest, StaffingShift
from tests import factories as f
from tests.integration.staffing.conftest import emails_to

pytestmark = pytest.mark.smoke


def _pass_answer_time(db, request_id):
    db.session.execute(sa.update(StaffingRequest).where(StaffingRequest.id == request_id)
                       .values(respond_by=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def sweep():
    """The periodic job as the worker runs it: in its own app context and session."""
    from flask import current_app

    with current_app.app_context():
        return run_periodic("staffing.jobs.sweep_rounds")


def _status(db, request_id):
    db.session.expire_all()
    return db.session.get(StaffingRequest, request_id).status


def _offer(client, api_token, agency, request_id, people=1, rate=3800):
    r = client.post(f"/api/v1/staffing-requests/{request_id}/offers", headers=api_token(agency),
                    json={"headcount": people, "hourly_rate_cents": rate})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_closing_is_scheduled_with_rq_at_the_answer_time(db, new_request):
    from rq.registry import ScheduledJobRegistry

    from core.models import OutboxJob
    from core.redis import get_redis

    req = new_request()
    row = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.func == "staffing.jobs.close_round"))
    assert row.args[0] == req["id"] and row.pushed_at is not None
    registry = ScheduledJobRegistry("default", connection=get_redis())
    assert row.rq_job_id in registry.get_job_ids()
    scheduled_at = registry.get_scheduled_time(row.rq_job_id)
    respond_by = db.session.get(StaffingRequest, req["id"]).respond_by
    assert abs((scheduled_at - respond_by).total_seconds()) < 1


def test_close_job_before_the_answer_time_waits_for_it(db, new_request, run_jobs):
    """RQ's scheduler counts whole seconds: a closing job may start a little early.
    It then schedules itself again for the answer time, and leaves the round open."""
    from rq.registry import ScheduledJobRegistry

    from core.models import OutboxJob
    from core.redis import get_redis
    from staffing.jobs import close_round
    from staffing.services import round_key

    req = new_request()
    stored = db.session.get(StaffingRequest, req["id"])
    assert close_round(req["id"], round_key(stored)) == "rescheduled"
    db.session.commit()
    assert _status(db, req["id"]) == "open"
    again = db.session.scalars(sa.select(OutboxJob).where(OutboxJob.func == "staffing.jobs.close_round")
                               .order_by(OutboxJob.id.desc())).first()
    assert again.run_at > stored.respond_by
    assert again.rq_job_id in ScheduledJobRegistry("default", connection=get_redis()).get_job_ids()
    # The job of a round that was re-opened meanwhile does nothing.
    assert close_round(req["id"], "20000101T000000") == "superseded"


def test_round_closes_and_staff_get_the_offers_by_price_once(client, db, api_token, staff, make_agency, new_request,
                                                            run_jobs):
    cheap, dear = make_agency(name="Halpa Oy"), make_agency(name="Kallis Oy")
    req = new_request(headcount=2)
    run_jobs()
    _offer(client, api_token, dear, req["id"], people=2, rate=4900)
    _offer(client, api_token, cheap, req["id"], people=2, rate=3900)
    _pass_answer_time(db, req["id"])
    for _ in range(2):  # the scheduled job and, say, a retry of it
        enqueue("staffing.jobs.close_round", req["id"])
        db.session.commit()
        run_jobs()
    assert _status(db, req["id"]) == "closed"
    assert db.session.get(StaffingRequest, req["id"]).closed_at is not None
    mails = emails_to(db, staff.email)
    assert len(mails) == 1
    assert "please choose" in mails[0].subject and mails[0].language == "en"
    assert mails[0].body.index("Halpa Oy") < mails[0].body.index("Kallis Oy")  # sorted by price
    # Offers are refused once the round is closed.
    late = client.post(f"/api/v1/staffing-requests/{req['id']}/offers", headers=api_token(make_agency()),
                       json={"headcount": 1, "hourly_rate_cents": 3000})
    assert late.status_code in (404, 409)


def test_sweep_closes_overdue_rounds_once(db, staff, make_agency, new_request, run_jobs):
    first, second = new_request(), new_request()
    run_jobs()
    _pass_answer_time(db, first["id"])
    assert sweep()["closed"] == 1
    assert sweep()["closed"] == 0
    assert _status(db, first["id"]) == "closed" and _status(db, second["id"]) == "open"
    # The scheduled job arriving after the sweep finds nothing to do.
    enqueue("staffing.jobs.close_round", first["id"])
    db.session.commit()
    run_jobs()
    assert len(emails_to(db, staff.email)) == 1


def test_no_offers_escalates_to_staff(db, staff, make_agency, new_request, run_jobs):
    make_agency()
    req = new_request()
    run_jobs()
    _pass_answer_time(db, req["id"])
    sweep()
    run_jobs()
    [mail] = emails_to(db, staff.email)
    assert mail.subject.startswith("No offers") and "It was sent to 1 agency." in mail.body


def test_too_few_people_offered_escalates(client, db, api_token, staff, make_agency, new_request, run_jobs):
    agency = make_agency()
    req = new_request(headcount=2)
    run_jobs()
    _offer(client, api_token, agency, req["id"], people=1)
    _pass_answer_time(db, req["id"])
    sweep()
    [mail] = emails_to(db, staff.email)
    assert mail.subject.startswith("Not enough people") and "1 of 2" in mail.body


def test_unfilled_request_near_its_first_shift_escalates_again_once(db, staff, new_request, run_jobs):
    req = new_request()
    run_jobs()
    _pass_answer_time(db, req["id"])
    sweep()
    soon = utcnow() + timedelta(hours=5)
    db.session.execute(sa.update(StaffingShift).where(StaffingShift.request_id == req["id"])
                       .values(start_at=soon, end_at=soon + timedelta(hours=8)))
    db.session.commit()
    assert sweep()["warned"] == 1
    assert sweep()["warned"] == 0
    subjects = [m.subject for m in emails_to(db, staff.email)]
    assert len(subjects) == 2 and "still not filled" in subjects[1]


def test_reopen_gives_a_new_answer_time_and_tells_agencies_once(client, db, api_token, staff, make_agency,
                                                                new_request, run_jobs):
    early = make_agency()
    req = new_request()
    run_jobs()
    offer_id = _offer(client, api_token, early, req["id"])
    _pass_answer_time(db, req["id"])
    sweep()
    late = make_agency()  # approved after the first round
    new_time = utcnow() + timedelta(hours=6)
    headers = api_token(staff)
    url = f"/api/v1/staffing-requests/{req['id']}"
    assert client.post(f"{url}/reopen", headers=headers, json={"respond_by": iso(utcnow() - timedelta(hours=1))}
                       ).status_code == 422
    assert client.post(f"{url}/reopen", headers=headers,
                       json={"respond_by": iso(utcnow() + timedelta(days=30))}).status_code == 422  # after shift 1
    r = client.post(f"{url}/reopen", headers=headers, json={"respond_by": iso(new_time)})
    assert r.status_code == 200 and r.get_json()["status"] == "open"
    assert client.post(f"{url}/reopen", headers=headers, json={"respond_by": iso(new_time)}).status_code == 409
    run_jobs()
    early_mails = [m.subject for m in emails_to(db, early.provider.email)]
    assert len(early_mails) == 2 and "open again" in early_mails[1]
    assert len(emails_to(db, late.provider.email)) == 1  # the new agency gets the request itself
    # The offer made in the first round still stands.
    offers = client.get(url, headers=headers).get_json()["offers"]
    assert [(o["id"], o["status"]) for o in offers] == [(offer_id, "offered")]
    # The old round's scheduled closing, if it fires now, does nothing.
    enqueue("staffing.jobs.close_round", req["id"])
    db.session.commit()
    run_jobs()
    assert _status(db, req["id"]) == "open"


def test_cancel_tells_every_agency_once_and_rejects_waiting_offers(client, db, api_token, staff, make_agency,
                                                                   new_request, run_jobs):
    a, b = make_agency(), make_agency()
    req = new_request()
    run_jobs()
    offer_id = _offer(client, api_token, a, req["id"])
    url = f"/api/v1/staffing-requests/{req['id']}"
    r = client.post(f"{url}/cancel", headers=api_token(staff))
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert [o["status"] for o in r.get_json()["offers"] if o["id"] == offer_id] == ["not_selected"]
    assert client.post(f"{url}/cancel", headers=api_token(staff)).status_code == 409
    run_jobs()
    for agency in (a, b):
        subjects = [m.subject for m in emails_to(db, agency.provider.email)]
        assert len(subjects) == 2 and "cancelled" in subjects[1]
    assert client.post(f"{url}/offers/{offer_id}/select", headers=api_token(staff)).status_code == 409


def test_selected_and_not_selected_agencies_are_told_once(client, db, api_token, staff, make_agency, new_request,
                                                          run_jobs):
    chosen, other = make_agency(), make_agency()
    req = new_request(headcount=1)
    run_jobs()
    chosen_offer = _offer(client, api_token, chosen, req["id"], rate=3500)
    _offer(client, api_token, other, req["id"], rate=3600)
    url = f"/api/v1/staffing-requests/{req['id']}"
    assert client.post(f"{url}/offers/{chosen_offer}/select", headers=api_token(staff)).get_json()["status"] == "filled"
    run_jobs()
    enqueue("staffing.jobs.send_selection_notices", req["id"])  # a repeated notice job
    db.session.commit()
    run_jobs()
    chosen_subjects = [m.subject for m in emails_to(db, chosen.provider.email)][1:]
    other_subjects = [m.subject for m in emails_to(db, other.provider.email)][1:]
    assert len(chosen_subjects) == 1 and "was selected" in chosen_subjects[0]
    assert len(other_subjects) == 1 and "was not selected" in other_subjects[0]


def test_transition_of_other_requests_is_untouched(db, new_request, run_jobs):
    other = f.StaffingRequestFactory(respond_by=utcnow() - timedelta(minutes=5))
    db.session.commit()
    req = new_request()
    _pass_answer_time(db, req["id"])
    from staffing.services import close_round

    assert close_round(req["id"]) is True and close_round(req["id"]) is False
    db.session.commit()
    assert _status(db, other.id) == "open"
