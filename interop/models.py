"""Webhook endpoints of provider organisations, the events raised for them and the
delivery log (one row per event and endpoint, with its attempts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class DeliveryStatus(StrEnum):
    PENDING = "pending"        # waiting for its first or next attempt
    DELIVERED = "delivered"    # the receiver answered 2xx
    FAILED = "failed"          # every attempt failed
    CANCELLED = "cancelled"    # the endpoint was disabled or deleted before it was delivered


class WebhookEndpoint(db.Model):
    """A URL of a provider organisation's system and the events it wants. The secret
    signs every delivery; it is shown once, when the endpoint is created."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    events: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    secret: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    secret_shown: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Deliveries that used up every attempt since the last success.
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    provider = relationship("Provider")


class WebhookEvent(db.Model):
    """Something that happened, for one organisation: its ``public_id`` is the
    ``id`` of the delivered JSON (receivers dedupe on it). ``data`` is written once,
    by the job that fans the event out, through the API's policy and serializers."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    subject_id: Mapped[int | None] = mapped_column(sa.Integer)
    # Only this endpoint (a test event); None: every subscribed endpoint.
    endpoint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("webhook_endpoints.id"))
    data: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(db.Model):
    """One event to one endpoint: the exact body sent (every attempt sends the same
    bytes), the attempts made, the last answer and when it was delivered."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"), nullable=False)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_events.id"), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    endpoint = relationship("WebhookEndpoint")
    event = relationship("WebhookEvent")

    __table_args__ = (
        sa.UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        sa.Index("ix_webhook_deliveries_endpoint_id_desc", "endpoint_id", "id"),
        sa.CheckConstraint("status in ('pending','delivered','failed','cancelled')", name="status_known"),
    )


class WebhookAttempt(db.Model):
    """One POST of a delivery: when, the answer's status code or the error, and how
    long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(300))
    duration_ms: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
