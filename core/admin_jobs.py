"""The administrators' jobs page (``core.admin_jobs``): the RQ queues with their
counts, the workers, the failed jobs with their error and a retry button, and the
outbox rows Redis has not taken (with a button that pushes them now).

Jobs carry ids only, and the page shows no personal data: a job is named by its
function and outbox row, and e-mail addresses and identity codes in an error text are
masked. Reading the page changes nothing in Redis (registry counts without RQ's
cleanup)."""

from __future__ import annotations

import re

import redis
import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry,
)

from core.roles import Role, role_required
from core.extensions import db
from core.jobs import QUEUES, dispatch_pending, queue
from core.models import OutboxJob
from core.redis import get_redis
from core.views import bp

FAILED_SHOWN = 50
OUTBOX_SHOWN = 50
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_IDENTITY_CODE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", re.IGNORECASE)


def redact(text: str | None, limit: int = 300) -> str:
    """An error text fit for the page: its last line (the exception and its
    message), personal identifiers masked, shortened."""
    if not text:
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else ""
    last = _IDENTITY_CODE.sub("[…]", _EMAIL.sub("[e-mail]", last))
    return last if len(last) <= limit else last[: limit - 1] + "…"


def _outbox_id(job_id: str) -> int | None:
    return int(job_id[len("outbox-"):]) if job_id.startswith("outbox-") and job_id[7:].isdigit() else None


def _queues(conn) -> list[dict]:
    rows = []
    for name in QUEUES:
        q = queue(name)
        rows.append({
            "name": name, "queued": q.count,
            "started": StartedJobRegistry(name, connection=conn).get_job_count(cleanup=False),
            "scheduled": ScheduledJobRegistry(name, connection=conn).get_job_count(cleanup=False),
            "deferred": DeferredJobRegistry(name, connection=conn).get_job_count(cleanup=False),
            "failed": FailedJobRegistry(name, connection=conn).get_job_count(cleanup=False),
            "finished": FinishedJobRegistry(name, connection=conn).get_job_count(cleanup=False),
        })
    return rows


def _failed(conn) -> list[dict]:
    """The latest failed jobs of every queue, newest first, with the function and
    outbox row they belong to."""
    items = []
    for name in QUEUES:
        ids = FailedJobRegistry(name, connection=conn).get_job_ids(0, FAILED_SHOWN - 1, desc=True, cleanup=False)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=conn)):
            result = job.latest_result() if job is not None else None
            items.append({"queue": name, "id": job_id, "outbox_id": _outbox_id(job_id),
                          "func": job.func_name if job is not None else "",
                          "ended_at": job.ended_at if job is not None else None,
                          "error": redact(result.exc_string if result is not None else "")})
    outbox = {row.id: row for row in db.session.scalars(
        sa.select(OutboxJob).where(OutboxJob.id.in_([i["outbox_id"] for i in items if i["outbox_id"]])))}
    for item in items:
        row = outbox.get(item["outbox_id"])
        if row is not None:
            item["func"] = row.func
            item["attempts"] = row.attempts
            item["done"] = row.done_at is not None
    items.sort(key=lambda i: (i["ended_at"] is None, -(i["ended_at"].timestamp() if i["ended_at"] else 0)))
    return items[:FAILED_SHOWN]


def _workers(conn) -> list[dict]:
    workers = []
    for w in Worker.all(connection=conn):
        workers.append({"name": w.name, "state": w.get_state(), "queues": ", ".join(w.queue_names()),
                        "job": w.get_current_job_id(), "heartbeat": w.last_heartbeat, "pid": w.pid})
    return sorted(workers, key=lambda w: w["name"])


@bp.get("/admin/jobs")
@role_required(Role.ADMIN)
def admin_jobs():
    waiting_q = sa.select(OutboxJob).where(OutboxJob.pushed_at.is_(None), OutboxJob.done_at.is_(None))
    troubled_q = sa.select(OutboxJob).where(OutboxJob.pushed_at.is_not(None), OutboxJob.done_at.is_(None),
                                            OutboxJob.last_error.is_not(None))
    context = {
        "waiting_count": db.session.scalar(sa.select(sa.func.count()).select_from(waiting_q.subquery())),
        "waiting": db.session.scalars(waiting_q.order_by(OutboxJob.id).limit(OUTBOX_SHOWN)).all(),
        "troubled": db.session.scalars(troubled_q.order_by(OutboxJob.id.desc()).limit(OUTBOX_SHOWN)).all(),
        "redact": redact, "redis_error": None, "queues": [], "failed": [], "workers": [],
    }
    try:
        conn = get_redis()
        context.update(queues=_queues(conn), failed=_failed(conn), workers=_workers(conn))
    except redis.exceptions.RedisError as exc:
        context["redis_error"] = exc.__class__.__name__
    return render_template("core/admin_jobs.html", **context)


@bp.post("/admin/jobs/retry")
@role_required(Role.ADMIN)
def admin_jobs_retry():
    """Put one failed job back on its queue (RQ's requeue: same id, same arguments)."""
    name, job_id = request.form.get("queue", ""), request.form.get("job_id", "")
    if name not in QUEUES or not job_id:
        flash(_("Choose a failed job to retry."), "error")
        return redirect(url_for("core.admin_jobs"))
    try:
        FailedJobRegistry(name, connection=get_redis()).requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):
        flash(_("Job %(id)s is no longer among the failed jobs.", id=job_id), "error")
    except redis.exceptions.RedisError:
        flash(_("Redis is not answering; try again in a moment."), "error")
    else:
        flash(_("Job %(id)s is back on the %(queue)s queue.", id=job_id, queue=name), "success")
    return redirect(url_for("core.admin_jobs"))


@bp.post("/admin/jobs/dispatch")
@role_required(Role.ADMIN)
def admin_jobs_dispatch():
    """Push the outbox rows Redis has not taken now (the worker does it every 10 s)."""
    pushed = dispatch_pending()
    flash(ngettext("%(num)s job pushed to Redis.", "%(num)s jobs pushed to Redis.", pushed),
          "success" if pushed else "info")
    return redirect(url_for("core.admin_jobs"))
