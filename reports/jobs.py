"""Report jobs (RQ, through the outbox): building one report on the ``reports``
queue, with its progress committed as it goes so the page can show it, and the
hourly sweep that makes the monthly reports on the first day of a month.

Jobs take ids, reload their rows, do nothing when the state has moved on, and commit
nothing themselves: ``core.jobs.run_outbox_job`` commits the finished report with
the job's outbox row (``run_periodic`` for the sweep). Progress is the exception by
design: it is written in short transactions of its own, so that pages polling it
see it while the job's own transaction is still open.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from reports import aggregates, export, services
from reports.models import ReportRun, ReportStatus

log = logging.getLogger(__name__)


def _update_run(run_id: int, from_statuses: tuple[str, ...] | None, **values) -> bool:
    """One conditional UPDATE of a run, committed at once; True when it applied."""
    stmt = sa.update(ReportRun).where(ReportRun.id == run_id)
    if from_statuses:
        stmt = stmt.where(ReportRun.status.in_(from_statuses))
    with db.engine.begin() as conn:
        return conn.execute(stmt.values(**values)).rowcount == 1


def build_report(run_id: int) -> str:
    """Build the report of a queued run: its figures (``result``), its file
    (``content``) and ``done``. A run already done or failed is left alone; a run
    left ``running`` by a worker that died is taken up again by RQ's retry.
    An error in the report itself marks it ``failed`` with the reason (a manager
    can ask again); a lost database connection raises, so RQ retries."""
    run = db.session.get(ReportRun, run_id)
    if run is None or run.status in (ReportStatus.DONE, ReportStatus.FAILED):
        return "skipped"
    if not _update_run(run_id, (ReportStatus.QUEUED, ReportStatus.RUNNING), status=ReportStatus.RUNNING,
                       started_at=utcnow(), progress=2, error=None):
        return "skipped"
    language = services.report_language(run)
    period = aggregates.Period(run.period_from, run.period_to)
    filters = aggregates.Filters.from_dict(run.filters)

    def progress(percent: int) -> None:
        _update_run(run_id, (ReportStatus.RUNNING,), progress=percent)

    try:
        result = aggregates.build(run.kind, period, filters, language=language, progress=progress)
        progress(95)
        content = export.render(result, run.format)
    except sa.exc.OperationalError:
        raise
    except Exception as exc:
        log.exception("report %s (%s) failed", run_id, run.kind)
        db.session.rollback()
        _update_run(run_id, None, status=ReportStatus.FAILED, finished_at=utcnow(),
                    error=f"{exc.__class__.__name__}: {str(exc)[:500]}")
        return "failed"
    run.result = result
    run.content = content
    run.content_type = services.CONTENT_TYPES[run.format]
    run.status = ReportStatus.DONE
    run.progress = 100
    run.finished_at = utcnow()
    run.error = None
    db.session.flush()
    if run.scheduled:
        services.notify_monthly_ready(run.period_from, run.period_to)
    return "done"


def monthly_reports() -> dict:
    """Periodic sweep (hourly, RQ's cron scheduler in ``flask worker``): on the
    first day of a month make last month's reports once, and e-mail the managers
    when they are all done. Idempotent."""
    created = services.schedule_monthly_reports()
    notified = services.pending_monthly_notifications()
    return {"created": len(created), "notified": notified}
