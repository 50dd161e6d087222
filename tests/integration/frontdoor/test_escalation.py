"""Overdue callbacks are escalated: by the job RQ's scheduler runs at the request's
due time (a real ``flask worker`` process), and by the periodic sweep (a real RQ
worker) as the safety net. Escalation marks the request, writes its timeline and
tells the team address and the worker who claimed it; it happens once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.jobs import enqueue
from core.models import OutboxJob, OutgoingEmail
from frontdoor import services
from frontdoor.models import HelpRequest, HelpRequestEvent
from tests.fixtures import start_worker, stop_worker, wait_for
from tests.integration.frontdoor.conftest import body


def _escalated(db, request_id: int):
    db.session.expire_all()
    at = db.session.scalar(sa.select(HelpRequest.escalated_at).where(HelpRequest.id == request_id))
    db.session.rollback()  # end the read: SQLite writers must not wait for this process
    return at


@pytest.mark.slow
def test_a_real_worker_escalates_the_callback_when_it_falls_due(app, db, worker_env, tmp_path):
    """The service records the escalation job at the due time; after the commit RQ's
    scheduler in `flask worker` runs it then. The test moves the due time to three
    seconds from now (instead of waiting for the next working day)."""
    app.config["FRONTDOOR_ESCALATION_EMAIL"] = "neuvonta@kotiapu.example.fi"
    with app.test_request_context():
        req, _merged = services.submit_help_request(body())
    due = utcnow() + timedelta(seconds=3)
    req.callback_due = due
    job = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.func == "frontdoor.jobs.escalate_if_overdue"))
    assert job.args == [req.id]
    job.run_at = due + timedelta(seconds=1)
    db.session.commit()  # pushed to RQ's scheduled registry now
    assert _escalated(db, req.id) is None
    env = dict(worker_env, FRONTDOOR_ESCALATION_EMAIL="neuvonta@kotiapu.example.fi")
    worker, log = start_worker(env, tmp_path / "worker.log")
    try:
        assert wait_for(lambda: _escalated(db, req.id) is not None, 45, 0.5), (tmp_path / "worker.log").read_text()
    finally:
        stop_worker(worker, log)
    stored = db.session.get(HelpRequest, req.id)
    assert stored.escalated_at >= due and stored.status == "open"
    assert db.session.scalar(sa.select(HelpRequestEvent.action).where(
        HelpRequestEvent.request_id == req.id, HelpRequestEvent.action == "escalated")) == "escalated"
    mail = db.session.scalar(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == "neuvonta@kotiapu.example.fi"))
    assert req.reference in mail.subject and f"/front-door/{req.id}" in mail.body


@pytest.mark.smoke
def test_the_sweep_escalates_overdue_callbacks_once_and_spares_those_called_back(
        app, db, client, api_token, make_user, run_jobs):
    app.config["FRONTDOOR_ESCALATION_EMAIL"] = "neuvonta@kotiapu.example.fi"
    staff = make_user("staff", email="sanna@kotiapu.example.fi")
    headers = api_token(staff)
    refs = [client.post("/api/v1/help-requests", json=body(phone=f"040 555 000{i}")).get_json()["reference"]
            for i in range(3)]
    overdue, called, future = (db.session.scalar(sa.select(HelpRequest).where(HelpRequest.reference == r))
                               for r in refs)
    assert client.post(f"/api/v1/help-requests/{overdue.id}/claim", headers=headers).status_code == 200
    db.session.expire_all()
    past = utcnow() - timedelta(hours=1)
    overdue.callback_due = called.callback_due = past
    called.called_back_at = past - timedelta(hours=2)
    db.session.commit()
    enqueue("frontdoor.jobs.sweep_overdue")
    db.session.commit()
    run_jobs()
    assert overdue.escalated_at is not None and called.escalated_at is None and future.escalated_at is None
    recipients = sorted(db.session.scalars(sa.select(OutgoingEmail.to_address)))
    assert recipients == ["neuvonta@kotiapu.example.fi", "sanna@kotiapu.example.fi"]
    # Queue page and dashboard show it as overdue; a second sweep changes nothing.
    items = client.get("/api/v1/help-requests", headers=headers).get_json()["items"]
    assert {i["reference"]: i["overdue"] for i in items} == {refs[0]: True, refs[1]: False, refs[2]: False}
    enqueue("frontdoor.jobs.sweep_overdue")
    db.session.commit()
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HelpRequestEvent).where(
        HelpRequestEvent.action == "escalated")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)) == 2


def test_the_sweep_erases_the_personal_details_of_requests_finished_long_ago(app, db, client, run_jobs):
    refs = [client.post("/api/v1/help-requests", json=body(phone=f"040 777 000{i}", email=f"h{i}@example.fi"))
            .get_json()["reference"] for i in range(3)]
    old, recent, waiting = (db.session.scalar(sa.select(HelpRequest).where(HelpRequest.reference == r)) for r in refs)
    old.status, old.closed_at, old.advice = "closed", utcnow() - timedelta(days=400), "Neuvoin siivouksessa."
    old.called_back_at = utcnow() - timedelta(days=401)
    recent.status, recent.closed_at = "closed", utcnow() - timedelta(days=10)
    waiting.created_at = utcnow() - timedelta(days=400)
    db.session.commit()
    enqueue("frontdoor.jobs.sweep_overdue")
    db.session.commit()
    run_jobs()
    assert (old.name, old.phone, old.email, old.message, old.advice) == ("–", None, None, None, None)
    assert old.topics == ["cleaning", "meals"] and old.postal_code == "33100" and old.called_back_at is not None
    assert recent.name == "Liisa Virtanen" and waiting.name == "Liisa Virtanen"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HelpRequestEvent).where(
        HelpRequestEvent.action == "erased")) == 1
