"""Checkout: a buyer's cart of one provider's services becomes a purchase waiting
for payment (card: with its one Stripe Checkout Session), once per submission.
Also who a logged-in client may buy for and the checkout form's defaults."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask_babel import ngettext
from flask_babel import gettext as _

from clients.models import MandateScope
from clients.policy import client_side_purpose
from clients.scopes import represented_client_ids
from accounts.models import User
from accounts.services import normalise_email
from catalogue.money import CURRENCY
from catalogue.services import POSTAL_RE
from clients.models import Client
from core.access import Purpose, record_access
from core.db import assign_number, pending_number, utcnow
from core.errors import ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.redis import get_redis
from core.roles import Role
from core.urls import absolute_url
from marketplace import billing
from marketplace.errors import AlreadyCheckedOut, PaymentUnavailable
from marketplace.models import ShopOrder, ShopOrderItem, ShopOrderStatus
from marketplace.payments import CHECKOUT_MINUTES, check_payment, checkout_key
from marketplace.pricing import CartItem, PricedCart, platform_fee, price_items
from marketplace.purchases import access_token, token_hash
from marketplace.states import money_text, write_event

log = logging.getLogger(__name__)

SUBMISSION_TTL = 24 * 3600


def clients_acted_for(user) -> list:
    """Client records a client-role user may buy for: their own and those they represent."""
    if user is None or user.role != Role.CLIENT:
        return []
    return list(db.session.scalars(sa.select(Client).where(Client.id.in_(represented_client_ids(user, MandateScope.BUY)),
                                                           Client.erased_at.is_(None))
                                   .order_by(Client.last_name, Client.first_name)))


def buyer_defaults(user) -> dict:
    """Checkout form defaults for a logged-in user: name, e-mail and phone, and for a
    client their own address (the read is access-logged as the client's own)."""
    values = {"name": user.name, "email": user.email, "phone": user.phone}
    if user.role == Role.CLIENT and user.client_id:
        client = user.client
        if client is not None and client.erased_at is None:
            values.update(address=client.address, postal_code=client.postal_code, phone=user.phone or client.phone)
            record_access(client.id, "view", Purpose.OWN_DATA, what="contact details for a purchase", actor=user)
    return values


@dataclass
class Buyer:
    name: str
    email: str
    postal_code: str
    phone: str | None = None
    address: str | None = None
    desired_time: str | None = None
    message: str | None = None


@dataclass
class CheckoutResult:
    shop_order: ShopOrder
    cart: PricedCart
    order_url: str
    checkout_url: str | None


def _check_buyer(buyer: Buyer) -> Buyer:
    errors: dict[str, list[str]] = {}

    def text(name, value, limit, required=False):
        value = (value or "").strip()
        if required and not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", limit)]
        return value or None

    name = text("name", buyer.name, 200, required=True)
    phone = text("phone", buyer.phone, 40)
    address = text("address", buyer.address, 300)
    desired = text("desired_time", buyer.desired_time, 200)
    message = text("message", buyer.message, 2000)
    email = None
    try:
        email = normalise_email(buyer.email or "")
    except ValidationFailed:
        errors["email"] = [_("Give a valid e-mail address.")]
    postal = (buyer.postal_code or "").strip()
    if not POSTAL_RE.match(postal):
        errors["postal_code"] = [_("Give a Finnish postal code of five digits.")]
    if errors:
        raise ValidationFailed(_("Check the buyer's details."), fields={f"buyer.{k}": v for k, v in errors.items()})
    return Buyer(name=name, email=email, postal_code=postal, phone=phone, address=address, desired_time=desired,
                 message=message)


def _submission_key(key: str) -> str:
    return "kotiapu:shop:submission:" + hashlib.sha256(key.encode()).hexdigest()


def _claim_submission(key: str | None) -> str | None:
    """First use of a checkout form (or API Idempotency-Key) wins; a repeat raises
    AlreadyCheckedOut. Without Redis the guard is skipped rather than refusing sales."""
    if not key:
        return None
    rkey = _submission_key(key)
    try:
        r = get_redis()
        if r.set(rkey, "pending", nx=True, ex=SUBMISSION_TTL):
            return rkey
        value = r.get(rkey)
    except redis.exceptions.RedisError:
        log.warning("redis unavailable: checkout submitted without the double-submit guard")
        return None
    order = db.session.get(ShopOrder, int(value)) if value and value.isdigit() else None
    if order is None and value and value != b"pending":
        # The first submission failed after claiming: let this one try again.
        try:
            r.delete(rkey)
            if r.set(rkey, "pending", nx=True, ex=SUBMISSION_TTL):
                return rkey
        except redis.exceptions.RedisError:
            return None
    raise AlreadyCheckedOut(_("This order has already been sent. You will find it below and in your e-mail."), order)


def _release_submission(rkey: str | None, order_id: int | None = None) -> None:
    if not rkey:
        return
    try:
        r = get_redis()
        if order_id is None:
            r.delete(rkey)
        else:
            r.set(rkey, str(order_id), ex=SUBMISSION_TTL)
    except redis.exceptions.RedisError:
        pass


def checkout(items: list[CartItem], buyer: Buyer, payment_method: str, *, actor=None, for_client_id: int | None = None,
             language: str = "fi", expected_total_cents: int | None = None,
             submission_key: str | None = None) -> CheckoutResult:
    """Make a purchase of one provider's services, for a logged-in client (or a
    relative acting for a client) or a guest.

    Prices the cart (``price_items``: the order keeps the price shown, never an amount
    sent by the buyer), checks the buyer's postal code against every offering's
    area, the payment method against the provider's, and that the total the buyer
    saw (``expected_total_cents``) is what would be charged (``amount_mismatch``).
    Creates the purchase in ``pending_payment``; for card payment creates its one
    Stripe Checkout Session (destination charge to the provider's connected account,
    platform fee, idempotency key) and returns its URL. Queues the buyer's
    confirmation e-mail (and, for an invoice purchase, the provider's).
    Raises ValidationFailed/AlreadyCheckedOut/PaymentUnavailable; on any error the
    caller rolls back and nothing is kept.
    """
    buyer = _check_buyer(buyer)
    if payment_method not in ("card", "invoice"):
        raise ValidationFailed(_("Choose card or invoice."), fields={"payment": [_("Choose card or invoice.")]})
    cart = price_items(items, postal_code=buyer.postal_code)
    if expected_total_cents is not None and expected_total_cents != cart.total_cents:
        raise ValidationFailed(
            _("The total is now %(total)s, not %(expected)s. Check the order and send it again.",
              total=money_text(cart.total_cents), expected=money_text(expected_total_cents)),
            code="amount_mismatch", fields={"expected_total_cents": [_("Does not match the current total.")]})
    provider = cart.provider
    check_payment(provider, payment_method)

    buyer_user_id = client_id = None
    if actor is not None and getattr(actor, "is_authenticated", False) and actor.role == Role.CLIENT:
        buyer_user_id = actor.id
        client_id = actor.client_id
        if for_client_id is not None:
            if for_client_id not in set(db.session.scalars(represented_client_ids(actor, MandateScope.BUY))):
                # Checked at the purchase itself: a mandate revoked or expired since the form was shown stops it.
                raise ValidationFailed(_("You cannot buy for that person."), fields={"client_id": [_("Not a person you act for.")]})
            client_id = for_client_id
    elif for_client_id is not None:
        raise ValidationFailed(_("Only a logged-in client buys for a person they act for."),
                               fields={"client_id": [_("Not allowed.")]})

    claim = _claim_submission(submission_key)
    try:
        result = _create_purchase(cart, buyer, payment_method, buyer_user_id, client_id,
                                  language if language in ("fi", "sv", "en") else "fi")
    except BaseException:
        _release_submission(claim)
        raise
    _release_submission(claim, result.shop_order.id)
    return result


def _create_purchase(cart: PricedCart, buyer: Buyer, method: str, buyer_user_id, client_id, language) -> CheckoutResult:
    provider = cart.provider
    order = ShopOrder(
        number=pending_number(), access_token_hash=token_hash(secrets.token_urlsafe(32)),
        provider_id=provider.id, buyer_user_id=buyer_user_id, client_id=client_id,
        buyer_name=buyer.name, buyer_email=buyer.email, buyer_phone=buyer.phone, buyer_address=buyer.address,
        buyer_postal_code=buyer.postal_code, buyer_language=language, desired_time=buyer.desired_time,
        message=buyer.message, status=ShopOrderStatus.PENDING_PAYMENT, payment_method=method, currency=CURRENCY,
        total_cents=cart.total_cents, vat_cents=cart.vat_cents,
        household_deduction_cents=cart.household_deduction_cents,
        platform_fee_cents=platform_fee(cart.total_cents) if method == "card" else 0,
        created_at=utcnow(),
    )
    for line in cart.lines:
        order.items.append(ShopOrderItem(
            offering_id=line.offering.id, description=line.offering.service_type.name(language)[:300],
            unit=line.offering.unit, quantity=line.quantity, unit_price_cents=line.unit_price_cents,
            vat_rate_bp=line.offering.vat_rate_bp, total_cents=line.total_cents, vat_cents=line.vat_cents,
            household_deduction_cents=line.household_deduction_cents))
    db.session.add(order)
    assign_number(order, "SH")
    token = access_token(order)
    order.access_token_hash = token_hash(token)
    if client_id is not None:
        # The buyer is the actor: a relative buying under a mandate is logged with both persons.
        buyer_user = db.session.get(User, buyer_user_id) if buyer_user_id is not None else None
        record_access(client_id, "create", client_side_purpose(buyer_user, client_id) if buyer_user else Purpose.OWN_DATA,
                      what=f"purchase {order.number}", actor=buyer_user)
    # The first price notice goes on the purchase's first event, any further one on its own.
    first, *more = cart.notice_codes or [(None, None)]
    write_event(order.id, None, ShopOrderStatus.PENDING_PAYMENT, None, code=first[0], params=first[1])
    for code, params in more:
        write_event(order.id, ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.PENDING_PAYMENT, None,
                    code=code, params=params)
    db.session.flush()

    url = absolute_url("marketplace.order", order_id=order.id, token=token)
    checkout_url = None
    if method == "card":
        checkout_url = _start_card_payment(order, cart, token)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "received", queue="mail")
    if method == "invoice":
        enqueue("marketplace.jobs.send_provider_email", order.id, "new_purchase", queue="mail")
    return CheckoutResult(shop_order=order, cart=cart, order_url=url, checkout_url=checkout_url)


