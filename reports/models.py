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
