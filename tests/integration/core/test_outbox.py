"""The job outbox: a job is recorded with the change that causes it, pushed to RQ
after commit, kept when Redis is down and run once when it is back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import jobs
from core.jobs import dispatch_pending, enqueue
from core.models import OutboxJob, OutgoingEmail
from core.redis import reset_clients
from tests.fixtures import run_flask, start_redis

pytestmark = pytest.mark.smoke


def _runs(db, marker):
    return db.session.scalar(sa.select(sa.func.count()).where(OutgoingEmail.subject == marker))


def test_committed_job_is_pushed_and_runs_once(db, run_jobs):
    row = enqueue("tests.jobs_for_tests.record_run", "committed")
    db.session.commit()
    db.session.refresh(row)
    assert row.pushed_at is not None
    assert run_jobs() == 1
    assert _runs(db, "committed") == 1
    row = db.session.get(OutboxJob, row.id)
    assert row.done_at is not None and row.attempts == 1


def test_rolled_back_change_pushes_nothing(db, run_jobs):
    enqueue("tests.jobs_for_tests.record_run", "rolled-back")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob)) == 0
    assert run_jobs() == 0
    assert _runs(db, "rolled-back") == 0


def test_repeated_push_and_delivery_run_the_job_once(db, run_jobs):
    row = enqueue("tests.jobs_for_tests.record_run", "twice")
    db.session.commit()
    row_id = row.id
    # The dispatcher and a second push of the same row are refused by the marker.
    jobs.push_jobs([row_id])
    db.session.execute(sa.update(OutboxJob).where(OutboxJob.id == row_id).values(pushed_at=None))
    db.session.commit()
    dispatch_pending()
    run_jobs()
    # A repeated delivery of a finished job (e.g. a retry after a lost ack) does nothing.
    assert jobs.run_outbox_job(row_id) == "skipped"
    assert _runs(db, "twice") == 1


def test_a_commits_jobs_go_to_redis_in_two_round_trips(db, run_jobs, monkeypatch):
    """Every marker in one pipeline, every job (now and scheduled, any queue) in one
    MULTI/EXEC: a request's push does not grow with its jobs (issue 19, the POSTs)."""
    from datetime import timedelta

    import redis as redis_module
    from rq.registry import ScheduledJobRegistry

    from core.db import utcnow
    from core.redis import get_redis

    round_trips = []
    real_execute = redis_module.client.Pipeline.execute
    real_command = redis_module.Redis.execute_command

    def execute(self, *args, **kwargs):
        round_trips.append(("pipeline", len(self.command_stack)))
        return real_execute(self, *args, **kwargs)

    def command(self, *args, **kwargs):
        round_trips.append(("command", args[0]))
        return real_command(self, *args, **kwargs)

    from rq.utils import get_version

    get_version(get_redis())  # RQ asks the server's version once per client (INFO)
    rows = [enqueue("tests.jobs_for_tests.record_run", "batch-1"),
            enqueue("tests.jobs_for_tests.record_run", "batch-2", queue="mail"),
            enqueue("tests.jobs_for_tests.record_run", "batch-later", at=utcnow() + timedelta(days=2))]
    monkeypatch.setattr(redis_module.client.Pipeline, "execute", execute)
    monkeypatch.setattr(redis_module.Redis, "execute_command", command)
    db.session.commit()
    monkeypatch.undo()
    assert [kind for kind, _ in round_trips] == ["pipeline", "pipeline"], round_trips
    for row in rows:
        db.session.refresh(row)
        assert row.pushed_at is not None
    later = ScheduledJobRegistry("default", connection=get_redis())
    assert f"outbox-{rows[2].id}" in later.get_job_ids()
    assert run_jobs() == 2
    assert _runs(db, "batch-1") == 1 and _runs(db, "batch-2") == 1 and _runs(db, "batch-later") == 0


def test_several_jobs_of_one_queue_in_one_commit_are_each_pushed_with_their_options(db, run_jobs):
    """A commit's jobs that run now go queue by queue in one batch (RQ's
    ``enqueue_many``): each is its own RQ job, with the outbox's retries, time-out
    and failure TTL, and each runs once."""
    from rq.job import Job

    from core.redis import get_redis

    rows = [enqueue("tests.jobs_for_tests.record_run", "many-1"),
            enqueue("tests.jobs_for_tests.record_run", "many-2"),
            enqueue("tests.jobs_for_tests.record_run", "many-mail", queue="mail"),
            enqueue("tests.jobs_for_tests.record_run", "many-report", queue="reports")]
    db.session.commit()
    for row in rows:
        db.session.refresh(row)
        assert row.pushed_at is not None
    found = Job.fetch_many([f"outbox-{row.id}" for row in rows], connection=get_redis())
    assert [job.origin for job in found] == ["default", "default", "mail", "reports"]
    assert [job.timeout for job in found] == [600, 600, 600, 3600]
    assert all(job.retries_left == len(jobs.RETRY_INTERVALS) and job.retry_intervals == jobs.RETRY_INTERVALS
               and job.failure_ttl == 30 * 24 * 3600 for job in found)
    assert run_jobs() == 4
    assert [_runs(db, m) for m in ("many-1", "many-2", "many-mail", "many-report")] == [1, 1, 1, 1]


def test_a_scheduled_job_before_immediate_ones_in_one_commit_pushes_them_all(db, run_jobs):
    """A commit whose first job waits (a deadline) and whose next jobs run now: every
    one reaches Redis in the one MULTI/EXEC. (RQ opened the transaction only at an
    immediate job, after the scheduled job's commands, and redis-py refused the whole
    batch: all of it stayed in the outbox, and the dispatcher failed on it again
    every time.)"""
    from datetime import timedelta

    from rq.registry import ScheduledJobRegistry

    from core.db import utcnow
    from core.redis import get_redis

    rows = [enqueue("tests.jobs_for_tests.record_run", "first-later", at=utcnow() + timedelta(days=2)),
            enqueue("tests.jobs_for_tests.record_run", "then-now"),
            enqueue("tests.jobs_for_tests.record_run", "then-mail", queue="mail")]
    db.session.commit()
    for row in rows:
        db.session.refresh(row)
        assert row.pushed_at is not None
    assert f"outbox-{rows[0].id}" in ScheduledJobRegistry("default", connection=get_redis()).get_job_ids()
    assert run_jobs() == 2
    assert [_runs(db, m) for m in ("first-later", "then-now", "then-mail")] == [0, 1, 1]


def test_a_row_of_the_batch_pushed_already_is_not_pushed_again(db, run_jobs, monkeypatch):
    """A row whose marker is set (the dispatcher pushed it meanwhile) goes the slow
    way and is not enqueued twice; the rest of the batch is pushed."""
    import time

    from core.redis import get_redis

    first = enqueue("tests.jobs_for_tests.record_run", "batch-first")
    db.session.commit()
    assert run_jobs() == 1
    second = enqueue("tests.jobs_for_tests.record_run", "batch-second")
    db.session.commit()
    assert run_jobs() == 1
    # Both rows as if their stamps were missing: the first's job has run and is
    # done, the second's still exists in RQ.
    assert get_redis().exists(jobs._MARKER.format(first.id), jobs._MARKER.format(second.id)) == 2
    # The third is committed but not pushed (as if Redis had been down meanwhile).
    monkeypatch.setitem(jobs._breaker, "until", time.monotonic() + 60)
    third = enqueue("tests.jobs_for_tests.record_run", "batch-third")
    db.session.commit()
    assert db.session.get(OutboxJob, third.id).pushed_at is None
    db.session.commit()
    monkeypatch.setitem(jobs._breaker, "until", 0.0)
    # The second counts as pushed (its job is in RQ: only its stamp was missing).
    assert jobs._push_rows([(second.id, "default", None), (third.id, "default", None)]) == 2
    assert run_jobs() == 1
    assert [_runs(db, f"batch-{n}") for n in ("first", "second", "third")] == [1, 1, 1]


def test_failing_job_keeps_its_error_and_is_retried_by_rq(db, run_jobs):
    from rq import Queue

    from core.redis import get_redis

    row = enqueue("tests.jobs_for_tests.always_fails", "boom")
    db.session.commit()
    run_jobs(fail_on_error=False)
    row = db.session.get(OutboxJob, row.id)
    assert row.done_at is None
    assert "failing on purpose" in row.last_error
    job = Queue("default", connection=get_redis()).fetch_job(row.rq_job_id)
    assert job.retries_left == len(jobs.RETRY_INTERVALS) - 1  # one retry used, more scheduled


def test_change_made_while_redis_is_down_is_kept_and_its_job_runs_once_redis_is_back(
        app, db, own_redis, worker_env):
    from clients.models import Client

    own_redis["proc"].terminate()
    own_redis["proc"].wait(5)
    reset_clients()

    # A change and its job, committed while Redis is unreachable.
    client_row = Client(first_name="Aino", last_name="Virtanen", postal_code="33100", languages=["fi"])
    db.session.add(client_row)
    job = enqueue("tests.jobs_for_tests.record_run", "redis-was-down")
    db.session.commit()  # must not raise
    assert db.session.get(Client, client_row.id) is not None, "the change was lost"
    db.session.refresh(job)
    assert job.pushed_at is None, "the job cannot have been pushed"
    assert dispatch_pending() == 0  # still down: nothing pushed, nothing lost

    # Redis comes back on the same address.
    own_redis["proc"] = start_redis(own_redis["port"])
    reset_clients()
    assert dispatch_pending() == 1
    db.session.refresh(job)
    assert job.pushed_at is not None

    # A real `flask worker` process runs it.
    env = dict(worker_env, REDIS_URL=app.config["REDIS_URL"])
    result = run_flask(["worker", "--burst"], env)
    assert result.returncode == 0, result.stderr[-2000:]
    db.session.expire_all()
    assert _runs(db, "redis-was-down") == 1
    assert db.session.get(OutboxJob, job.id).done_at is not None

    # Dispatching again pushes nothing and a second worker run does nothing.
    assert dispatch_pending() == 0
    run_flask(["worker", "--burst"], env)
    db.session.expire_all()
    assert _runs(db, "redis-was-down") == 1


def test_jobs_lost_by_a_redis_restart_are_pushed_again(app, db, own_redis, run_jobs):
    from datetime import timedelta

    job = enqueue("tests.jobs_for_tests.record_run", "lost-in-restart")
    db.session.commit()
    assert job.pushed_at is not None
    # Redis restarts without persistence: the queued job is gone.
    own_redis["proc"].terminate()
    own_redis["proc"].wait(5)
    own_redis["proc"] = start_redis(own_redis["port"])
    reset_clients()
    db.session.execute(sa.update(OutboxJob).where(OutboxJob.id == job.id)
                       .values(pushed_at=job.pushed_at - timedelta(hours=1)))
    db.session.commit()
    assert dispatch_pending() == 1
    run_jobs()
    assert _runs(db, "lost-in-restart") == 1


def test_a_job_taken_off_its_queue_by_a_worker_that_died_is_pushed_again(app, db, run_jobs):
    """RQ pops from several queues without its intermediate list: a worker killed
    between taking a job and starting it leaves the job 'queued' in no queue. Once
    the row is stale, the dispatcher pushes it again and it runs once."""
    from datetime import timedelta

    from rq import Queue

    from core.db import utcnow
    from core.redis import get_redis

    row = enqueue("tests.jobs_for_tests.record_run", "popped")
    db.session.commit()
    conn = get_redis()
    queue = Queue("default", connection=conn)
    assert conn.lpop(queue.key).decode() == f"outbox-{row.id}"  # the dead worker's pop
    assert dispatch_pending() == 0  # not stale yet: a live worker may be about to start it
    db.session.execute(sa.update(OutboxJob).where(OutboxJob.id == row.id)
                       .values(pushed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert dispatch_pending() == 1
    assert run_jobs() == 1
    assert _runs(db, "popped") == 1


def test_forking_worker_runs_jobs_that_use_the_database(app, db, worker_env):
    """``WORKER_CLASS=fork``: each job runs in a work horse forked from a worker that
    has set the app up once; what the jobs write is committed and visible, once."""
    from core.mail import queue_email

    rows = [enqueue("tests.jobs_for_tests.record_run", f"forked-{i}") for i in range(3)]
    message = queue_email("asiakas@example.fi", "Tilaus vahvistettu", "Hei!\n")
    db.session.commit()
    result = run_flask(["worker", "--burst"], dict(worker_env, WORKER_CLASS="fork"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(ForkingWorker)" in result.stdout
    db.session.expire_all()
    assert [_runs(db, f"forked-{i}") for i in range(3)] == [1, 1, 1]
    message = db.session.get(OutgoingEmail, message.id)
    assert message.status == "stored" and message.sent_at is not None
    for row in rows:
        row = db.session.get(OutboxJob, row.id)
        assert row.done_at is not None and row.attempts == 1 and row.last_error is None


def test_forking_worker_sets_the_app_up_before_it_forks(app, worker_env):
    """The one-time work a horse would otherwise repeat for every job is done in the
    worker: SQLAlchemy's mappers configured, and no database connection left open
    for the horses to inherit."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = (
        "from app import create_app\n"
        "from core.extensions import db\n"
        "from core.worker import prepare_to_fork\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    pending = lambda: sum(not m.configured for m in db.Model.registry.mappers)\n"
        "    before = pending()\n"
        "    prepare_to_fork()\n"
        "    print(before, pending(), db.engine.pool.checkedin(), db.engine.pool.checkedout())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, env=worker_env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    before, after, idle, busy = map(int, result.stdout.split()[-4:])
    assert before > 0, "the models were configured already: the test proves nothing"
    assert (after, idle, busy) == (0, 0, 0)
