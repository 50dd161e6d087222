"""Service orders: lifecycle, offers, the provider inbox, visits, closing the loop."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")


def init_app(app) -> None:
    from core.worker import register_periodic
    from orders import api, views  # noqa: F401  (routes)

    app.register_blueprint(bp)
    register_periodic("orders.jobs.expire_overdue_offers", "default", 30)
