"""Webhook and FHIR calls of the JSON API (``/api/v1``), thin routes over
``interop.webhooks`` and ``interop.fhir``. Contract: ../shared/API.md, sections
"Webhooks to provider systems" and "Open data"."""

from __future__ import annotations

from flask import jsonify, request

from accounts.models import Role
from clients import policy as client_policy
from clients.queries import network
from clients.records import get_client
from core import openapi
from core.access import record_access
from core.api import Validator, api_bp, api_user, iso, json_body, page_params, page_response, roles
from core.errors import ValidationFailed
from core.extensions import db
from interop import fhir, webhooks
from interop.models import WebhookDelivery
from orders import policy as order_policy
from orders import services as order_services

_ID = [{"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_ENDPOINT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": {"type": "string"}, "description": {"type": "string"},
    "events": {"type": "array", "items": {"type": "string", "enum": list(webhooks.EVENT_TYPES)}},
    "active": {"type": "boolean"}, "disabled_at": {"type": "string", "nullable": True},
    "disabled_reason": {"type": "string", "nullable": True}, "created_at": {"type": "string"},
    "secret": {"type": "string", "description": "Only in the answer to POST /webhooks"}}}
_DELIVERY = {"type": "object", "properties": {
    "event_id": {"type": "string"}, "event": {"type": "string"}, "status": {"type": "string"},
    "status_code": {"type": "integer", "nullable": True}, "attempts": {"type": "integer"},
    "delivered_at": {"type": "string", "nullable": True}, "next_attempt_at": {"type": "string", "nullable": True},
    "created_at": {"type": "string"}}}


def endpoint_json(endpoint) -> dict:
    return {"id": endpoint.id, "url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
            "active": endpoint.active, "disabled_at": iso(endpoint.disabled_at),
            "disabled_reason": endpoint.disabled_reason, "created_at": iso(endpoint.created_at)}


def delivery_json(d: WebhookDelivery) -> dict:
    return {"event_id": d.event.public_id, "event": d.event.type, "status": d.status, "status_code": d.status_code,
            "attempts": d.attempts, "delivered_at": iso(d.delivered_at), "next_attempt_at": iso(d.next_attempt_at),
            "created_at": iso(d.created_at)}


openapi.register("/webhooks", "post", "Register a webhook endpoint of your organisation (the secret is shown once)",
                 roles="provider organisation admin", request={
                     "type": "object", "required": ["url", "events"], "properties": {
                         "url": {"type": "string", "maxLength": 500},
                         "events": {"type": "array", "items": {"type": "string", "enum": list(webhooks.EVENT_TYPES)}},
                         "description": {"type": "string", "maxLength": 200}}},
                 responses={"201": ("The endpoint with its secret", _ENDPOINT)})


@api_bp.post("/webhooks")
@roles(Role.PROVIDER)
def create_webhook():
    user = api_user()
    body = json_body()
    v = Validator(body)
    description = v.string("description", max_len=200, default="")
    v.done()
    endpoint = webhooks.create_endpoint(user, user.provider_id, body.get("url"), body.get("events"), description)
    return jsonify({**endpoint_json(endpoint), "secret": webhooks.reveal_secret(endpoint)}), 201


openapi.register("/webhooks", "get", "Your organisation's webhook endpoints", roles="provider",
                 responses={"200": ("Items", {"type": "object", "properties": {
                     "items": {"type": "array", "items": _ENDPOINT}, "next": {"type": "string", "nullable": True}}})})


@api_bp.get("/webhooks")
@roles(Role.PROVIDER)
def list_webhooks():
    user = api_user()
    return jsonify({"items": [endpoint_json(e) for e in webhooks.endpoints_of(user.provider_id)], "next": None})


openapi.register("/webhooks/{endpoint_id}", "get", "One endpoint", roles="provider", parameters=_ID,
                 responses={"200": ("The endpoint", _ENDPOINT), "404": "Not found or not your organisation's"})


@api_bp.get("/webhooks/<int:endpoint_id>")
@roles(Role.PROVIDER)
def get_webhook(endpoint_id: int):
    return jsonify(endpoint_json(webhooks.visible_endpoint(api_user(), endpoint_id)))


