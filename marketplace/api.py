"""Shop API (API.md "Self-paid shop"): ``POST /shop/checkout``,
``GET /shop/orders/{id}`` and the provider's purchase actions (extensions:
``POST /shop/orders/{id}/confirm-time|mark-paid|fulfil|cancel|refund``).
Routes call one service and return the JSON; the unit of work commits."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from catalogue.api import PROVIDER_SCHEMA
from catalogue.quotes import read_price_quote
from core import openapi
from core.api import Validator, api_bp, api_user, json_body, roles
from core.extensions import db
from core.errors import NotFoundError, ValidationFailed
from marketplace import lifecycle, payments, purchases
from marketplace.checkout import Buyer, checkout
from marketplace.errors import AlreadyCheckedOut, PaymentUnavailable
from marketplace.pricing import MAX_CART_LINES, MAX_QUANTITY, MIN_QUANTITY, CartItem
from marketplace.serializers import checkout_json, purchase_json

_ITEM = {"type": "object", "properties": {
    "offering_id": {"type": "integer"}, "description": {"type": "string"}, "unit": {"type": "string"},
    "quantity": {"type": "integer"}, "unit_price_cents": {"type": "integer"}, "vat_rate": {"type": "number"},
    "vat_cents": {"type": "integer"}, "total_cents": {"type": "integer"}, "household_deduction_cents": {"type": "integer"}}}
_SHOP_ORDER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"},
    "status": {"type": "string", "enum": ["pending_payment", "paid", "fulfilled", "cancelled", "refunded"]},
    "provider": PROVIDER_SCHEMA, "items": {"type": "array", "items": _ITEM},
    "total_cents": {"type": "integer"}, "vat_cents": {"type": "integer"},
    "household_deduction_cents": {"type": "integer"}, "refunded_cents": {"type": "integer"},
    "currency": {"type": "string"}, "payment": {"type": "object"}, "buyer": {"type": "object"},
    "desired_time": {"type": "string", "nullable": True}, "confirmed_time": {"type": "string", "nullable": True},
    "created_at": {"type": "string", "format": "date-time"}}}
_CHECKOUT_IN = {"type": "object", "required": ["items", "buyer", "payment"], "properties": {
    "items": {"type": "array", "minItems": 1, "maxItems": MAX_CART_LINES, "items": {
        "type": "object", "required": ["offering_id", "quantity"], "properties": {
            "offering_id": {"type": "integer"},
            "quantity": {"type": "integer", "minimum": MIN_QUANTITY, "maximum": MAX_QUANTITY},
            "price_quote": {"type": "string", "description": "from GET /offerings: keeps the price shown"},
            "unit_price_cents": {"type": "integer", "description": "the price you showed; 422 price_mismatch if not current"}}}},
    "buyer": {"type": "object", "required": ["name", "email", "postal_code"], "properties": {
        "name": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": "string"},
        "address": {"type": "string"}, "postal_code": {"type": "string"}}},
    "payment": {"type": "string", "enum": ["card", "invoice"]},
    "desired_time": {"type": "string"}, "message": {"type": "string"},
    "client_id": {"type": "integer", "description": "a client the logged-in relative acts for"},
    "expected_total_cents": {"type": "integer", "description": "the total you showed; 422 amount_mismatch if not"},
    "language": {"type": "string", "enum": ["fi", "sv", "en"]}}}
_CHECKOUT_OUT = {"type": "object", "properties": {
    "shop_order_id": {"type": "integer"}, "number": {"type": "string"}, "order_url": {"type": "string"},
    "status": {"type": "string"}, "total_cents": {"type": "integer"}, "vat_cents": {"type": "integer"},
    "household_deduction_cents": {"type": "integer"}, "currency": {"type": "string"},
    "payment": {"type": "object", "properties": {"method": {"type": "string"}, "checkout_url": {"type": "string"}}},
    "notices": {"type": "array", "items": {"type": "string"}}}}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]

openapi.register("/shop/checkout", "post", "Buy services of one provider (logged-in client or guest; the token is optional)",
                 auth=False, request=_CHECKOUT_IN, responses={
                     "201": ("The purchase, waiting for payment", _CHECKOUT_OUT),
                     "200": ("The same Idempotency-Key again: the purchase it made", _CHECKOUT_OUT),
                     "409": "The same Idempotency-Key is still being processed",
                     "422": "Invalid, or outside_service_area, card_unavailable, invoice_unavailable, multiple_providers, "
                            "unknown_offering, offering_unavailable, price_mismatch, amount_mismatch",
                     "503": "Card payment could not be started; nothing was saved"})
openapi.register("/shop/orders/{id}", "get", "A purchase: the buyer (token, or ?token= from order_url), the provider, admin",
                 auth=False, parameters=_ID + [{"name": "token", "in": "query", "schema": {"type": "string"}}],
                 responses={"200": ("The purchase", _SHOP_ORDER), "404": "Not found or not visible"})
for _path, _summary, _body in (
        ("confirm-time", "Confirm the time of delivery", {"type": "object", "required": ["confirmed_time"],
                                                          "properties": {"confirmed_time": {"type": "string"}}}),
        ("mark-paid", "Record the buyer's invoice payment", {"type": "object"}),
        ("fulfil", "Mark delivered (sends the buyer the feedback link)", {"type": "object", "properties": {
            "note": {"type": "string"}}}),
        ("cancel", "Cancel (a paid purchase is refunded in full)", {"type": "object", "properties": {
            "reason": {"type": "string"}}}),
        ("refund", "Refund part or all of a paid purchase", {"type": "object", "required": ["amount_cents"], "properties": {
            "amount_cents": {"type": "integer"}, "reason": {"type": "string"},
            "expected_refunded_cents": {"type": "integer"}}})):
    openapi.register(f"/shop/orders/{{id}}/{_path}", "post", _summary, roles="provider, admin", request=_body,
                     parameters=_ID, responses={"200": ("The purchase", _SHOP_ORDER), "404": "Not found or not visible",
                                                "409": "Not possible in the purchase's state"})



# --------------------------------------------------------------------------- shop


def _checkout_items(v: Validator) -> list[CartItem]:
    raw = v.data.get("items")
    if not isinstance(raw, list) or not raw:
        v.error("items", "A list of at least one {offering_id, quantity}.")
        return []
    if len(raw) > MAX_CART_LINES:
        v.error("items", f"At most {MAX_CART_LINES} items.")
        return []
    items = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            v.error(f"items[{i}]", "Must be an object {offering_id, quantity}.")
            continue
        iv = Validator(entry)
        offering_id = iv.integer("offering_id", required=True, minimum=1)
        quantity = iv.integer("quantity", required=True)
        claimed = iv.integer("unit_price_cents", minimum=0)
        quote = iv.string("price_quote", max_len=500)
        for name, messages in iv.errors.items():
            v.errors[f"items[{i}].{name}"] = messages
        if iv.errors:
            continue
        shown = None
        if quote:
            try:
                shown = read_price_quote(quote, offering_id)
            except ValidationFailed as exc:
                v.error(f"items[{i}].price_quote", exc.message)
                continue
        items.append(CartItem(offering_id=offering_id, quantity=quantity, shown_price_cents=shown,
                              claimed_price_cents=claimed))
    return items


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


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
    return jsonify(checkout_json(order, purchases.order_url(order), checkout_url, [])), 200


@api_bp.post("/shop/checkout")
def shop_checkout():
    body = json_body()
    v = Validator(body)
    items = _checkout_items(v)
    buyer_raw = body.get("buyer")
    bv = Validator(buyer_raw if isinstance(buyer_raw, dict) else {})
    if not isinstance(buyer_raw, dict):
        v.error("buyer", "Must be an object {name, email, phone?, address?, postal_code}.")
    buyer = Buyer(
        name=bv.string("name", required=True, max_len=200), email=bv.string("email", required=True, max_len=254),
        phone=bv.string("phone", max_len=40), address=bv.string("address", max_len=300),
        postal_code=bv.postal_code("postal_code", required=True),
        desired_time=v.string("desired_time", max_len=200), message=v.string("message", max_len=2000))
    if isinstance(buyer_raw, dict):
        for name, messages in bv.errors.items():
            v.errors[f"buyer.{name}"] = messages
    payment = v.string("payment", required=True, choices=["card", "invoice"])
    client_id = v.integer("client_id", minimum=1)
    expected = v.integer("expected_total_cents", minimum=0)
    language = v.string("language", choices=["fi", "sv", "en"])
    v.done()
    user = _user()
    key = request.headers.get("Idempotency-Key", "").strip()[:200] or None
    try:
        result = checkout(items, buyer, payment, actor=user, for_client_id=client_id,
                          language=language or (user.language if user else "fi"), expected_total_cents=expected,
                          submission_key=f"api:{user.id if user else 'guest'}:{key}" if key else None)
    except AlreadyCheckedOut as exc:
        if exc.shop_order is None:
            raise
        return _repeated_checkout(exc.shop_order)
    return jsonify(checkout_json(result.shop_order, result.order_url, result.checkout_url, result.cart.notices)), 201


@api_bp.get("/shop/orders/<int:order_id>")
def get_shop_order(order_id: int):
    token = request.args.get("token") or request.headers.get("X-Order-Token")
    order, _is_buyer = purchases.find_order(_user(), order_id, token)
    return jsonify(purchase_json(order, _user()))


def _managed_order(order_id: int):
    user = api_user()
    if user.role not in ("provider", "admin"):
        raise NotFoundError("No such purchase.")
    return user, purchases.get_order_for(user, order_id)


def _body_validator() -> Validator:
    return Validator(json_body() if request.get_data() else {})


def _purchase_action(order_id: int, fields, act):
    """Validate the body's ``fields`` (name -> function of the Validator), run
    ``act(user, order, **values)`` and answer the purchase."""
    v = _body_validator()
    values = {name: read(v) for name, read in fields.items()}
    v.done()
    user, order = _managed_order(order_id)
    act(user, order, **values)
    return jsonify(purchase_json(order, user))


@api_bp.post("/shop/orders/<int:order_id>/confirm-time")
@roles("provider", "admin")
def confirm_shop_order_time(order_id: int):
    return _purchase_action(order_id, {"confirmed_time": lambda v: v.string("confirmed_time", required=True,
                                                                            max_len=200)},
                            lifecycle.confirm_time)


@api_bp.post("/shop/orders/<int:order_id>/mark-paid")
@roles("provider", "admin")
def mark_shop_order_paid(order_id: int):
    user, order = _managed_order(order_id)
    lifecycle.mark_invoice_paid(user, order)
    return jsonify(purchase_json(order, user))


@api_bp.post("/shop/orders/<int:order_id>/fulfil")
@roles("provider", "admin")
def fulfil_shop_order(order_id: int):
    return _purchase_action(order_id, {"note": lambda v: v.string("note", max_len=2000)}, lifecycle.fulfil)


@api_bp.post("/shop/orders/<int:order_id>/cancel")
@roles("provider", "admin")
def cancel_shop_order(order_id: int):
    return _purchase_action(order_id, {"reason": lambda v: v.string("reason", max_len=2000, default="")},
                            lifecycle.cancel)


@api_bp.post("/shop/orders/<int:order_id>/refund")
@roles("provider", "admin")
def refund_shop_order(order_id: int):
    return _purchase_action(order_id, {
        "amount_cents": lambda v: v.integer("amount_cents", required=True, minimum=1),
        "reason": lambda v: v.string("reason", max_len=2000, default=""),
        "expected_refunded_cents": lambda v: v.integer("expected_refunded_cents", minimum=0)}, lifecycle.refund)
