"""Core API routes: the OpenAPI document, and the catch-all that gives unknown API
paths the JSON error shape."""

from __future__ import annotations

from flask import jsonify, url_for

from core import openapi
from core.api import api_bp

openapi.register("/tokens", "post", "Log in: get a bearer token", auth=False,
                 request={"type": "object", "required": ["email", "password"],
                          "properties": {"email": {"type": "string"}, "password": {"type": "string"}}},
                 responses={"201": ("Token", {"type": "object", "properties": {
                     "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}}),
                     "401": "Wrong e-mail or password", "429": "Too many failed logins"})
openapi.register("/tokens/current", "delete", "Log out: revoke the token used", responses={"204": "Revoked"})
openapi.register("/me", "get", "The token's user")


@api_bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document(url_for("api.openapi_document", _external=True).rsplit("/", 1)[0]))
