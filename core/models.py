"""Core tables: the job outbox, the client access log and stored outgoing e-mail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow
from core.extensions import db


class OutboxJob(db.Model):
    """A background job recorded in the transaction of the change that causes it.

    After commit it is pushed to RQ under the id ``outbox-<id>``; a row with
    ``pushed_at`` NULL was not taken by Redis and is pushed later by the dispatcher.
    ``done_at`` is set by the worker when the job has run, so a repeated delivery does
    nothing.
    """

    __tablename__ = "outbox_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="default")
    func: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    args: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    kwargs: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_outbox_jobs_pending", "pushed_at", "created_at"),
    )

    @property
    def rq_job_id(self) -> str:
        return f"outbox-{self.id}"


class AccessLogEntry(db.Model):
    """One read or change of a client's personal data. Append-only: the migration
    installs database triggers that refuse UPDATE and DELETE on this table."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    what: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    purpose: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    channel: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="web")

    actor = sa.orm.relationship("User", lazy="joined")

    __table_args__ = (sa.Index("ix_access_log_client_at", "client_id", "at"),)


class OutgoingEmail(db.Model):
    """Every e-mail the platform sends, written by the mail job. Without MAIL_URL the
    row is the delivery (shown on the dev-only mail page); with SMTP it is the record."""

    __tablename__ = "outgoing_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="fi")
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="queued")
    error: Mapped[str | None] = mapped_column(sa.Text)
