"""Client API (API.md "Clients"): ``POST /clients``, ``GET /clients/{id}``,
``GET /clients/{id}/access-log`` and ``GET /clients/{id}/export``. Thin routes over
``clients.services`` and ``clients.queries``; a client-role user (the client or a
relative acting for them) reaches only the clients they may act for, anything
else is 404."""

from __future__ import annotations

from flask import jsonify

from accounts.models import Role
from clients.scopes import can_act_for_client
from clients import queries
from clients.services import client_side_purpose, client_summary, create_client, get_client
from core import openapi
from core.access import Purpose
from core.api import Validator, api_bp, api_user, json_body, page_params, page_response, roles
from core.errors import NotFoundError
from core.extensions import db

_CLIENT_BODY = {"type": "object", "required": ["first_name", "last_name", "address", "postal_code", "municipality"],
                "properties": {k: {"type": "string"} for k in (
                    "first_name", "last_name", "birth_date", "personal_identity_code", "address", "postal_code",
                    "municipality", "phone", "email", "segment")} | {
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "consent_to_share": {"type": "boolean"}, "non_disclosure": {"type": "boolean"}}}
_CLIENT_ID = [{"name": "client_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_ACCESS_ITEM = {"type": "object", "properties": {
    "at": {"type": "string", "format": "date-time"},
    "actor": {"type": "object", "properties": {"id": {"type": "integer", "nullable": True}, "name": {"type": "string"},
                                               "role": {"type": "string"}}},
    "action": {"type": "string"}, "purpose": {"type": "string"}, "what": {"type": "string"},
    "channel": {"type": "string"}}}

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


def _purpose(user, client_id: int) -> str:
    return Purpose.GUIDANCE if user.role == Role.STAFF else client_side_purpose(user, client_id)


openapi.register("/clients/{client_id}", "get", "A client (writes an access-log row)", roles="staff; the client",
                 parameters=_CLIENT_ID, responses={"200": "The client (identity code masked)", "404": "Not found"})


@api_bp.get("/clients/<int:client_id>")
@roles(Role.STAFF, Role.CLIENT)
def get(client_id: int):
    user = api_user()
    client = get_client(user, client_id, _purpose(user, client_id))
    body = client_summary(client, user)
    db.session.commit()
    return jsonify(body)


openapi.register("/clients/{client_id}/access-log", "get",
                 "Who has read or changed the client's data, newest first (writes an access-log row)",
                 roles="staff; the client", parameters=_CLIENT_ID + [
                     {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                     {"name": "cursor", "in": "query", "schema": {"type": "integer"}}],
                 responses={"200": ("Items and the next page", {"type": "object", "properties": {
                     "items": {"type": "array", "items": _ACCESS_ITEM},
                     "next": {"type": "string", "nullable": True}}}), "404": "Not found"})


@api_bp.get("/clients/<int:client_id>/access-log")
@roles(Role.STAFF, Role.CLIENT)
def access_log(client_id: int):
    user = api_user()
    limit, cursor = page_params()
    client = get_client(user, client_id, _purpose(user, client_id), what="access log")
    rows = queries.access_log(client.id, cursor, limit)
    response = page_response([queries.access_log_item(r) for r in rows], rows, limit, "api.access_log",
                             client_id=client.id)
    db.session.commit()
    return response


openapi.register("/clients/{client_id}/export", "get",
                 "All data held on the client, as JSON (writes an access-log row)", roles="the client; staff",
                 parameters=_CLIENT_ID,
                 responses={"200": "client, tables (every table referring to the client, their orders or purchases) "
                                   "and names", "403": "A relative: only the client themselves can export",
                            "404": "Not found"})


@api_bp.get("/clients/<int:client_id>/export")
@roles(Role.STAFF, Role.CLIENT)
def export(client_id: int):
    user = api_user()
    if user.role == Role.CLIENT and not can_act_for_client(user, client_id):
        raise NotFoundError("Client not found.")
    data = queries.export_client_data(user, client_id)
    db.session.commit()
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response
