"""Background jobs through a transactional outbox and RQ.

``enqueue()`` records an ``OutboxJob`` row in the session of the change that causes
it. When that transaction commits, the rows are pushed to RQ as jobs with the id
``outbox-<row id>``; a rolled-back transaction pushes nothing. If Redis does not take a
push, the row stays with ``pushed_at`` NULL and ``dispatch_pending()`` (run every few
seconds by RQ's cron scheduler inside ``flask worker``, and by ``flask jobs
dispatch``) pushes it later. A Redis marker per row refuses a second push; the worker
marks the row done in the same transaction as the job's own changes, so a repeated
delivery does nothing.

A pusher that dies between setting the marker and enqueueing (e.g. a worker killed
just after committing a job's changes, while pushing the jobs they recorded) leaves a
marker without a job: after ``MARKER_GRACE_SECONDS`` the dispatcher replaces it and
pushes the row.

A worker that dies between taking a job off its queue and starting it leaves a job
that RQ still calls queued but that is in no queue (RQ pops from several queues
without its intermediate list): the dispatcher pushes such a row again once it is
stale.

A worker that dies mid-job (SIGKILL, out of memory, a lost machine) leaves its job in
RQ's StartedJobRegistry; RQ's maintenance finds it once the execution's heartbeat
expires and retries it with the same backoff as a failure (``Retry`` below). When RQ
has no retries left it moves the job to the FailedJobRegistry as abandoned: the
dispatcher then writes that reason on the outbox row (unless the job recorded an error
of its own) and does not push it again by itself (a job that kills its worker every time would otherwise do so forever); an
administrator retries it from the jobs page. A row whose attempts are used up is not
taken for lost when its RQ record later expires.

Jobs are plain functions named by dotted path that take ids and primitives, reload
their rows and commit nothing themselves: ``run_outbox_job`` commits.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta

import redis
import sqlalchemy as sa
from flask import current_app, has_app_context
from rq import Queue, Retry
from rq.job import Job, JobStatus
from werkzeug.utils import import_string

from core.db import utcnow
from core.extensions import db
from core.models import OutboxJob
from core.redis import get_redis

log = logging.getLogger(__name__)

QUEUES = ("default", "mail", "webhooks", "reports")
# Backoff between attempts of a failing job, in seconds.
RETRY_INTERVALS = [10, 60, 300, 900, 3600]
# RQ runs a job at most this many times (the first run and its retries).
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1
ABANDONED = "AbandonedJobError"
_MARKER = "kotiapu:outbox:pushed:{}"
_MARKER_TTL = 30 * 24 * 3600
# A marker without its RQ job older than this was left by a pusher that died between
# the two steps (pushing takes milliseconds; a failed enqueue removes its marker).
MARKER_GRACE_SECONDS = 30
_SESSION_KEY = "outbox_ids"
_COMMITTED_KEY = "outbox_committed_ids"
_ALIVE = "kotiapu:outbox:redis-has-data"

# After a failed push the web process does not try Redis again for a few seconds,
# so an outage costs one connect timeout, not one per request.
_breaker = {"until": 0.0}
BREAKER_SECONDS = 5.0


def enqueue(func, *args, queue: str = "default", at: datetime | None = None, **kwargs) -> OutboxJob:
    """Record a job to run after the current transaction commits.

    ``func`` is a function or its dotted path; ``args``/``kwargs`` must be JSON values
    (ids and primitives, never ORM objects). ``at`` delays the job (RQ's scheduler).
    The row is written with the session's next flush (a request's jobs go in one
    INSERT), so its ``id`` is known from then on.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    path = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
    row = OutboxJob(queue=queue, func=path, args=list(args), kwargs=dict(kwargs), run_at=at)
    db.session.add(row)
    db.session().info.setdefault(_SESSION_KEY, []).append((row, queue, at))
    return row


def _written(entries) -> list:
    """Of the jobs recorded in a session, those whose rows are in its transaction
    (a rolled-back savepoint takes its rows out of the session)."""
    return [e for e in entries if sa.inspect(e[0]).persistent]


