"""The orders' parts of the role dashboards (registered in ``orders.init_app``)."""

from __future__ import annotations

import sqlalchemy as sa

from clients.models import Client
from core.access import Purpose, record_access_many
from core.extensions import db
from core.time import local_today
from orders.models import Offer, OfferStatus, OrderStatus, ServiceOrder, VisitReport
from orders.queries import LIST_TYPE_COLUMNS
from providers.models import Provider

SMALL_GROUP = 5  # counts of clients below this are not shown to managers


def _count(stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def staff_section(user) -> dict:
    """The staff member's escalated orders, orders with a concern, completed orders
    whose loop is open, and the latest orders."""

    def orders(*conditions, limit=20):
        return db.session.scalars(
            sa.select(ServiceOrder).where(ServiceOrder.ordered_by_id == user.id, *conditions)
            .options(sa.orm.joinedload(ServiceOrder.service_type).load_only(*LIST_TYPE_COLUMNS),
                     sa.orm.joinedload(ServiceOrder.provider).load_only(Provider.id, Provider.name),
                     sa.orm.joinedload(ServiceOrder.client).load_only(Client.id, Client.first_name, Client.last_name))
            .order_by(ServiceOrder.id.desc()).limit(limit)).all()

    section = {
        "escalated": orders(ServiceOrder.status == OrderStatus.ESCALATED),
        "concerns": orders(ServiceOrder.has_concern,  # plain, to match the partial index (perf1)
                           ServiceOrder.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED])),
        "waiting_close": orders(ServiceOrder.status == OrderStatus.COMPLETED),
        "recent_orders": orders(limit=10),
    }
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
