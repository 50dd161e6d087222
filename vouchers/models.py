"""Service vouchers (palveluseteli), the service events providers record against
them, and the monthly settlement with the providers.

Every amount is an integer: a voucher's ``monthly_amount`` and an event's
``quantity`` are minutes (unit ``hour``), visits (``visit``) or cents (``euro``);
money is cents. The lifecycles are the tables ``VOUCHER_TRANSITIONS`` and
``EVENT_TRANSITIONS`` applied by ``core.states.StateMachine`` (``vouchers.states``).

A settled event is never edited: a correction is a new event (``corrects_id``) that
goes through review again and appears in the next settlement as two statement
items, the reversal of what was settled before and the corrected amount. The
unique key of a statement item, ``(event_id, kind)``, is the database's guarantee
that nothing is paid twice.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.states import transition_table


class VoucherUnit(StrEnum):
    HOUR = "hour"    # quantities in minutes, value in cents per hour
    VISIT = "visit"  # quantities in visits, value in cents per visit
    EURO = "euro"    # quantities in cents


class VoucherStatus(StrEnum):
    GRANTED = "granted"
    OPEN = "open"
    CLOSED = "closed"


class VoucherAction(StrEnum):
    OPEN = "open"    # the first order funded by it has a provider (or staff open it)
    CLOSE = "close"  # staff end it, or its validity ended


VOUCHER_TRANSITIONS = transition_table({
    VoucherStatus.GRANTED: {VoucherAction.OPEN: VoucherStatus.OPEN, VoucherAction.CLOSE: VoucherStatus.CLOSED},
    VoucherStatus.OPEN: {VoucherAction.CLOSE: VoucherStatus.CLOSED},
})


class EventStatus(StrEnum):
    RECORDED = "recorded"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    SETTLED = "settled"
    PAID = "paid"
    REFUSED = "refused"


class EventAction(StrEnum):
    REVIEW = "review"        # staff take it under review
    APPROVE = "approve"      # staff (one by one or in bulk) or an approval rule
    REFUSE = "refuse"        # staff send it back to the provider with a reason
    RESUBMIT = "resubmit"    # the provider corrects a refused event and sends it again
    SETTLE = "settle"        # the monthly settlement
    PAY = "pay"              # the finance office marks the settlement paid


E, EA = EventStatus, EventAction
EVENT_TRANSITIONS = transition_table({
    E.RECORDED: {EA.REVIEW: E.UNDER_REVIEW, EA.APPROVE: E.APPROVED, EA.REFUSE: E.REFUSED},
    E.UNDER_REVIEW: {EA.APPROVE: E.APPROVED, EA.REFUSE: E.REFUSED},
    E.APPROVED: {EA.SETTLE: E.SETTLED, EA.REFUSE: E.REFUSED},
    E.REFUSED: {EA.RESUBMIT: E.RECORDED},
    E.SETTLED: {EA.PAY: E.PAID},
})
del E, EA

# Events whose quantity uses the balance (a refused one does not).
COUNTING_STATUSES = ("recorded", "under_review", "approved", "settled", "paid")


class SettlementStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    PAID = "paid"


class ItemKind(StrEnum):
    EVENT = "event"          # an event settled for the first time
    REVERSAL = "reversal"    # minus what was settled before for the event a correction replaces
    CORRECTED = "corrected"  # the correction's amount


class VoucherServiceSetting(db.Model):
    """Per service type: whether the client-fee law makes it free to the client, so
    that no own share may be left to them (a provider priced above the voucher's
    value cannot be chosen, and its events are refused)."""

    __tablename__ = "voucher_service_settings"

    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"), primary_key=True)
    free_to_client: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


class ServiceVoucher(db.Model):
    """A palveluseteli granted to a client for one service type."""

    __tablename__ = "service_vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    # hour: minutes per month; visit: visits per month; euro: cents per month.
    monthly_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # hour and visit: what the county pays per hour or visit (cents); euro: 0.
    value_cents_per_unit: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    # True: the amount is granted afresh each calendar month; False: once for the validity.
    renews: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    valid_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=VoucherStatus.GRANTED)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(sa.Text)

    client = relationship("Client")
    service_type = relationship("ServiceType")

    __table_args__ = (
        sa.CheckConstraint("unit in ('hour','visit','euro')", name="unit_known"),
        sa.CheckConstraint("status in ('granted','open','closed')", name="status_known"),
        sa.CheckConstraint("monthly_amount > 0", name="amount_positive"),
        sa.CheckConstraint("value_cents_per_unit >= 0", name="value_not_negative"),
    )


class ServiceEvent(db.Model):
    """One service event a provider records against a voucher (e.g. a visit of 90
    minutes). ``voucher_cents`` is what the county pays, ``client_share_cents`` what
    the provider invoices the client on top (its price above the voucher's value)."""

    __tablename__ = "voucher_service_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("service_vouchers.id"), nullable=False, index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), nullable=False, index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_reports.id"))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_service_events.id"), index=True)
    date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False)  # the first day of the service date's month
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    price_cents_per_unit: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    voucher_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    client_share_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=EventStatus.RECORDED)
    refusal_reason: Mapped[str | None] = mapped_column(sa.Text)
    auto_approved: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    settlement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_settlements.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    under_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    voucher = relationship("ServiceVoucher")
    order = relationship("ServiceOrder")
    provider = relationship("Provider")
    corrects = relationship("ServiceEvent", remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('recorded','under_review','approved','settled','paid','refused')", name="status_known"),
        sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        sa.CheckConstraint("voucher_cents >= 0 AND client_share_cents >= 0", name="cents_not_negative"),
        sa.Index("ix_voucher_service_events_voucher_month", "voucher_id", "month"),
        sa.Index("ix_voucher_service_events_status_date", "status", "date"),
    )


