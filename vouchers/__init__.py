"""Service vouchers (palveluseteli) and the monthly settlement with providers:
staff grant vouchers, voucher-funded orders, the providers' service events and
their review, the settlement (a scheduled job, or an administrator on demand) with
statements as PDF and CSV and a file for the county's invoicing. Web pages, the
``/api/v1`` routes of API.md's "Service vouchers" and the jobs."""

from flask import Blueprint

bp = Blueprint("vouchers", __name__, url_prefix="/vouchers")

# The scheduled settlement checks hourly whether the previous month is due.
SETTLEMENT_SWEEP_SECONDS = 3600


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from core.registry import register_navigation, register_status_labels
    from core.roles import Role
    from core.worker import register_periodic
    from vouchers import api, views  # noqa: F401  (routes)
    from vouchers.policy import order_voucher_link
    from vouchers.services import euros, quantity_text, unit_label

    app.register_blueprint(bp)
    register_navigation(Role.STAFF, "vouchers.staff_list", _l("Service vouchers"), 35)
    register_navigation(Role.PROVIDER, "vouchers.provider_events", _l("Service vouchers"), 35)
    register_navigation(Role.CLIENT, "vouchers.my_vouchers", _l("Service vouchers"), 35)
    register_navigation(Role.ADMIN, "vouchers.settlements", _l("Voucher settlement"), 35)
    register_navigation(Role.MANAGER, "vouchers.figures", _l("Service vouchers"), 35)
    register_status_labels({
        "granted": _l("Granted"), "open": _l("Open"), "recorded": _l("Recorded"), "under_review": _l("Under review"),
        "approved": _l("Approved"), "settled": _l("Settled"), "paid": _l("Paid"), "refused": _l("Refused"),
    })
    app.add_template_global(quantity_text, "voucher_quantity")
    app.add_template_global(euros, "voucher_euros")
    app.add_template_global(unit_label, "voucher_unit_label")
    app.add_template_global(order_voucher_link, "order_voucher_link")
    register_periodic("vouchers.jobs.monthly_settlement", "default", SETTLEMENT_SWEEP_SECONDS)
    register_periodic("vouchers.jobs.close_expired", "default", SETTLEMENT_SWEEP_SECONDS)
