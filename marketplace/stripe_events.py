"""Stripe's webhook events: verified by signature, claimed once by their id, and
applied to purchases only forward by the state table (events may come repeated or
in any order)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.db import utcnow
from core.extensions import db
from core.jobs import enqueue
from marketplace import billing
from marketplace.errors import WebhookRejected
from marketplace.models import SHOP_TRANSITIONS, ShopAction, ShopOrder, StripeEvent
from marketplace.payments import apply_payment, release
from marketplace.states import transition, write_event

log = logging.getLogger(__name__)


def verify_stripe_event(payload: bytes, signature_header: str | None) -> dict:
    """The event of a webhook request whose Stripe signature checks out (HMAC with
    STRIPE_WEBHOOK_SECRET, timestamp at most five minutes old). Raises WebhookRejected."""
    try:
        return billing.parse_webhook(payload, signature_header)
    except billing.SignatureError as exc:
        raise WebhookRejected(exc.message, code=exc.code or "bad_signature") from None



def _claim_event(event: dict) -> bool:
    """Insert the event's id; the first delivery inserts, every repeat finds it there
    (the primary key is the backstop, ON CONFLICT DO NOTHING the claim)."""
    created = event.get("created")
    values = {"id": event["id"][:255], "type": event["type"][:100], "payload": event, "received_at": utcnow(),
              "created": datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None}
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["id"]) \
        .returning(StripeEvent.id)
    # RETURNING gives the id only to the delivery that inserted (rowcount is not
    # reliable for ORM-executed inserts on every driver).
    return db.session.execute(stmt).scalar() is not None


def handle_stripe_event(event: dict) -> str:
    """Apply one verified Stripe event, once. Returns what happened (``duplicate``,
    ``applied``, ``ignored``, ...). Events may come repeated or in any order: each
    handler moves a purchase only forward by the state table and otherwise does
    nothing, so a late ``expired`` after ``completed`` changes nothing."""
    if not _claim_event(event):
        return "duplicate"
    handler = _EVENT_HANDLERS.get(event["type"])
    result = handler(event["data"]["object"]) if handler else "ignored"
    db.session.execute(sa.update(StripeEvent).where(StripeEvent.id == event["id"][:255])
                       .values(processed_at=utcnow()).execution_options(synchronize_session=False))
    return result


def _order_for_session(session: dict) -> ShopOrder | None:
    session_id = session.get("id")
    if not isinstance(session_id, str):
        return None
    order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.stripe_checkout_session_id == session_id))
    if order is None:
        return None
    metadata = session.get("metadata") or {}
    if metadata.get("shop_order_id") not in (None, str(order.id)):
        log.warning("stripe session %s names purchase %s but belongs to %s", session_id,
                    metadata.get("shop_order_id"), order.id)
        return None
    return order


def _on_session_completed(session: dict) -> str:
    order = _order_for_session(session)
    if order is None:
        return "unknown_purchase"
    if session.get("payment_status") == "paid":
        return apply_payment(order, session)
    return "waiting"  # a delayed payment method: async_payment_succeeded/failed follows


def _on_async_succeeded(session: dict) -> str:
    order = _order_for_session(session)
    return apply_payment(order, session) if order else "unknown_purchase"


def _on_session_ended(session: dict) -> str:
    order = _order_for_session(session)
    if order is None:
        return "unknown_purchase"
    return release(order, "shop.payment_not_completed")


def _on_charge_refunded(charge: dict) -> str:
    """Refunds made in Stripe's dashboard: bring the refunded amount up to Stripe's
    (cumulative, so the order of events does not matter)."""
    intent = charge.get("payment_intent")
    refunded = charge.get("amount_refunded")
    if not isinstance(intent, str) or not isinstance(refunded, int):
        return "ignored"
    order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.stripe_payment_intent_id == intent))
    if order is None:
        return "unknown_purchase"
    refunded = min(refunded, order.total_cents)
    if refunded <= order.refunded_cents:
        return "no_change"
    status = order.status
    db.session.execute(sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.refunded_cents < refunded)
                       .values(refunded_cents=refunded).execution_options(synchronize_session=False))
    db.session.expire(order)
    said = {"code": "shop.refunded_by_service", "params": {"amount": refunded}}
    if refunded >= order.total_cents and (status, ShopAction.REFUND) in SHOP_TRANSITIONS:
        transition(order, ShopAction.REFUND, None, code=said["code"], code_params=said["params"])
    else:
        write_event(order.id, status, status, None, **said)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "refunded", key=str(refunded), queue="mail")
    return "applied"


_EVENT_HANDLERS = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_succeeded,
    "checkout.session.async_payment_failed": _on_session_ended,
    "checkout.session.expired": _on_session_ended,
    "charge.refunded": _on_charge_refunded,
}
