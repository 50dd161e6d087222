"""Staffing's part of the provider dashboard (registered in ``staffing.init_app``)."""

from __future__ import annotations

import sqlalchemy as sa

from staffing.policy import scope_staffing_requests
from core.extensions import db
from providers.models import Provider, ProviderKind
from staffing.models import StaffingRequest, StaffingStatus


def provider_section(user) -> dict:
    """An agency's open staffing requests, soonest answer time first."""
    provider = db.session.get(Provider, user.provider_id)
    if provider is None or provider.kind != ProviderKind.AGENCY:
        return {"staffing_requests": []}
    requests = db.session.scalars(
        scope_staffing_requests(sa.select(StaffingRequest), user)
        .where(StaffingRequest.status == StaffingStatus.OPEN)
        .order_by(StaffingRequest.respond_by).limit(10)).all()
    return {"staffing_requests": requests}
