"""Catalogue API: ``GET /api/v1/service-types``."""

from __future__ import annotations

from flask import jsonify

from core import openapi
from core.api import api_bp
from marketplace.services import list_service_types

openapi.register("/service-types", "get", "The service catalogue", auth=False, responses={"200": (
    "Service types", {"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                         "category": {"type": "string"}, "self_paid_allowed": {"type": "boolean"}}}},
        "next": {"type": "string", "nullable": True}}})})


@api_bp.get("/service-types")
def service_types():
    items = [{"id": t.id, "name": t.name(), "category": t.category.name(), "category_id": t.category_id,
              "self_paid_allowed": t.self_paid_allowed} for t in list_service_types()]
    return jsonify({"items": items, "next": None})
