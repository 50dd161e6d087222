"""Which staffing requests a user may see (moved here from accounts.permissions:
accounts imports only core)."""

from __future__ import annotations

import sqlalchemy as sa

from core.roles import Role
from staffing.models import StaffingRecipient, StaffingRequest


def scope_staffing_requests(stmt: sa.Select, user) -> sa.Select:
    """Staffing requests: staff all; an agency those sent to it; others none."""
    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.PROVIDER:
        sent = sa.select(StaffingRecipient.request_id).where(StaffingRecipient.provider_id == user.provider_id)
        return stmt.where(StaffingRequest.id.in_(sent))
    return stmt.where(sa.false())
