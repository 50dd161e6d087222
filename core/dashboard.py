"""What each role's dashboard shows. Read-only queries, each scoped to the user
through ``accounts.permissions``; aggregated for managers (no client identity)."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
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
    """New offers with their answer-by times, active orders and today's visit
    reports, open purchases, staffing requests (agencies), recent feedback and the
    organisation's figures beside the area's median. A constant number of queries."""
    from zoneinfo import ZoneInfo

    from accounts.permissions import scope_shop_orders, scope_staffing_requests
    from core.db import utcnow
    from feedback.models import Feedback
    from marketplace.models import ShopOrder, ShopOrderStatus
    from orders.models import Offer, OfferStatus, OrderStatus, ServiceOrder, VisitReport
    from providers.figures import format_duration, provider_figures
    from providers.models import Provider, ProviderKind
    from staffing.models import StaffingRequest, StaffingStatus

    pid = user.provider_id
    provider = db.session.get(Provider, pid)
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
    today = utcnow().astimezone(ZoneInfo("Europe/Helsinki")).date()
    visits_today = _count(sa.select(VisitReport.id).where(VisitReport.provider_id == pid, VisitReport.date == today))
    open_purchases = scope_shop_orders(sa.select(ShopOrder), user).where(sa.or_(
        ShopOrder.status == ShopOrderStatus.PAID,
        sa.and_(ShopOrder.status == ShopOrderStatus.PENDING_PAYMENT, ShopOrder.payment_method == "invoice")))
    purchases = db.session.scalars(open_purchases.order_by(ShopOrder.created_at).limit(10)).all()
    staffing = []
    if provider.kind == ProviderKind.AGENCY:
        staffing = db.session.scalars(
            scope_staffing_requests(sa.select(StaffingRequest), user)
            .where(StaffingRequest.status == StaffingStatus.OPEN)
            .order_by(StaffingRequest.respond_by).limit(10)).all()
    feedback = db.session.scalars(
        sa.select(Feedback).where(Feedback.provider_id == pid, Feedback.hidden_at.is_(None))
        .order_by(Feedback.created_at.desc()).limit(5)).all()
    figures = provider_figures(pid)
    return {"provider": provider, "pending_offers": pending, "active_orders": active, "active_list": active_list,
            "visits_today": visits_today, "purchases": purchases, "staffing_requests": staffing,
            "recent_feedback": feedback, "figures": figures, "format_duration": format_duration}


def client_dashboard(user) -> dict:
    """"My services" of the client the user acts for (their own record, or one they
    represent as a relative; ``?client=<id>`` chooses): every order grouped as being
    arranged / now / finished, with provider, schedule, latest visits and what
    happens next; the responsible worker and unread messages. Writes one
    access-log row, committed after the page has rendered."""
    from flask import after_this_request

    from clients import queries, services
    from clients.models import Message
    from clients.portal import acts_for_several, current_client_id

    client_id = current_client_id(user)
    if client_id is None:
        return {"client": None, "services": None}
    client = services.client_for_portal(user, client_id, what="my services")

    @after_this_request
    def _commit_access_log(response):
        # The dashboard view renders without committing; the read must be logged.
        db.session.commit()
        return response

    unread = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.client_id == client.id, Message.read_at.is_(None),
        Message.sender_id.in_(sa.select(User.id).where(User.role != Role.CLIENT))))
    return {"client": client, "services": queries.client_services(user, client.id), "unread_messages": unread,
            "several": acts_for_several(user)}


def manager_dashboard(user) -> dict:
    """Last month's key figures, county-wide, from the monthly reports (the same
    report builders as the reports page, where the filters and charts are); where
    the orders stand now; the reports generated lately."""
    from flask_babel import get_locale

    from orders.models import ServiceOrder
    from reports.dashboard import last_month_overview
    from reports.services import recent_runs

    overview = last_month_overview(str(get_locale() or "fi"))
    # Where the orders stand now, whenever they were placed.
    rows = db.session.execute(
        sa.select(ServiceOrder.status, sa.func.count(), sa.func.count(sa.distinct(ServiceOrder.client_id)))
        .group_by(ServiceOrder.status)).all()
    by_status = [{"status": status, "orders": orders if clients >= SMALL_GROUP else None}
                 for status, orders, clients in sorted(rows)]
    return {"period": overview["period"], "figures": overview["figures"], "orders_by_status": by_status,
            "recent_reports": recent_runs(user, limit=5)}


def admin_dashboard(user) -> dict:
    from datetime import timedelta

    from core.db import utcnow
    from core.models import OutboxJob
    from providers.models import Provider, ProviderAttachment, ProviderStatus

    roles = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    waiting = [ProviderStatus.PENDING, ProviderStatus.INFO_REQUESTED]
    soon = utcnow().date() + timedelta(days=30)
    return {
        "pending_providers": _count(sa.select(Provider.id).where(Provider.status.in_(waiting))),
        "applications": db.session.scalars(sa.select(Provider).where(Provider.status.in_(waiting))
                                           .order_by(Provider.created_at).limit(10)).all(),
        "approved_providers": _count(sa.select(Provider.id).where(Provider.status == ProviderStatus.APPROVED)),
        "suspended_providers": _count(sa.select(Provider.id).where(Provider.status == ProviderStatus.SUSPENDED)),
        "expiring_attachments": _count(sa.select(ProviderAttachment.id).join(
            Provider, Provider.id == ProviderAttachment.provider_id).where(
            Provider.status == ProviderStatus.APPROVED, ProviderAttachment.expires_on.is_not(None),
            ProviderAttachment.expires_on <= soon)),
        "users_by_role": [(r, roles.get(r, 0)) for r in Role],
        "jobs_waiting": _count(sa.select(OutboxJob.id).where(OutboxJob.done_at.is_(None))),
    }


DASHBOARDS = {
    Role.STAFF: staff_dashboard, Role.PROVIDER: provider_dashboard, Role.CLIENT: client_dashboard,
    Role.MANAGER: manager_dashboard, Role.ADMIN: admin_dashboard,
}
