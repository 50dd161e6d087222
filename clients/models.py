"""Clients and their coordination: consent, segment, responsible worker, the
network of professionals, relatives acting for them, guidance contacts, follow-ups
and messages."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class Segment(StrEnum):
    """How much coordination a client needs; sets how often staff check on them."""

    INDEPENDENT = "independent"
    GUIDANCE = "guidance"
    INTENSIVE = "intensive"


# Days between check-ups the staff dashboard reminds of, per segment.
SEGMENT_CHECK_DAYS = {Segment.INDEPENDENT: 180, Segment.GUIDANCE: 60, Segment.INTENSIVE: 14}


class Client(db.Model):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    # Henkilötunnus: only ever shown masked, never in logs or reports.
    personal_identity_code: Mapped[str | None] = mapped_column(sa.String(11), unique=True)
    address: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    postal_code: Mapped[str] = mapped_column(sa.String(5), nullable=False, index=True)
    municipality: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    languages: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    consent_to_share: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    consent_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    segment: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=Segment.GUIDANCE)
    # Turvakielto: address and phone only for the responsible worker and the winning provider.
    non_disclosure: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    responsible_worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    responsible_worker = relationship("User", foreign_keys=[responsible_worker_id])
    consent_recorded_by = relationship("User", foreign_keys=[consent_recorded_by_id])

    __table_args__ = (
        sa.CheckConstraint("segment in ('independent','guidance','intensive')", name="segment_known"),
        sa.Index("ix_clients_last_name_first_name", "last_name", "first_name"),
        # A worker's clients; with ``erased_at`` the staff dashboard counts the ones not
        # erased from the index alone (migration perf3).
        sa.Index("ix_clients_worker_erased", "responsible_worker_id", "erased_at"),
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def masked_identity_code(self) -> str | None:
        code = self.personal_identity_code
        return None if not code else code[:6] + code[6] + "****"

    def __repr__(self) -> str:  # no personal data in reprs: they end up in logs
        return f"<Client {self.id}>"


class MandateScope(StrEnum):
    """What a relative's mandate lets them do for the client."""

    SERVICES = "services"  # see the client's services, orders, purchases, vouchers and data
    MESSAGES = "messages"  # read and send messages in the client's thread
    BUY = "buy"  # buy self-paid services in the shop for the client
    FEEDBACK = "feedback"  # give feedback on the client's services


class ClientRepresentative(db.Model):
    """A relative's mandate: a client-role user allowed to act for a client, with
    the client's consent recorded by staff, within scopes (``MandateScope``) and a
    validity period (``valid_from``/``valid_until``, Helsinki days, open when empty).
    ``ended_at`` is the revocation (by staff or the client, ``ended_by_id``)."""

    __tablename__ = "client_representatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    relationship_: Mapped[str] = mapped_column("relationship", sa.String(60), nullable=False, default="")
    consent_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    consent_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    may_see_services: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    may_send_messages: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    may_buy: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    may_give_feedback: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)

    user = relationship("User", foreign_keys=[user_id])
    consent_recorded_by = relationship("User", foreign_keys=[consent_recorded_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])

    __table_args__ = (sa.UniqueConstraint("client_id", "user_id", name="uq_client_representatives_client_user"),)

    # The column of each scope.
    SCOPE_COLUMNS = {MandateScope.SERVICES: "may_see_services", MandateScope.MESSAGES: "may_send_messages",
                     MandateScope.BUY: "may_buy", MandateScope.FEEDBACK: "may_give_feedback"}

    @property
    def scopes(self) -> list[str]:
        return [scope for scope, column in self.SCOPE_COLUMNS.items() if getattr(self, column)]

    def is_valid_on(self, day: date) -> bool:
        """Not revoked and ``day`` within the validity period."""
        return self.ended_at is None and (self.valid_from is None or self.valid_from <= day) \
            and (self.valid_until is None or self.valid_until >= day)

    def state_on(self, day: date) -> str:
        """active | upcoming | expired | ended"""
        if self.ended_at is not None:
            return "ended"
        if self.valid_from is not None and self.valid_from > day:
            return "upcoming"
        if self.valid_until is not None and self.valid_until < day:
            return "expired"
        return "active"


class NetworkMember(db.Model):
    """A professional or organisation working with the client."""

    __tablename__ = "network_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    organisation: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    role: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    responsibility: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # A row the system wrote (e.g. a provider's): its role as a message code and
    # parameters (``clients.texts``), shown in the reader's language instead of
    # ``role`` and ``responsibility``, which hold what staff typed.
    code: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict | None] = mapped_column(sa.JSON)


# The coded topics of guidance contacts (the statistics group by them); their
# labels in every language are in clients.forms.TOPIC_LABELS.
GUIDANCE_TOPICS = (
    "cleaning", "meals", "shopping", "safety_phone", "personal_care", "repairs", "transport", "carer_support",
    "service_voucher", "housing", "loneliness", "memory", "money", "home_care", "other",
)


class ContactChannel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    CHAT = "chat"
    EMAIL = "email"


