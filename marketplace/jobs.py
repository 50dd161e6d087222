"""Marketplace jobs: the buyer's and the provider's e-mails about a purchase, and the
sweep that settles card purchases whose Stripe webhook never arrived.

Jobs take ids and primitives, reload their rows and commit nothing
(``core.jobs.run_outbox_job`` commits). Every e-mail has a dedupe key per event, so
a repeated delivery of a job sends nothing twice.
"""

from __future__ import annotations

import logging

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from catalogue.money import vat_rate_label
from core.extensions import db
from core.mail import queue_email
from core.urls import absolute_url
from feedback.services import issue_feedback_link
from marketplace import billing
from marketplace.errors import PaymentUnavailable
from marketplace.models import ShopOrder
from marketplace.payments import stale_card_purchases, sync_checkout
from marketplace.purchases import order_events, order_url

log = logging.getLogger(__name__)


def _subjects() -> dict[str, str]:
    # Built inside force_locale, so each subject is in the recipient's language.
    return {
        "received": _("We received your order %(number)s"),
        "paid": _("Payment received for order %(number)s"),
        "time_confirmed": _("Time confirmed for order %(number)s"),
        "fulfilled": _("Order %(number)s delivered – tell us how it went"),
        "cancelled": _("Order %(number)s cancelled"),
        "released": _("Order %(number)s was not paid and has been released"),
        "refunded": _("Refund for order %(number)s"),
        "new_purchase": _("New purchase %(number)s"),
        "buyer_cancelled": _("Purchase %(number)s cancelled by the buyer"),
    }


def _feedback_url(shop_order_id: int, language: str) -> str | None:
    # The link was created with the fulfilment (marketplace.lifecycle.fulfil); this
    # finds it (and creates it for a purchase fulfilled before that was so).
    _link, token = issue_feedback_link(shop_order_id=shop_order_id, language=language)
    try:
        return absolute_url("feedback.form", token=token)
    except BuildError:
        log.warning("feedback.form does not exist yet: purchase %s e-mailed without a feedback link", shop_order_id)
        return None


def send_buyer_email(shop_order_id: int, kind: str, key: str | None = None, amount_cents: int | None = None) -> str:
    """Job: e-mail the buyer about one step of their purchase, in the language they
    bought in, with the purchase's link. ``fulfilled`` also creates the one-time
    feedback link and sends it. ``key`` tells apart repeatable steps (each distinct
    time confirmed, each refund)."""
    order = db.session.get(ShopOrder, shop_order_id)
    if order is None:
        return "skipped"
    language = order.buyer_language if order.buyer_language in ("fi", "sv", "en") else "fi"
    feedback_url = _feedback_url(order.id, language) if kind == "fulfilled" else None
    with force_locale(language):
        subject = _subjects()[kind] % {"number": order.number}
        body = render_template(f"marketplace/email/{kind}.txt", order=order, url=order_url(order),
                               feedback_url=feedback_url, amount_cents=amount_cents, events=order_events(order),
                               vat_rate_label=vat_rate_label)
    queue_email(order.buyer_email, subject, body, language,
                dedupe_key=f"shop-{order.id}-{kind}" + (f"-{key}" if key else ""))
    return "queued"


def send_provider_email(shop_order_id: int, kind: str) -> str:
    """Job: tell the provider organisation about a new purchase (invoice: at checkout;
    card: once paid) or a buyer's cancellation."""
    order = db.session.get(ShopOrder, shop_order_id)
    if order is None:
        return "skipped"
    provider = order.provider
    language = next((lang for lang in (provider.languages or []) if lang in ("fi", "sv", "en")), "fi")
    template = "buyer_cancelled" if kind == "cancelled" else "new_purchase"
    with force_locale(language):
        subject = _subjects()[template] % {"number": order.number}
        body = render_template(f"marketplace/email/{template}.txt", order=order,
                               url=absolute_url("marketplace.provider_purchase", order_id=order.id),
                               vat_rate_label=vat_rate_label)
    queue_email(provider.email, subject, body, language, dedupe_key=f"shop-{order.id}-provider-{kind}")
    return "queued"


def sync_stale_checkouts() -> int:
    """Periodic: ask Stripe about card purchases still waiting after their Checkout
    Session's hour, and mark them paid or release them (a lost webhook must not
    leave a purchase hanging). Idempotent; does nothing without Stripe."""
    if not billing.configured():
        return 0
    done = 0
    # Outside a request there is no visitor's language: notes are in the default one.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for order_id in stale_card_purchases():
            order = db.session.get(ShopOrder, order_id)
            try:
                with db.session.begin_nested():
                    sync_checkout(order)
            except PaymentUnavailable:
                break  # Stripe is down: try again at the next run
            done += 1
    return done