class VoucherEvent(db.Model):
    """One step in the life of a voucher or of a service event: who, when, from and
    to which state, and a note (a refusal's reason)."""

    __tablename__ = "voucher_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_vouchers.id"), index=True)
    service_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_service_events.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.Text)

    actor = relationship("User")


class VoucherSettlement(db.Model):
    """The settlement of one month with every provider: one line per provider, one
    statement item per event settled (or reversed and corrected)."""

    __tablename__ = "voucher_settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False, unique=True)  # first day of the month
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=SettlementStatus.QUEUED)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    running_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines = relationship("SettlementLine", order_by="SettlementLine.provider_id", viewonly=True)

    __table_args__ = (sa.CheckConstraint("status in ('queued','running','done','paid')", name="status_known"),)


class SettlementLine(db.Model):
    """One provider's statement in a settlement: the voucher part and the client's
    own part of the events settled, and the net of the corrections (``credit_cents``,
    negative when earlier months were overpaid). The county pays
    ``voucher_cents + credit_cents``."""

    __tablename__ = "voucher_settlement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_settlements.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    events: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    voucher_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    client_share_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    credit_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    provider = relationship("Provider")
    items = relationship("StatementItem", order_by="StatementItem.id", viewonly=True)

    __table_args__ = (sa.UniqueConstraint("settlement_id", "provider_id", name="uq_settlement_lines_provider"),)

    @property
    def payable_cents(self) -> int:
        return self.voucher_cents + self.credit_cents


class StatementItem(db.Model):
    """One row of a provider's statement. Signed: a reversal is negative."""

    __tablename__ = "voucher_statement_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_settlement_lines.id"), nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_service_events.id"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    service_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    voucher_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    client_share_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    event = relationship("ServiceEvent")

    __table_args__ = (
        sa.UniqueConstraint("event_id", "kind", name="uq_statement_items_event_kind"),
        sa.CheckConstraint("kind in ('event','reversal','corrected')", name="kind_known"),
    )
