"""Who may see what. Web views guard with ``role_required``; every list or lookup
of scoped objects goes through a ``scope_*`` helper, so a provider member only ever
queries its own organisation's rows and a client only their own.

Each helper takes a SQLAlchemy ``Select`` and the user and returns the narrowed
select; roles that may see nothing get a select that returns nothing. Accounts
imports only core, so the helpers for a domain's rows live in that domain:
``clients.scopes`` (``scope_clients``, ``represented_client_ids``,
``can_act_for_client``), ``orders.scopes`` (``scope_orders``),
``marketplace.scopes`` (``scope_shop_orders``) and ``staffing.scopes``
(``scope_staffing_requests``). Only the generic ``scope_provider_owned`` is here.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.roles import Role, role_required  # noqa: F401  (re-exported for the domains)


def _nothing(stmt: sa.Select) -> sa.Select:
    return stmt.where(sa.false())


def scope_provider_owned(stmt: sa.Select, user, provider_column) -> sa.Select:
    """Rows that belong to one organisation (offerings, attachments, invitations):
    admin all, a provider member its own, others none."""
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.PROVIDER:
        return stmt.where(provider_column == user.provider_id)
    return _nothing(stmt)