openapi.register("/webhooks/{endpoint_id}", "delete", "Remove an endpoint", roles="provider organisation admin",
                 parameters=_ID, responses={"204": "Removed", "404": "Not found or not your organisation's"})


@api_bp.delete("/webhooks/<int:endpoint_id>")
@roles(Role.PROVIDER)
def delete_webhook(endpoint_id: int):
    webhooks.delete_endpoint(api_user(), endpoint_id)
    return "", 204


openapi.register("/webhooks/{endpoint_id}/test", "post", "Send a test event (type webhook.test) to the endpoint",
                 roles="provider organisation admin", parameters=_ID,
                 responses={"202": ("The event queued", {"type": "object", "properties": {
                     "event_id": {"type": "string"}, "event": {"type": "string"}}}),
                            "404": "Not found or not your organisation's"})


@api_bp.post("/webhooks/<int:endpoint_id>/test")
@roles(Role.PROVIDER)
def test_webhook(endpoint_id: int):
    event = webhooks.send_test_event(api_user(), endpoint_id)
    return jsonify({"event_id": event.public_id, "event": event.type}), 202


openapi.register("/webhooks/{endpoint_id}/deliveries", "get", "The endpoint's delivery log, newest first",
                 roles="provider (same organisation)", parameters=_ID + [
                     {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                     {"name": "cursor", "in": "query", "schema": {"type": "integer"}}],
                 responses={"200": ("Items and the next page", {"type": "object", "properties": {
                     "items": {"type": "array", "items": _DELIVERY}, "next": {"type": "string", "nullable": True}}}),
                            "404": "Not found or not your organisation's"})


@api_bp.get("/webhooks/<int:endpoint_id>/deliveries")
@roles(Role.PROVIDER)
def webhook_deliveries(endpoint_id: int):
    endpoint = webhooks.visible_endpoint(api_user(), endpoint_id)
    limit, cursor = page_params()
    stmt = webhooks.deliveries_query(endpoint.id)
    if cursor:
        stmt = stmt.where(WebhookDelivery.id < cursor)
    rows = db.session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()
    return page_response([delivery_json(d) for d in rows[:limit]], rows, limit, "api.webhook_deliveries",
                         endpoint_id=endpoint.id)


# --------------------------------------------------------------------------- FHIR


def _fhir(body: dict):
    response = jsonify(body)
    response.content_type = fhir.FHIR_JSON
    return response


openapi.register("/fhir/Task/{order_id}", "get",
                 "The order as a FHIR R4 Task (referral pattern; no client identity for a provider before acceptance)",
                 parameters=[{"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                 responses={"200": "FHIR R4 Task (application/fhir+json)", "404": "Not found or not visible"})


@api_bp.get("/fhir/Task/<int:order_id>")
def fhir_task(order_id: int):
    user = api_user()
    order = order_services.visible_order(user, order_id)
    identity = order_policy.sees_identity(order, user)
    if identity:
        record_access(order.client_id, "view", order_policy.access_purpose(user), what=f"order {order.number}")
    return _fhir(fhir.task(order, user, identity))


openapi.register("/fhir/CareTeam", "get", "The client's network as a FHIR R4 CareTeam in a searchset Bundle",
                 roles="staff; the client",
                 parameters=[{"name": "patient", "in": "query", "required": True, "schema": {"type": "integer"}}],
                 responses={"200": "FHIR R4 Bundle (application/fhir+json)", "404": "Not found",
                            "422": "patient missing or not an integer"})


@api_bp.get("/fhir/CareTeam")
@roles(Role.STAFF, Role.CLIENT)
def fhir_care_team():
    user = api_user()
    raw = request.args.get("patient", "")
    patient = raw.removeprefix("Patient/")
    if not patient.isdigit() or len(patient) > 12:
        raise ValidationFailed("Give the client's id as ?patient=<id>.",
                               fields={"patient": ["Must be a client id (an integer)."]})
    client = get_client(user, int(patient), client_policy.read_purpose(user, int(patient)), what="network")
    team = fhir.care_team(client, network(client, include_ended=False))
    return _fhir(fhir.searchset([team], request.url))
