"""Real ``flask worker`` processes (slow tests).

RQ's scheduler in a real worker closes a round at its answer time.

Exactly once, even when the worker dies: a real ``flask worker`` process is
SIGKILLed in the middle of a fan-out to hundreds of agencies, another worker takes
over, and every agency still has exactly one notification, none twice, none missed.

The worker class is RQ's SimpleWorker (``WORKER_CLASS=simple``, the default): the job
runs inside the worker process, so killing the worker kills the job mid-transaction,
which is the failure this test is about. (RQ's forking Worker runs each job in a
child in its own process group: killing the worker leaves the child to finish the
job, so nothing would be interrupted.) See docs/jobs.md.

RQ finds a dead SimpleWorker's job only when the job's execution heartbeat expires
(job timeout 600 s + 60 s), and the dead worker's scheduler lock expires 61 s after
its last heartbeat. The test does not wait those eleven minutes, and it does not
wait on RQ's clocks at all: it expires the lock, runs RQ's own
``StartedJobRegistry.cleanup`` with the timestamp at which the execution expires
(what the surviving worker's maintenance does then), which schedules the retry after
the first backoff (10 s), and then moves the due retry to its queue as RQ's scheduler
does when that time comes. Every wait is for a condition the test controls, and a
wait fails only when nothing has moved for a while, with the registries' contents.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from core.api import iso
from core.db import utcnow
from core.jobs import QUEUES, RETRY_INTERVALS, dispatch_pending
from core.models import OutboxJob, OutgoingEmail
from providers.models import Provider
from staffing import services
from staffing.models import StaffingCoverage, StaffingRecipient, StaffingRequest
from tests.factories import valid_business_id
from tests.integration.staffing.conftest import emails_to

pytestmark = pytest.mark.slow

AGENCIES = 300
BATCH = 10


def _agencies(db, n: int) -> list[tuple[int, str]]:
    now = utcnow()
    db.session.execute(sa.insert(Provider), [
        {"name": f"Sijaispalvelu {i} Oy", "business_id": valid_business_id(50_000 + i), "kind": "agency",
         "status": "approved", "email": f"agency{i}@sijaiset.example.fi", "languages": ["fi", "sv", "en"][i % 3:][:1],
         "service_areas": ["33100"], "description": "", "created_at": now, "approved_at": now}
        for i in range(n)])
    rows = db.session.execute(sa.select(Provider.id, Provider.email).where(Provider.kind == "agency")).all()
    db.session.execute(sa.insert(StaffingCoverage), [
        {"provider_id": pid, "qualification": "practical_nurse", "postal_code": "33100"} for pid, _ in rows])
    db.session.commit()
    return rows


def _status(db, request_id: int) -> str:
    db.session.expire_all()
    status = db.session.get(StaffingRequest, request_id).status
    db.session.rollback()
    return status


def _start_worker(env: dict, log_path, cron: bool = True) -> subprocess.Popen:
    from tests.conftest import ROOT

    log = open(log_path, "a")
    # A session of its own: the worker, its RQ scheduler and its cron process form one
    # process group, killed together as when their machine or container dies.
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", *([] if cron else ["--no-cron"])],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the scheduler and cron children, if left
    except ProcessLookupError:
        pass
    proc.wait(5)


def _progress(db, request_id: int) -> tuple[int, int]:
    """(agencies recorded as recipients, notifications delivered)."""
    recipients = db.session.scalar(sa.select(sa.func.count()).select_from(StaffingRecipient)
                                   .where(StaffingRecipient.request_id == request_id))
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)
                             .where(OutgoingEmail.dedupe_key.like(f"staffing:{request_id}:new:%"),
                                    OutgoingEmail.sent_at.is_not(None)))
    db.session.rollback()  # end the read: SQLite writers must not wait for this process
    return recipients, sent


def _registries(conn) -> str:
    lines = []
    for name in QUEUES:
        q = Queue(name, connection=conn)
        lines.append(f"{name}: queued {q.count}, started {StartedJobRegistry(name, connection=conn).count}, "
                     f"scheduled {ScheduledJobRegistry(name, connection=conn).count}, "
                     f"failed {q.failed_job_registry.count}")
    return "\n".join(lines)


def _unfinished(conn) -> str:
    """The outbox rows not done and the e-mails not sent, with what RQ knows of their
    jobs: what a failure needs to be understood."""
    from core.extensions import db

    rows = db.session.execute(sa.select(OutboxJob.id, OutboxJob.func, OutboxJob.args, OutboxJob.pushed_at,
                                        OutboxJob.attempts, OutboxJob.last_error)
                              .where(OutboxJob.done_at.is_(None))).all()
    unsent = db.session.scalars(sa.select(OutgoingEmail.id).where(OutgoingEmail.sent_at.is_(None))).all()
    db.session.rollback()
    lines = [f"e-mails not sent: {unsent}"]
    for row in rows:
        job = Job.fetch(f"outbox-{row.id}", connection=conn) if Job.exists(f"outbox-{row.id}", connection=conn) else None
        lines.append(f"outbox-{row.id} {row.func}{tuple(row.args)} pushed={row.pushed_at} attempts={row.attempts} "
                     f"error={row.last_error!r} rq={job.get_status() if job else 'no job'}")
    return "\n".join(lines)


def _wait(condition, timeout: float, what: str, log_path, progress=None, conn=None) -> None:
    """Wait until ``condition()``. With ``progress`` (a function whose value changes
    while work is being done) the timeout counts from the last change, so a slow
    machine is not taken for a stuck worker."""
    deadline = time.monotonic() + timeout
    last = progress() if progress else None
    while time.monotonic() < deadline:
        if condition():
            return
        if progress:
            now = progress()
            if now != last:
                last, deadline = now, time.monotonic() + timeout
        time.sleep(0.05)
    state = f"\nprogress: {last}\n{_registries(conn)}\n{_unfinished(conn)}" if conn is not None else ""
    raise AssertionError(f"timed out waiting for {what}{state}\n" + log_path.read_text()[-4000:])


def _fast_forward_past_dead_worker(conn) -> list[str]:
    """What RQ does once the dead worker's execution heartbeat has expired (and its
    scheduler lock with it): the surviving worker's maintenance runs RQ's own cleanup,
    which schedules a retry of each abandoned job after the first backoff; when that
    time comes, RQ's scheduler moves the retry to its queue. A job the dead worker had
    already taken off its queue but not yet started sits in RQ's intermediate queue:
    the maintenance fails it (and so retries it) once it has seen it there for a
    minute. All of this is done here at once, with RQ's own registries and cleanup
    code. Returns the ids of the abandoned jobs that were running."""
    abandoned = []
    survivor = SimpleWorker(list(QUEUES), connection=conn)  # never started: RQ's cleanup wants one
    for name in QUEUES:
        conn.delete(f"rq:scheduler-lock:{name}")  # TTL 61 s after the dead scheduler's last heartbeat
        queue = Queue(name, connection=conn)
        registry = StartedJobRegistry(name, connection=conn)
        entries = conn.zrange(registry.key, 0, -1, withscores=True)
        if entries:
            abandoned += [(m.decode() if isinstance(m, bytes) else m).split(":")[0] for m, _score in entries]
            registry.cleanup(timestamp=max(score for _member, score in entries) + 1)
        intermediate = queue.intermediate_queue
        for job_id in intermediate.get_job_ids():
            intermediate.set_first_seen(job_id)
            conn.set(intermediate.get_first_seen_key(job_id), time.time() - 120)  # seen two minutes ago
        intermediate.cleanup(survivor, queue)
        scheduled = ScheduledJobRegistry(name, connection=conn)
        for job_id in scheduled.get_jobs_to_schedule(timestamp=int(time.time()) + RETRY_INTERVALS[0] + 1):
            job = Job.fetch(job_id, connection=conn)
            scheduled.remove(job)
            queue.enqueue_job(job)
    return abandoned


@pytest.mark.parametrize("phase", ["fan-out", "sending"])
def test_worker_killed_mid_fan_out_every_agency_notified_exactly_once(app, db, worker_env, staff, tmp_path, phase):
    from core.redis import get_redis

    agencies = _agencies(db, AGENCIES)
    app.config["STAFFING_FANOUT_BATCH"] = BATCH  # many jobs, so the kill lands mid-way
    start = utcnow() + timedelta(days=2)
    req = services.create_request(staff, unit="Kotihoito Keskusta", qualification="practical_nurse",
                                  postal_code="33100", shifts=[(start, start + timedelta(hours=8))], headcount=3,
                                  respond_by=utcnow() + timedelta(hours=12))
    db.session.commit()  # pushes the fan-out job to Redis
    env = dict(worker_env, WORKER_CLASS="simple", LOG_LEVEL="INFO")
    log_path = tmp_path / "workers.log"

    conn = get_redis()
    queue, index = ("default", 0) if phase == "fan-out" else ("mail", 1)
    running = StartedJobRegistry(queue, connection=conn)

    first = _start_worker(env, log_path, cron=False)  # only the phase's jobs run on it
    try:
        # A third of the phase done, then freeze the worker (SIGSTOP) and look: if it is
        # inside a job of the phase, kill it there; if it is between two jobs, let it
        # go on and look again.
        deadline = time.monotonic() + 90
        while True:
            assert time.monotonic() < deadline, "never caught mid-job\n" + log_path.read_text()[-4000:]
            if _progress(db, req.id)[index] >= AGENCIES // 3:
                os.killpg(first.pid, signal.SIGSTOP)
                if conn.zcard(running.key) > 0:
                    break
                os.killpg(first.pid, signal.SIGCONT)
            time.sleep(0.01)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        _stop(first)
    at_kill = _progress(db, req.id)[index]
    assert 0 < at_kill < AGENCIES, "the worker was not killed mid-way"
    [abandoned] = _fast_forward_past_dead_worker(conn)  # the job the dead worker was running
    # A job the dead worker had popped but not started is in no queue: the dispatcher
    # pushes it again once it is stale (30 minutes); fast-forwarded here.
    dispatch_pending(stale_after=timedelta(0))
    # RQ retries it (it was still running, so it is queued again), unless the kill came
    # after RQ had recorded its end; either way nothing of it is left half-done.
    assert Job.fetch(abandoned, connection=conn).get_status() in ("queued", "finished"), _registries(conn)

    second = _start_worker(env, log_path)
    try:
        _wait(lambda: _progress(db, req.id) == (AGENCIES, AGENCIES), 60, "every agency notified", log_path,
              progress=lambda: _progress(db, req.id), conn=conn)

        def jobs_left() -> int:
            left = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob)
                                     .where(OutboxJob.done_at.is_(None), OutboxJob.func != "staffing.jobs.close_round"))
            db.session.rollback()
            return left

        _wait(lambda: jobs_left() == 0, 60, "every job done", log_path, progress=jobs_left, conn=conn)
    finally:
        _stop(second)

    db.session.expire_all()
    per_agency = dict(db.session.execute(
        sa.select(OutgoingEmail.to_address, sa.func.count()).where(
            OutgoingEmail.dedupe_key.like(f"staffing:{req.id}:new:%")).group_by(OutgoingEmail.to_address)).all())
    assert per_agency == {email: 1 for _pid, email in agencies}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)
                             .where(OutgoingEmail.sent_at.is_(None))) == 0
    recipients = db.session.scalars(sa.select(StaffingRecipient.provider_id)
                                    .where(StaffingRecipient.request_id == req.id)).all()
    assert sorted(recipients) == sorted(pid for pid, _email in agencies)


def test_a_real_worker_closes_the_round_at_the_answer_time(app, db, new_request, worker_env, staff, tmp_path):
    """RQ's scheduler inside `flask worker` runs the closing job when its time comes."""
    req = new_request(respond_by=iso(utcnow() + timedelta(seconds=3)))
    log_path = tmp_path / "worker.log"
    proc = _start_worker(dict(worker_env, LOG_LEVEL="INFO"), log_path, cron=False)  # no sweep: the scheduler only
    try:
        _wait(lambda: _status(db, req["id"]) == "closed", 40, "the round to close", log_path)
        stored = db.session.get(StaffingRequest, req["id"])
        assert stored.closed_at >= stored.respond_by
        db.session.rollback()

        def told() -> bool:
            sent = db.session.scalar(sa.select(OutgoingEmail.sent_at).where(OutgoingEmail.to_address == staff.email))
            db.session.rollback()
            return sent is not None

        _wait(told, 20, "the staff member to be told", log_path)
    finally:
        _stop(proc)
    [mail] = emails_to(db, staff.email)
    assert mail.subject.startswith("No offers") and req["number"] in mail.subject  # no agency covers it here
