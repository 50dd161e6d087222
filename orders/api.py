"""Service-order API (``/api/v1/orders``): thin routes over ``orders.services``. They
commit nothing: the request's unit of work does, and a ``DomainError`` becomes
API.md's error shape in ``core.errors``. Bodies come from ``orders.serializers``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from accounts.models import Role
from orders.scopes import scope_orders
from core import openapi
from core.access import record_access, record_access_many
from core.api import Validator, api_bp, api_user, json_body, page_params, page_response, roles
from core.errors import ValidationFailed
from core.extensions import db
from orders import policy, services
from orders.models import Offer, OrderEvent, OrderStatus, ServiceOrder
from orders.serializers import event_json, order_json, visit_json


_ORDER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "status": {"type": "string", "enum": list(OrderStatus)},
    "client": {"type": "object"}, "provider_id": {"type": "integer", "nullable": True},
    "offers": {"type": "array", "items": {"type": "object"}}, "feedback_url": {"type": "string"}}}


openapi.register("/orders", "post", "Place a service order and offer it", roles="staff", request={
    "type": "object", "required": ["client_id", "service_type_id", "start_date"], "properties": {
        "client_id": {"type": "integer"}, "service_type_id": {"type": "integer"},
        "provider_ids": {"type": "array", "items": {"type": "integer"}},
        "mode": {"type": "string", "enum": ["single", "broadcast", "ranked"]},
        "funding": {"type": "string", "enum": ["municipality", "voucher", "self_paid"]},
        "instructions": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"}, "visits_per_week": {"type": "integer"},
        "minutes_per_visit": {"type": "integer"},
        "voucher_id": {"type": "integer", "description": "fund the order with this voucher (same client and "
                                                         "service type, else 422 `voucher_mismatch`)"}}},
    responses={"201": ("The order", _ORDER_SCHEMA)})


@api_bp.post("/orders")
@roles(Role.STAFF)
def create_order():
    body = json_body()
    v = Validator(body)
    fields = dict(
        client_id=v.integer("client_id", required=True, minimum=1),
        service_type_id=v.integer("service_type_id", required=True, minimum=1),
        start_date=v.date("start_date", required=True),
        end_date=v.date("end_date"),
        visits_per_week=v.integer("visits_per_week", minimum=1, maximum=21),
        minutes_per_visit=v.integer("minutes_per_visit", minimum=5, maximum=24 * 60),
        instructions=v.string("instructions", max_len=4000, default=""),
        funding=v.string("funding", choices=["municipality", "voucher", "self_paid"], default="municipality"),
        mode=v.string("mode", choices=["single", "broadcast", "ranked"]),
        voucher_id=v.integer("voucher_id", minimum=1),
    )
    provider_ids = body.get("provider_ids")
    if provider_ids is not None and (not isinstance(provider_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in provider_ids)):
        v.error("provider_ids", "Must be a list of provider ids.")
    v.done()
    order = services.place_order(api_user(), provider_ids=provider_ids or None, **fields)
    return jsonify(order_json(order, api_user())), 201


openapi.register("/orders", "get", "Orders visible to the caller", parameters=[
    {"name": "status", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}}])


@api_bp.get("/orders")
def list_orders():
    user = api_user()
    limit, cursor = page_params()
    status = request.args.get("status")
    if status is not None and status not in set(OrderStatus):
        raise ValidationFailed("Unknown status.", fields={"status": ["Must be one of: " + ", ".join(OrderStatus) + "."]})
    stmt = scope_orders(sa.select(ServiceOrder), user).options(
        sa.orm.joinedload(ServiceOrder.client), sa.orm.joinedload(ServiceOrder.service_type),
        sa.orm.joinedload(ServiceOrder.provider), sa.orm.selectinload(ServiceOrder.offers))
    if status:
        stmt = stmt.where(ServiceOrder.status == status)
    if cursor:
        stmt = stmt.where(ServiceOrder.id < cursor)
    rows = db.session.scalars(stmt.order_by(ServiceOrder.id.desc()).limit(limit + 1)).unique().all()
    items = [order_json(o, user) for o in rows[:limit]]
    shown = [o.client_id for o in rows[:limit] if policy.sees_identity(o, user)]
    record_access_many(shown, "list", policy.access_purpose(user), what="orders list")
    return page_response(items, rows, limit, "api.list_orders")


def _visible(order_id: int) -> ServiceOrder:
    return services.visible_order(api_user(), order_id)


openapi.register("/orders/{order_id}", "get", "One order (a provider that has not won it sees no client identity)",
                 responses={"200": ("The order", _ORDER_SCHEMA), "404": "Not found or not visible"})


@api_bp.get("/orders/<int:order_id>")
def get_order(order_id: int):
    user = api_user()
    order = _visible(order_id)
    if policy.sees_identity(order, user):
        record_access(order.client_id, "view", policy.access_purpose(user), what=f"order {order.number}")
    body = order_json(order, user)
    return jsonify(body)


def _answer(order: ServiceOrder, **extra):
    return jsonify({"id": order.id, "number": order.number, "status": order.status, **extra})


openapi.register("/orders/{order_id}/accept", "post", "Accept an offer (first accept wins)", roles="provider",
                 responses={"200": "Accepted", "404": "Never offered to your organisation",
                            "409": "already_taken, or your offer is no longer pending"})


@api_bp.post("/orders/<int:order_id>/accept")
@roles(Role.PROVIDER)
def accept_order(order_id: int):
    order = services.accept_offer(api_user(), order_id)
    return _answer(order, provider_id=order.provider_id)


_REASON = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}


def _reason(max_len: int) -> str:
    """The body's required ``reason`` (a decline, a cancellation)."""
    v = Validator(json_body())
    reason = v.string("reason", required=True, max_len=max_len)
    v.done()
    return reason


