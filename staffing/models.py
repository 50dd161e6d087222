"""Staffing-agency requests: what agencies cover, the requests, their shifts, the
fan-out record and the agencies' offers. The request and offer state machines are
the tables ``STAFFING_TRANSITIONS`` and ``OFFER_TRANSITIONS``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class Qualification(StrEnum):
    PRACTICAL_NURSE = "practical_nurse"
    REGISTERED_NURSE = "registered_nurse"
    HOME_CARE_ASSISTANT = "home_care_assistant"
    PHYSIOTHERAPIST = "physiotherapist"
    SOCIAL_CARE_INSTRUCTOR = "social_care_instructor"


class StaffingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    FILLED = "filled"
    CANCELLED = "cancelled"


class StaffingOfferStatus(StrEnum):
    OFFERED = "offered"
    WITHDRAWN = "withdrawn"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"


class StaffingAction(StrEnum):
    CLOSE = "close"      # the answer time passed (job or sweep)
    FILL = "fill"        # the selected offers cover the headcount
    REOPEN = "reopen"    # staff give the agencies a new answer time
    CANCEL = "cancel"    # staff no longer need the people


class OfferAction(StrEnum):
    WITHDRAW = "withdraw"  # the agency takes its offer back before selection
    SELECT = "select"      # staff choose the offer
    REJECT = "reject"      # the request was filled by others or cancelled


S, A = StaffingStatus, StaffingAction
# {(state, action): next_state}. Anything missing is refused. Each action leads to
# one state, so an action is one conditional UPDATE over its source states.
STAFFING_TRANSITIONS: dict[tuple[StaffingStatus, StaffingAction], StaffingStatus] = {
    (S.OPEN, A.CLOSE): S.CLOSED,
    (S.OPEN, A.FILL): S.FILLED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.CLOSED, A.FILL): S.FILLED,
    (S.CLOSED, A.REOPEN): S.OPEN,
    (S.CLOSED, A.CANCEL): S.CANCELLED,
    (S.FILLED, A.CANCEL): S.CANCELLED,
}
O, OA = StaffingOfferStatus, OfferAction
OFFER_TRANSITIONS: dict[tuple[StaffingOfferStatus, OfferAction], StaffingOfferStatus] = {
    (O.OFFERED, OA.WITHDRAW): O.WITHDRAWN,
    (O.OFFERED, OA.SELECT): O.SELECTED,
    (O.OFFERED, OA.REJECT): O.NOT_SELECTED,
}
del S, A, O, OA


class StaffingCoverage(db.Model):
    """One qualification in one postal code that an agency covers."""

    __tablename__ = "staffing_coverage"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    qualification: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    postal_code: Mapped[str] = mapped_column(sa.String(5), nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("provider_id", "qualification", "postal_code", name="uq_staffing_coverage_provider_qual_postal"),
        sa.Index("ix_staffing_coverage_match", "qualification", "postal_code"),
    )


class StaffingRequest(db.Model):
    __tablename__ = "staffing_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), nullable=False, unique=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    unit: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    qualification: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    postal_code: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    headcount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=StaffingStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shifts = relationship("StaffingShift", order_by="StaffingShift.start_at", cascade="all, delete-orphan")
    offers = relationship("StaffingOffer", order_by="StaffingOffer.id", viewonly=True)

    __table_args__ = (sa.CheckConstraint("headcount > 0", name="headcount_positive"),)


class StaffingShift(db.Model):
    __tablename__ = "staffing_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("staffing_requests.id", ondelete="CASCADE"), nullable=False, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class StaffingRecipient(db.Model):
    """An agency a request was sent to; the unique pair makes the fan-out exactly-once."""

    __tablename__ = "staffing_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("staffing_requests.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("request_id", "provider_id", name="uq_staffing_recipients_request_provider"),)


class StaffingOffer(db.Model):
    __tablename__ = "staffing_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("staffing_requests.id"), nullable=False, index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    headcount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    hourly_rate_cents: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    candidates: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    note: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=StaffingOfferStatus.OFFERED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    selected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes_worked: Mapped[int | None] = mapped_column(sa.Integer)
    hours_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    provider = relationship("Provider")

    __table_args__ = (
        sa.CheckConstraint("headcount > 0", name="headcount_positive"),
        sa.CheckConstraint("hourly_rate_cents > 0", name="rate_positive"),
    )


class StaffingEvent(db.Model):
    """One step of a staffing request's timeline: a move of the request or of one of
    its offers (``offer_id`` set), with who made it (``actor_id`` None: the system,
    e.g. the round closing at its answer time) and a note code."""

    __tablename__ = "staffing_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("staffing_requests.id", ondelete="CASCADE"),
                                            nullable=False)
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staffing_offers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.Text)

    actor = relationship("User")
    offer = relationship("StaffingOffer")

    __table_args__ = (sa.Index("ix_staffing_events_request_at", "request_id", "at"),)
