"""Which clients a user may see or act for (moved here from accounts.permissions:
accounts imports only core).

A relative acts for a client under a mandate (``ClientRepresentative``): not
revoked, within its validity period (Helsinki days) and only for its scopes. The
conditions are part of every query, so a mandate that expires or is revoked stops
access at the next request, also in a session opened before."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context

from clients.models import Client, ClientRepresentative, MandateScope
from core.extensions import db
from core.roles import Role
from core.time import local_today
from orders.models import OrderStatus, ServiceOrder

# ``scope=ANY``: a mandate of any scope (e.g. the chooser of whose pages to open).
ANY = None


def mandate_in_force(scope: str | None = MandateScope.SERVICES, today=None) -> list:
    """Conditions on ``ClientRepresentative`` for a mandate in force ``today`` (the
    local day by default) that covers ``scope`` (any scope when None)."""
    today = today or local_today()
    conditions = [ClientRepresentative.ended_at.is_(None),
                  sa.or_(ClientRepresentative.valid_from.is_(None), ClientRepresentative.valid_from <= today),
                  sa.or_(ClientRepresentative.valid_until.is_(None), ClientRepresentative.valid_until >= today)]
    if scope is not None:
        conditions.append(getattr(ClientRepresentative, ClientRepresentative.SCOPE_COLUMNS[MandateScope(scope)])
                          .is_(True))
    return conditions


def represented_client_ids(user, scope: str | None = MandateScope.SERVICES) -> sa.Select:
    """Ids of the clients a client-role user may act for: their own record and those
    they represent as a relative under a mandate in force covering ``scope``
    (seeing the services by default; ``ANY`` for any scope).

    The statement is built once per request, user, scope and day (the client
    portfolio asks three times). It holds only the user's ids and the day: the
    database reads the mandates each time it runs, so a mandate that ends or is
    revoked stops access at the next query, as before."""
    built = g.setdefault("_represented_client_ids", {}) if has_request_context() else {}
    key = (user.id, user.client_id, scope, local_today())  # the mandates' validity is by day
    stmt = built.get(key)
    if stmt is None:
        own = sa.select(sa.literal(user.client_id if user.client_id is not None else -1))
        relatives = sa.select(ClientRepresentative.client_id).where(
            ClientRepresentative.user_id == user.id, *mandate_in_force(scope, key[-1]))
        stmt = built[key] = sa.union(own, relatives)
    return stmt


def can_act_for_client(user, client_id: int, scope: str | None = MandateScope.SERVICES) -> bool:
    if user.role != Role.CLIENT:
        return False
    if client_id == user.client_id:  # their own record: always among represented_client_ids
        return True
    return client_id in set(db.session.scalars(represented_client_ids(user, scope)))


def scope_clients(stmt: sa.Select, user, scope: str | None = MandateScope.SERVICES) -> sa.Select:
    """Client records: staff all; a client their own (and those represented under a
    mandate covering ``scope``); a provider the clients of orders its organisation
    has won and not yet finished; others none."""
    if user.role == Role.STAFF:
        return stmt
    if user.role == Role.CLIENT:
        return stmt.where(Client.id.in_(represented_client_ids(user, scope)))
    if user.role == Role.PROVIDER:
        active = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
        won = sa.select(ServiceOrder.client_id).where(
            ServiceOrder.provider_id == user.provider_id, ServiceOrder.status.in_(active))
        return stmt.where(Client.id.in_(won))
    return stmt.where(sa.false())
