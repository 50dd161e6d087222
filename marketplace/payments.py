"""Card payments at Stripe, seen from the purchase: which payment methods a
provider offers, the state of a purchase's Checkout Session (resumed, synced on the
buyer's return or by the sweep, ended on cancellation), and applying a payment or
a release by the state table. Stripe is reached only through ``billing``."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from core.db import utcnow
from core.errors import ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from marketplace import billing
from marketplace.errors import PaymentUnavailable
from marketplace.models import ShopAction, ShopOrder, ShopOrderStatus
from marketplace.states import transition, write_event
from providers.models import Provider

log = logging.getLogger(__name__)

CHECKOUT_MINUTES = 60              # a Checkout Session can be paid for an hour


def payment_options(provider: Provider) -> dict[str, bool]:
    """Which payment methods a buyer may choose for this provider's services: card
    when Stripe is configured and the provider has a connected account; invoice when
    Stripe is not configured (the only way then) or the provider allows it."""
    card = billing.configured() and bool(provider.stripe_account_id)
    invoice = (not billing.configured()) or provider.allows_invoice or not card
    return {"card": card, "invoice": invoice}


def check_payment(provider: Provider, method: str) -> None:
    if method not in ("card", "invoice"):
        raise ValidationFailed(_("Choose card or invoice."), fields={"payment": [_("Choose card or invoice.")]})
    options = payment_options(provider)
    if method == "card" and not options["card"]:
        message = (_("Card payment is not in use. Choose invoice: the provider sends you an invoice.")
                   if not billing.configured() else
                   _("%(provider)s does not take card payments yet. Choose invoice.", provider=provider.name))
        raise ValidationFailed(message, code="card_unavailable", fields={"payment": [message]})
    if method == "invoice" and not options["invoice"]:
        message = _("%(provider)s does not send invoices. Pay by card.", provider=provider.name)
        raise ValidationFailed(message, code="invoice_unavailable", fields={"payment": [message]})


def resume_card_payment(order: ShopOrder) -> str | None:
    """The Checkout page's URL for a card purchase still waiting for payment, or None
    when its session has ended (then the purchase is brought up to date: paid if
    Stripe says so, released if the session expired)."""
    if order.payment_method != "card" or order.status != ShopOrderStatus.PENDING_PAYMENT \
            or not order.stripe_checkout_session_id:
        return None
    session = _retrieve_session(order)
    if session.get("status") == "open" and session.get("url"):
        return session["url"]
    apply_session_state(order, session, source="return")
    return None


def _retrieve_session(order: ShopOrder) -> dict:
    try:
        return billing.retrieve_checkout_session(order.stripe_checkout_session_id)
    except billing.BillingError:
        raise PaymentUnavailable(_("The payment service could not be reached. Try again in a moment.")) from None


def sync_checkout(order: ShopOrder) -> str:
    """Ask Stripe (server to server) how the purchase's Checkout Session stands and
    apply it: used when the buyer comes back from the payment page and by the
    sweep for sessions whose webhook never came. The browser's return alone never
    marks anything paid. Returns the purchase's status."""
    if order.payment_method == "card" and order.status == ShopOrderStatus.PENDING_PAYMENT \
            and order.stripe_checkout_session_id:
        apply_session_state(order, _retrieve_session(order), source="return")
    return order.status


def apply_session_state(order: ShopOrder, session: dict, source: str) -> str:
    if session.get("id") != order.stripe_checkout_session_id:
        return "ignored"
    if session.get("status") == "complete" and session.get("payment_status") == "paid":
        return apply_payment(order, session)
    if session.get("status") == "expired":
        return release(order, "shop.payment_expired")
    return "waiting"


def apply_payment(order: ShopOrder, session: dict) -> str:
    """Stripe says the session is paid. Only the amount and currency of the purchase
    are accepted; a payment for a purchase cancelled meanwhile is refunded at once."""
    if session.get("amount_total") != order.total_cents or str(session.get("currency", "")).upper() != order.currency:
        log.error("purchase %s: paid %s %s, expected %s %s; not marked paid", order.id, session.get("amount_total"),
                  session.get("currency"), order.total_cents, order.currency)
        write_event(order.id, order.status, order.status, None, code="shop.amount_mismatch")
        return "amount_mismatch"
    intent = session.get("payment_intent")
    intent = intent.get("id") if isinstance(intent, dict) else intent
    if order.status == ShopOrderStatus.PENDING_PAYMENT:
        transition(order, ShopAction.PAY, None, code="shop.card_paid", stripe_payment_intent_id=intent)
        enqueue("marketplace.jobs.send_buyer_email", order.id, "paid", queue="mail")
        enqueue("marketplace.jobs.send_provider_email", order.id, "new_purchase", queue="mail")
        return "applied"
    if order.status == ShopOrderStatus.CANCELLED and order.paid_at is None and intent:
        # Paid at the very moment it was cancelled: give the money back.
        try:
            billing.create_refund(payment_intent=intent, amount_cents=order.total_cents, shop_order_id=order.id,
                                  idempotency_key=f"late-refund-{order.id}")
        except billing.BillingError:
            raise PaymentUnavailable("refund of a late payment failed; Stripe will deliver the event again") from None
        transition(order, ShopAction.LATE_REFUND, None, code="shop.late_payment_refunded",
                   stripe_payment_intent_id=intent, paid_at=utcnow(), refunded_cents=order.total_cents)
        enqueue("marketplace.jobs.send_buyer_email", order.id, "refunded", key=str(order.total_cents), queue="mail")
        return "refunded_late_payment"
    return "no_change"


def release(order: ShopOrder, code: str) -> str:
    """Release an unpaid card purchase; ``code`` says why (``marketplace.texts``)."""
    if order.status != ShopOrderStatus.PENDING_PAYMENT or order.payment_method != "card":
        return "no_change"
    transition(order, ShopAction.RELEASE, None, code=code)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "released", queue="mail")
    return "applied"


def end_checkout_session(order: ShopOrder) -> None:
    try:
        billing.expire_checkout_session(order.stripe_checkout_session_id, idempotency_key=f"expire-{checkout_key(order)}")
        return
    except billing.BillingError as exc:
        if exc.unavailable:
            raise PaymentUnavailable(_("The payment service could not be reached. Try again in a moment.")) from None
    # Stripe refuses to end a session that is no longer open: find out why.
    apply_session_state(order, _retrieve_session(order), source="return")


def checkout_key(order: ShopOrder) -> str:
    # The id alone could repeat on SQLite after a rolled-back checkout; the hash does not.
    return f"checkout-{order.id}-{order.access_token_hash[:12]}"




def stale_card_purchases(limit: int = 100) -> list[int]:
    """Card purchases still waiting although their Checkout Session has ended."""
    cutoff = utcnow() - timedelta(minutes=CHECKOUT_MINUTES + 15)
    return list(db.session.scalars(
        sa.select(ShopOrder.id).where(ShopOrder.payment_method == "card",
                                      ShopOrder.status == ShopOrderStatus.PENDING_PAYMENT,
                                      ShopOrder.stripe_checkout_session_id.is_not(None),
                                      ShopOrder.created_at < cutoff)
        .order_by(ShopOrder.id).limit(limit)))