def _after_commit(session):
    # A savepoint's release is not the commit: its jobs wait for the outer one.
    if session.in_nested_transaction():
        return
    entries = session.info.pop(_SESSION_KEY, None)
    if entries:
        # (id, queue, run_at): the identity survives the commit's expiry, so the
        # push needs no SELECT of the rows it has just written. The row's values are
        # read now (``after_commit`` comes before the expiry): a job moved to another
        # time before the commit runs at that time.
        committed = []
        for row, queue, at in _written(entries):
            values = sa.inspect(row).dict
            committed.append((sa.inspect(row).identity[0], values.get("queue", queue), values.get("run_at", at)))
        session.info.setdefault(_COMMITTED_KEY, []).extend(committed)


def _after_transaction_end(session, transaction):
    # Pushed once the committed transaction has given its connection back to the
    # pool (``after_commit`` runs while it is still checked out): pushing stamps the
    # outbox rows on a connection of its own, and a request must never hold two
    # pooled connections at once.
    if transaction.parent is None:
        rows = session.info.pop(_COMMITTED_KEY, None)
        if rows:
            _push_rows(rows)


def _after_rollback(session):
    entries = session.info.pop(_SESSION_KEY, None)
    kept = _written(entries or [])
    if kept:  # a savepoint was rolled back: the outer transaction's jobs stay
        session.info[_SESSION_KEY] = kept


def install_outbox_hooks() -> None:
    """Push recorded jobs after every commit of the Flask-SQLAlchemy session."""
    session_class = db.session.session_factory.class_
    if not sa.event.contains(session_class, "after_commit", _after_commit):
        sa.event.listen(session_class, "after_commit", _after_commit)
        sa.event.listen(session_class, "after_transaction_end", _after_transaction_end)
        sa.event.listen(session_class, "after_soft_rollback", lambda s, prev: _after_rollback(s))


def push_jobs(ids: list[int]) -> int:
    """Push the given outbox rows to RQ; returns how many were pushed now.
    Never raises for a Redis outage: the rows stay pending for the dispatcher."""
    if not ids or time.monotonic() < _breaker["until"]:
        return 0
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(OutboxJob.id, OutboxJob.queue, OutboxJob.run_at)
            .where(OutboxJob.id.in_(ids), OutboxJob.pushed_at.is_(None), OutboxJob.done_at.is_(None))
        ).all()
    return _push_rows(rows)


def _push_rows(rows) -> int:
    """Push ``(id, queue, run_at)`` rows, then stamp those pushed. The marker of
    ``_push_one`` keeps a row that the dispatcher pushed meanwhile from running twice.

    A request's jobs take two round trips to Redis whatever their number: every
    marker in one pipeline, then every job whose marker this call set in one
    MULTI/EXEC (all of them in Redis, or none and their markers removed). A row whose
    marker was already there goes the slow way of ``_push_one``."""
    if not rows or time.monotonic() < _breaker["until"]:
        return 0
    pushed = []
    try:
        conn_r = get_redis()
        markers = conn_r.pipeline(transaction=False)
        for row_id, _queue, _run_at in rows:
            markers.set(_MARKER.format(row_id), "1", nx=True, ex=_MARKER_TTL)
        claimed = markers.execute()
        fresh = [row for row, ok in zip(rows, claimed) if ok]
        if fresh:
            _enqueue_rows(conn_r, fresh)
            pushed.extend(row[0] for row in fresh)
        for (row_id, queue, run_at), ok in zip(rows, claimed):
            # False: another pusher is between its marker and its enqueue; the row
            # stays pending and the dispatcher looks again.
            if not ok and _push_one(conn_r, row_id, queue, run_at):
                pushed.append(row_id)
    except redis.exceptions.RedisError as exc:
        _breaker["until"] = time.monotonic() + BREAKER_SECONDS
        log.warning("redis unavailable, %d job(s) kept in the outbox: %s", len(rows) - len(pushed), exc.__class__.__name__)
    if pushed:
        # One statement, so its own transaction: autocommit spares the BEGIN and
        # COMMIT round trips around it (the UPDATE is atomic either way).
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                _stamp_pushed(), {"ids": pushed, "now": utcnow()})
    return len(pushed)


_statements: dict[str, object] = {}


def _stamp_pushed():
    """``UPDATE outbox_jobs SET pushed_at = :now WHERE id IN :ids``, built once."""
    stmt = _statements.get("stamp")
    if stmt is None:
        table = OutboxJob.__table__
        stmt = _statements["stamp"] = (
            sa.update(table).where(table.c.id.in_(sa.bindparam("ids", expanding=True)))
            .values(pushed_at=sa.bindparam("now", type_=table.c.pushed_at.type)))
    return stmt


_RETRY = Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)
_FAILURE_TTL = 30 * 24 * 3600


def _job_timeout(queue: str) -> int:
    return 3600 if queue == "reports" else 600


def _job_options(row_id: int, queue: str) -> dict:
    return {"job_id": f"outbox-{row_id}", "retry": _RETRY, "job_timeout": _job_timeout(queue),
            "failure_ttl": _FAILURE_TTL}


def _enqueue(r: redis.Redis, row_id: int, queue: str, run_at: datetime | None, pipeline=None) -> None:
    """The RQ job of one outbox row (on ``pipeline`` when given: sent with it)."""
    q = Queue(queue, connection=r)
    options = _job_options(row_id, queue)
    if pipeline is not None:
        options["pipeline"] = pipeline
    if run_at is not None and run_at > utcnow():
        q.enqueue_at(run_at, run_outbox_job, row_id, **options)
    else:
        q.enqueue(run_outbox_job, row_id, **options)


def _enqueue_rows(r: redis.Redis, rows) -> None:
    """Enqueue rows whose markers the caller has just set, in one MULTI/EXEC; if that
    fails, remove their markers (the dispatcher pushes them later) and raise.

    The jobs to run now go queue by queue through RQ's ``enqueue_many`` (one SADD of
    the queue for all its jobs, and no dependency set-up per job: outbox jobs have
    none); a delayed job (``run_at`` ahead) goes to RQ's scheduler by ``enqueue_at``
    on the same pipeline."""
    try:
        pipe = r.pipeline()
        # MULTI first: RQ starts the transaction itself at an immediate job's enqueue
        # only if none is open, and a scheduled job (enqueue_at) opens none, so an
        # immediate job after a scheduled one made RQ call MULTI after commands and
        # redis-py refused the whole batch (every such batch stayed in the outbox).
        pipe.multi()
        now = utcnow()
        immediate: dict[str, list] = {}
        for row_id, queue, run_at in rows:
            if run_at is not None and run_at > now:
                _enqueue(r, row_id, queue, run_at, pipeline=pipe)
            else:
                immediate.setdefault(queue, []).append(Queue.prepare_data(
                    run_outbox_job, (row_id,), job_id=f"outbox-{row_id}", retry=_RETRY,
                    timeout=_job_timeout(queue), failure_ttl=_FAILURE_TTL))
        for queue, jobs in immediate.items():
            Queue(queue, connection=r).enqueue_many(jobs, pipeline=pipe)
        pipe.execute()
    except BaseException:
        try:
            r.delete(*(_MARKER.format(row[0]) for row in rows))
        except redis.exceptions.RedisError:
            pass
        raise


def _push_one(r: redis.Redis, row_id: int, queue: str, run_at: datetime | None) -> bool:
    """Push one row unless its marker says it was pushed. True when the job is in
    Redis now (pushed by this call or by an earlier one whose stamp was missing)."""
    marker = _MARKER.format(row_id)
    if not r.set(marker, "1", nx=True, ex=_MARKER_TTL):
        if Job.exists(f"outbox-{row_id}", connection=r):
            return True  # an earlier push took it: only the row's stamp was missing
        if _MARKER_TTL - r.ttl(marker) < MARKER_GRACE_SECONDS:
            return False  # another pusher is between its marker and its enqueue
        # The pusher died between its marker and its enqueue (a worker killed right
        # after committing a job's changes): the marker is all there is. Replace it.
        r.delete(marker)
        if not r.set(marker, "1", nx=True, ex=_MARKER_TTL):
            return False
    try:
        _enqueue(r, row_id, queue, run_at)
    except BaseException:
        try:
            r.delete(marker)
        except redis.exceptions.RedisError:
            pass
        raise
    return True


