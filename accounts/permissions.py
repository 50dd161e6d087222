"""Who may see what. Web views guard with ``role_required``; every list or lookup
of scoped objects goes through the ``scope_*`` helpers, so a provider member only
ever queries its own organisation's rows and a client only their own.

Each helper takes a SQLAlchemy ``Select`` and the user and returns the narrowed
select; roles that may see nothing get a select that returns nothing.
"""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from core.roles import Role, role_required  # noqa: F401  (re-exported for the domains)


def represented_client_ids(user) -> sa.Select:
    """Ids of the clients a client-role user may act for: their own record and those
    they represent as a relative with recorded consent."""
    from clients.models import ClientRepresentative

    own = sa.select(sa.literal(user.client_id if user.client_id is not None else -1))
    relatives = sa.select(ClientRepresentative.client_id).where(
        ClientRepresentative.user_id == user.id, ClientRepresentative.ended_at.is_(None))
    return sa.union(own, relatives)


def can_act_for_client(user, client_id: int) -> bool:
    from core.extensions import db

    if user.role != Role.CLIENT:
        return False
    return client_id in set(db.session.scalars(represented_client_ids(user)))


def _nothing(stmt: sa.Select) -> sa.Select:
    return stmt.where(sa.false())


def scope_clients(stmt: sa.Select, user) -> sa.Select:
    """Client records: staff all; a client their own (and represented); a provider
    the clients of orders its organisation has won and not yet finished; others none."""
    from clients.models import Client
    from orders.models import OrderStatus, ServiceOrder

    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.CLIENT:
        return stmt.where(Client.id.in_(represented_client_ids(user)))
    if user.role == Role.PROVIDER:
        active = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
        won = sa.select(ServiceOrder.client_id).where(
            ServiceOrder.provider_id == user.provider_id, ServiceOrder.status.in_(active))
        return stmt.where(Client.id.in_(won))
    return _nothing(stmt)


def scope_orders(stmt: sa.Select, user) -> sa.Select:
    """Service orders: staff all; a provider those offered to or won by its
    organisation; a client their own; managers and admins none (they see reports)."""
    from orders.models import Offer, ServiceOrder

    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.PROVIDER:
        offered = sa.select(Offer.order_id).where(Offer.provider_id == user.provider_id, Offer.sent_at.is_not(None))
        return stmt.where(sa.or_(ServiceOrder.provider_id == user.provider_id, ServiceOrder.id.in_(offered)))
    if user.role == Role.CLIENT:
        return stmt.where(ServiceOrder.client_id.in_(represented_client_ids(user)))
    return _nothing(stmt)


def scope_shop_orders(stmt: sa.Select, user) -> sa.Select:
    """Purchases: admin all; a provider its own; a client those they bought or were
    bought for them; others none. Guests use the secret order link instead."""
    from marketplace.models import ShopOrder

    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.PROVIDER:
        return stmt.where(ShopOrder.provider_id == user.provider_id)
    if user.role == Role.CLIENT:
        return stmt.where(sa.or_(ShopOrder.buyer_user_id == user.id,
                                 ShopOrder.client_id.in_(represented_client_ids(user))))
    return _nothing(stmt)


def scope_staffing_requests(stmt: sa.Select, user) -> sa.Select:
    """Staffing requests: staff all; an agency those sent to it; others none."""
    from staffing.models import StaffingRecipient, StaffingRequest

    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.PROVIDER:
        sent = sa.select(StaffingRecipient.request_id).where(StaffingRecipient.provider_id == user.provider_id)
        return stmt.where(StaffingRequest.id.in_(sent))
    return _nothing(stmt)


def scope_provider_owned(stmt: sa.Select, user, provider_column) -> sa.Select:
    """Rows that belong to one organisation (offerings, attachments, invitations):
    admin all, a provider member its own, others none."""
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.PROVIDER:
        return stmt.where(provider_column == user.provider_id)
    return _nothing(stmt)
