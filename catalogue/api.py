"""Catalogue API (API.md "Catalogue and providers"): ``GET /service-types``,
``POST/GET /offerings``."""

from __future__ import annotations

from flask import jsonify, request

from catalogue import offerings as offering_services
from catalogue import services
from catalogue.models import Unit
from catalogue.money import MAX_PRICE_CENTS
from catalogue.serializers import offering_json, service_type_json
from core import openapi
from core.api import Validator, api_bp, api_user, json_body, page_params, page_response, roles
from core.errors import ValidationFailed

# --------------------------------------------------------------------------- schemas

PROVIDER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "business_id": {"type": "string"}, "rating": {"type": "object", "properties": {
        "average": {"type": "number", "nullable": True}, "count": {"type": "integer"}}}}}
_OFFERING = {"type": "object", "properties": {
    "id": {"type": "integer"}, "provider_id": {"type": "integer"}, "provider": PROVIDER_SCHEMA,
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

# --------------------------------------------------------------------------- catalogue


@api_bp.get("/service-types")
def service_types():
    return jsonify({"items": [service_type_json(t) for t in services.list_service_types()], "next": None})


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
    v = Validator(json_body())
    data = offering_services.OfferingInput(
        service_type_id=v.integer("service_type_id", required=True),
        postal_codes=v.string_list("postal_codes", required=True, item_max_len=5, default=[]),
        languages=v.string_list("languages", required=True, item_max_len=2, default=[]),
        unit=v.string("unit", required=True, choices=list(Unit)),
        price_cents=v.integer("price_cents", minimum=0, maximum=MAX_PRICE_CENTS),
        vat_rate_bp=_vat_bp(v),
        self_paid=v.boolean("self_paid", required=True),
        household_deduction=v.boolean("household_deduction", required=True),
        labour_share_percent=v.integer("labour_share_percent", minimum=0, maximum=100, default=100),
        description=v.string("description", max_len=4000, default=""),
    )
    v.done()
    offering = offering_services.create_offering(api_user(), data)
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