def dispatch_pending(limit: int = 1000, stale_after: timedelta = timedelta(minutes=30)) -> int:
    """Push outbox rows that Redis did not take, and re-push rows whose RQ job has
    vanished (a Redis restart without persistence) before they ran. A row whose job
    RQ gave up on as abandoned (its worker died on the last attempt) gets that reason
    as its error and stays for an administrator; so does a row whose attempts are
    used up when its RQ record expires. Idempotent."""
    now = utcnow()
    old_enough = now - stale_after
    try:
        # A key that only a Redis which lost its data lacks (restart without
        # persistence, failover to an empty replica): then every pushed job that is
        # no longer in Redis is looked for now, not after ``stale_after``.
        if get_redis().set(_ALIVE, "1", nx=True):
            stale_after = timedelta(0)
    except redis.exceptions.RedisError:
        pass
    with db.engine.connect() as conn:
        pending = conn.execute(
            sa.select(OutboxJob.id).where(OutboxJob.pushed_at.is_(None), OutboxJob.done_at.is_(None))
            .order_by(OutboxJob.id).limit(limit)
        ).scalars().all()
        stale = conn.execute(
            sa.select(OutboxJob.id, OutboxJob.attempts, OutboxJob.last_error,
                      sa.case((OutboxJob.pushed_at < old_enough, True), else_=False).label("old")).where(
                OutboxJob.pushed_at < now - stale_after, OutboxJob.done_at.is_(None),
                sa.or_(OutboxJob.run_at.is_(None), OutboxJob.run_at < now - stale_after),
            ).order_by(OutboxJob.id).limit(limit)
        ).all()
    count = 0
    if stale:
        lost, abandoned = [], {}
        try:
            r = get_redis()
            found = Job.fetch_many([f"outbox-{row.id}" for row in stale], connection=r)
            for row, job in zip(stale, found):
                if job is None:
                    if row.attempts < MAX_ATTEMPTS:
                        lost.append(row.id)
                elif (row.old and job.get_status(refresh=False) == JobStatus.QUEUED
                      and not _waiting_in_queue(r, job)):
                    # Taken off its queue by a worker that died before starting it
                    # (RQ pops from several queues without an intermediate list):
                    # nothing would ever run it. Push it again.
                    job.delete()
                    lost.append(row.id)
                elif row.last_error is None and job.get_status(refresh=False) == JobStatus.FAILED:
                    # Failed without ever raising: RQ gave up because its worker died.
                    reason = _abandoned_reason(job, row.attempts)
                    if reason:
                        abandoned[row.id] = reason
            for i in lost:
                r.delete(_MARKER.format(i))
        except redis.exceptions.RedisError:
            lost, abandoned = [], {}
        if lost:
            with db.engine.begin() as conn:
                conn.execute(sa.update(OutboxJob).where(OutboxJob.id.in_(lost)).values(pushed_at=None))
            pending = sorted(set(pending) | set(lost))
        if abandoned:
            with db.engine.begin() as conn:
                for row_id, reason in abandoned.items():
                    conn.execute(sa.update(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.done_at.is_(None))
                                 .values(last_error=reason))
            log.warning("%d outbox job(s) abandoned by dead workers and given up by RQ: %s",
                        len(abandoned), ", ".join(f"outbox-{i}" for i in abandoned))
    _breaker["until"] = 0.0  # the dispatcher always tries
    if pending:
        count = push_jobs(pending)
    return count


