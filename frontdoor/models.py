"""The front door: help requests from the public "Ask for help at home" page (or
entered by staff from a phone call or a chat), their callback queue, the guidance
contacts logged on them, the needs self-assessment and the administrator's
suggestion rules. The help request's lifecycle is the table
``HELP_REQUEST_TRANSITIONS`` (machine in ``frontdoor.states``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class HelpStatus(StrEnum):
    OPEN = "open"            # waiting in the queue for someone to call back
    CLAIMED = "claimed"      # one guidance worker owns it
    CLOSED = "closed"        # advice given, nothing more to do
    CONVERTED = "converted"  # became a client record


class HelpAction(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"      # the owner gives it back to the queue
    CLOSE = "close"
    CONVERT = "convert"


class Channel(StrEnum):
    WEB = "web"      # the public form
    PHONE = "phone"  # staff typed it in during a call
    CHAT = "chat"    # staff typed it in from a chat


class ForWhom(StrEnum):
    SELF = "self"
    RELATIVE = "relative"
    NEIGHBOUR = "neighbour"


TOPICS = ("cleaning", "meals", "shopping", "moving_about", "loneliness", "memory", "safety", "caring_for_spouse",
          "other")
# Topics that put a request higher in the queue (urgency 1). Safety at home first (2).
URGENT_TOPICS = {"safety": 2, "memory": 1, "caring_for_spouse": 1}

S, A = HelpStatus, HelpAction
HELP_REQUEST_TRANSITIONS: dict[tuple[HelpStatus, HelpAction], HelpStatus] = {
    (S.OPEN, A.CLAIM): S.CLAIMED,
    (S.CLAIMED, A.RELEASE): S.OPEN,
    (S.CLAIMED, A.CLOSE): S.CLOSED,
    (S.CLAIMED, A.CONVERT): S.CONVERTED,
}
del S, A

# The self-assessment: questions and their answers (codes; the words are in
# frontdoor.services). ``complexity`` is the guidance worker's own view.
ASSESSMENT_QUESTIONS: dict[str, tuple[str, ...]] = {
    "daily_tasks": ("on_my_own", "some_help", "help_every_day"),
    "helpers": ("nobody", "family", "services"),
    "worry": ("nothing_much", "managing_at_home", "health_or_memory", "being_alone", "safety"),
    "complexity": ("low", "medium", "high"),
}


class HelpRequest(db.Model):
    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(12), nullable=False, unique=True)
    channel: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=Channel.WEB)
    for_whom: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    topics: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # Normalised phone / e-mail: duplicates from the same contact are merged.
    contact_key: Mapped[str] = mapped_column(sa.String(254), nullable=False, index=True)
    postal_code: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    language: Mapped[str] = mapped_column(sa.String(2), nullable=False, default="fi")
    best_time: Mapped[str | None] = mapped_column(sa.String(200))
    message: Mapped[str | None] = mapped_column(sa.Text)
    consent_to_contact: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    urgency: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=HelpStatus.OPEN, index=True)
    callback_due: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    merged_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    claimed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    advice: Mapped[str | None] = mapped_column(sa.Text)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"))

    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    assessment = relationship("NeedsAssessment", uselist=False, back_populates="request")

    __table_args__ = (sa.Index("ix_help_requests_queue", "status", "urgency", "created_at"),)


class HelpRequestEvent(db.Model):
    """One step of a help request's timeline (who, when, what); no personal data in
    the note."""

    __tablename__ = "help_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("help_requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str | None] = mapped_column(sa.String(12))
    note: Mapped[str | None] = mapped_column(sa.String(300))

    actor = relationship("User")


class HelpRequestContact(db.Model):
    """A guidance contact (``clients.models.GuidanceContact``) logged on a request."""

    __tablename__ = "help_request_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("help_requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    guidance_contact_id: Mapped[int] = mapped_column(sa.ForeignKey("guidance_contacts.id"), nullable=False,
                                                     unique=True)

    contact = relationship("GuidanceContact")


class NeedsAssessment(db.Model):
    """The self-assessment of one request: the answers, the suggestion the rules
    gave, and what staff confirmed (with their reason when they changed it)."""

    __tablename__ = "needs_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("help_requests.id", ondelete="CASCADE"), nullable=False,
                                            unique=True)
    answers: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    suggested_segment: Mapped[str | None] = mapped_column(sa.String(20))
    suggested_service_type_ids: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    suggested_rule_ids: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    confirmed_segment: Mapped[str | None] = mapped_column(sa.String(20))
    confirmed_service_type_ids: Mapped[list | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    request = relationship("HelpRequest", back_populates="assessment")
    confirmed_by = relationship("User")


class SuggestionRule(db.Model):
    """One rule an administrator keeps: when the answer to ``question`` is
    ``answer``, suggest at least ``segment`` (independent < guidance < intensive)
    and/or the service type. The suggestion is the most intensive segment of the
    matching rules and the union of their service types."""

    __tablename__ = "suggestion_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    answer: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    segment: Mapped[str | None] = mapped_column(sa.String(20))
    service_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_types.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    service_type = relationship("ServiceType")

    __table_args__ = (sa.CheckConstraint("segment IS NOT NULL OR service_type_id IS NOT NULL",
                                         name="suggests_something"),
                      sa.Index("ix_suggestion_rules_question_answer", "question", "answer"))