openapi.register("/orders/{order_id}/decline", "post", "Decline an offer with a reason", roles="provider",
                 request=_REASON)


@api_bp.post("/orders/<int:order_id>/decline")
@roles(Role.PROVIDER)
def decline_order(order_id: int):
    order = services.decline_offer(api_user(), order_id, _reason(1000))
    offer_status = db.session.scalar(sa.select(Offer.status).where(
        Offer.order_id == order_id, Offer.provider_id == api_user().provider_id))
    return _answer(order, offer_status=offer_status)


openapi.register("/orders/{order_id}/visits", "post", "Report a visit (the winning provider)", roles="provider",
                 request={"type": "object", "required": ["date", "minutes"], "properties": {
                     "date": {"type": "string", "format": "date"}, "minutes": {"type": "integer"},
                     "tasks": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"},
                     "concern": {"type": "boolean"}, "urgency": {"type": "string", "enum": ["today", "week"]},
                     "missed": {"type": "boolean"}}},
                 responses={"201": "Visit reported"})


@api_bp.post("/orders/<int:order_id>/visits")
@roles(Role.PROVIDER)
def report_visit(order_id: int):
    v = Validator(json_body())
    visit_date = v.date("date", required=True)
    minutes = v.integer("minutes", required=True, minimum=1, maximum=24 * 60)
    tasks = v.string_list("tasks", default=[], max_items=services.MAX_TASKS, item_max_len=200)
    note = v.string("note", max_len=4000)
    concern = v.boolean("concern", default=False)
    urgency = v.string("urgency", choices=["today", "week"]) or "week"
    missed = v.boolean("missed", default=False)
    v.done()
    visit = services.record_visit(api_user(), order_id, visit_date=visit_date, minutes=minutes, tasks=tasks,
                                  note=note, concern=concern, urgency=urgency, missed=missed)
    return jsonify(visit_json(visit)), 201


openapi.register("/orders/{order_id}/complete", "post", "Complete the order (sends the client a feedback link)",
                 roles="provider", request={"type": "object", "properties": {"reason": {"type": "string"}}},
                 responses={"200": "Completed", "403": "only the organisation's administrators (its setting)",
                            "409": "no_visits, or not in progress",
                            "422": "reason_required: an ongoing order needs the reason it ends now"})


@api_bp.post("/orders/<int:order_id>/complete")
@roles(Role.PROVIDER)
def complete(order_id: int):
    v = Validator(json_body() if request.get_data() else {})  # the body is optional
    reason = v.string("reason", max_len=2000)
    v.done()
    order = services.complete_order(api_user(), order_id, reason)
    return _answer(order)


openapi.register("/orders/{order_id}/close", "post", "Close the loop: did the client get the service?", roles="staff",
                 request={"type": "object", "required": ["outcome"], "properties": {
                     "outcome": {"type": "string", "enum": ["received", "not_received"]}, "note": {"type": "string"}}})


@api_bp.post("/orders/<int:order_id>/close")
@roles(Role.STAFF)
def close(order_id: int):
    v = Validator(json_body())
    outcome = v.string("outcome", required=True, choices=["received", "not_received"])
    note = v.string("note", max_len=2000)
    v.done()
    order = services.close_order(api_user(), order_id, outcome, note)
    return _answer(order, outcome=order.outcome)


openapi.register("/orders/{order_id}/cancel", "post", "Cancel with a reason (not after completion)", roles="staff",
                 request=_REASON)


@api_bp.post("/orders/<int:order_id>/cancel")
@roles(Role.STAFF)
def cancel(order_id: int):
    order = services.cancel_order(api_user(), order_id, _reason(2000))
    return _answer(order)


openapi.register("/orders/{order_id}/reoffer", "post", "Offer an escalated order again", roles="staff",
                 request={"type": "object", "properties": {
                     "provider_ids": {"type": "array", "items": {"type": "integer"}},
                     "mode": {"type": "string", "enum": ["single", "broadcast", "ranked"]}}})


@api_bp.post("/orders/<int:order_id>/reoffer")
@roles(Role.STAFF)
def reoffer(order_id: int):
    body = json_body()
    v = Validator(body)
    mode = v.string("mode", choices=["single", "broadcast", "ranked"])
    provider_ids = body.get("provider_ids")
    if provider_ids is not None and (not isinstance(provider_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in provider_ids)):
        v.error("provider_ids", "Must be a list of provider ids.")
    v.done()
    order = services.reoffer_order(api_user(), order_id, provider_ids or None, mode)
    return jsonify(order_json(order, api_user()))


openapi.register("/orders/{order_id}/events", "get", "The order's timeline")


@api_bp.get("/orders/<int:order_id>/events")
def order_events(order_id: int):
    user = api_user()
    order = _visible(order_id)
    stmt = sa.select(OrderEvent).where(OrderEvent.order_id == order.id).options(
        sa.orm.joinedload(OrderEvent.actor)).order_by(OrderEvent.id)
    if user.role == Role.PROVIDER and not policy.is_winner(order, user):
        # A provider that has not won sees only the events of its own offer.
        stmt = stmt.where(sa.or_(OrderEvent.provider_id == user.provider_id, OrderEvent.action == "create"))
    items = [event_json(e, user) for e in db.session.scalars(stmt)]
    return jsonify({"items": items, "next": None})
