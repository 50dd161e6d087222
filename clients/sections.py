"""The clients' parts of the role dashboards (registered in ``clients.init_app``)."""

from __future__ import annotations

import sqlalchemy as sa

from clients import policy, queries, services
from clients.concerns import CONCERN_TEXT
from clients.models import Client, FollowUp, MandateScope
from clients.portal import acts_for_several, current_client_id
from clients.portfolio import service_cards
from clients.scopes import ANY
from core.access import Purpose, record_access, record_access_many
from core.extensions import db


def staff_figures():
    """The staff dashboard's two figures for a bound ``user_id`` and ``now``: overdue
    follow-ups and the clients the worker is responsible for (registered with
    core.registry.register_dashboard_figures: read in the dashboard's one statement
    of figures)."""
    me = sa.bindparam("user_id", type_=sa.Integer)
    now = sa.bindparam("now", type_=FollowUp.due_at.type)
    return sa.select(
        sa.select(sa.func.count()).select_from(FollowUp).where(
            FollowUp.assigned_to_id == me, FollowUp.done_at.is_(None), FollowUp.due_at < now)
        .scalar_subquery().label("overdue_follow_ups"),
        sa.select(sa.func.count()).select_from(Client).where(
            Client.responsible_worker_id == me, Client.erased_at.is_(None)).scalar_subquery().label("my_clients"))


def _follow_ups_statement():
    """The staff member's open follow-ups for a bound ``user_id``, as rows with their
    concern and its people (clients.queries.follow_up_row), as the client page reads
    them: no ORM objects with four joined loads. Built once, at first use: an
    expression built at import would configure the mappers before the forking worker
    means to (core.worker.prepare_to_fork)."""
    fu = FollowUp.__table__.c
    return (queries.follow_up_rows_select()
            .where(fu.assigned_to_id == sa.bindparam("user_id", type_=sa.Integer), fu.done_at.is_(None)).limit(20))


_statements: list = []  # _follow_ups_statement(), once built


def staff_section(user) -> dict:
    """The staff member's open follow-ups (the figures come from staff_figures)."""
    if not _statements:
        _statements.append(_follow_ups_statement())
    # Plain columns on the session's connection: the Core path (clients.queries._core_rows).
    follow_ups = [queries.follow_up_row(r)
                  for r in db.session.connection().execute(_statements[0], {"user_id": user.id}).all()]
    # The concern texts shown on the dashboard: each read is logged.
    record_access_many([f.client_id for f in follow_ups if f.concern_id], "view", Purpose.GUIDANCE,
                       what=CONCERN_TEXT)
    return {"follow_ups": follow_ups}


def client_section(user) -> dict:
    """"My services" of the client the user acts for (their own record, or one they
    represent as a relative; ``?client=<id>`` chooses): every order grouped as being
    arranged / now / finished, the responsible worker and unread messages. The read
    is logged; the request's unit of work writes the row."""
    client_id = current_client_id(user)
    if client_id is None:
        return {"client": None, "services": None}
    scopes = policy.mandate_scopes(user, client_id)
    if MandateScope.SERVICES not in scopes:
        # A relative whose mandate does not cover the services: what they may do instead.
        client = services.lookup_portal_client(user, client_id, scope=ANY)
        return {"client": client, "services": None, "scopes": scopes, "several": acts_for_several(user)}
    # The client, the responsible worker, the unread messages and the orders in one
    # statement, as rows (ORM objects for them cost more than the statement).
    client, services_, unread = queries.portfolio(user, client_id)
    record_access(client.id, "view", policy.client_side_purpose(user, client_id), what="my services", actor=user)
    # The cards' texts, each distinct one made once (a relative reads about the client).
    labels = service_cards(services_, about_client=user.client_id != client.id)
    return {"client": client, "services": services_, "card_labels": labels, "unread_messages": unread,
            "several": acts_for_several(user), "scopes": scopes}