class GuidanceContact(db.Model):
    """A logged piece of advice; ``client_id`` is empty for anonymous callers."""

    __tablename__ = "guidance_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    topic: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    outcome: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    referral: Mapped[str | None] = mapped_column(sa.String(200))
    municipality: Mapped[str | None] = mapped_column(sa.String(100))
    minutes: Mapped[int | None] = mapped_column(sa.Integer)

    client = relationship("Client")
    staff = relationship("User", foreign_keys=[staff_id])

    __table_args__ = (sa.CheckConstraint("channel in ('phone','visit','chat','email')", name="channel_known"),)


class FollowUpKind(StrEnum):
    SEGMENT_CHECK = "segment_check"
    CONCERN = "concern"
    FEEDBACK = "feedback"
    RETENTION = "retention"
    ERASURE = "erasure"
    SIGNALS = "signals"
    OTHER = "other"


class FollowUp(db.Model):
    """Something a staff member must do about a client (closed loop)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    done_note: Mapped[str | None] = mapped_column(sa.Text)
    # What the system wrote, as a code and its parameters (rendered in the reader's
    # language by ``clients.texts``); ``title`` is the English fallback.
    code: Mapped[str | None] = mapped_column(sa.String(40))
    params: Mapped[dict | None] = mapped_column(sa.JSON)
    concern_id: Mapped[int | None] = mapped_column(sa.ForeignKey("concerns.id"))
    # 0 normal, 1 raised (e.g. a second weak signal), with the coded reason.
    priority: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    priority_code: Mapped[str | None] = mapped_column(sa.String(40))
    priority_params: Mapped[dict | None] = mapped_column(sa.JSON)

    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    done_by = relationship("User", foreign_keys=[done_by_id])
    concern = relationship("Concern", foreign_keys=[concern_id])

    __table_args__ = (
        sa.Index("ix_follow_ups_open", "assigned_to_id", "done_at"),
        # The backstop of the periodic sweeps: never two open reminders of the same
        # swept kind for one client, even when two cron schedulers run the sweep.
        sa.Index("uq_follow_ups_open_swept_kind", "client_id", "kind", unique=True,
                 sqlite_where=sa.text("done_at IS NULL AND kind IN ('segment_check','retention','erasure')"),
                 postgresql_where=sa.text("done_at IS NULL AND kind IN ('segment_check','retention','erasure')")),
    )


class Urgency(StrEnum):
    TODAY = "today"   # contact the client today
    WEEK = "week"     # contact the client within a week


class Concern(db.Model):
    """A worry about a client's wellbeing raised in a visit report: its text, its
    urgency, who raised it and when, and whether the responsible worker has
    acknowledged it (or it was escalated to the other staff of the area). The text
    is for staff only: never shown to the client or relatives."""

    __tablename__ = "concerns"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_reports.id"))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    urgency: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reported_by = relationship("User", foreign_keys=[reported_by_id])
    acknowledged_by = relationship("User", foreign_keys=[acknowledged_by_id])
    provider = relationship("Provider", foreign_keys=[provider_id])

    __table_args__ = (
        sa.CheckConstraint("urgency in ('today','week')", name="urgency_known"),
        sa.Index("ix_concerns_client_created", "client_id", "created_at"),
        sa.Index("ix_concerns_open_urgent", "urgency", "acknowledged_at", "escalated_at"),
    )


class ClientEventAction(StrEnum):
    CREATED = "created"
    DETAILS_CHANGED = "details_changed"
    CONSENT_GIVEN = "consent_given"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SEGMENT_CHANGED = "segment_changed"
    NON_DISCLOSURE_SET = "non_disclosure_set"
    NON_DISCLOSURE_REMOVED = "non_disclosure_removed"
    HANDOVER = "handover"
    REPRESENTATIVE_ADDED = "representative_added"
    REPRESENTATIVE_ENDED = "representative_ended"
    MANDATE_CHANGED = "mandate_changed"
    MANDATE_REVOKED = "mandate_revoked"
    LOGIN_GIVEN = "login_given"
    CHECKED = "checked"
    RETENTION_FLAGGED = "retention_flagged"
    RETENTION_KEPT = "retention_kept"
    ERASURE_REQUESTED = "erasure_requested"
    ERASURE_DECLINED = "erasure_declined"
    ERASED = "erased"


class ClientEvent(db.Model):
    """One change in a client's record history (consent, segment, handover,
    relatives, retention, erasure): who, when, and a note that names no personal
    data of the client (it survives erasure)."""

    __tablename__ = "client_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    # What a person wrote (a reason), shown as written.
    note: Mapped[str | None] = mapped_column(sa.Text)
    # What the system wrote, as a message code and parameters (``clients.texts``).
    code: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict | None] = mapped_column(sa.JSON)

    actor = relationship("User", foreign_keys=[actor_id])

    __table_args__ = (sa.Index("ix_client_events_client_at", "client_id", "at"),)


class Message(db.Model):
    """A message between a client (or relative) and the responsible worker or the
    provider of an order; kept with the order when there is one."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"), index=True)
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    to_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    to_provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sender = relationship("User", foreign_keys=[sender_id])
    to_user = relationship("User", foreign_keys=[to_user_id])
    to_provider = relationship("Provider", foreign_keys=[to_provider_id])
