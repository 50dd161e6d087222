"""Report runs: a manager's request for an aggregated report, built by an RQ job."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.states import StateMachine, transition_table


class ReportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportKind(StrEnum):
    ORDERS = "orders"
    RESPONSE_TIMES = "response_times"
    FEEDBACK = "feedback"
    GUIDANCE_CONTACTS = "guidance_contacts"
    SHOP_SALES = "shop_sales"
    STAFFING = "staffing"
    DELIVERED_HOURS = "delivered_hours"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"  # Finnish spreadsheet dialect: semicolons, decimal comma, UTF-8 with BOM
    CSV_PLAIN = "csv_plain"  # commas, decimal point, UTF-8
    XLSX = "xlsx"


class ReportRun(db.Model):
    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    period_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_to: Mapped[date] = mapped_column(sa.Date, nullable=False)
    filters: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    format: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="json")
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=ReportStatus.QUEUED)
    progress: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    scheduled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    error: Mapped[str | None] = mapped_column(sa.Text)

    requested_by = relationship("User")

    __table_args__ = (
        # The monthly reports are made once per kind and month, however many cron
        # schedulers run the sweep at the same moment.
        sa.Index("uq_report_runs_scheduled", "kind", "period_from", "period_to", unique=True,
                 sqlite_where=sa.text("scheduled"), postgresql_where=sa.text("scheduled")),
        sa.Index("ix_report_runs_created_at", "created_at"),
    )


class RunAction(StrEnum):
    START = "start"
    FINISH = "finish"
    FAIL = "fail"


# A run's lifecycle. ``start`` from ``running`` is RQ's retry of a build whose worker
# died (the run was left running); a run done or failed is never built again.
RUN_TRANSITIONS = transition_table({
    ReportStatus.QUEUED: {RunAction.START: ReportStatus.RUNNING},
    ReportStatus.RUNNING: {RunAction.START: ReportStatus.RUNNING, RunAction.FINISH: ReportStatus.DONE,
                           RunAction.FAIL: ReportStatus.FAILED},
})

RUNS = StateMachine(ReportRun, RUN_TRANSITIONS,
                    stamps={ReportStatus.RUNNING: "started_at", ReportStatus.DONE: "finished_at",
                            ReportStatus.FAILED: "finished_at"})


class ReportMonth(db.Model):
    """A closed month of a report kind whose figures are kept
    (``report_month_figures``). ``stale``: a late change touched the month; until
    ``reports.jobs.settle_months`` recomputes it, reports compute it live.
    ``changes`` counts the changes, so that a recomputation that raced a change does
    not mark the month settled. The current month's row, when there is one, keeps
    its finished days (``through``: the first day not kept); a change to a row of
    one of those days marks it stale too."""

    __tablename__ = "report_months"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False)  # its first day
    stale: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    changes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    parts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # aggregations kept
    format_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=4)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The current month's finished days: kept from the 1st up to (not including)
    # this day; NULL for a whole closed month.
    through: Mapped[date | None] = mapped_column(sa.Date)

    __table_args__ = (sa.UniqueConstraint("kind", "month", name="uq_report_months_kind_month"),)


class ReportMonthFigure(db.Model):
    """The kept figures of one month, report kind and dimension (``grouping``: a
    grouping of one of the report's aggregations, ``part``): per group its
    additive measures, its distinct clients (as a set) and its percentile
    histograms, unsuppressed (see ``reports.monthly``). Never shown as such."""

    __tablename__ = "report_month_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False)
    part: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    grouping: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    figures: Mapped[dict] = mapped_column(sa.JSON, nullable=False)

    __table_args__ = (sa.UniqueConstraint("kind", "month", "part", "grouping",
                                          name="uq_report_month_figures_kind_month_part_grouping"),)


class ReportSpanFigure(db.Model):
    """Pre-combined kept figures of a run of closed months (a *span*): ``months``
    consecutive months from ``start``, aligned (``reports.monthly.span_starts``),
    combined from the kept figures of its two halves exactly as a report combines
    months: counts and sums added, distinct clients united, histograms merged. A
    report takes a span instead of its months, so that a year reads a few parts
    per group instead of twelve. A span exists only while every month in it is
    settled: recomputing a month deletes the spans holding it in the same
    transaction, and the job builds them again (``reports.monthly.build_spans``)."""

    __tablename__ = "report_span_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    start: Mapped[date] = mapped_column(sa.Date, nullable=False)  # its first month's first day
    months: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # 2, 4, 8, 16 or 32
    part: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    grouping: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    figures: Mapped[dict] = mapped_column(sa.JSON, nullable=False)

    __table_args__ = (sa.UniqueConstraint("kind", "start", "months", "part", "grouping",
                                          name="uq_report_span_figures_kind_start_months_part_grouping"),)


def _visit_date_index() -> sa.Index:
    """Reports read visit reports by date (a live month, a month being settled):
    the index lives with the reports' migration."""
    from orders.models import VisitReport

    return sa.Index("ix_visit_reports_date", VisitReport.__table__.c.date)


VISIT_DATE_INDEX = _visit_date_index()
