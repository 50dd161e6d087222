"""The OpenAPI 3 document of ``/api/v1``. Each domain adds its paths to ``PATHS``
next to its routes (see ``register``); the document is assembled on request."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}},
}

SCHEMAS: dict = {"Error": ERROR}
PATHS: dict = {}


def register(path: str, method: str, summary: str, *, auth: bool = True, request: dict | None = None,
             responses: dict | None = None, roles: str | None = None, parameters: list | None = None) -> None:
    """Describe one operation. ``responses`` maps status codes to a description or a
    (description, schema) pair; the standard error responses are added."""
    op: dict = {"summary": summary + (f" ({roles})" if roles else ""), "responses": {}}
    if request is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    if parameters:
        op["parameters"] = parameters
    if not auth:
        op["security"] = []
    for status, value in (responses or {"200": "OK"}).items():
        desc, schema = value if isinstance(value, tuple) else (value, None)
        entry = {"description": desc}
        if schema is not None:
            entry["content"] = {"application/json": {"schema": schema}}
        op["responses"][str(status)] = entry
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if request is not None:
        op["responses"].setdefault("400", {"description": "Body is not a JSON object", **err})
        op["responses"].setdefault("422", {"description": "Validation failed; `fields` names each bad field", **err})
    if auth:
        op["responses"].setdefault("401", {"description": "No or bad token", **err})
        op["responses"].setdefault("403", {"description": "Role not allowed", **err})
    PATHS.setdefault(path, {})[method.lower()] = op


def document(server_url: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kotiapu home-care marketplace API", "version": "1",
                 "description": "Contract: shared/API.md. Errors always have the `Error` shape."},
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(PATHS.items())),
    }
