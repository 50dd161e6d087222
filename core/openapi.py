"""The OpenAPI 3.1 document of ``/api/v1``, built from the operations declared with
``core.api.route``: their paths and path parameters, the JSON Schema of their
pydantic body, query and response models, and every status code they can answer.
Nothing here is written by hand per route.

``register`` (the old way, a hand-written dict per operation) still works for routes
not yet converted; their entries are merged in as they are.
"""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.api import OPERATIONS, PATH_INT, PATH_STRING, Error, Operation

REF = "#/components/schemas/{model}"

# Old-style entries (``register``), merged into the document unchanged.
SCHEMAS: dict = {}
PATHS: dict = {}

_STANDARD = {
    400: "The body is not a JSON object (`malformed_json`)",
    401: "No token, or the token is unknown, expired or revoked (`unauthorized`)",
    403: "Your role may not make this call (`forbidden`)",
    404: "Not found, or not visible to you (`not_found`)",
    422: "Validation failed (`validation_failed` or a more precise code); `fields` names each bad field",
    429: "Rate limited (`rate_limited`); wait the seconds in `Retry-After`",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer realm=\"api\"`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                          "schema": {"type": "integer", "minimum": 0}}},
}


def register(path: str, method: str, summary: str, *, auth: bool = True, request: dict | None = None,
             responses: dict | None = None, roles: str | None = None, parameters: list | None = None) -> None:
    """Old style: describe one operation by hand (see ``core.api_legacy``)."""
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
    statuses = ([400, 422] if request is not None else []) + ([401, 403] if auth else []) + [429]
    for status in statuses:
        op["responses"].setdefault(str(status), _error_response(status, _STANDARD[status]))
    PATHS.setdefault(path, {})[method.lower()] = op


def _error_response(status: int, description: str) -> dict:
    entry = {"description": description,
             "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    if status in _HEADERS:
        entry["headers"] = _HEADERS[status]
    return entry


def _models(op: Operation) -> list[type[BaseModel]]:
    found = [m for m in (op.body, op.query) if m is not None]
    for value in op.responses.values():
        model = value[0] if isinstance(value, tuple) else value
        if isinstance(model, type) and issubclass(model, BaseModel):
            found.append(model)
    return found


def _unnull(schema: dict) -> dict:
    """A query parameter's schema without the ``null`` of an optional field (a URL
    cannot carry null: the parameter is left out instead)."""
    schema = {k: v for k, v in schema.items() if not (k == "default" and v is None)}
    options = schema.get("anyOf")
    if options:
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            merged.update(rest[0])
            return merged
    return schema


def _query_parameters(model: type[BaseModel], schemas: dict, ref: dict) -> list[dict]:
    schema = schemas[ref["$ref"].rsplit("/", 1)[1]]
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _unnull(dict(prop))
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _operation(op: Operation, refs: dict, schemas: dict) -> dict:
    roles = f" ({', '.join(op.roles)})" if op.roles else ""
    entry: dict = {"operationId": op.endpoint, "summary": op.summary + roles}
    if op.description:
        entry["description"] = op.description
    if op.tags:
        entry["tags"] = list(op.tags)
    params = [{"name": op.doc_name(name), "in": "path", "required": True,
               "schema": dict(PATH_INT if conv == "int" else PATH_STRING)} for name, conv in op.path_params]
    if op.query is not None:
        params += _query_parameters(op.query, schemas, refs[op.query])
    if params:
        entry["parameters"] = params
    if op.body is not None:
        # The body's schema inline (its nested objects by reference).
        body_schema = dict(schemas[refs[op.body]["$ref"].rsplit("/", 1)[1]])
        entry["requestBody"] = {"required": op.body_required,
                                "content": {"application/json": {"schema": body_schema}}}
    if op.auth == "none":
        entry["security"] = []
    elif op.auth == "optional":
        entry["security"] = [{}, {"bearer": []}]
    responses: dict = {}
    for status, value in op.responses.items():
        if isinstance(value, dict):
            responses[str(status)] = value
            continue
        model, description = (value if isinstance(value, tuple) else
                              (value, None) if isinstance(value, type) else (None, value))
        out: dict = {"description": description or (model.__doc__ or "OK").strip().split("\n")[0]
                     if model is not None else description}
        if model is not None:
            out["content"] = {"application/json": {"schema": refs[model]}}
        responses[str(status)] = out
    standard = []
    if op.body is not None:
        standard += [400, 422]
    if op.query is not None:
        standard.append(422)
    if op.auth == "required":
        standard.append(401)
        if op.roles:
            standard.append(403)
    if op.path_params:
        standard.append(404)
    standard.append(429)
    errors = dict(op.errors)
    for status in standard:
        errors.setdefault(status, _STANDARD[status])
    for status, description in sorted(errors.items()):
        responses.setdefault(str(status), _error_response(status, description))
    entry["responses"] = dict(sorted(responses.items()))
    return entry


def document(server_url: str) -> dict:
    models = [Error]
    for op in OPERATIONS:
        for model in _models(op):
            if model not in models:
                models.append(model)
    keys, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = dict(top.get("$defs", {}))
    refs = {model: keys[(model, "validation")] for model in models}
    paths: dict = {}
    for op in OPERATIONS:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = _operation(op, refs, schemas)
    for path, ops in PATHS.items():
        for method, entry in ops.items():
            paths.setdefault(path, {}).setdefault(method, entry)
    schemas.update(SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kotiapu home-care marketplace API", "version": "1",
            "description": "JSON in and out. Authenticate with `POST /tokens` and send "
                           "`Authorization: Bearer <token>`. Errors always have the `Error` shape. "
                           "Lists are `{items, next}` with `?limit=` and cursor paging. "
                           "A readable version of this document is at `/api/docs`.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(schemas.items())),
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }
