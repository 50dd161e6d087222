"""The self-paid shop's purchases (orders, items, events) and received Stripe events.
The catalogue's tables (offerings, service types) are in ``catalogue.models``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.states import transition_table


class ShopOrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class ShopAction(StrEnum):
    PAY = "pay"              # card: Stripe confirmed the payment; invoice: the provider got paid
    RELEASE = "release"      # card: the Checkout Session expired or the payment failed
    CANCEL = "cancel"        # buyer, provider or admin before payment
    FULFIL = "fulfil"        # the provider delivered the service
    REFUND = "refund"        # the whole amount paid has been returned
    LATE_REFUND = "late_refund"  # a card payment that arrived after cancellation, returned at once


# The purchase's state machine: (state, action) -> next state. Anything missing is
# refused. A partial refund keeps the state (paid or fulfilled) and only raises
# ``refunded_cents``; the refund that reaches the amount paid is the REFUND action.
SHOP_TRANSITIONS: dict[tuple[str, str], str] = transition_table({
    ShopOrderStatus.PENDING_PAYMENT: {
        ShopAction.PAY: ShopOrderStatus.PAID,
        ShopAction.RELEASE: ShopOrderStatus.CANCELLED,
        ShopAction.CANCEL: ShopOrderStatus.CANCELLED,
        # Invoice purchases: the provider delivers first and invoices afterwards.
        ShopAction.FULFIL: ShopOrderStatus.FULFILLED,
    },
    ShopOrderStatus.PAID: {ShopAction.FULFIL: ShopOrderStatus.FULFILLED, ShopAction.REFUND: ShopOrderStatus.REFUNDED},
    ShopOrderStatus.FULFILLED: {ShopAction.REFUND: ShopOrderStatus.REFUNDED},
    ShopOrderStatus.CANCELLED: {ShopAction.LATE_REFUND: ShopOrderStatus.REFUNDED},
})

# The timestamp column each state stamps when it is entered.
STATUS_STAMPS = {
    ShopOrderStatus.PAID: "paid_at", ShopOrderStatus.FULFILLED: "fulfilled_at",
    ShopOrderStatus.CANCELLED: "cancelled_at", ShopOrderStatus.REFUNDED: "refunded_at",
}


class ShopOrder(db.Model):
    """A self-paid purchase from one provider, paid by card or invoice."""

    __tablename__ = "shop_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), nullable=False, unique=True)
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    buyer_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    buyer_email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    buyer_phone: Mapped[str | None] = mapped_column(sa.String(40))
    buyer_address: Mapped[str | None] = mapped_column(sa.String(300))
    buyer_postal_code: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    # The language the buyer used at checkout: every e-mail about the purchase is in it.
    buyer_language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="fi", server_default="fi")
    desired_time: Mapped[str | None] = mapped_column(sa.String(200))
    confirmed_time: Mapped[str | None] = mapped_column(sa.String(200))
    message: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=ShopOrderStatus.PENDING_PAYMENT, index=True)
    payment_method: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="EUR")
    total_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    vat_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    household_deduction_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    platform_fee_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    refunded_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    provider = relationship("Provider")
    items = relationship("ShopOrderItem", cascade="all, delete-orphan", back_populates="shop_order")

    __table_args__ = (
        sa.CheckConstraint("payment_method in ('card','invoice')", name="payment_method_known"),
        sa.CheckConstraint("total_cents >= 0 AND vat_cents >= 0", name="amounts_not_negative"),
        sa.Index("ix_shop_orders_provider_status", "provider_id", "status"),
    )


class ShopOrderItem(db.Model):
    """A line of a purchase, with the price as shown to the buyer at checkout."""

    __tablename__ = "shop_order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_orders.id", ondelete="CASCADE"), nullable=False, index=True)
    offering_id: Mapped[int] = mapped_column(sa.ForeignKey("offerings.id"), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    unit_price_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    vat_rate_bp: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    total_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    vat_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    household_deduction_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    shop_order = relationship("ShopOrder", back_populates="items")

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class ShopOrderEvent(db.Model):
    """A transition of a purchase (who, when, from, to), or a step that keeps the
    state. What the system says about it is a message code and its parameters
    (``marketplace.texts``), rendered in the reader's language; ``note`` is what a
    person wrote (a delivery note, a reason), or a sentence from before codes."""

    __tablename__ = "shop_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_orders.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.Text)
    code: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict | None] = mapped_column(sa.JSON)


class StripeEvent(db.Model):
    """A received Stripe webhook event; the primary key makes each event apply once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    created: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[dict] = mapped_column(sa.JSON, nullable=False)
