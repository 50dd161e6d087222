"""Jobs whose worker died, and the administrators' jobs page.

- A job abandoned by a dead worker with retries left is retried by RQ itself.
- A job abandoned on its last attempt lands in RQ's failed jobs: the dispatcher writes
  the reason on its outbox row and does not push it again by itself; an administrator
  retries it from the jobs page, and it runs once.
- A row whose attempts are used up is not taken for lost when its RQ record expires.
- A marker left by a pusher that died before enqueueing does not hide the job.
- The jobs page lists queues, failed jobs with their error (no personal data) and the
  outbox rows waiting for Redis, with retry and push buttons, for admins only.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from core import jobs
from core.jobs import dispatch_pending, enqueue
from core.models import OutboxJob, OutgoingEmail
from core.redis import get_redis, reset_clients

pytestmark = pytest.mark.smoke


def _runs(db, marker):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).where(OutgoingEmail.subject == marker))


def _push(db, func="tests.jobs_for_tests.record_run", marker="job") -> OutboxJob:
    row = enqueue(func, marker)
    db.session.commit()
    assert row.pushed_at is not None
    return row


def _abandon(job_id: str, retries_left: int) -> None:
    """What a worker killed mid-job leaves behind (the job dequeued, STARTED, in the
    started registry under an execution nobody heartbeats), then RQ's own maintenance
    once that execution has expired."""
    conn = get_redis()
    job = Job.fetch(job_id, connection=conn)
    Queue(job.origin, connection=conn).remove(job)
    job.retries_left = retries_left
    job.save()
    registry = StartedJobRegistry(job.origin, connection=conn)
    with conn.pipeline() as pipe:
        job.set_status(JobStatus.STARTED, pipeline=pipe)
        registry.add_execution(Execution(id="dead", job_id=job.id, connection=conn), pipe, ttl=1)
        pipe.execute()
    registry.cleanup(timestamp=time.time() + 5)


def _age(db, row_id: int, attempts: int | None = None) -> None:
    """Make the row look pushed an hour ago (the dispatcher looks at stale rows only)."""
    values = {"pushed_at": jobs.utcnow() - timedelta(hours=1)}
    if attempts is not None:
        values["attempts"] = attempts
    db.session.execute(sa.update(OutboxJob).where(OutboxJob.id == row_id).values(**values))
    db.session.commit()


def test_abandoned_job_with_retries_left_is_retried_by_rq(db):
    row = _push(db, marker="retried")
    _abandon(row.rq_job_id, retries_left=len(jobs.RETRY_INTERVALS))
    conn = get_redis()
    assert row.rq_job_id in ScheduledJobRegistry("default", connection=conn).get_job_ids()
    assert row.rq_job_id not in FailedJobRegistry("default", connection=conn).get_job_ids()
    _age(db, row.id, attempts=1)
    assert dispatch_pending() == 0  # RQ has it: the dispatcher neither re-pushes nor marks it
    db.session.expire_all()
    assert db.session.get(OutboxJob, row.id).last_error is None


def test_job_abandoned_on_its_last_attempt_waits_for_an_admin_and_then_runs_once(client, db, make_user, login_as,
                                                                                  run_jobs):
    row = _push(db, marker="given-up")
    _abandon(row.rq_job_id, retries_left=0)
    conn = get_redis()
    assert row.rq_job_id in FailedJobRegistry("default", connection=conn).get_job_ids()
    _age(db, row.id, attempts=jobs.MAX_ATTEMPTS)
    for _ in range(2):
        assert dispatch_pending() == 0
        db.session.expire_all()
        stored = db.session.get(OutboxJob, row.id)
        assert stored.last_error.startswith("AbandonedJobError") and stored.done_at is None
        assert Job.fetch(row.rq_job_id, connection=conn).get_status() == JobStatus.FAILED  # not pushed again
    assert run_jobs(fail_on_error=False) == 0 and _runs(db, "given-up") == 0

    login_as(make_user("admin", language="en"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert row.rq_job_id in page and "tests.jobs_for_tests.record_run" in page and "AbandonedJobError" in page
    r = client.post("/admin/jobs/retry", data={"queue": "default", "job_id": row.rq_job_id}, follow_redirects=True)
    assert "is back on the default queue" in r.get_data(as_text=True)
    run_jobs()
    assert _runs(db, "given-up") == 1
    assert db.session.get(OutboxJob, row.id).done_at is not None
    again = client.post("/admin/jobs/retry", data={"queue": "default", "job_id": row.rq_job_id},
                        follow_redirects=True)
    assert "no longer among the failed jobs" in again.get_data(as_text=True)


def test_given_up_row_is_not_resurrected_when_its_rq_record_expires(db):
    row = _push(db, func="tests.jobs_for_tests.always_fails", marker="expired")
    Job.fetch(row.rq_job_id, connection=get_redis()).delete()  # failure_ttl passed
    db.session.execute(sa.update(OutboxJob).where(OutboxJob.id == row.id).values(last_error="RuntimeError: x"))
    _age(db, row.id, attempts=jobs.MAX_ATTEMPTS)
    assert dispatch_pending() == 0
    assert not Job.exists(row.rq_job_id, connection=get_redis())
    # A row that never ran is lost, and is pushed again (the existing rule).
    fresh = _push(db, marker="lost")
    Job.fetch(fresh.rq_job_id, connection=get_redis()).delete()
    _age(db, fresh.id, attempts=0)
    assert dispatch_pending() == 1


def test_marker_left_by_a_pusher_that_died_before_enqueueing(db, run_jobs):
    jobs._breaker["until"] = time.monotonic() + 60  # the commit's own push does not happen...
    row = enqueue("tests.jobs_for_tests.record_run", "orphan-marker")
    db.session.commit()
    jobs._breaker["until"] = 0.0
    conn = get_redis()
    marker = jobs._MARKER.format(row.id)
    conn.set(marker, "1", ex=jobs._MARKER_TTL)  # ...but its marker was set before the pusher died
    assert dispatch_pending() == 0  # moments later: perhaps a pusher at work; nothing stamped
    db.session.expire_all()
    assert db.session.get(OutboxJob, row.id).pushed_at is None
    conn.expire(marker, jobs._MARKER_TTL - jobs.MARKER_GRACE_SECONDS - 1)  # the grace has passed
    assert dispatch_pending() == 1
    run_jobs()
    assert _runs(db, "orphan-marker") == 1


def test_jobs_page_is_for_admins_only(client, make_user, login_as):
    for role in ("staff", "provider", "client", "manager"):
        login_as(make_user(role))
        assert client.get("/admin/jobs").status_code == 403
        assert client.post("/admin/jobs/retry", data={"queue": "default", "job_id": "x"}).status_code == 403
        assert client.post("/admin/jobs/dispatch").status_code == 403
        client.post("/logout")
    assert client.get("/admin/jobs").status_code == 302


def test_jobs_page_shows_queues_failures_without_personal_data_and_the_outbox(client, db, make_user, login_as,
                                                                              run_jobs):
    failing = _push(db, func="tests.jobs_for_tests.always_fails", marker="maija.meikalainen@example.fi 131052-308T")
    job = Job.fetch(failing.rq_job_id, connection=get_redis())
    job.retries_left = 0
    job.save()
    run_jobs(fail_on_error=False)
    jobs._breaker["until"] = time.monotonic() + 60
    waiting = enqueue("tests.jobs_for_tests.record_run", "waiting")
    db.session.commit()
    jobs._breaker["until"] = 0.0

    admin = make_user("admin", language="en")
    login_as(admin)
    assert 'href="/admin/jobs"' in client.get("/dashboard").get_data(as_text=True)  # the menu entry
    html = client.get("/admin/jobs").get_data(as_text=True)
    for name in jobs.QUEUES:
        assert f'<th scope="row">{name}</th>' in html
    assert failing.rq_job_id in html and "failing on purpose" in html and "RuntimeError" in html
    assert "maija.meikalainen@example.fi" not in html and "131052-308T" not in html
    assert "1 job is waiting for Redis." in html and "tests.jobs_for_tests.record_run" in html
    assert 'name="csrf_token"' in html
    r = client.post("/admin/jobs/dispatch", follow_redirects=True)
    assert "1 job pushed to Redis." in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboxJob, waiting.id).pushed_at is not None
    r = client.post("/admin/jobs/retry", data={"queue": "default", "job_id": failing.rq_job_id},
                    follow_redirects=True)
    assert "is back on the default queue" in r.get_data(as_text=True)
    assert Job.fetch(failing.rq_job_id, connection=get_redis()).get_status() == JobStatus.QUEUED
    assert client.post("/admin/jobs/retry", data={"queue": "nope", "job_id": "x"},
                       follow_redirects=True).status_code == 200


def test_jobs_page_works_while_redis_is_down(client, app, make_user, login_as):
    login_as(make_user("admin", language="en"))
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    reset_clients()
    try:
        r = client.get("/admin/jobs")
        assert r.status_code == 200 and "Redis is not answering" in r.get_data(as_text=True)
    finally:
        reset_clients()
