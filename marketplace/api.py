"""Catalogue and shop API (API.md "Catalogue and providers", "Self-paid shop"):
``GET /service-types``, ``POST/GET /offerings``, ``POST /shop/checkout``,
``GET /shop/orders/{id}`` and the provider's purchase actions (extensions:
``POST /shop/orders/{id}/confirm-time|mark-paid|fulfil|cancel|refund``)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from core import openapi
from core.api import Validator, api_bp, api_user, iso, page_params, page_response, roles
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from marketplace import services
from marketplace.models import Unit

# --------------------------------------------------------------------------- schemas

_PROVIDER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "business_id": {"type": "string"}, "rating": {"type": "object", "properties": {
        "average": {"type": "number", "nullable": True}, "count": {"type": "integer"}}}}}
_OFFERING = {"type": "object", "properties": {
    "id": {"type": "integer"}, "provider_id": {"type": "integer"}, "provider": _PROVIDER,
    "service_type_id": {"type": "integer"}, "service_type": {"type": "string"},
    "postal_codes": {"type": "array", "items": {"type": "string"}},
    "languages": {"type": "array", "items": {"type": "string"}},
    "unit": {"type": "string", "enum": list(Unit)}, "price_cents": {"type": "integer", "nullable": True},
    "currency": {"type": "string"}, "vat_rate": {"type": "number"}, "self_paid": {"type": "boolean"},
    "household_deduction": {"type": "boolean"}, "labour_share_percent": {"type": "integer"},
    "description": {"type": "string"}, "active": {"type": "boolean"},
    "price_quote": {"type": "string", "nullable": True,
                    "description": "Signed price shown now; send it back at checkout to keep this price for two days."}}}
_OFFERING_IN = {"type": "object", "required": ["service_type_id", "postal_codes", "languages", "unit", "self_paid",
                                               "household_deduction"], "properties": {
    "service_type_id": {"type": "integer"}, "postal_codes": {"type": "array", "items": {"type": "string"}},
    "languages": {"type": "array", "items": {"type": "string"}}, "unit": {"type": "string", "enum": list(Unit)},
    "price_cents": {"type": "integer", "description": "gross unit price incl. VAT"},
    "vat_rate": {"type": "number", "description": "percent, e.g. 25.5 (default 25.5)"},
    "self_paid": {"type": "boolean"}, "household_deduction": {"type": "boolean"},
    "labour_share_percent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 100},
    "description": {"type": "string"}}}
_ITEM = {"type": "object", "properties": {
    "offering_id": {"type": "integer"}, "description": {"type": "string"}, "unit": {"type": "string"},
    "quantity": {"type": "integer"}, "unit_price_cents": {"type": "integer"}, "vat_rate": {"type": "number"},
    "vat_cents": {"type": "integer"}, "total_cents": {"type": "integer"}, "household_deduction_cents": {"type": "integer"}}}
_SHOP_ORDER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"},
    "status": {"type": "string", "enum": ["pending_payment", "paid", "fulfilled", "cancelled", "refunded"]},
    "provider": _PROVIDER, "items": {"type": "array", "items": _ITEM},
    "total_cents": {"type": "integer"}, "vat_cents": {"type": "integer"},
    "household_deduction_cents": {"type": "integer"}, "refunded_cents": {"type": "integer"},
    "currency": {"type": "string"}, "payment": {"type": "object"}, "buyer": {"type": "object"},
    "desired_time": {"type": "string", "nullable": True}, "confirmed_time": {"type": "string", "nullable": True},
    "created_at": {"type": "string", "format": "date-time"}}}
_CHECKOUT_IN = {"type": "object", "required": ["items", "buyer", "payment"], "properties": {
    "items": {"type": "array", "minItems": 1, "maxItems": services.MAX_CART_LINES, "items": {
        "type": "object", "required": ["offering_id", "quantity"], "properties": {
            "offering_id": {"type": "integer"},
            "quantity": {"type": "integer", "minimum": services.MIN_QUANTITY, "maximum": services.MAX_QUANTITY},
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

openapi.register("/service-types", "get", "The service catalogue", auth=False, responses={"200": (
    "Service types", {"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                         "category": {"type": "string"}, "self_paid_allowed": {"type": "boolean"}}}},
        "next": {"type": "string", "nullable": True}}})})
openapi.register("/offerings", "post", "Add an offering of the caller's organisation", roles="provider",
                 request=_OFFERING_IN, responses={"201": ("The offering", _OFFERING)})
openapi.register("/offerings", "get", "Offerings of approved providers", auth=False, parameters=[
    {"name": n, "in": "query", "schema": {"type": t}} for n, t in (
        ("service_type_id", "integer"), ("postal_code", "string"), ("self_paid", "boolean"),
        ("provider_id", "integer"), ("limit", "integer"), ("cursor", "integer"))],
    responses={"200": ("Offerings", {"type": "object", "properties": {
        "items": {"type": "array", "items": _OFFERING}, "next": {"type": "string", "nullable": True}}})})
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


# --------------------------------------------------------------------------- JSON shapes


def _provider_json(p) -> dict:
    return {"id": p.id, "name": p.name, "kind": p.kind, "business_id": p.business_id,
            "rating": {"average": p.rating_average, "count": p.rating_count}}


def offering_json(o) -> dict:
    return {
        "id": o.id, "provider_id": o.provider_id, "provider": _provider_json(o.provider),
        "service_type_id": o.service_type_id, "service_type": o.service_type.name(),
        "postal_codes": o.postal_codes, "languages": list(o.languages or []), "unit": o.unit,
        "price_cents": o.price_cents, "currency": services.CURRENCY,
        "vat_rate": float(services.vat_rate_label(o.vat_rate_bp)), "self_paid": o.self_paid,
        "household_deduction": o.household_deduction, "labour_share_percent": o.labour_share_percent,
        "description": o.description, "active": o.active,
        "price_quote": services.price_quote(o) if o.self_paid else None,
    }


def shop_order_json(order) -> dict:
    return {
        "id": order.id, "number": order.number, "status": order.status,
        "provider": _provider_json(order.provider),
        "items": [{"offering_id": i.offering_id, "description": i.description, "unit": i.unit, "quantity": i.quantity,
                   "unit_price_cents": i.unit_price_cents, "vat_rate": float(services.vat_rate_label(i.vat_rate_bp)),
                   "vat_cents": i.vat_cents, "total_cents": i.total_cents,
                   "household_deduction_cents": i.household_deduction_cents} for i in order.items],
        "total_cents": order.total_cents, "vat_cents": order.vat_cents,
        "household_deduction_cents": order.household_deduction_cents, "refunded_cents": order.refunded_cents,
        "currency": order.currency, "payment": {"method": order.payment_method},
        "buyer": {"name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone,
                  "address": order.buyer_address, "postal_code": order.buyer_postal_code},
        "desired_time": order.desired_time, "confirmed_time": order.confirmed_time, "message": order.message,
        "created_at": iso(order.created_at), "paid_at": iso(order.paid_at), "fulfilled_at": iso(order.fulfilled_at),
        "cancelled_at": iso(order.cancelled_at), "refunded_at": iso(order.refunded_at),
    }


# --------------------------------------------------------------------------- catalogue


@api_bp.get("/service-types")
def service_types():
    items = [{"id": t.id, "name": t.name(), "category": t.category.name(), "category_id": t.category_id,
              "self_paid_allowed": t.self_paid_allowed} for t in services.list_service_types()]
    return jsonify({"items": items, "next": None})


def _vat_bp(v: Validator) -> int:
    rate = v.number("vat_rate", minimum=0, maximum=100, default=25.5)
    if rate is None:
        return 2550
    bp = round(rate * 100)
    if abs(rate * 100 - bp) > 1e-6:
        v.error("vat_rate", "At most two decimals, e.g. 25.5.")
    return bp


@api_bp.post("/offerings")
@roles("provider")
def create_offering():
    from core.api import json_body

    v = Validator(json_body())
    data = services.OfferingInput(
        service_type_id=v.integer("service_type_id", required=True),
        postal_codes=v.string_list("postal_codes", required=True, item_max_len=5, default=[]),
        languages=v.string_list("languages", required=True, item_max_len=2, default=[]),
        unit=v.string("unit", required=True, choices=list(Unit)),
        price_cents=v.integer("price_cents", minimum=0, maximum=services.MAX_PRICE_CENTS),
        vat_rate_bp=_vat_bp(v),
        self_paid=v.boolean("self_paid", required=True),
        household_deduction=v.boolean("household_deduction", required=True),
        labour_share_percent=v.integer("labour_share_percent", minimum=0, maximum=100, default=100),
        description=v.string("description", max_len=4000, default=""),
    )
    v.done()
    offering = services.create_offering(api_user(), data)
    db.session.commit()
    return jsonify(offering_json(offering)), 201


def _bool_arg(name: str, errors: dict):
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    errors[name] = ["Must be true or false."]
    return None


def _int_arg(name: str, errors: dict):
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        errors[name] = ["Must be an integer."]
        return None
    return int(value)


@api_bp.get("/offerings")
def list_offerings():
    limit, cursor = page_params()
    errors: dict = {}
    postal_code = request.args.get("postal_code") or None
    if postal_code and not services.POSTAL_RE.match(postal_code):
        errors["postal_code"] = ["Must be a Finnish postal code of five digits."]
    filters = {"service_type_id": _int_arg("service_type_id", errors), "provider_id": _int_arg("provider_id", errors),
               "self_paid": _bool_arg("self_paid", errors), "postal_code": postal_code}
    if errors:
        raise ValidationFailed("Invalid filters.", fields=errors)
    rows = services.list_offerings(limit=limit, cursor=cursor, **filters)
    return page_response([offering_json(o) for o in rows[:limit]], rows, limit, "api.list_offerings")


# --------------------------------------------------------------------------- shop


def _checkout_items(v: Validator) -> list[services.CartItem]:
    raw = v.data.get("items")
    if not isinstance(raw, list) or not raw:
        v.error("items", "A list of at least one {offering_id, quantity}.")
        return []
    if len(raw) > services.MAX_CART_LINES:
        v.error("items", f"At most {services.MAX_CART_LINES} items.")
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
                shown = services.read_price_quote(quote, offering_id)
            except ValidationFailed as exc:
                v.error(f"items[{i}].price_quote", exc.message)
                continue
        items.append(services.CartItem(offering_id=offering_id, quantity=quantity, shown_price_cents=shown,
                                       claimed_price_cents=claimed))
    return items


def _checkout_response(result_order, order_url: str, checkout_url: str | None, notices: list[str], status: int):
    return jsonify({
        "shop_order_id": result_order.id, "number": result_order.number, "order_url": order_url,
        "status": result_order.status, "total_cents": result_order.total_cents, "vat_cents": result_order.vat_cents,
        "household_deduction_cents": result_order.household_deduction_cents, "currency": result_order.currency,
        "payment": {"method": result_order.payment_method, **({"checkout_url": checkout_url} if checkout_url else {})},
        "notices": notices,
    }), status


@api_bp.post("/shop/checkout")
def shop_checkout():
    from core.api import json_body

    body = json_body()
    v = Validator(body)
    items = _checkout_items(v)
    buyer_raw = body.get("buyer")
    bv = Validator(buyer_raw if isinstance(buyer_raw, dict) else {})
    if not isinstance(buyer_raw, dict):
        v.error("buyer", "Must be an object {name, email, phone?, address?, postal_code}.")
    buyer = services.Buyer(
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
    user = current_user._get_current_object() if current_user.is_authenticated else None
    key = request.headers.get("Idempotency-Key", "").strip()[:200] or None
    try:
        result = services.checkout(items, buyer, payment, actor=user, for_client_id=client_id,
                                   language=language or (user.language if user else "fi"),
                                   expected_total_cents=expected,
                                   submission_key=f"api:{user.id if user else 'guest'}:{key}" if key else None)
    except services.AlreadyCheckedOut as exc:
        db.session.rollback()
        if exc.shop_order is None:
            raise
        order = exc.shop_order
        checkout_url = None
        if order.payment_method == "card":
            try:
                checkout_url = services.resume_card_payment(order)
                db.session.commit()
            except services.PaymentUnavailable:
                db.session.rollback()
        return _checkout_response(order, services.order_url(order), checkout_url, [], 200)
    db.session.commit()
    return _checkout_response(result.shop_order, result.order_url, result.checkout_url, result.cart.notices, 201)


def _visible_order(order_id: int):
    user = current_user._get_current_object() if current_user.is_authenticated else None
    token = request.args.get("token") or request.headers.get("X-Order-Token")
    order, _is_buyer = services.find_order(user, order_id, token)
    return order


@api_bp.get("/shop/orders/<int:order_id>")
def get_shop_order(order_id: int):
    order = _visible_order(order_id)
    db.session.commit()  # an access-log row, if any
    return jsonify(shop_order_json(order))


def _managed_order(order_id: int):
    user = api_user()
    if user.role not in ("provider", "admin"):
        raise NotFoundError("No such purchase.")
    return user, services.get_order_for(user, order_id)


def _body_validator() -> Validator:
    from core.api import json_body

    return Validator(json_body() if request.get_data() else {})


@api_bp.post("/shop/orders/<int:order_id>/confirm-time")
@roles("provider", "admin")
def confirm_shop_order_time(order_id: int):
    v = _body_validator()
    text = v.string("confirmed_time", required=True, max_len=200)
    v.done()
    user, order = _managed_order(order_id)
    services.confirm_time(user, order, text)
    db.session.commit()
    return jsonify(shop_order_json(order))


@api_bp.post("/shop/orders/<int:order_id>/mark-paid")
@roles("provider", "admin")
def mark_shop_order_paid(order_id: int):
    user, order = _managed_order(order_id)
    services.mark_invoice_paid(user, order)
    db.session.commit()
    return jsonify(shop_order_json(order))


@api_bp.post("/shop/orders/<int:order_id>/fulfil")
@roles("provider", "admin")
def fulfil_shop_order(order_id: int):
    v = _body_validator()
    note = v.string("note", max_len=2000)
    v.done()
    user, order = _managed_order(order_id)
    services.fulfil(user, order, note)
    db.session.commit()
    return jsonify(shop_order_json(order))


@api_bp.post("/shop/orders/<int:order_id>/cancel")
@roles("provider", "admin")
def cancel_shop_order(order_id: int):
    v = _body_validator()
    reason = v.string("reason", max_len=2000, default="")
    v.done()
    user, order = _managed_order(order_id)
    services.cancel(user, order, reason)
    db.session.commit()
    return jsonify(shop_order_json(order))


@api_bp.post("/shop/orders/<int:order_id>/refund")
@roles("provider", "admin")
def refund_shop_order(order_id: int):
    v = _body_validator()
    amount = v.integer("amount_cents", required=True, minimum=1)
    reason = v.string("reason", max_len=2000, default="")
    expected = v.integer("expected_refunded_cents", minimum=0)
    v.done()
    user, order = _managed_order(order_id)
    services.refund(user, order, amount, reason, expected_refunded_cents=expected)
    db.session.commit()
    return jsonify(shop_order_json(order))
