"""Voucher API (API.md "Service vouchers (palveluseteli)"): ``POST /vouchers``
(staff), ``GET /vouchers/{id}`` (staff; the client; the provider of an order it
funds), ``POST /orders/{id}/service-events`` (the winning provider),
``POST /service-events/{id}/approve`` (staff), ``POST /settlements`` (admin) and
``GET /settlements/{id}`` (admin; a provider its own line); beyond the contract:
the order's events, refusing and correcting an event, and the statement files.
The same services as the web pages; the request's unit of work commits."""

from __future__ import annotations

from flask import jsonify

from accounts.models import Role
from core import openapi
from core.access import record_access
from core.api import Validator, api_bp, api_user, json_body, roles
from core.errors import NotFoundError, ValidationFailed
from vouchers import policy
from vouchers.statements import county_response, statement_response
from vouchers import services as svc
from vouchers.models import VoucherUnit
from vouchers.serializers import event_json, settlement_json, voucher_json

UNITS = [str(u) for u in VoucherUnit]
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_BALANCE = {"type": "object", "properties": {"month": {"type": "string"}, "granted": {"type": "integer"},
                                             "used": {"type": "integer"}, "remaining": {"type": "integer"}}}
openapi.SCHEMAS["ServiceVoucher"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "client_id": {"type": "integer"}, "service_type_id": {"type": "integer"},
    "status": {"type": "string", "enum": ["granted", "open", "closed"]}, "unit": {"type": "string", "enum": UNITS},
    "monthly_amount": {"type": "integer"}, "value_cents_per_unit": {"type": "integer"},
    "renews": {"type": "boolean"}, "valid_from": {"type": "string", "format": "date"},
    "valid_to": {"type": "string", "format": "date", "nullable": True}, "balance": _BALANCE}}
openapi.SCHEMAS["ServiceEvent"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": [
        "recorded", "under_review", "approved", "settled", "paid", "refused"]},
    "date": {"type": "string", "format": "date"}, "quantity": {"type": "integer"},
    "voucher_cents": {"type": "integer"}, "client_share_cents": {"type": "integer"},
    "corrects_id": {"type": "integer", "nullable": True}}}
openapi.SCHEMAS["VoucherSettlement"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "month": {"type": "string"}, "status": {"type": "string"},
    "lines": {"type": "array", "items": {"type": "object", "properties": {
        "provider_id": {"type": "integer"}, "events": {"type": "integer"}, "voucher_cents": {"type": "integer"},
        "client_share_cents": {"type": "integer"}, "credit_cents": {"type": "integer"},
        "payable_cents": {"type": "integer"}}}},
    "download_url": {"type": "string", "nullable": True}}}
_V = ("The voucher", {"$ref": "#/components/schemas/ServiceVoucher"})
_E = ("The service event", {"$ref": "#/components/schemas/ServiceEvent"})
_S = ("The settlement", {"$ref": "#/components/schemas/VoucherSettlement"})

openapi.register("/vouchers", "post", "Grant a service voucher", roles="staff", request={
    "type": "object", "required": ["client_id", "service_type_id", "unit", "monthly_amount", "valid_from"],
    "properties": {"client_id": {"type": "integer"}, "service_type_id": {"type": "integer"},
                   "unit": {"type": "string", "enum": UNITS},
                   "monthly_amount": {"type": "integer", "description": "minutes, visits or cents a month"},
                   "value_cents_per_unit": {"type": "integer", "description": "required for hour and visit"},
                   "renews": {"type": "boolean"}, "valid_from": {"type": "string", "format": "date"},
                   "valid_to": {"type": "string", "format": "date"}}},
                 responses={"201": _V, "422": "Invalid fields, or `no_consent`"})
openapi.register("/vouchers/{id}", "get", "One voucher with this month's balance",
                 roles="staff; the client; the provider of an order it funds", parameters=[_ID],
                 responses={"200": _V, "404": "Not found or not visible"})
