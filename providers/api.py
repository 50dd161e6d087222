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
    iso,
    json_body,
    page_params,
    page_response,
    roles,
)
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from core.urls import absolute_url
from providers import services as svc
from providers.models import Provider, ProviderStatus

_RATING = {"type": "object", "properties": {"average": {"type": "number", "nullable": True},
                                            "count": {"type": "integer"}}}
_ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string", "enum": ["ngo", "company", "agency"]},
    "business_id": {"type": "string"}, "status": {"type": "string"}, "rating": _RATING,
    "languages": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"}}}
_PROVIDER = {"type": "object", "properties": {
    **_ITEM["properties"], "email": {"type": "string"}, "phone": {"type": "string", "nullable": True},
    "website": {"type": "string", "nullable": True}, "description": {"type": "string"},
    "service_areas": {"type": "array", "items": {"type": "string"}},
    "created_at": {"type": "string", "format": "date-time"},
    "approved_at": {"type": "string", "format": "date-time", "nullable": True}}}
openapi.SCHEMAS["Provider"] = _PROVIDER

openapi.register("/providers", "post", "Register a provider organisation (starts pending)", roles="admin",
                 request={"type": "object", "required": ["name", "business_id", "kind", "email", "languages"],
                          "properties": {"name": {"type": "string"}, "business_id": {"type": "string",
                                                                                     "example": "1234567-8"},
                                         "kind": {"type": "string", "enum": ["ngo", "company", "agency"]},
                                         "email": {"type": "string"}, "phone": {"type": "string"},
                                         "languages": {"type": "array", "items": {"type": "string"}}}},
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
                     "items": {"type": "array", "items": _ITEM}, "next": {"type": "string", "nullable": True}}}),
                     "422": "Invalid filter"})
openapi.register("/providers/{id}", "get", "One provider (approved, or any for administrators and its members)",
                 auth=False, parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                 responses={"200": ("The provider", {"$ref": "#/components/schemas/Provider"}), "404": "Not found"})
openapi.register("/providers/{id}/approve", "post", "Approve a pending provider", roles="admin",
                 parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                 responses={"200": ("Approved", {"type": "object", "properties": {"status": {"type": "string"}}}),
                            "404": "Not found", "409": "Not pending (already approved, rejected or suspended)",
                            "422": "Services need Soteri registration (`soteri_required`)"})


def _item(p: Provider) -> dict:
    return {"id": p.id, "name": p.name, "kind": p.kind, "business_id": p.business_id, "status": p.status,
            "rating": {"average": p.rating_average, "count": p.rating_count}, "languages": list(p.languages or []),
            "url": absolute_url("providers.profile", provider_id=p.id)}


def provider_json(p: Provider) -> dict:
    return {**_item(p), "email": p.email, "phone": p.phone, "website": p.website, "description": p.description,
            "service_areas": list(p.service_areas or []), "created_at": iso(p.created_at),
            "approved_at": iso(p.approved_at)}


@api_bp.post("/providers")
@roles(Role.ADMIN)
def create_provider():
    body = json_body()
    provider = svc.create_provider(name=body.get("name"), business_id=body.get("business_id"), kind=body.get("kind"),
                                   email=body.get("email"), phone=body.get("phone"),
                                   languages=body.get("languages"), actor=api_user())
    db.session.commit()
    return jsonify(provider_json(provider)), 201


@api_bp.post("/providers/<int:provider_id>/approve")
@roles(Role.ADMIN)
def approve_provider(provider_id: int):
    body = request.get_json(silent=True) if request.data else None
    reasons = body.get("reasons") if isinstance(body, dict) else None
    svc.approve_provider(provider_id, api_user(), reasons or "")
    db.session.commit()
    return jsonify({"status": ProviderStatus.APPROVED.value, "id": provider_id})


@api_bp.get("/providers")
def list_providers():
    from catalogue.models import Offering, OfferingArea

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
    return page_response([_item(p) for p in rows], rows, limit, "api.list_providers")


@api_bp.get("/providers/<int:provider_id>")
def get_provider(provider_id: int):
    provider = db.session.get(Provider, provider_id)
    visible = provider is not None and (
        provider.status == ProviderStatus.APPROVED or
        (current_user.is_authenticated and (current_user.role == Role.ADMIN or current_user.provider_id == provider.id)))
    if not visible:
        raise NotFoundError("Not found.")
    return jsonify(provider_json(provider))
