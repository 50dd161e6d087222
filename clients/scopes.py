"""Which clients a user may see or act for (moved here from accounts.permissions:
accounts imports only core)."""

from __future__ import annotations

import sqlalchemy as sa

from clients.models import Client, ClientRepresentative
from core.extensions import db
from core.roles import Role
from orders.models import OrderStatus, ServiceOrder


def represented_client_ids(user) -> sa.Select:
    """Ids of the clients a client-role user may act for: their own record and those
    they represent as a relative with recorded consent."""
    own = sa.select(sa.literal(user.client_id if user.client_id is not None else -1))
    relatives = sa.select(ClientRepresentative.client_id).where(
        ClientRepresentative.user_id == user.id, ClientRepresentative.ended_at.is_(None))
    return sa.union(own, relatives)


def can_act_for_client(user, client_id: int) -> bool:
    if user.role != Role.CLIENT:
        return False
    return client_id in set(db.session.scalars(represented_client_ids(user)))


def scope_clients(stmt: sa.Select, user) -> sa.Select:
    """Client records: staff all; a client their own (and represented); a provider
    the clients of orders its organisation has won and not yet finished; others none."""
    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.CLIENT:
        return stmt.where(Client.id.in_(represented_client_ids(user)))
    if user.role == Role.PROVIDER:
        active = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
        won = sa.select(ServiceOrder.client_id).where(
            ServiceOrder.provider_id == user.provider_id, ServiceOrder.status.in_(active))
        return stmt.where(Client.id.in_(won))
    return stmt.where(sa.false())
