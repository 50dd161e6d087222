"""What the seller (or admin) and the buyer do with a purchase: confirm its time,
record an invoice paid, mark it delivered, cancel it, refund it. Each change goes
through the state table (``marketplace.states``); e-mails are jobs recorded in the
same transaction, and the one-time feedback link of a delivered purchase is created
in it too (staff can give it out while Redis or the worker is down)."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from core.db import utcnow
from core.errors import ConflictError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from feedback.services import issue_feedback_link
from marketplace import billing
from marketplace.errors import PaymentUnavailable
from marketplace.models import ShopAction, ShopOrder, ShopOrderStatus
from marketplace.payments import end_checkout_session
from marketplace.policy import require_manager
from marketplace.states import money_text, status_text, transition, write_event


def confirm_time(actor, order: ShopOrder, confirmed_time: str) -> ShopOrder:
    """The provider (or admin) confirms when the service is delivered, before
    fulfilment. The buyer is e-mailed each distinct time confirmed."""
    require_manager(actor, order)
    text = (confirmed_time or "").strip()
    if not text or len(text) > 200:
        message = ngettext("Give the time, at most %(num)d character.", "Give the time, at most %(num)d characters.", 200)
        raise ValidationFailed(message, fields={"confirmed_time": [message]})
    if order.status not in (ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.PAID):
        raise ConflictError(_("This purchase is %(status)s; its time can no longer be changed.",
                              status=status_text(order.status)), code="invalid_state")
    if order.confirmed_time == text:
        return order
    order.confirmed_time = text
    write_event(order.id, order.status, order.status, actor, code="shop.time_confirmed", params={"time": text})
    db.session.flush()
    enqueue("marketplace.jobs.send_buyer_email", order.id, "time_confirmed",
            key=hashlib.sha256(text.encode()).hexdigest()[:16], queue="mail")
    return order


def mark_invoice_paid(actor, order: ShopOrder) -> ShopOrder:
    """The provider records that the buyer paid its invoice (card purchases are marked
    paid only by Stripe). Before delivery this moves the purchase to ``paid``; after
    delivery it records the date on the fulfilled purchase."""
    require_manager(actor, order)
    if order.payment_method != "invoice":
        raise ConflictError(_("Card payments are confirmed by the payment service, not by hand."), code="card_payment")
    if order.status == ShopOrderStatus.PENDING_PAYMENT:
        transition(order, ShopAction.PAY, actor, code="shop.invoice_paid")
    elif order.status == ShopOrderStatus.FULFILLED and order.paid_at is None:
        won = db.session.execute(sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.paid_at.is_(None))
                                 .values(paid_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        db.session.expire(order)
        if won:
            write_event(order.id, order.status, order.status, actor, code="shop.invoice_paid")
    else:
        raise ConflictError(_("This purchase is %(status)s; there is no invoice payment to record.",
                              status=status_text(order.status)), code="invalid_state")
    db.session.flush()
    return order


def fulfil(actor, order: ShopOrder, note: str | None = None) -> ShopOrder:
    """The provider marks the service delivered. A card purchase must be paid first;
    an invoice purchase may be delivered before the invoice is paid. The one-time
    feedback link is created now, in the same transaction (staff can give it out even
    while Redis or the worker is down); only the buyer's e-mail carrying it is a job."""
    require_manager(actor, order)
    if order.status == ShopOrderStatus.PENDING_PAYMENT and order.payment_method == "card":
        raise ConflictError(_("The card payment has not arrived yet; deliver after it has."), code="not_paid")
    transition(order, ShopAction.FULFIL, actor, (note or "").strip()[:2000] or None)
    issue_feedback_link(shop_order_id=order.id, language=order.buyer_language)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "fulfilled", queue="mail")
    return order


