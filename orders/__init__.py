"""Service orders: lifecycle, offers, the provider inbox, visits, closing the loop."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")


def init_app(app) -> None:
    from core.worker import register_periodic
    from flask_babel import lazy_gettext as _l

    from core.registry import register_domain
    from core.roles import Role
    from orders import api, texts, views  # noqa: F401  (routes; the timeline's message codes)
    from orders.sections import manager_section, provider_section, staff_section

    register_domain(
        app, bp,
        navigation=[(Role.STAFF, "orders.staff_list", _l("Orders"), 20),
                    (Role.PROVIDER, "orders.provider_inbox", _l("Order inbox"), 10)],
        dashboards={Role.STAFF: staff_section, Role.PROVIDER: provider_section, Role.MANAGER: manager_section},
        status_labels={
            "offered": _l("Offered"), "accepted": _l("Accepted"), "in_progress": _l("In progress"),
            "completed": _l("Completed"), "closed": _l("Closed"), "cancelled": _l("Cancelled"),
            "escalated": _l("Escalated"), "pending": _l("Waiting for answer"), "declined": _l("Declined"),
            "expired": _l("Expired"), "withdrawn": _l("Withdrawn")})
    register_periodic("orders.jobs.expire_overdue_offers", "default", 30)
