"""Provider API: ``POST /providers`` and ``POST /providers/{id}/approve``
(administrators), ``GET /providers`` and ``GET /providers/{id}`` (anyone; approved
providers only, unless the caller is an administrator or a member)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from accounts.models import Role
from core import openapi
from core.api import (
    POSTAL_CODE_RE,
    api_bp,
    api_user,
    json_body,
    page_params,
    page_response,
    roles,
)
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from catalogue.models import Offering, OfferingArea
from providers import decisions, policy, registration
from providers.models import Provider, ProviderStatus
from providers.serializers import ITEM_SCHEMA, PROVIDER_SCHEMA, provider_item_json, provider_json

openapi.SCHEMAS["Provider"] = PROVIDER_SCHEMA

# The body of ``POST /providers``: every field of the organisation the web
# application form sets (``providers.registration.ORGANISATION_FIELDS``).
CREATE_BODY = {"type": "object", "required": ["name", "business_id", "kind", "email", "languages"], "properties": {
    "name": {"type": "string"}, "business_id": {"type": "string", "example": "1234567-8"},
    "kind": {"type": "string", "enum": ["ngo", "company", "agency"]},
    "email": {"type": "string"}, "phone": {"type": "string"},
    "languages": {"type": "array", "items": {"type": "string"}},
    "contact_person": {"type": "string"}, "website": {"type": "string"},
    "service_areas": {"type": "array", "items": {"type": "string"},
                      "description": "Postal codes or municipality names"},
    "service_type_ids": {"type": "array", "items": {"type": "integer"},
                         "description": "Service types applied for; those needing Soteri need soteri_registered"},
    "description": {"type": "string"},
    "soteri_registered": {"type": "boolean", "default": False},
    "prepayment_register": {"type": "boolean", "default": False,
                            "description": "Needed to offer services with the household tax deduction"}}}

openapi.register("/providers", "post", "Register a provider organisation (starts pending)", roles="admin",
                 request=CREATE_BODY,
                 responses={"201": ("The provider", {"$ref": "#/components/schemas/Provider"}),
                            "409": "Business ID already registered (`duplicate_business_id`)",
                            "422": "Invalid fields; `invalid_business_id` when the Y-tunnus fails its checksum"})
openapi.register("/providers", "get", "Approved providers, optionally those with an active offering of a service "
                 "type in a postal code", auth=False,
                 parameters=[{"name": "service_type_id", "in": "query", "schema": {"type": "integer"}},
                             {"name": "postal_code", "in": "query", "schema": {"type": "string"}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                             {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                 responses={"200": ("Providers", {"type": "object", "properties": {
                     "items": {"type": "array", "items": ITEM_SCHEMA}, "next": {"type": "string", "nullable": True}}}),
                     "422": "Invalid filter"})
openapi.register("/providers/{id}", "get", "One provider (approved, or any for administrators and its members)",
                 auth=False, parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                 responses={"200": ("The provider", {"$ref": "#/components/schemas/Provider"}), "404": "Not found"})
openapi.register("/providers/{id}/approve", "post", "Approve a pending provider", roles="admin",
                 parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                 responses={"200": ("Approved", {"type": "object", "properties": {"status": {"type": "string"}}}),
                            "404": "Not found", "409": "Not pending (already approved, rejected or suspended)",
                            "422": "Services need Soteri registration (`soteri_required`)"})


@api_bp.post("/providers")
@roles(Role.ADMIN)
def create_provider():
    body = json_body()
    fields = {name: body[name] for name in CREATE_BODY["properties"] if name in body}
    provider = registration.create_provider(actor=api_user(), **fields)
    return jsonify(provider_json(provider, api_user())), 201


@api_bp.post("/providers/<int:provider_id>/approve")
@roles(Role.ADMIN)
def approve_provider(provider_id: int):
    body = request.get_json(silent=True) if request.data else None
    reasons = body.get("reasons") if isinstance(body, dict) else None
    decisions.approve_provider(provider_id, api_user(), reasons or "")
    return jsonify({"status": ProviderStatus.APPROVED.value, "id": provider_id})


@api_bp.get("/providers")
def list_providers():
    limit, cursor = page_params()
    errors: dict = {}
    service_type_id = request.args.get("service_type_id")
    postal_code = request.args.get("postal_code")
    if service_type_id not in (None, ""):
        try:
            service_type_id = int(service_type_id)
        except ValueError:
            errors["service_type_id"] = ["Must be an integer."]
    else:
        service_type_id = None
    if postal_code not in (None, ""):
        if not POSTAL_CODE_RE.match(postal_code):
            errors["postal_code"] = ["Must be a Finnish postal code of five digits."]
    else:
        postal_code = None
    if errors:
        raise ValidationFailed("Invalid filter.", fields=errors)
    stmt = sa.select(Provider).where(Provider.status == ProviderStatus.APPROVED)
    if service_type_id is not None or postal_code is not None:
        offering = sa.select(Offering.id).where(Offering.provider_id == Provider.id, Offering.active.is_(True))
        if service_type_id is not None:
            offering = offering.where(Offering.service_type_id == service_type_id)
        if postal_code is not None:
            offering = offering.where(sa.exists().where(OfferingArea.offering_id == Offering.id,
                                                        OfferingArea.postal_code == postal_code))
        stmt = stmt.where(offering.exists())
    if cursor is not None:
        stmt = stmt.where(Provider.id > cursor)
    rows = db.session.scalars(stmt.order_by(Provider.id).limit(limit + 1)).all()
    return page_response([provider_item_json(p) for p in rows], rows, limit, "api.list_providers")


@api_bp.get("/providers/<int:provider_id>")
def get_provider(provider_id: int):
    provider = db.session.get(Provider, provider_id)
    if not policy.can_view(current_user, provider):
        raise NotFoundError("Not found.")
    return jsonify(provider_json(provider, current_user))
