"""Catalogue services (read side for now): service types in the user's language."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from marketplace.models import ServiceCategory, ServiceType


def list_service_types(active_only: bool = True) -> list[ServiceType]:
    stmt = (sa.select(ServiceType).join(ServiceCategory)
            .order_by(ServiceCategory.position, ServiceCategory.id, ServiceType.name_fi))
    if active_only:
        stmt = stmt.where(ServiceType.active.is_(True))
    return list(db.session.scalars(stmt))