def _waiting_in_queue(r: redis.Redis, job: Job) -> bool:
    """Whether a queued job is still in its queue's list (or RQ's intermediate list
    of a worker that took it and is about to start it)."""
    q = Queue(job.origin, connection=r)
    return r.lpos(q.key, job.id) is not None or r.lpos(q.intermediate_queue_key, job.id) is not None


def _abandoned_reason(job: Job, attempts: int) -> str | None:
    """The error to record when RQ failed ``job`` because its worker died, else None
    (a job that raised has its own error on the row already)."""
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or ""
    if ABANDONED not in text:
        return None
    return (f"{ABANDONED}: the worker running the job died (attempt {attempts}) and RQ has no retries left; "
            "not pushed again automatically: retry it from the jobs page once the cause is known.")


_engine_pid = {"pid": os.getpid()}
_job_app = {}


def run_outbox_job(outbox_id: int):
    """The one entry point of every RQ job: load the outbox row, run its function,
    mark it done in the same transaction, commit. Does nothing if already done."""
    if has_app_context():
        try:
            return _run(outbox_id)
        finally:
            db.session.remove()
    app = _job_app.get("app")
    if app is None:
        from app import create_app

        app = _job_app["app"] = create_app()
    with app.app_context():
        return _run(outbox_id)


_T = OutboxJob.__table__
# The worker's two statements per job, built once (Core, not the ORM: a job's
# bookkeeping needs no objects, and building and compiling ORM statements was a
# good part of a short job's CPU; docs/jobs.md, *Performance*).
_START = (sa.update(_T).where(_T.c.id == sa.bindparam("outbox_id"), _T.c.done_at.is_(None))
          .values(attempts=_T.c.attempts + 1, started_at=sa.bindparam("now", type_=_T.c.started_at.type))
          .returning(_T.c.func, _T.c.args, _T.c.kwargs))
_DONE = (sa.update(_T).where(_T.c.id == sa.bindparam("outbox_id"), _T.c.done_at.is_(None))
         .values(done_at=sa.bindparam("now", type_=_T.c.done_at.type), last_error=None))
_funcs: dict[str, object] = {}


def _job_function(path: str):
    func = _funcs.get(path)
    if func is None:
        func = _funcs[path] = import_string(path)
    return func


def _run(outbox_id: int):
    if os.getpid() != _engine_pid["pid"]:
        # A forked work horse must not share the parent's database connections.
        db.engine.dispose(close=False)
        _engine_pid["pid"] = os.getpid()
    # The attempt is counted (and committed) before the job runs, in one statement
    # that also reads what to run: nothing for a row already done (or gone).
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        # This commit does not wait for the disk: the job's own commit below does,
        # and it makes this one durable too (the log is written in order). Only a
        # crash of the database server in between can lose the count, together with
        # everything the job did.
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    row = conn.execute(_START, {"outbox_id": outbox_id, "now": utcnow()}).one_or_none()
    if row is None:
        db.session.rollback()
        return "skipped"
    func_path, args, kwargs = row.func, list(row.args), dict(row.kwargs)
    db.session.commit()
    try:
        func = _job_function(func_path)
        result = func(*args, **kwargs)
        db.session.flush()
        done = db.session.connection().execute(_DONE, {"outbox_id": outbox_id, "now": utcnow()}).rowcount
        if done != 1:  # another delivery finished first: keep its result, not ours
            db.session.rollback()
            return "skipped"
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(OutboxJob).where(OutboxJob.id == outbox_id)
                .values(last_error=f"{exc.__class__.__name__}: {str(exc)[:500]}")
            )
        raise
    return result if isinstance(result, (str, int, float, bool, type(None), dict, list)) else None


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis())


def configured_queues() -> list[str]:
    names = [q.strip() for q in current_app.config["JOB_QUEUES"].split(",") if q.strip()]
    unknown = [n for n in names if n not in QUEUES]
    if unknown:
        raise ValueError(f"unknown queue(s) in JOB_QUEUES: {', '.join(unknown)}")
    return names
