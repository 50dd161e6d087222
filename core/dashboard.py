"""What each role's dashboard shows. Read-only queries, each scoped to the user
through ``accounts.permissions``; aggregated for managers (no client identity)."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
from accounts.permissions import scope_orders
from core.extensions import db

SMALL_GROUP = 5  # counts of clients below this are shown as "<5" to managers


def _count(stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def staff_dashboard(user) -> dict:
    """What needs the staff member: their escalated orders, orders with a concern,
    completed orders whose loop is open, and their open follow-ups."""
    from clients.models import Client, FollowUp
    from orders.models import OrderStatus, ServiceOrder

    def orders(*conditions, limit=20):
        return db.session.scalars(
            sa.select(ServiceOrder).where(ServiceOrder.ordered_by_id == user.id, *conditions)
            .options(sa.orm.joinedload(ServiceOrder.service_type), sa.orm.joinedload(ServiceOrder.provider),
                     sa.orm.joinedload(ServiceOrder.client))
            .order_by(ServiceOrder.id.desc()).limit(limit)).all()

    follow_ups = db.session.scalars(
        sa.select(FollowUp).where(FollowUp.assigned_to_id == user.id, FollowUp.done_at.is_(None))
        .order_by(FollowUp.due_at.asc().nulls_last(), FollowUp.id).limit(20)).all()
    return {
        "my_clients": _count(sa.select(Client.id).where(Client.responsible_worker_id == user.id, Client.erased_at.is_(None))),
        "escalated": orders(ServiceOrder.status == OrderStatus.ESCALATED),
        "concerns": orders(ServiceOrder.has_concern.is_(True),
                           ServiceOrder.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED])),
        "waiting_close": orders(ServiceOrder.status == OrderStatus.COMPLETED),
        "follow_ups": follow_ups,
        "recent_orders": orders(limit=10),
    }


def provider_dashboard(user) -> dict:
    from orders.models import Offer, OfferStatus, OrderStatus, ServiceOrder
    from providers.models import Provider

    pending = db.session.scalars(
        sa.select(Offer).where(Offer.provider_id == user.provider_id, Offer.status == OfferStatus.PENDING,
                               Offer.sent_at.is_not(None))
        .options(sa.orm.joinedload(Offer.order).joinedload(ServiceOrder.service_type))
        .order_by(Offer.deadline_at).limit(20)).all()
    active = _count(sa.select(ServiceOrder.id).where(
        ServiceOrder.provider_id == user.provider_id,
        ServiceOrder.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])))
    return {"provider": db.session.get(Provider, user.provider_id), "pending_offers": pending, "active_orders": active}


def client_dashboard(user) -> dict:
    from orders.models import ServiceOrder

    orders = db.session.scalars(
        scope_orders(sa.select(ServiceOrder), user)
        .options(sa.orm.joinedload(ServiceOrder.service_type), sa.orm.joinedload(ServiceOrder.provider))
        .order_by(ServiceOrder.start_date.desc()).limit(50)).all()
    return {"orders": orders}


def manager_dashboard(user) -> dict:
    from orders.models import ServiceOrder

    rows = db.session.execute(
        sa.select(ServiceOrder.status, sa.func.count(), sa.func.count(sa.distinct(ServiceOrder.client_id)))
        .group_by(ServiceOrder.status)).all()
    by_status = []
    for status, orders, clients in sorted(rows):
        by_status.append({"status": status, "orders": orders if clients >= SMALL_GROUP else None})
    return {"orders_by_status": by_status}


def admin_dashboard(user) -> dict:
    from core.models import OutboxJob
    from providers.models import Provider, ProviderStatus

    roles = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    return {
        "pending_providers": _count(sa.select(Provider.id).where(
            Provider.status.in_([ProviderStatus.PENDING, ProviderStatus.INFO_REQUESTED]))),
        "approved_providers": _count(sa.select(Provider.id).where(Provider.status == ProviderStatus.APPROVED)),
        "users_by_role": [(r, roles.get(r, 0)) for r in Role],
        "jobs_waiting": _count(sa.select(OutboxJob.id).where(OutboxJob.done_at.is_(None))),
    }


DASHBOARDS = {
    Role.STAFF: staff_dashboard, Role.PROVIDER: provider_dashboard, Role.CLIENT: client_dashboard,
    Role.MANAGER: manager_dashboard, Role.ADMIN: admin_dashboard,
}
