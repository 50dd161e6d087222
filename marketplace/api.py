"""Shop API (API.md "Self-paid shop"): ``POST /shop/checkout``,
``GET /shop/orders/{id}`` and the provider's purchase actions (extensions:
``POST /shop/orders/{id}/confirm-time|mark-paid|fulfil|cancel|refund``).
Routes call one service and return the JSON; the unit of work commits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import request
from flask_babel import gettext
from pydantic import Field

from catalogue.api import ProviderSummary
from catalogue.quotes import read_price_quote
from core.api import Body, Out, Query, answer, api_user, optional_user, route
from core.bounds import Cents, Email, Id, LongText, PostalCode, Text
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from marketplace import lifecycle, payments, purchases
from marketplace.checkout import Buyer, checkout
from marketplace.errors import AlreadyCheckedOut, PaymentUnavailable
from marketplace.pricing import MAX_CART_LINES, MAX_QUANTITY, MIN_QUANTITY, CartItem
from marketplace.serializers import checkout_json, purchase_json

TAGS = ("Self-paid shop",)
SHOP_STATUSES = ("pending_payment", "paid", "fulfilled", "cancelled", "refunded")


# --------------------------------------------------------------------------- declarations

class PurchaseItem(Out):
    offering_id: int | None
    description: str
    unit: str
    quantity: int
    unit_price_cents: int
    vat_rate: float
    vat_cents: int
    total_cents: int
    household_deduction_cents: int


class PaymentOut(Out):
    method: Literal["card", "invoice"]
    checkout_url: str | None = Field(None, description="Card: the absolute URL of the payment page")


class BuyerOut(Out):
    name: str
    email: str
    phone: str | None
    address: str | None
    postal_code: str


class Purchase(Out):
    """A purchase"""

    id: int
    number: str
    status: Literal[SHOP_STATUSES]  # type: ignore[valid-type]
    provider: ProviderSummary
    items: list[PurchaseItem]
    total_cents: int
    vat_cents: int
    household_deduction_cents: int
    refunded_cents: int
    currency: Literal["EUR"]
    payment: PaymentOut
    buyer: BuyerOut
    desired_time: str | None
    confirmed_time: str | None
    message: str | None = None
    created_at: datetime
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunded_at: datetime | None = None


class CheckoutOut(Out):
    """The purchase, waiting for payment"""

    shop_order_id: int
    number: str
    order_url: str = Field(description="Absolute; carries a secret token so that a guest can follow the purchase")
    status: Literal[SHOP_STATUSES]  # type: ignore[valid-type]
    total_cents: int
    vat_cents: int
    household_deduction_cents: int
    currency: Literal["EUR"]
    payment: PaymentOut
    notices: list[str]


class CartLine(Body):
    offering_id: Id
    quantity: int = Field(ge=MIN_QUANTITY, le=MAX_QUANTITY)
    price_quote: Text(500) | None = Field(None, description="From GET /offerings: keeps the price shown")
    unit_price_cents: Cents | None = Field(None, description="The price you showed; 422 price_mismatch if not current")


class BuyerIn(Body):
    name: Text(200)
    email: Email
    phone: Text(40) | None = None
    address: Text(300) | None = None
    postal_code: PostalCode


class CheckoutIn(Body):
    items: list[CartLine] = Field(min_length=1, max_length=MAX_CART_LINES)
    buyer: BuyerIn
    payment: Literal["card", "invoice"]
    desired_time: Text(200) | None = None
    message: LongText(2000) | None = None
    client_id: Id | None = Field(None, description="A client the logged-in relative acts for")
    expected_total_cents: Cents | None = Field(None, description="The total you showed; 422 amount_mismatch if not")
    language: Literal["fi", "sv", "en"] | None = None


class ShopOrderQuery(Query):
    token: Text(200) | None = Field(None, description="The secret token of `order_url` (a guest buyer)")


class ConfirmTimeIn(Body):
    confirmed_time: Text(200)


class NoteIn(Body):
    note: LongText(2000) | None = None


class ReasonIn(Body):
    reason: LongText(2000) = ""


class RefundIn(Body):
    amount_cents: int = Field(ge=1, le=2**31 - 1)
    reason: LongText(2000) = ""
    expected_refunded_cents: Cents | None = None


class EmptyIn(Body):
    pass


_STATE = {409: "Not possible in the purchase's state"}


# --------------------------------------------------------------------------- shop


def _repeated_checkout(order):
    """The same Idempotency-Key again: the purchase the first request made, with a
    fresh payment link when it is a card purchase still waiting for payment."""
    checkout_url = None
    if order.payment_method == "card":
        try:
            with db.session.begin_nested():  # Stripe unreachable: keep nothing of the attempt
                checkout_url = payments.resume_card_payment(order)
        except PaymentUnavailable:
            pass
    return answer(checkout_json(order, purchases.order_url(order), checkout_url, []), 200)


def _cart(body: CheckoutIn) -> list[CartItem]:
    items, errors = [], {}
    for i, line in enumerate(body.items):
        shown = None
        if line.price_quote:
            try:
                shown = read_price_quote(line.price_quote, line.offering_id)
            except ValidationFailed as exc:
                errors[f"items[{i}].price_quote"] = [exc.message]
                continue
        items.append(CartItem(offering_id=line.offering_id, quantity=line.quantity, shown_price_cents=shown,
                              claimed_price_cents=line.unit_price_cents))
    if errors:
        raise ValidationFailed(gettext("Some fields are invalid."), fields=errors)
    return items


@route("POST", "/shop/checkout", "Buy services of one provider (logged-in client or guest; the token is optional)",
       auth="optional", body=CheckoutIn, tags=TAGS,
       responses={201: CheckoutOut, 200: (CheckoutOut, "The same Idempotency-Key again: the purchase it made")},
       errors={409: "The same Idempotency-Key is still being processed",
               422: "Invalid, or outside_service_area, card_unavailable, invoice_unavailable, multiple_providers, "
                    "unknown_offering, offering_unavailable, price_mismatch, amount_mismatch",
               503: "Card payment could not be started; nothing was saved"})
def shop_checkout(body: CheckoutIn):
    items = _cart(body)
    b = body.buyer
    buyer = Buyer(name=b.name, email=b.email, phone=b.phone, address=b.address, postal_code=b.postal_code,
                  desired_time=body.desired_time, message=body.message)
    user = optional_user()
    key = request.headers.get("Idempotency-Key", "").strip()[:200] or None
    try:
        result = checkout(items, buyer, body.payment, actor=user, for_client_id=body.client_id,
                          language=body.language or (user.language if user else "fi"),
                          expected_total_cents=body.expected_total_cents,
                          submission_key=f"api:{user.id if user else 'guest'}:{key}" if key else None)
    except AlreadyCheckedOut as exc:
        if exc.shop_order is None:
            raise
        return _repeated_checkout(exc.shop_order)
    return answer(checkout_json(result.shop_order, result.order_url, result.checkout_url, result.cart.notices), 201)


@route("GET", "/shop/orders/<int:order_id>", "A purchase: the buyer (token, or ?token= from order_url), the "
       "provider, admin", auth="optional", query=ShopOrderQuery, tags=TAGS, param_names={"order_id": "id"},
       responses={200: Purchase})
def get_shop_order(order_id: int, query: ShopOrderQuery):
    token = query.token or request.headers.get("X-Order-Token")
    user = optional_user()
    order, _is_buyer = purchases.find_order(user, order_id, token)
    return answer(purchase_json(order, user))


def _managed_order(order_id: int):
    user = api_user()
    if user.role not in ("provider", "admin"):
        raise NotFoundError(gettext("No such purchase."))
    return user, purchases.get_order_for(user, order_id)


def _action(path: str, summary: str, body_model, extra: dict | None = None):
    return route("POST", f"/shop/orders/<int:order_id>/{path}", summary, roles=("provider", "admin"),
                 body=body_model, body_required=False, tags=TAGS, param_names={"order_id": "id"},
                 responses={200: Purchase}, errors={**_STATE, **(extra or {})})


@_action("confirm-time", "Confirm the time of delivery", ConfirmTimeIn)
def confirm_shop_order_time(order_id: int, body: ConfirmTimeIn):
    user, order = _managed_order(order_id)
    lifecycle.confirm_time(user, order, confirmed_time=body.confirmed_time)
    return answer(purchase_json(order, user))


@_action("mark-paid", "Record the buyer's invoice payment", EmptyIn)
def mark_shop_order_paid(order_id: int, body: EmptyIn):
    user, order = _managed_order(order_id)
    lifecycle.mark_invoice_paid(user, order)
    return answer(purchase_json(order, user))


@_action("fulfil", "Mark delivered (sends the buyer the feedback link)", NoteIn)
def fulfil_shop_order(order_id: int, body: NoteIn):
    user, order = _managed_order(order_id)
    lifecycle.fulfil(user, order, note=body.note)
    return answer(purchase_json(order, user))


@_action("cancel", "Cancel (a paid purchase is refunded in full)", ReasonIn)
def cancel_shop_order(order_id: int, body: ReasonIn):
    user, order = _managed_order(order_id)
    lifecycle.cancel(user, order, reason=body.reason)
    return answer(purchase_json(order, user))


@_action("refund", "Refund part or all of a paid purchase", RefundIn)
def refund_shop_order(order_id: int, body: RefundIn):
    user, order = _managed_order(order_id)
    lifecycle.refund(user, order, amount_cents=body.amount_cents, reason=body.reason,
                     expected_refunded_cents=body.expected_refunded_cents)
    return answer(purchase_json(order, user))