def cancel(actor, order: ShopOrder, reason: str = "", *, by_buyer: bool = False) -> ShopOrder:
    """Cancel a purchase. The buyer may cancel only while it waits for payment; the
    provider or admin also later: a paid purchase is then refunded in full (card:
    through Stripe). A delivered purchase is refunded, not cancelled. Before
    payment a card purchase's Checkout Session is ended at Stripe so it cannot be
    paid any more."""
    if not by_buyer:
        require_manager(actor, order)
    reason = (reason or "").strip()[:2000]
    if order.status == ShopOrderStatus.PENDING_PAYMENT:
        if order.payment_method == "card" and order.stripe_checkout_session_id:
            end_checkout_session(order)
            if order.status == ShopOrderStatus.CANCELLED:
                return order  # the session had expired: released (and the buyer told) just now
            if order.status != ShopOrderStatus.PENDING_PAYMENT:
                raise ConflictError(_("The buyer has just paid. Refund the purchase instead."), code="already_paid")
        transition(order, ShopAction.CANCEL, actor, reason or None)
        enqueue("marketplace.jobs.send_buyer_email", order.id, "cancelled", queue="mail")
        if by_buyer:
            enqueue("marketplace.jobs.send_provider_email", order.id, "cancelled", queue="mail")
        return order
    if by_buyer:
        raise ConflictError(_("This purchase can no longer be cancelled here. Contact the provider."), code="invalid_state")
    if order.status == ShopOrderStatus.PAID:
        return refund(actor, order, order.total_cents - order.refunded_cents, reason,
                      expected_refunded_cents=order.refunded_cents, code="shop.cancelled_refunded")
    if order.status == ShopOrderStatus.FULFILLED:
        raise ConflictError(_("The service has been delivered. Refund the purchase instead of cancelling it."),
                            code="invalid_state")
    raise ConflictError(_("This purchase is %(status)s already.", status=status_text(order.status)), code="invalid_state")


def refund(actor, order: ShopOrder, amount_cents: int, reason: str = "", *,
           expected_refunded_cents: int | None = None, code: str = "shop.refunded") -> ShopOrder:
    """Return ``amount_cents`` of a paid purchase to the buyer, in part or in full.

    The amount must be 1..(paid − already refunded). ``expected_refunded_cents`` is
    what the provider saw already refunded: a repeated click or a simultaneous
    refund finds it changed and is refused (409), so nothing is returned twice. The
    claim is one conditional UPDATE; a card purchase is then refunded through
    Stripe's refund API (idempotency key per step), and a failure there rolls the
    claim back. When everything paid has been returned the purchase is ``refunded``.
    """
    require_manager(actor, order)
    if order.status not in (ShopOrderStatus.PAID, ShopOrderStatus.FULFILLED) or order.paid_at is None:
        raise ConflictError(_("Only a paid purchase can be refunded."), code="not_paid")
    remaining = order.total_cents - order.refunded_cents
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not 1 <= amount_cents <= remaining:
        message = _("The refund must be between %(min)s and %(max)s.", min=money_text(1), max=money_text(remaining))
        raise ValidationFailed(message, fields={"amount_cents": [message]})
    if order.payment_method == "card" and not order.stripe_payment_intent_id:
        raise ConflictError(_("The card payment is not known yet; try again in a moment."), code="not_paid")
    before = order.refunded_cents if expected_refunded_cents is None else expected_refunded_cents
    status = order.status
    db.session.flush()
    won = db.session.execute(
        sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.status == status,
                                   ShopOrder.refunded_cents == before,
                                   ShopOrder.refunded_cents + amount_cents <= ShopOrder.total_cents)
        .values(refunded_cents=ShopOrder.refunded_cents + amount_cents)
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(order)
    if won != 1:
        raise ConflictError(_("The purchase was refunded or changed meanwhile. Reload the page and check the amounts."),
                            code="refund_conflict")
    if order.payment_method == "card":
        try:
            billing.create_refund(payment_intent=order.stripe_payment_intent_id, amount_cents=amount_cents,
                                  shop_order_id=order.id, idempotency_key=f"refund-{order.id}-{before}-{amount_cents}")
        except billing.BillingError as exc:
            if exc.unavailable:
                raise PaymentUnavailable(_("The payment service could not be reached; nothing was refunded. Try again.")) from None
            raise ConflictError(_("The payment service refused the refund: %(reason)s", reason=exc.message),
                                code="refund_refused") from None
    note = reason.strip()[:2000] or None
    said = {"code": code, "code_params": {"amount": amount_cents}}
    if order.refunded_cents >= order.total_cents:
        transition(order, ShopAction.REFUND, actor, note, **said)
    else:
        write_event(order.id, status, status, actor, note, code=said["code"], params=said["code_params"])
        db.session.flush()
    enqueue("marketplace.jobs.send_buyer_email", order.id, "refunded", key=str(before + amount_cents),
            amount_cents=amount_cents, queue="mail")
    return order
