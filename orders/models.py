"""Service orders, their offers to providers, the event timeline and visit reports
(service vouchers are in ``vouchers.models``). The order lifecycle is the table ``ORDER_TRANSITIONS``, an offer's
the table ``OFFER_TRANSITIONS``; both are applied by ``core.states.StateMachine``
(``orders.states``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.states import transition_table


class OrderStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"


class OrderAction(StrEnum):
    ACCEPT = "accept"
    ESCALATE = "escalate"
    REOFFER = "reoffer"
    START = "start"          # the first visit report
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"


S, A = OrderStatus, OrderAction
# {(state, action): next_state}, written by state. Anything missing is refused.
ORDER_TRANSITIONS: dict[tuple[OrderStatus, OrderAction], OrderStatus] = transition_table({
    S.OFFERED: {A.ACCEPT: S.ACCEPTED, A.ESCALATE: S.ESCALATED, A.CANCEL: S.CANCELLED},
    S.ESCALATED: {A.REOFFER: S.OFFERED, A.CANCEL: S.CANCELLED},
    S.ACCEPTED: {A.START: S.IN_PROGRESS, A.CANCEL: S.CANCELLED},
    S.IN_PROGRESS: {A.COMPLETE: S.COMPLETED, A.CANCEL: S.CANCELLED},
    S.COMPLETED: {A.CLOSE: S.CLOSED},
})
del S, A


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class OfferAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"
    WITHDRAW = "withdraw"


# An offer is answered once: every move is from pending, so a guarded UPDATE never
# turns a decline (or an acceptance) into "withdrawn".
OFFER_TRANSITIONS: dict[tuple[OfferStatus, OfferAction], OfferStatus] = transition_table({
    OfferStatus.PENDING: {OfferAction.ACCEPT: OfferStatus.ACCEPTED, OfferAction.DECLINE: OfferStatus.DECLINED,
                          OfferAction.EXPIRE: OfferStatus.EXPIRED, OfferAction.WITHDRAW: OfferStatus.WITHDRAWN},
})


class Funding(StrEnum):
    MUNICIPALITY = "municipality"
    VOUCHER = "voucher"
    SELF_PAID = "self_paid"


class OfferMode(StrEnum):
    SINGLE = "single"        # one chosen provider
    BROADCAST = "broadcast"  # several or all eligible at once, first accept wins
    RANKED = "ranked"        # down the procured ranking, one at a time


class Outcome(StrEnum):
    RECEIVED = "received"
    NOT_RECEIVED = "not_received"


# The columns of an order's row on the staff dashboard besides its id and status
# (orders.sections.staff_section), included in the indexes its lists are read from.
_DASHBOARD_ROW = ["number", "client_id", "service_type_id", "provider_id"]


class ServiceOrder(db.Model):
    __tablename__ = "service_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), nullable=False, unique=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"), nullable=False, index=True)
    ordered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=OrderStatus.OFFERED)
    funding: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=Funding.MUNICIPALITY)
    offer_mode: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=OfferMode.BROADCAST)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_vouchers.id"))
    instructions: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    start_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    visits_per_week: Mapped[int | None] = mapped_column(sa.Integer)
    minutes_per_visit: Mapped[int | None] = mapped_column(sa.Integer)
    # Optimistic concurrency: every transition bumps it in its conditional UPDATE.
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    outcome_note: Mapped[str | None] = mapped_column(sa.Text)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    has_concern: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    client = relationship("Client")
    service_type = relationship("ServiceType")
    provider = relationship("Provider")
    ordered_by = relationship("User", foreign_keys=[ordered_by_id])
    offers = relationship("Offer", back_populates="order", order_by="Offer.id")
    events = relationship("OrderEvent", order_by="OrderEvent.id", viewonly=True)
    visits = relationship("VisitReport", order_by="VisitReport.date", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('offered','accepted','in_progress','completed','closed','cancelled','escalated')",
            name="status_known",
        ),
        sa.CheckConstraint("funding in ('municipality','voucher','self_paid')", name="funding_known"),
        sa.Index("ix_service_orders_status_created", "status", "created_at"),
        # A provider's orders by status (the provider dashboard, a provider's order
        # scope; the inbox read its page's ids from it until perf3; migration perf2).
        sa.Index("ix_service_orders_provider_status_id", "provider_id", "status", "id"),
        # The provider inbox's won orders, newest first, read from the index alone: the
        # statuses are written into the statement (orders.queries.INBOX_ORDER_STATUSES)
        # so that its generic plan can use the partial index (migration perf3).
        sa.Index("ix_service_orders_provider_won", "provider_id", "id",
                 postgresql_include=["number", "client_id", "status", "start_date", "service_type_id"],
                 sqlite_where=sa.text("status IN ('accepted', 'in_progress', 'completed')"),
                 postgresql_where=sa.text("status IN ('accepted', 'in_progress', 'completed')")),
        # The staff dashboard's lists, newest first (migration perf1), each row's columns
        # read from the index alone (orders.sections.staff_section; migration perf3).
        sa.Index("ix_service_orders_orderer_id_rows", "ordered_by_id", "id",
                 postgresql_include=[*_DASHBOARD_ROW, "status"]),
        sa.Index("ix_service_orders_orderer_status_rows", "ordered_by_id", "status", "id",
                 postgresql_include=_DASHBOARD_ROW),
        sa.Index("ix_service_orders_orderer_concern_rows", "ordered_by_id", "id",
                 postgresql_include=[*_DASHBOARD_ROW, "status"],
                 sqlite_where=sa.text("has_concern"), postgresql_where=sa.text("has_concern")),
    )


class Offer(db.Model):
    """An order offered to one provider organisation."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=OfferStatus.PENDING)
    rank: Mapped[int | None] = mapped_column(sa.Integer)  # position in a ranked round
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: waiting its turn
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    auto_accepted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    order = relationship("ServiceOrder", back_populates="offers")
    provider = relationship("Provider")

    __table_args__ = (
        sa.UniqueConstraint("order_id", "provider_id", name="uq_offers_order_provider"),
        # The provider's waiting offers, soonest answer time first, and their number
        # counted from the index alone (migrations perf1, perf2).
        sa.Index("ix_offers_provider_status_deadline_id", "provider_id", "status", "deadline_at", "id",
                 postgresql_include=["sent_at"]),
        sa.Index("ix_offers_status_deadline", "status", "deadline_at"),
        # The backstop of "exactly one winner": at most one accepted offer per order.
        sa.Index("uq_offers_one_accepted", "order_id", unique=True,
                 sqlite_where=sa.text("status = 'accepted'"),
                 postgresql_where=sa.text("status = 'accepted'")),
    )


class OrderEvent(db.Model):
    """One step of an order's timeline."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    action: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    # What a person wrote (a reason for cancelling, declining, completing; the
    # outcome note): shown as written.
    note: Mapped[str | None] = mapped_column(sa.Text)
    # What the system wrote, as a message code and its parameters (``core.messages``,
    # the codes in ``orders.texts``), rendered in the reader's language when shown.
    code: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict | None] = mapped_column(sa.JSON)

    actor = relationship("User")


class VisitReport(db.Model):
    __tablename__ = "visit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), nullable=False, index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    tasks: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    note: Mapped[str | None] = mapped_column(sa.Text)
    concern: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # The provider came but could not give the service (the client was not reached).
    missed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        # The missed visits of an order: the client page's signals (clients.signals)
        # find them without reading each of the order's visits (migration perf3).
        sa.Index("ix_visit_reports_missed_order", "order_id",
                 sqlite_where=sa.text("missed IS TRUE"), postgresql_where=sa.text("missed IS TRUE")),
    )
