"""Report jobs (RQ, through the outbox): building one report on the ``reports``
queue, with its progress visible as it goes so the page can show it, and the
hourly sweep that makes the monthly reports on the first day of a month.

Jobs take ids, reload their rows, do nothing when the state has moved on, and commit
nothing themselves: ``core.jobs.run_outbox_job`` commits the finished (or failed)
report with the job's outbox row (``run_periodic`` for the sweep). Every change of a
run's state goes through ``reports.models.RUNS`` (the state machine).

Two things are written outside the job's unit of work, by design, so that pages
polling the run see them while the job's own transaction is still open: the start
(``queued`` -> ``running``, through the machine in a session of its own) and the
progress percentages (short ``db.engine.begin()`` transactions). The figures are
read in a session of their own too, so a failing query cannot spoil the job's
transaction: the job never rolls back, it records the failure.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from core.errors import DomainError
from core.extensions import db
from reports import aggregates, export, services
from reports.models import RUNS, ReportRun, ReportStatus, RunAction

log = logging.getLogger(__name__)


def _start(run_id: int) -> bool:
    """``queued``/``running`` -> ``running`` (progress 2), committed at once in a
    session of its own (a fresh application context): not the job's unit of work.
    False when the run has moved on (done, failed, or taken by another delivery)."""
    try:
        with current_app.app_context(), db.session.begin():
            run = db.session.get(ReportRun, run_id)
            if run is None:
                return False
            RUNS.apply(run, RunAction.START, values={"progress": 2, "error": None})
    except DomainError:
        return False
    return True


def _progress(run_id: int, percent: int) -> None:
    """A progress figure of a running run, in a short transaction of its own (not
    the job's unit of work) so that the progress bar sees it at once. Not a change
    of state: the guard only keeps a finished run's figure as it is."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(ReportRun).where(ReportRun.id == run_id, ReportRun.status == ReportStatus.RUNNING)
                     .values(progress=percent))


def _figures(run_id: int, progress) -> tuple[dict, bytes]:
    """Build the run's figures and its file, reading in a session of its own."""
    with current_app.app_context():
        run = db.session.get(ReportRun, run_id)
        result = aggregates.build(run.kind, aggregates.Period(run.period_from, run.period_to),
                                  aggregates.Filters.from_dict(run.filters), language=services.report_language(run),
                                  progress=progress)
        progress(95)
        return result, export.render(result, run.format)


def build_report(run_id: int) -> str:
    """Build the report of a queued run: its figures (``result``), its file
    (``content``) and ``done``. A run already done or failed is left alone; a run
    left ``running`` by a worker that died is taken up again by RQ's retry.
    An error in the report itself marks it ``failed`` with the reason (a manager
    can ask again); a lost database connection raises, so RQ retries."""
    run = db.session.get(ReportRun, run_id)
    if run is None or run.status in (ReportStatus.DONE, ReportStatus.FAILED):
        return "skipped"
    if not _start(run_id):
        return "skipped"
    try:
        result, content = _figures(run_id, lambda percent: _progress(run_id, percent))
    except sa.exc.OperationalError:
        raise
    except Exception as exc:
        log.exception("report %s (%s) failed", run_id, run.kind)
        return _end(run, RunAction.FAIL, "failed", error=f"{exc.__class__.__name__}: {str(exc)[:500]}")
    outcome = _end(run, RunAction.FINISH, "done", result=result, content=content,
                   content_type=services.CONTENT_TYPES[run.format], progress=100, error=None)
    if outcome == "done" and run.scheduled:
        services.notify_monthly_ready(run.period_from, run.period_to)
    return outcome


def _end(run: ReportRun, action: str, outcome: str, **values) -> str:
    """``running`` -> ``done``/``failed`` in the job's unit of work; "skipped" when
    another delivery of the job ended the run first."""
    db.session.refresh(run)  # the start was committed by another session
    try:
        RUNS.apply(run, action, values=values)
    except DomainError:
        return "skipped"
    return outcome


def monthly_reports() -> dict:
    """Periodic sweep (hourly, RQ's cron scheduler in ``flask worker``): on the
    first day of a month make last month's reports once, and e-mail the managers
    when they are all done. Idempotent."""
    created = services.schedule_monthly_reports()
    notified = services.pending_monthly_notifications()
    return {"created": len(created), "notified": notified}


def settle_months(limit: int = 24) -> dict:
    """Periodic sweep (``SETTLE_SECONDS``, RQ's cron scheduler in ``flask worker``):
    compute and keep the figures of every closed month not settled yet (new, or
    marked stale by a late change), oldest first, at most ``limit`` months per kind
    per run so that one run stays short, then combine the settled months into the
    spans not kept yet (``monthly.build_spans``) and keep the current month's
    finished days (``monthly.settle_month_to_date``). Idempotent;
    ``run_periodic`` commits."""
    from reports import monthly

    done = {}
    first = monthly.first_month()
    for kind in aggregates.KINDS:
        months = monthly.months_to_settle(kind, first=first)[:limit]
        settled = sum(1 for month in months if monthly.settle_month(kind, month))
        # The spans holding a recomputed month were dropped with its old figures:
        # combine them again (and any new ones) from the kept months.
        spans = monthly.build_spans(kind)
        # The current month's finished days (again after a change to one of them).
        monthly.settle_month_to_date(kind)
        if months:
            done[kind] = settled
        if spans:
            log.info("reports: %s: %d span(s) of kept months combined", kind, spans)
    return done
