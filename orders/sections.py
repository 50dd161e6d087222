"""The orders' parts of the role dashboards (registered in ``orders.init_app``)."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from markupsafe import escape

from catalogue.models import ServiceType
from clients.models import Client
from core.access import Purpose, record_access_many
from core.db import sql_number
from core.extensions import db
from core.i18n import current_language
from core.templating import RowUrl, escape_text, status_badges
from core.time import local_today
from orders.models import Offer, OfferStatus, OrderStatus, ServiceOrder, VisitReport
from providers.models import Provider

SMALL_GROUP = 5  # counts of clients below this are not shown to managers


def _count(stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


class DashboardOrder(NamedTuple):
    """An order as the staff dashboard lists it (a row, not an ORM object), with its
    table row written (``html``)."""

    id: int
    number: str
    status: str
    client_id: int
    client_first_name: str
    client_last_name: str
    service: str               # the service type's name in the reader's language
    provider_name: str | None
    badge: str                 # the status badge's markup in the reader's language (core.templating.status_badges)
    html: str                  # the row's <tr>, every text from the database escaped (see staff_section)


# The staff dashboard's lists: (key, conditions besides "ordered by me", rows).
# Functions: expressions built at import would configure the mappers then, before
# the forking worker means to (core.worker.prepare_to_fork).
_STAFF_LISTS = (
    ("escalated", lambda: (ServiceOrder.status == OrderStatus.ESCALATED,), 20),
    ("concerns", lambda: (ServiceOrder.has_concern,  # plain, to match the partial index (perf1)
                          ServiceOrder.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS,
                                                   OrderStatus.COMPLETED])), 20),
    ("waiting_close", lambda: (ServiceOrder.status == OrderStatus.COMPLETED,), 20),
    ("recent_orders", lambda: (), 10),
)
_STAFF_KEYS = tuple(key for key, _conditions, _limit in _STAFF_LISTS)


def _staff_lists_query():
    """The four lists as one statement, built once (the orderer is a bound
    parameter): a ``UNION ALL`` picks each list's orders in index order with its own
    limit, and the picked orders are joined with their client, service type and
    provider once. (Joining inside each of the four parts made PostgreSQL plan
    sixteen joins on every request: 1.7 ms of planning for 0.6 ms of work; this
    shape plans in 0.65 ms.) Each part reads the row's columns from its index alone
    (the indexes include them, migration perf3), not a second time by primary key;
    the limits are written into the statement, so that the generic plan knows how
    few rows each part gives (with bound limits it estimates a tenth of the orderer's
    orders and reads the table instead of the indexes)."""
    me = sa.bindparam("orderer_id", type_=sa.Integer)
    picked = sa.union_all(*(
        sa.select(sa.literal(number, sa.Integer).label("list"), ServiceOrder.id, ServiceOrder.number,
                  ServiceOrder.status, ServiceOrder.client_id, ServiceOrder.service_type_id, ServiceOrder.provider_id)
        .where(ServiceOrder.ordered_by_id == me, *conditions())
        .order_by(ServiceOrder.id.desc()).limit(sql_number(limit)).subquery().select()
        for number, (_key, conditions, limit) in enumerate(_STAFF_LISTS))).subquery("picked")
    return (sa.select(picked.c.list, picked.c.id, picked.c.number, picked.c.status,
                      picked.c.client_id, Client.first_name, Client.last_name, ServiceType.name_fi,
                      ServiceType.name_sv, ServiceType.name_en, Provider.name.label("provider_name"))
            .select_from(picked)
            .join(Client, Client.id == picked.c.client_id)
            .join(ServiceType, ServiceType.id == picked.c.service_type_id)
            .outerjoin(Provider, Provider.id == picked.c.provider_id))


_staff_lists = []  # the statement, once built


def staff_section(user) -> dict:
    """The staff member's escalated orders, orders with a concern, completed orders
    whose loop is open, and the latest orders: one query."""
    if not _staff_lists:
        _staff_lists.append(_staff_lists_query())
    section: dict[str, list[DashboardOrder]] = {key: [] for key in _STAFF_KEYS}
    lang = current_language()
    lists = [section[key] for key in _STAFF_KEYS]
    badges = status_badges(OrderStatus)  # kept per language: one per status, not a label per row
    # Each table row is written here, one f-string per row, as templates/core/
    # dashboard_staff.html wrote it under autoescape off (a template loop took about
    # twenty pieces and five filter calls per row, and the page lists up to 70): the
    # link's ends escaped once around the order's integer id, the badge made once per
    # status, and every text from the database escaped (|e's escaping, as plain text).
    url = RowUrl("orders.detail", "order_id")
    head, tail = escape(url.head), escape(url.tail)
    # Fetched at once and unpacked (a row fetched and read by attribute name at a
    # time cost more than the rest of the section), on the session's connection as a
    # Core statement (plain columns: the ORM's execution path served nothing).
    for (number, order_id, order_number, status, client_id, first_name, last_name, name_fi, name_sv, name_en,
         provider_name) in db.session.connection().execute(_staff_lists[0], {"orderer_id": user.id}).all():
        name = (name_sv if lang == "sv" else name_en if lang == "en" else None) or name_fi
        badge = badges[status]
        html = (f'<tr><td><a href="{head}{order_id}{tail}">{escape_text(order_number)}</a></td>\n'
                f'      <td>{escape_text(last_name)}, {escape_text(first_name)}</td><td>{escape_text(name)}</td>\n'
                f'      <td>{escape_text(provider_name or "–")}</td>\n'
                f'      <td>{badge}</td></tr>')
        lists[number].append(DashboardOrder(order_id, order_number, status, client_id, first_name, last_name, name,
                                            provider_name, badge, html))
    for rows in section.values():  # a UNION ALL keeps no order of its own
        rows.sort(key=lambda o: o.id, reverse=True)
    # The dashboard shows each order's client by name.
    record_access_many([o.client_id for rows in section.values() for o in rows], "list", Purpose.ORDERING,
                       what="name on the dashboard", actor=user)
    return section


def provider_section(user) -> dict:
    """New offers with their answer-by times, active orders and today's visits."""
    pid = user.provider_id
    pending = db.session.scalars(
        sa.select(Offer).where(Offer.provider_id == pid, Offer.status == OfferStatus.PENDING,
                               Offer.sent_at.is_not(None))
        .options(sa.orm.joinedload(Offer.order).joinedload(ServiceOrder.service_type),
                 sa.orm.joinedload(Offer.order).joinedload(ServiceOrder.client))
        .order_by(Offer.deadline_at).limit(20)).all()
    active_statuses = [OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS]
    active = _count(sa.select(ServiceOrder.id).where(ServiceOrder.provider_id == pid,
                                                     ServiceOrder.status.in_(active_statuses)))
    active_list = db.session.scalars(
        sa.select(ServiceOrder).where(ServiceOrder.provider_id == pid, ServiceOrder.status.in_(active_statuses))
        .options(sa.orm.joinedload(ServiceOrder.service_type))
        .order_by(ServiceOrder.start_date, ServiceOrder.id).limit(10)).all()
    visits_today = _count(sa.select(VisitReport.id).where(VisitReport.provider_id == pid,
                                                          VisitReport.date == local_today()))
    return {"pending_offers": pending, "active_orders": active, "active_list": active_list,
            "visits_today": visits_today}


def manager_section(user) -> dict:
    """Where the orders stand now, whenever they were placed; a status with fewer
    than five clients shows no count."""
    rows = db.session.execute(
        sa.select(ServiceOrder.status, sa.func.count(), sa.func.count(sa.distinct(ServiceOrder.client_id)))
        .group_by(ServiceOrder.status)).all()
    return {"orders_by_status": [{"status": status, "orders": orders if clients >= SMALL_GROUP else None}
                                 for status, orders, clients in sorted(rows)]}
