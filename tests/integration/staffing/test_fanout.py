"""The fan-out: a request reaches every approved agency covering its qualification
and postal code, each exactly once, however often the job runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.jobs import enqueue
from core.models import OutboxJob, OutgoingEmail
from staffing.models import StaffingRecipient
from tests import factories as f
from tests.integration.staffing.conftest import emails_to

pytestmark = pytest.mark.smoke


def _recipients(db, request_id):
    db.session.expire_all()
    return set(db.session.scalars(sa.select(StaffingRecipient.provider_id)
                                  .where(StaffingRecipient.request_id == request_id)))


def _emails(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.dedupe_key.like("staffing:%:new:%"))).all()


def test_request_goes_to_every_covering_approved_agency_and_no_one_else(db, make_agency, make_user, new_request,
                                                                        run_jobs):
    covering = [make_agency() for _ in range(3)]
    broad = make_agency(qualifications=("practical_nurse", "registered_nurse"), postal_codes=("33100", "33200"))
    not_covering = [
        make_agency(status="pending"), make_agency(status="suspended"),
        make_agency(qualifications=("registered_nurse",)), make_agency(postal_codes=("33200",)),
    ]
    company = make_user("provider")  # a company that somehow has coverage rows is not an agency
    f.StaffingCoverageFactory(provider_id=company.provider_id)
    req = new_request()
    assert _recipients(db, req["id"]) == set()  # nothing before the job runs
    run_jobs()
    expected = {a.provider_id for a in covering + [broad]}
    assert _recipients(db, req["id"]) == expected
    for agency in covering + [broad]:
        mails = emails_to(db, agency.provider.email)
        assert len(mails) == 1
        assert req["number"] in mails[0].subject and mails[0].sent_at is not None
        assert f"/staffing/{req['id']}" in mails[0].body
    for agency in not_covering + [company]:
        assert emails_to(db, agency.provider.email) == []


def test_running_the_fan_out_again_notifies_nobody_twice(db, make_agency, new_request, run_jobs):
    agencies = [make_agency() for _ in range(4)]
    req = new_request()
    run_jobs()
    for _ in range(2):  # a retried or repeated job: a new outbox row running the same function
        enqueue("staffing.jobs.fan_out_request", req["id"], 250)
        db.session.commit()
        run_jobs()
    assert len(_emails(db)) == 4
    assert _recipients(db, req["id"]) == {a.provider_id for a in agencies}
    # A late-approved agency is found by a repeated run, and only it is notified.
    late = make_agency()
    enqueue("staffing.jobs.fan_out_request", req["id"], 250)
    db.session.commit()
    run_jobs()
    assert len(_emails(db)) == 5 and len(emails_to(db, late.provider.email)) == 1


def test_a_large_round_continues_in_batches(app, db, make_agency, new_request, run_jobs):
    app.config["STAFFING_FANOUT_BATCH"] = 2
    agencies = [make_agency() for _ in range(5)]
    req = new_request()
    run_jobs()
    assert _recipients(db, req["id"]) == {a.provider_id for a in agencies}
    assert len(_emails(db)) == 5
    fan_out_rows = db.session.scalars(sa.select(OutboxJob).where(
        OutboxJob.func == "staffing.jobs.fan_out_request")).all()
    assert len(fan_out_rows) == 3 and all(r.done_at is not None for r in fan_out_rows)  # 2 + 2 + 1


def test_a_batch_is_all_or_nothing(app, db, make_agency, new_request):
    """What a worker dying mid-batch leaves: the batch's transaction never commits,
    so no agency of it is marked as notified and none has a message; the retry does
    the whole batch."""
    from staffing.jobs import fan_out_request

    agencies = [make_agency() for _ in range(3)]
    req = new_request()
    fan_out_request(req["id"], 250)
    db.session.rollback()  # the worker died before the commit
    assert _recipients(db, req["id"]) == set() and _emails(db) == []
    fan_out_request(req["id"], 250)
    fan_out_request(req["id"], 250)
    db.session.commit()
    assert _recipients(db, req["id"]) == {a.provider_id for a in agencies}
    assert len(_emails(db)) == 3


def test_no_fan_out_for_a_request_cancelled_meanwhile(client, db, api_token, staff, make_agency, new_request,
                                                     run_jobs):
    agency = make_agency()
    req = new_request()
    assert client.post(f"/api/v1/staffing-requests/{req['id']}/cancel", headers=api_token(staff)).status_code == 200
    run_jobs()
    assert _recipients(db, req["id"]) == set() and emails_to(db, agency.provider.email) == []


def test_agency_mail_is_in_its_admins_language(db, make_agency, new_request, run_jobs):
    swedish = make_agency(language="sv")
    finnish = make_agency(language="fi")
    new_request()
    run_jobs()
    assert [m.language for m in emails_to(db, swedish.provider.email)] == ["sv"]
    assert [m.language for m in emails_to(db, finnish.provider.email)] == ["fi"]
