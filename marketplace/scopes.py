"""Which purchases a user may see (moved here from accounts.permissions: accounts
imports only core)."""

from __future__ import annotations

import sqlalchemy as sa

from clients.scopes import represented_client_ids
from core.roles import Role
from marketplace.models import ShopOrder


def scope_shop_orders(stmt: sa.Select, user) -> sa.Select:
    """Purchases: admin all; a provider its own; a client those they bought or were
    bought for them; others none. Guests use the secret order link instead."""
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.PROVIDER:
        return stmt.where(ShopOrder.provider_id == user.provider_id)
    if user.role == Role.CLIENT:
        return stmt.where(sa.or_(ShopOrder.buyer_user_id == user.id,
                                 ShopOrder.client_id.in_(represented_client_ids(user))))
    return stmt.where(sa.false())
