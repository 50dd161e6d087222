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
from core.db import utcnow
from core.extensions import db


def _staff_statements() -> dict:
    """The staff dashboard's two statements for a bound ``user_id`` (and ``now``):
    built once (building the follow-ups' loader options and the counts took about
    as long as running them), at first use: expressions built at import would
    configure the mappers before the forking worker means to
    (core.worker.prepare_to_fork)."""
    me = sa.bindparam("user_id", type_=sa.Integer)
    mine = (FollowUp.assigned_to_id == me, FollowUp.done_at.is_(None))
    now = sa.bindparam("now", type_=FollowUp.due_at.type)
    fu = FollowUp.__table__.c
    return {
        # As rows with their concern and its people (clients.queries.follow_up_row),
        # as the client page reads them: no ORM objects with four joined loads.
        "follow_ups": queries.follow_up_rows_select().where(fu.assigned_to_id == me, fu.done_at.is_(None))
        .limit(20),
        # Both counts in one round trip.
        "counts": sa.select(
            sa.select(sa.func.count()).select_from(FollowUp).where(*mine, FollowUp.due_at < now).scalar_subquery(),
            sa.select(sa.func.count()).select_from(Client).where(
                Client.responsible_worker_id == me, Client.erased_at.is_(None)).scalar_subquery()),
    }


_statements: dict = {}  # _staff_statements(), once built


def staff_section(user) -> dict:
    """How many clients the staff member is responsible for, and their open follow-ups."""
    if not _statements:
        _statements.update(_staff_statements())
    now = utcnow()
    follow_ups = [queries.follow_up_row(r) for r in db.session.execute(_statements["follow_ups"],
                                                                         {"user_id": user.id}).all()]
    # The concern texts shown on the dashboard: each read is logged.
    record_access_many([f.client_id for f in follow_ups if f.concern_id], "view", Purpose.GUIDANCE,
                       what=CONCERN_TEXT)
    overdue, my_clients = db.session.execute(_statements["counts"], {"user_id": user.id, "now": now}).one()
    return {"my_clients": my_clients, "follow_ups": follow_ups, "overdue_follow_ups": overdue, "now": now}


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
