"""Provider organisations: their vetting, attachments, members' invitations,
capacity, automatic-acceptance rules and the procured ranking per service and area."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.states import transition_table


class ProviderKind(StrEnum):
    NGO = "ngo"
    COMPANY = "company"
    AGENCY = "agency"


class ProviderStatus(StrEnum):
    PENDING = "pending"          # applied, waiting for a decision
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ProviderAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    RESUBMIT = "resubmit"        # the organisation answers a request for information
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


P, PA = ProviderStatus, ProviderAction
# {(state, action): next_state}, written by state. Anything missing is refused.
# Rejected is final: the business ID stays taken, so a rejected organisation cannot
# slip back in.
PROVIDER_TRANSITIONS: dict[tuple[ProviderStatus, ProviderAction], ProviderStatus] = transition_table({
    P.PENDING: {PA.APPROVE: P.APPROVED, PA.REJECT: P.REJECTED, PA.REQUEST_INFO: P.INFO_REQUESTED},
    P.INFO_REQUESTED: {PA.APPROVE: P.APPROVED, PA.REJECT: P.REJECTED, PA.REQUEST_INFO: P.INFO_REQUESTED,
                       PA.RESUBMIT: P.PENDING},
    P.APPROVED: {PA.SUSPEND: P.SUSPENDED},
    P.SUSPENDED: {PA.REINSTATE: P.APPROVED},
})
# The decision row written for each action (ProviderDecision.decision).
DECISION_OF_ACTION: dict[ProviderAction, str] = {
    PA.APPROVE: "approved", PA.REJECT: "rejected", PA.REQUEST_INFO: "info_requested",
    PA.RESUBMIT: "resubmitted", PA.SUSPEND: "suspended", PA.REINSTATE: "reinstated",
}
del P, PA


class AttachmentKind(StrEnum):
    INSURANCE = "insurance"
    SELF_MONITORING_PLAN = "self_monitoring_plan"
    CERTIFICATE = "certificate"
    OTHER = "other"


class Provider(db.Model):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    business_id: Mapped[str] = mapped_column(sa.String(9), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=ProviderStatus.PENDING, index=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    languages: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # Service area as applied for (postal codes or municipality names); offerings
    # carry the exact postal codes they serve.
    service_areas: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    contact_person: Mapped[str | None] = mapped_column(sa.String(200))
    # Service types named in the application (ids); the organisation's offerings,
    # managed in the marketplace, say what it really offers once approved.
    requested_service_type_ids: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list,
                                                             server_default=sa.text("'[]'"))
    soteri_registered: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    prepayment_register: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    logo_path: Mapped[str | None] = mapped_column(sa.String(300))
    stripe_account_id: Mapped[str | None] = mapped_column(sa.String(100))
    allows_invoice: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Denormalised from published feedback so lists need no aggregate per row.
    rating_sum: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who of the organisation may mark its service orders completed: its
    # administrators only ("admins", the default) or every member ("members").
    completion_by: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="admins",
                                               server_default="admins")

    members = relationship("User", primaryjoin="User.provider_id == Provider.id", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("kind in ('ngo','company','agency')", name="kind_known"),
        sa.CheckConstraint("completion_by in ('admins','members')", name="completion_by_known"),
    )

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    def __repr__(self) -> str:
        return f"<Provider {self.id} {self.name!r}>"


class ProviderDecision(db.Model):
    """An admin's decision on an application or an approved provider."""

    __tablename__ = "provider_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    decision: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    reasons: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ProviderAttachment(db.Model):
    """A document of the provider (insurance, self-monitoring plan, certificate),
    stored under UPLOAD_DIR, never under the web root."""

    __tablename__ = "provider_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(100), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ProviderInvitation(db.Model):
    """An e-mailed invitation to join an organisation; the token is stored hashed."""

    __tablename__ = "provider_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    provider_role: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="worker")
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProviderCapacity(db.Model):
    """How many new orders per week the organisation takes for a service type."""

    __tablename__ = "provider_capacities"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"), nullable=False)
    orders_per_week: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __table_args__ = (sa.UniqueConstraint("provider_id", "service_type_id", name="uq_provider_capacities_provider_service"),)


class AutoAcceptRule(db.Model):
    """An offer matching the rule is accepted at once on the provider's behalf."""

    __tablename__ = "auto_accept_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    service_type_ids: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    postal_codes: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    weekdays: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)  # 0=Mon .. 6=Sun
    capacity_per_week: Mapped[int | None] = mapped_column(sa.Integer)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ProviderRanking(db.Model):
    """The procured priority order of providers for a service type in an area
    (a postal code); rank 1 gets the offer first."""

    __tablename__ = "provider_rankings"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"), nullable=False)
    postal_code: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False)
    rank: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("service_type_id", "postal_code", "provider_id", name="uq_provider_rankings_area_provider"),
        sa.UniqueConstraint("service_type_id", "postal_code", "rank", name="uq_provider_rankings_area_rank"),
    )
