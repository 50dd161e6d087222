"""Webhook and FHIR calls of the JSON API (``/api/v1``), thin routes over
``interop.webhooks`` and ``interop.fhir``. Contract: ../shared/API.md, sections
"Webhooks to provider systems" and "Open data"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import jsonify, request
from flask_babel import gettext
from pydantic import Field, StringConstraints

from accounts.models import Role
from clients import policy as client_policy
from clients.queries import network
from clients.records import get_client
from core.access import record_access
from core.api import (
    Body,
    Out,
    Page,
    Paging,
    Query,
    answer,
    api_user,
    iso,
    page_json,
    route,
)
from core.bounds import MAX_INT, OptText, Text
from core.errors import NotFoundError
from core.extensions import db
from interop import fhir, webhooks
from interop.models import WebhookDelivery
from orders import policy as order_policy
from orders import services as order_services
from providers import policy as provider_policy

WEBHOOK_TAGS = ("Webhooks",)
FHIR_TAGS = ("FHIR",)


# --------------------------------------------------------------------------- declarations

EventName = Annotated[str, StringConstraints(max_length=100), Field(json_schema_extra={"enum": list(webhooks.EVENT_TYPES)})]


class WebhookIn(Body):
    url: Text(500) = Field(description="https:// (http:// only to this machine, outside production)")
    events: list[EventName] = Field(min_length=1, max_length=50, description="The events to send")
    description: OptText(200) = ""


class WebhookEndpointOut(Out):
    """A webhook endpoint"""

    id: int
    url: str
    description: str | None
    events: list[str]
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime | None


class NewWebhookEndpoint(WebhookEndpointOut):
    """The endpoint with its signing secret (shown only in this answer)"""

    secret: str | None = Field(description="Only in the answer to POST /webhooks")


class Delivery(Out):
    event_id: str
    event: str
    status: str
    status_code: int | None
    attempts: int
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime | None


class TestEventOut(Out):
    """The test event, queued for delivery"""

    event_id: str
    event: str


class CareTeamQuery(Query):
    patient: str = Field(pattern=r"^(Patient/)?[0-9]{1,12}$", description="The client's id (`123` or `Patient/123`)")


def _fhir_answer(resource_type: str, description: str) -> dict:
    return {"description": description, "content": {fhir.FHIR_JSON: {"schema": {
        "type": "object", "required": ["resourceType"],
        "properties": {"resourceType": {"const": resource_type}}}}}}


def endpoint_json(endpoint) -> dict:
    return {"id": endpoint.id, "url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
            "active": endpoint.active, "disabled_at": iso(endpoint.disabled_at),
            "disabled_reason": endpoint.disabled_reason, "created_at": iso(endpoint.created_at)}


def delivery_json(d: WebhookDelivery) -> dict:
    return {"event_id": d.event.public_id, "event": d.event.type, "status": d.status, "status_code": d.status_code,
            "attempts": d.attempts, "delivered_at": iso(d.delivered_at), "next_attempt_at": iso(d.next_attempt_at),
            "created_at": iso(d.created_at)}


# --------------------------------------------------------------------------- webhooks

def _organisation_admin(**_params) -> None:
    """Refuse a worker before the body is read: only the organisation's
    administrators register endpoints (the service checks it again)."""
    user = api_user()
    provider_policy.require_manage(user, user.provider_id)


@route("POST", "/webhooks", "Register a webhook endpoint of your organisation (the secret is shown once)",
       roles=(Role.PROVIDER,), body=WebhookIn, tags=WEBHOOK_TAGS, responses={201: NewWebhookEndpoint},
       before=_organisation_admin,
       errors={403: "Not your organisation's administrator",
               422: "Invalid fields; `insecure_url`; `too_many_endpoints`"})
def create_webhook(body: WebhookIn):
    user = api_user()
    endpoint = webhooks.create_endpoint(user, user.provider_id, body.url, body.events, body.description)
    return answer({**endpoint_json(endpoint), "secret": webhooks.reveal_secret(endpoint)}, 201)


@route("GET", "/webhooks", "Your organisation's webhook endpoints", roles=(Role.PROVIDER,), tags=WEBHOOK_TAGS,
       responses={200: Page[WebhookEndpointOut]})
def list_webhooks():
    user = api_user()
    return answer({"items": [endpoint_json(e) for e in webhooks.endpoints_of(user.provider_id)], "next": None})


@route("GET", "/webhooks/<int:endpoint_id>", "One endpoint", roles=(Role.PROVIDER,), tags=WEBHOOK_TAGS,
       responses={200: WebhookEndpointOut}, errors={404: "Not found or not your organisation's"})
def get_webhook(endpoint_id: int):
    return answer(endpoint_json(webhooks.visible_endpoint(api_user(), endpoint_id)))


@route("DELETE", "/webhooks/<int:endpoint_id>", "Remove an endpoint (your organisation's administrator)",
       roles=(Role.PROVIDER,), tags=WEBHOOK_TAGS, responses={204: "Removed"},
       errors={404: "Not found or not your organisation's"})
def delete_webhook(endpoint_id: int):
    webhooks.delete_endpoint(api_user(), endpoint_id)
    return "", 204


@route("POST", "/webhooks/<int:endpoint_id>/test", "Send a test event (type webhook.test) to the endpoint",
       roles=(Role.PROVIDER,), tags=WEBHOOK_TAGS, responses={202: TestEventOut},
       errors={404: "Not found or not your organisation's"})
def test_webhook(endpoint_id: int):
    event = webhooks.send_test_event(api_user(), endpoint_id)
    return answer({"event_id": event.public_id, "event": event.type}, 202)


@route("GET", "/webhooks/<int:endpoint_id>/deliveries", "The endpoint's delivery log, newest first",
       roles=(Role.PROVIDER,), query=Paging, tags=WEBHOOK_TAGS, responses={200: Page[Delivery]},
       errors={404: "Not found or not your organisation's"})
def webhook_deliveries(endpoint_id: int, query: Paging):
    endpoint = webhooks.visible_endpoint(api_user(), endpoint_id)
    stmt = webhooks.deliveries_query(endpoint.id)
    if query.cursor:
        stmt = stmt.where(WebhookDelivery.id < query.cursor)
    rows = db.session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(query.limit + 1)).all()
    return answer(page_json([delivery_json(d) for d in rows], rows, query.limit, "api.webhook_deliveries",
                            endpoint_id=endpoint.id))


# --------------------------------------------------------------------------- FHIR


def _fhir(body: dict):
    response = jsonify(body)
    response.content_type = fhir.FHIR_JSON
    return response


@route("GET", "/fhir/Task/<int:order_id>",
       "The order as a FHIR R4 Task (referral pattern; no client identity for a provider before acceptance)",
       tags=FHIR_TAGS, responses={200: _fhir_answer("Task", "FHIR R4 Task")},
       errors={404: "Not found or not visible"})
def fhir_task(order_id: int):
    user = api_user()
    order = order_services.visible_order(user, order_id)
    identity = order_policy.sees_identity(order, user)
    if identity:
        record_access(order.client_id, "view", order_policy.access_purpose(user), what=f"order {order.number}")
    return _fhir(fhir.task(order, user, identity))


@route("GET", "/fhir/CareTeam", "The client's network as a FHIR R4 CareTeam in a searchset Bundle",
       roles=(Role.STAFF, Role.CLIENT), query=CareTeamQuery, tags=FHIR_TAGS,
       responses={200: _fhir_answer("Bundle", "FHIR R4 Bundle (searchset) of one CareTeam")},
       errors={404: "No such client, or not yours", 422: "`patient` missing or not a client id"})
def fhir_care_team(query: CareTeamQuery):
    user = api_user()
    patient = int(query.patient.removeprefix("Patient/"))
    if not 1 <= patient <= MAX_INT:
        raise NotFoundError(gettext("Client not found."))
    client = get_client(user, patient, client_policy.read_purpose(user, patient), what="network")
    team = fhir.care_team(client, network(client, include_ended=False))
    return _fhir(fhir.searchset([team], request.url))
