"""Marketplace: the service catalogue, provider offerings, the public self-paid shop
and Stripe payments (``billing.py`` is the only module that talks to Stripe)."""

from flask import Blueprint

bp = Blueprint("marketplace", __name__)


def init_app(app) -> None:
    from core.extensions import csrf
    from core.worker import register_periodic
    from marketplace import api, views  # noqa: F401  (routes)

    # Stripe signs its webhook; it cannot carry our CSRF token.
    csrf.exempt(views.stripe_webhook)
    app.register_blueprint(bp)
    register_periodic("marketplace.jobs.sync_stale_checkouts", "default", 15 * 60)