openapi.register("/orders/{id}/service-events", "post", "Record a service event on a voucher-funded order",
                 roles="the winning provider", parameters=[_ID], request={
                     "type": "object", "required": ["date", "quantity"], "properties": {
                         "date": {"type": "string", "format": "date"},
                         "quantity": {"type": "integer", "description": "minutes, visits or cents"}}},
                 responses={"201": _E, "422": "`over_balance`, `outside_period`, `own_share_not_allowed`, "
                                              "`not_voucher_funded` or invalid fields"})
openapi.register("/orders/{id}/service-events", "get", "The order's service events", parameters=[_ID],
                 roles="staff; the winning provider")
openapi.register("/service-events/{id}/approve", "post", "Approve an event", roles="staff", parameters=[_ID],
                 responses={"200": _E, "409": "Not recorded or under review"})
openapi.register("/service-events/{id}/refuse", "post", "Send an event back to the provider with a reason",
                 roles="staff", parameters=[_ID],
                 request={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
                 responses={"200": _E, "409": "Not refusable"})
openapi.register("/service-events/{id}/correct", "post", "Correct a settled event (a credit in the next settlement)",
                 roles="the provider that recorded it; staff", parameters=[_ID], request={
                     "type": "object", "required": ["quantity", "reason"],
                     "properties": {"quantity": {"type": "integer"}, "reason": {"type": "string"}}},
                 responses={"201": _E, "409": "Not settled, or a correction is already waiting"})
openapi.register("/settlements", "post", "Settle a month (run by a job)", roles="admin", request={
    "type": "object", "required": ["month"], "properties": {"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}},
                 responses={"202": _S, "422": "`month_not_over` or invalid month"})
openapi.register("/settlements/{id}", "get", "A settlement", roles="admin; a provider sees its own line",
                 parameters=[_ID], responses={"200": _S, "404": "Not found"})


@api_bp.post("/vouchers")
@roles(Role.STAFF)
def grant_voucher():
    v = Validator(json_body())
    fields = dict(
        client_id=v.integer("client_id", required=True, minimum=1),
        service_type_id=v.integer("service_type_id", required=True, minimum=1),
        unit=v.string("unit", required=True, choices=UNITS),
        monthly_amount=v.integer("monthly_amount", required=True, minimum=1, maximum=svc.MAX_AMOUNT),
        value_cents_per_unit=v.integer("value_cents_per_unit", minimum=1, maximum=svc.MAX_VALUE_CENTS),
        valid_from=v.date("valid_from", required=True),
        valid_to=v.date("valid_to"),
        renews=v.boolean("renews", default=True),
    )
    v.done()
    voucher = svc.grant_voucher(api_user(), **fields)
    return jsonify(voucher_json(voucher, api_user())), 201


@api_bp.get("/vouchers/<int:voucher_id>")
def get_voucher(voucher_id: int):
    user = api_user()
    voucher = svc.visible_voucher(user, voucher_id)
    record_access(voucher.client_id, "view", policy.access_purpose(user, voucher.client_id),
                  what=f"service voucher {voucher.id}")
    return jsonify(voucher_json(voucher, user))


openapi.register("/vouchers/{id}/close", "post", "Close a voucher (no more events can be recorded on it)",
                 roles="staff", parameters=[_ID],
                 request={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
                 responses={"200": _V, "409": "Already closed", "422": "No reason"})


@api_bp.post("/vouchers/<int:voucher_id>/close")
@roles(Role.STAFF)
def close_voucher(voucher_id: int):
    v = Validator(json_body())
    reason = v.string("reason", required=True, max_len=2000)
    v.done()
    return jsonify(voucher_json(svc.close_voucher(api_user(), voucher_id, reason), api_user()))


@api_bp.post("/orders/<int:order_id>/service-events")
@roles(Role.PROVIDER)
def record_service_event(order_id: int):
    v = Validator(json_body())
    event_date = v.date("date", required=True)
    quantity = v.integer("quantity", required=True, minimum=1, maximum=svc.MAX_AMOUNT)
    v.done()
    event = svc.record_event(api_user(), order_id, event_date=event_date, quantity=quantity)
    return jsonify(event_json(event)), 201


@api_bp.get("/orders/<int:order_id>/service-events")
@roles(Role.STAFF, Role.PROVIDER)
def list_service_events(order_id: int):
    from orders.services import visible_order

    user = api_user()
    order = visible_order(user, order_id)
    if policy.is_provider(user) and order.provider_id != user.provider_id:
        raise NotFoundError("Order not found.")
    return jsonify({"items": [event_json(e) for e in svc.events_of_order(user, order.id)], "next": None})


@api_bp.post("/service-events/<int:event_id>/approve")
@roles(Role.STAFF)
def approve_service_event(event_id: int):
    return jsonify(event_json(svc.approve_event(api_user(), event_id)))


@api_bp.post("/service-events/<int:event_id>/refuse")
@roles(Role.STAFF)
def refuse_service_event(event_id: int):
    v = Validator(json_body())
    reason = v.string("reason", required=True, max_len=2000)
    v.done()
    return jsonify(event_json(svc.refuse_event(api_user(), event_id, reason)))


@api_bp.post("/service-events/<int:event_id>/correct")
@roles(Role.STAFF, Role.PROVIDER)
def correct_service_event(event_id: int):
    v = Validator(json_body())
    quantity = v.integer("quantity", required=True, minimum=0, maximum=svc.MAX_AMOUNT)
    reason = v.string("reason", required=True, max_len=2000)
    v.done()
    return jsonify(event_json(svc.correct_event(api_user(), event_id, quantity=quantity, reason=reason))), 201


@api_bp.post("/settlements")
@roles(Role.ADMIN)
def request_settlement():
    v = Validator(json_body())
    text = v.string("month", required=True, max_len=7)
    v.done()
    month = svc.parse_month(text)
    if month is None:
        raise ValidationFailed("The month is invalid.", fields={"month": ["Must be YYYY-MM."]})
    settlement = svc.request_settlement(api_user(), month)
    return jsonify(settlement_json(settlement, api_user())), 202


@api_bp.get("/settlements/<int:settlement_id>")
@roles(Role.ADMIN, Role.PROVIDER)
def get_settlement(settlement_id: int):
    user = api_user()
    settlement = svc.visible_settlement(user, settlement_id)
    if policy.is_provider(user) and not svc.visible_lines(user, settlement):
        raise NotFoundError("Settlement not found.")
    return jsonify(settlement_json(settlement, user))


@api_bp.get("/settlements/<int:settlement_id>/statements/<int:provider_id>.<any(pdf, csv):ext>")
@roles(Role.ADMIN, Role.PROVIDER)
def settlement_statement(settlement_id: int, provider_id: int, ext: str):
    user = api_user()
    line = svc.visible_line(user, settlement_id, provider_id)
    return statement_response(svc.visible_settlement(user, settlement_id), line, ext)


@api_bp.get("/settlements/<int:settlement_id>/county.json")
@roles(Role.ADMIN)
def settlement_county_file(settlement_id: int):
    user = api_user()
    settlement = svc.visible_settlement(user, settlement_id)
    return county_response(settlement, svc.visible_lines(user, settlement))


openapi.register("/voucher-figures", "get", "Voucher use per month, category and provider, the share of the granted "
                 "value used and the settlement totals (groups of fewer than 5 clients suppressed)",
                 roles="manager; admin", parameters=[
                     {"name": "from", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
                     {"name": "to", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}])


@api_bp.get("/voucher-figures")
@roles(Role.MANAGER, Role.ADMIN)
def voucher_figures():
    from flask import request

    from core.time import local_today
    from vouchers.figures import voucher_figures as figures

    errors = {}
    months = {}
    for name in ("from", "to"):
        text = request.args.get(name)
        months[name] = svc.parse_month(text) if text else None
        if text and months[name] is None:
            errors[name] = ["Must be YYYY-MM."]
    if errors:
        raise ValidationFailed("Invalid months.", fields=errors)
    end = months["to"] or svc.month_start(local_today())
    start = months["from"] or svc.month_start(end.replace(day=1).replace(year=end.year - 1))
    if start > end:
        raise ValidationFailed("The period ends before it starts.", fields={"from": ["After `to`."]})
    if (end.year - start.year) * 12 + end.month - start.month > 36:
        raise ValidationFailed("At most 36 months.", fields={"from": ["At most 36 months before `to`."]})
    return jsonify(figures(start, end))
