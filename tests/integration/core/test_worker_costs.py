"""What the worker costs per job, and that the savings keep its promises: a job
costs a handful of Redis round trips, a long job keeps its heartbeat, a finished job
leaves nothing running behind, and a message is never sent by two deliveries of
its job at once (docs/jobs.md, *Performance*)."""

from __future__ import annotations

import threading
import time

import pytest
import redis.connection
import sqlalchemy as sa
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from core.jobs import enqueue, run_outbox_job
from core.models import OutboxJob, OutgoingEmail
from core.redis import get_redis

pytestmark = pytest.mark.smoke


def _work(app, queue: str = "default") -> None:
    """Run what is queued with the worker `flask worker` uses, in this process."""
    from core.worker import _make_worker

    with app.app_context():
        _make_worker([queue]).work(burst=True, logging_level="WARNING")


def test_a_job_costs_a_handful_of_redis_round_trips(app, db, monkeypatch):
    jobs = 30
    for i in range(jobs):
        enqueue("tests.jobs_for_tests.record_run", f"trips-{i}")
    db.session.commit()
    trips = {"n": 0}
    send = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        trips["n"] += 1
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    _work(app)
    monkeypatch.undo()
    done = db.session.scalar(sa.select(sa.func.count()).where(OutgoingEmail.subject.like("trips-%")))
    assert done == jobs
    # RQ's own worker needs about 20 (three heartbeats of three commands each and two
    # state writes between two jobs); the worker's start and stop are counted too.
    assert trips["n"] / jobs <= 12, f"{trips['n'] / jobs:.1f} Redis round trips per job"


def test_a_long_job_keeps_its_heartbeat_and_leaves_nothing_running(app, db):
    app.config["JOB_HEARTBEAT_SECONDS"] = 1
    row = enqueue("tests.jobs_for_tests.sleep_then_record", "long", 3.2)
    short = enqueue("tests.jobs_for_tests.record_run", "after-long")
    db.session.commit()
    _work(app)
    conn = get_redis()
    from rq.job import Job

    job = Job.fetch(row.rq_job_id, connection=conn)
    assert job.get_status() == "finished"
    # Beaten while it ran (every second here), not only when it started.
    assert (job.last_heartbeat - job.started_at).total_seconds() >= 1.5
    assert StartedJobRegistry("default", connection=conn).count == 0
    assert not list(conn.scan_iter("rq:execution:*")), "an execution outlived its job"
    assert FinishedJobRegistry("default", connection=conn).count == 2
    db.session.expire_all()
    assert [db.session.get(OutboxJob, r.id).attempts for r in (row, short)] == [1, 1]


@pytest.mark.postgres
def test_two_deliveries_of_a_mail_job_at_once_send_it_once(app, db):
    """A retried job can run while its first delivery is still sending (a worker
    that seemed dead was only slow): the second waits for the first and sends nothing."""
    from aiosmtpd.controller import Controller

    from core import mail
    from core.mail import queue_email
    from tests.fixtures import free_port

    received = []

    class SlowServer:
        async def handle_DATA(self, server, session, envelope):
            import asyncio

            await asyncio.sleep(1.0)  # the first delivery is mid-send when the second starts
            received.append(envelope.rcpt_tos)
            return "250 OK"

    port = free_port()
    controller = Controller(SlowServer(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        message = queue_email("asiakas@example.fi", "Tilaus vahvistettu", "Hei!\n")
        db.session.commit()
        row_id = db.session.scalar(sa.select(OutboxJob.id).where(OutboxJob.func == "core.mail.send_email"))
        outcomes = []

        def deliver(delay: float):
            time.sleep(delay)
            with app.app_context():
                try:
                    outcomes.append(run_outbox_job(row_id))
                except Exception as exc:  # noqa: BLE001 - reported below
                    outcomes.append(exc)

        threads = [threading.Thread(target=deliver, args=(d,)) for d in (0, 0.4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        mail._smtp_quit_at_exit()
        controller.stop()
    assert sorted(map(str, outcomes)) == ["sent", "skipped"], outcomes
    assert received == [["asiakas@example.fi"]]
    db.session.expire_all()
    assert db.session.get(OutgoingEmail, message.id).status == "sent"
