"""One-time feedback links, the feedback given through them (or by phone through
staff), and the log of administrators' moderation decisions."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class FeedbackLink(db.Model):
    """A one-time link sent when an order is completed or a purchase fulfilled.

    The token is HMAC-SHA256(SECRET_KEY, "feedback-link:<id>:<nonce>") in base64url
    (256 bits, unguessable without the server secret and the random nonce), so the
    server can show it again to staff; the database stores only its SHA-256."""

    __tablename__ = "feedback_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    # 128 random bits that enter the token's HMAC; a new nonce re-keys the link.
    nonce: Mapped[str] = mapped_column(sa.String(32), nullable=False, default=lambda: secrets.token_hex(16))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"), unique=True)
    shop_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_orders.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"))
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="fi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("(order_id IS NULL) <> (shop_order_id IS NULL)", name="one_subject"),
    )


class Feedback(db.Model):
    """One client's rating of one order or purchase. Published at once; an
    administrator may hide it (``hidden_at``), which takes it out of the public list
    and the provider's average until it is unhidden."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_links.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"))
    shop_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_orders.id"))
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    service_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_types.id"))
    rating: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    needs_met: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # Set when staff typed in feedback given by phone on the client's behalf.
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    response: Mapped[str | None] = mapped_column(sa.Text)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)

    provider = relationship("Provider")
    service_type = relationship("ServiceType")
    order = relationship("ServiceOrder")
    hidden_by = relationship("User", foreign_keys=[hidden_by_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    responded_by = relationship("User", foreign_keys=[responded_by_id])

    __table_args__ = (
        sa.CheckConstraint("rating between 1 and 5", name="rating_range"),
        sa.Index("ix_feedback_provider_created", "provider_id", "created_at"),
    )


class FeedbackModerationEvent(db.Model):
    """An administrator hid or unhid a feedback item: who, when, why. Kept for good,
    so unhiding does not erase that the item was once hidden."""

    __tablename__ = "feedback_moderation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    actor = relationship("User")

    __table_args__ = (sa.CheckConstraint("action in ('hide','unhide')", name="action_known"),)
