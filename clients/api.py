"""Client API: ``POST /api/v1/clients`` and ``GET /api/v1/clients/{id}``."""

from __future__ import annotations

from flask import jsonify

from accounts.models import Role
from clients.services import client_summary, create_client, get_client
from core import openapi
from core.access import Purpose
from core.api import Validator, api_bp, api_user, json_body, roles
from core.extensions import db

_CLIENT_BODY = {"type": "object", "required": ["first_name", "last_name", "address", "postal_code", "municipality"],
                "properties": {k: {"type": "string"} for k in (
                    "first_name", "last_name", "birth_date", "personal_identity_code", "address", "postal_code",
                    "municipality", "phone", "email", "segment")} | {
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "consent_to_share": {"type": "boolean"}, "non_disclosure": {"type": "boolean"}}}

openapi.register("/clients", "post", "Register a client (the caller becomes the responsible worker)", roles="staff",
                 request=_CLIENT_BODY, responses={"201": "The client (identity code masked)",
                                                  "409": "Identity code already registered"})


@api_bp.post("/clients")
@roles(Role.STAFF)
def create():
    body = json_body()
    v = Validator(body)
    data = {
        "first_name": v.string("first_name", required=True, max_len=100),
        "last_name": v.string("last_name", required=True, max_len=100),
        "birth_date": v.date("birth_date"),
        "personal_identity_code": v.string("personal_identity_code", max_len=11),
        "address": v.string("address", required=True, max_len=300),
        "postal_code": v.postal_code("postal_code", required=True),
        "municipality": v.string("municipality", required=True, max_len=100),
        "phone": v.string("phone", max_len=40),
        "email": v.string("email", max_len=254),
        "languages": v.string_list("languages", default=["fi"], max_items=10, item_max_len=5),
        "consent_to_share": v.boolean("consent_to_share", default=False),
        "segment": v.string("segment", choices=["independent", "guidance", "intensive"]),
        "non_disclosure": v.boolean("non_disclosure", default=False),
    }
    v.done()
    client = create_client(api_user(), data)
    db.session.commit()
    return jsonify(client_summary(client, api_user())), 201


openapi.register("/clients/{client_id}", "get", "A client (writes an access-log row)", roles="staff; the client")


@api_bp.get("/clients/<int:client_id>")
@roles(Role.STAFF, Role.CLIENT)
def get(client_id: int):
    user = api_user()
    purpose = Purpose.GUIDANCE if user.role == Role.STAFF else Purpose.OWN_DATA
    client = get_client(user, client_id, purpose)
    body = client_summary(client, user)
    db.session.commit()
    return jsonify(body)
