"""Marketplace: the public self-paid shop (the catalogue's pages, cart, checkout,
purchases, refunds) and Stripe payments (``billing.py`` is the only module that
talks to Stripe). The service catalogue itself is the ``catalogue`` package.

Modules: ``pricing`` (a cart priced), ``checkout`` (a cart becomes a purchase),
``states`` (the purchase's state machine), ``lifecycle`` (what the seller and the
buyer do with a purchase), ``payments`` (card payments at Stripe),
``stripe_events`` (the webhook), ``connect`` (Stripe onboarding), ``purchases``
(reading a purchase), ``policy`` (who may act), ``serializers``, ``jobs``."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core.extensions import csrf
from core.registry import register_domain
from core.roles import Role
from core.worker import register_periodic

bp = Blueprint("marketplace", __name__)


def purchases_label(user):
    """"My purchases" for a client; a relative without a record of their own sees the
    purchases made for the people they act for: "Purchases"."""
    return _l("My purchases") if user.client_id else _l("Purchases")


def init_app(app) -> None:
    # The routes import this package's ``bp``: imported here, once it exists.
    from marketplace import api, page_cache, texts, views  # noqa: F401  (routes; the purchase history's message codes; the kept catalogue)
    from marketplace.sections import provider_section

    # Stripe signs its webhook; it cannot carry our CSRF token.
    csrf.exempt(views.stripe_webhook)
    register_domain(
        app, bp,
        navigation=[(Role.ADMIN, "marketplace.admin_catalogue", _l("Service catalogue"), 20),
                    (Role.PROVIDER, "marketplace.provider_purchases", _l("Purchases"), 20),
                    (Role.CLIENT, "marketplace.catalogue", _l("Buy services"), 30),
                    (Role.CLIENT, "marketplace.my_purchases", purchases_label, 35)],
        dashboards={Role.PROVIDER: provider_section},
        status_labels={"pending_payment": _l("Waiting for payment"), "paid": _l("Paid"),
                       "fulfilled": _l("Delivered"), "refunded": _l("Refunded")})
    register_periodic("marketplace.jobs.sync_stale_checkouts", "default", 15 * 60)
