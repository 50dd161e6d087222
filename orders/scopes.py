"""Which service orders a user may see (moved here from accounts.permissions:
accounts imports only core)."""

from __future__ import annotations

import sqlalchemy as sa

from clients.scopes import represented_client_ids
from core.roles import Role
from orders.models import Offer, ServiceOrder


def scope_orders(stmt: sa.Select, user) -> sa.Select:
    """Service orders: staff all; a provider those offered to or won by its
    organisation; a client their own; managers and admins none (they see reports)."""
    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.PROVIDER:
        offered = sa.select(Offer.order_id).where(Offer.provider_id == user.provider_id, Offer.sent_at.is_not(None))
        return stmt.where(sa.or_(ServiceOrder.provider_id == user.provider_id, ServiceOrder.id.in_(offered)))
    if user.role == Role.CLIENT:
        return stmt.where(ServiceOrder.client_id.in_(represented_client_ids(user)))
    return stmt.where(sa.false())
