"""The providers' parts of the role dashboards (registered in ``providers.init_app``)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.time import local_today
from providers.figures import format_duration, provider_figures
from providers.models import Provider, ProviderAttachment, ProviderStatus


def _count(stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def provider_section(user) -> dict:
    """The organisation and its figures beside the area's median."""
    return {"provider": db.session.get(Provider, user.provider_id), "figures": provider_figures(user.provider_id),
            "format_duration": format_duration}


def admin_section(user) -> dict:
    """Applications waiting for a decision, providers by state, documents expiring."""
    waiting = [ProviderStatus.PENDING, ProviderStatus.INFO_REQUESTED]
    soon = local_today() + timedelta(days=30)
    return {
        "pending_providers": _count(sa.select(Provider.id).where(Provider.status.in_(waiting))),
        "applications": db.session.scalars(sa.select(Provider).where(Provider.status.in_(waiting))
                                           .order_by(Provider.created_at).limit(10)).all(),
        "approved_providers": _count(sa.select(Provider.id).where(Provider.status == ProviderStatus.APPROVED)),
        "suspended_providers": _count(sa.select(Provider.id).where(Provider.status == ProviderStatus.SUSPENDED)),
        "expiring_attachments": _count(sa.select(ProviderAttachment.id).join(
            Provider, Provider.id == ProviderAttachment.provider_id).where(
            Provider.status == ProviderStatus.APPROVED, ProviderAttachment.expires_on.is_not(None),
            ProviderAttachment.expires_on <= soon)),
    }