def _start_card_payment(order: ShopOrder, cart: PricedCart, token: str) -> str:
    provider = cart.provider
    lines = [{"name": f"{line.offering.service_type.name(order.buyer_language)} – {provider.name}",
              "unit_amount": line.unit_price_cents, "quantity": line.quantity} for line in cart.lines]
    try:
        session = billing.create_checkout_session(
            shop_order_id=order.id, number=order.number, lines=lines, currency=order.currency,
            fee_cents=order.platform_fee_cents, destination=provider.stripe_account_id,
            customer_email=order.buyer_email,
            success_url=absolute_url("marketplace.checkout_return", order_id=order.id, token=token),
            cancel_url=absolute_url("marketplace.order", order_id=order.id, token=token, payment="cancelled"),
            expires_at=int((utcnow() + timedelta(minutes=CHECKOUT_MINUTES)).timestamp()),
            locale=order.buyer_language, idempotency_key=checkout_key(order))
    except billing.BillingError as exc:
        if exc.unavailable:
            raise PaymentUnavailable(_("Card payment is not available right now. Try again in a moment or choose invoice.")) from None
        message = _("Card payment could not be started for %(provider)s. Choose invoice.", provider=provider.name)
        raise ValidationFailed(message, code="card_unavailable", fields={"payment": [message]}) from None
    if session.get("amount_total") not in (None, order.total_cents):
        log.error("checkout session %s amount %s differs from purchase %s total %s",
                  session.get("id"), session.get("amount_total"), order.id, order.total_cents)
        raise PaymentUnavailable(_("Card payment is not available right now. Try again in a moment or choose invoice."))
    order.stripe_checkout_session_id = session["id"]
    db.session.flush()
    return session["url"]
