"""The JSON API blueprint (``/api/v1``) and the one way to declare its routes.

A route is declared once with ``route``: its method and path (Flask syntax, so the
path parameters and their types are read from it), who may call it, the pydantic
models of its body, its query parameters and its responses, and the error statuses
it can answer. From that one declaration

* the route is registered on ``api_bp``,
* the caller is authenticated and their role checked (401, 403),
* path parameters are bounded (an id beyond what the database holds is a 404),
* the query string and the body are validated into the models (400 when the body
  is not a JSON object, 422 with ``fields`` naming each bad field), and the view
  receives them as ``query=`` and ``body=``,
* and the operation is written into the OpenAPI 3.1 document
  (``core.openapi.document``), with every declared status code.

Bodies use the bounded types of ``core.bounds`` (``Id``, ``Text(n)``, ``IsoDate``...),
so bad input is a 422, never a database error. ::

    class DeclineIn(Body):
        reason: Text(1000)

    @route("POST", "/orders/<int:order_id>/decline", "Decline an offer", roles=(Role.PROVIDER,),
           body=DeclineIn, responses={200: OrderAnswer}, errors={409: "The offer is no longer pending"})
    def decline_order(order_id: int, body: DeclineIn): ...

The older helpers (``json_body``, ``Validator``, ``roles``, ``page_params``) still work
for routes not yet converted (``core.api_legacy``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import wraps
from typing import Any, ClassVar, Generic, TypeVar

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.api_legacy import POSTAL_CODE_RE, Validator  # noqa: F401  (old-style routes)
from core.bounds import MAX_INT, Id
from core.errors import DomainError, PermissionDenied, ValidationFailed

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Unauthorized(DomainError, status=401, code="unauthorized"):
    """No valid bearer token came with the request."""


class MalformedBody(DomainError, status=400, code="malformed_json"):
    """The body is not a JSON object."""


# --------------------------------------------------------------------------- models

class Body(BaseModel):
    """A request body: JSON types are taken as they are (``"5"`` is not an integer,
    ``1`` is not ``true``); unknown fields are ignored; ``null`` is the same as
    leaving an optional field out.

    ``collapse_errors`` names list fields whose items' errors are reported on the
    field itself (``"shifts": ["1 start: ..."]``) rather than on ``shifts[0].start``."""

    model_config = ConfigDict(strict=True, extra="ignore")
    collapse_errors: ClassVar[tuple[str, ...]] = ()
    # A field whose errors have a code of their own (``invalid_business_id``): the
    # error's code when that field is among the bad ones.
    error_codes: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _null_is_left_out(cls, data):
        """``null`` for a field with a default is the same as leaving it out."""
        if not isinstance(data, dict):
            return data
        optional = set()
        for name, info in cls.model_fields.items():
            if not info.is_required():
                optional |= {name, info.alias or name}
        return {k: v for k, v in data.items() if not (v is None and k in optional)}


class Query(BaseModel):
    """Query parameters: strings from the URL, converted (``?limit=20``); an empty
    value is the same as leaving the parameter out."""

    model_config = ConfigDict(extra="ignore")


class Paging(Query):
    """``?limit=`` (default 50, at most 200) and ``?cursor=`` (from ``next``)."""

    limit: int = Field(50, ge=1, le=200, description="Items per page (1-200)")
    cursor: Id | None = Field(None, description="From the previous page's `next` URL")


class Out(BaseModel):
    """A response object. Documents the fields every answer has; an answer may hold
    more (``additionalProperties``), which integrators should ignore."""

    model_config = ConfigDict(extra="allow")


T = TypeVar("T")


class Page(Out, Generic[T]):
    """A list: ``{"items": [...], "next": "<absolute url>" | null}``."""

    items: list[T]
    next: str | None = Field(None, description="Absolute URL of the next page, or null")


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case error code")
    message: str = Field(description="A human sentence")
    fields: dict[str, list[str]] | None = Field(None, description="Validation errors: field name → messages")


class Error(BaseModel):
    """API.md's error shape."""

    error: ErrorDetail


# --------------------------------------------------------------------------- errors of a model

# Every message names the problem in the caller's language (Accept-Language; Finnish
# when none is given). The error codes and field names stay as API.md has them.
_REQUIRED = _l("This field is required.")
_TYPE_MESSAGES = {
    "missing": _REQUIRED,
    "string_type": _l("Must be a string."), "string_sub_type": _l("Must be a string."),
    "int_type": _l("Must be an integer."), "int_parsing": _l("Must be an integer."),
    "int_from_float": _l("Must be an integer."),
    "float_type": _l("Must be a number."), "float_parsing": _l("Must be a number."),
    "finite_number": _l("Must be a number."),
    "bool_type": _l("Must be true or false."), "bool_parsing": _l("Must be true or false."),
    "list_type": _l("Must be a list."), "dict_type": _l("Must be an object."), "model_type": _l("Must be an object."),
    "model_attributes_type": _l("Must be an object."), "set_type": _l("Must be a list."),
    "string_pattern_mismatch": _l("Invalid format."), "url_parsing": _l("Must be a URL."),
    "extra_forbidden": _l("Unknown field."),
    "string_unicode": _l("Must not contain control characters."),
    # core.bounds' own checks
    "control_characters": _l("Must not contain control characters."),
    "email": _l("Invalid e-mail address."),
    "date_format": _l("Must be a date, YYYY-MM-DD."),
    "datetime_format": _l("Must be an ISO 8601 time with a zone."),
    "datetime_zone": _l("Must include a time zone, e.g. 2026-05-01T08:00:00+03:00."),
}


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind.endswith("_type") and error.get("input", "") is None:
        return str(_REQUIRED)
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return gettext("Must be one of: %(choices)s.", choices=expected)
    if kind == "greater_than_equal":
        return gettext("Must be at least %(limit)s.", limit=ctx["ge"])
    if kind == "greater_than":
        return gettext("Must be more than %(limit)s.", limit=ctx["gt"])
    if kind == "less_than_equal":
        return gettext("Must be at most %(limit)s.", limit=ctx["le"])
    if kind == "less_than":
        return gettext("Must be less than %(limit)s.", limit=ctx["lt"])
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return str(_REQUIRED)
        return ngettext("At least %(num)d character.", "At least %(num)d characters.", ctx["min_length"])
    if kind == "string_too_long":
        return ngettext("At most %(num)d character.", "At most %(num)d characters.", ctx["max_length"])
    if kind == "too_short":
        return ngettext("At least %(num)d item.", "At least %(num)d items.", ctx["min_length"])
    if kind == "too_long":
        return ngettext("At most %(num)d item.", "At most %(num)d items.", ctx["max_length"])
    if kind == "date_range":
        return gettext("Must be between %(low)s and %(high)s.", low=ctx.get("lo"), high=ctx.get("hi"))
    if kind in _TYPE_MESSAGES:
        return str(_TYPE_MESSAGES[kind])
    # A model's own validator raised ValueError with a message translated when raised.
    message = error.get("msg") or ""
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message or gettext("Invalid value.")


def _field_name(loc: tuple) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def field_errors(exc: ValidationError, collapse: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """A pydantic error as API.md's ``fields``: each bad field → its messages."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = _message(error)
        if len(loc) == 2 and isinstance(loc[1], int):  # an item of a list of plain values
            fields.setdefault(str(loc[0]), []).append(
                gettext("Item %(number)s: %(message)s", number=loc[1] + 1, message=message))
        elif loc and loc[0] in collapse and len(loc) > 1:
            rest = loc[1:]
            if isinstance(rest[0], int) and len(rest) > 1:
                text = gettext("Item %(number)s, %(field)s: %(message)s", number=rest[0] + 1,
                               field=_field_name(rest[1:]), message=message)
            elif isinstance(rest[0], int):
                text = gettext("Item %(number)s: %(message)s", number=rest[0] + 1, message=message)
            else:
                text = f"{_field_name(rest)}: {message}"
            fields.setdefault(str(loc[0]), []).append(text)
        else:
            fields.setdefault(_field_name(loc), []).append(message)
    return fields


def validate(model: type[BaseModel], data: Any, message: str | None = None, prefix: str = ""):
    """``data`` as an instance of ``model``, or a 422 naming each bad field
    (``message``: the answer's sentence, by default "Some fields are invalid.")."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = field_errors(exc, getattr(model, "collapse_errors", ()))
        codes = getattr(model, "error_codes", {})
        code = next((codes[name] for name in fields if name in codes), None)
        if prefix:
            fields = {f"{prefix}{k}": v for k, v in fields.items()}
        raise ValidationFailed(message or gettext("Some fields are invalid."), fields=fields, code=code) from None


# --------------------------------------------------------------------------- helpers

def api_user():
    """The user of the bearer token, or raise 401."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        raise Unauthorized(gettext("A valid bearer token is required (POST /api/v1/tokens)."))
    return current_user._get_current_object()


def optional_user():
    """The user of the bearer token, or None for an anonymous call."""
    from flask_login import current_user

    return current_user._get_current_object() if current_user.is_authenticated else None


def roles(*allowed: str):
    """Old-style route guard: a valid token whose user has one of ``allowed`` roles."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = api_user()
            if user.role not in allowed:
                raise PermissionDenied(f"This call is for: {', '.join(allowed)}.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def read_json_object(required: bool = True) -> dict:
    """The request body as a JSON object (any content type), or 400. An empty body
    is ``{}`` when the body is optional."""
    raw = request.get_data(cache=True)
    if not raw.strip() and not required:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.")
    return data


def json_body() -> dict:
    """Old-style: the request body as a JSON object, or 400."""
    return read_json_object()


def page_params(default: int = 50, maximum: int = 200) -> tuple[int, int | None]:
    """Old-style ``?limit=`` and ``?cursor=`` of a list call (cursor: the last id seen)."""
    paging = validate(Paging, {k: v for k, v in request.args.items() if k in ("limit", "cursor") and v != ""},
                      gettext("Invalid paging parameters."))
    return paging.limit, paging.cursor


def page_response(items: list[dict], rows: list, limit: int, endpoint: str, descending=True, **values):
    """``{"items": [...], "next": url|None}``; ``rows`` were fetched with limit+1."""
    return jsonify(page_json(items, rows, limit, endpoint, **values))


def page_json(items: list[dict], rows: list, limit: int, endpoint: str, **values) -> dict:
    next_url = None
    if len(rows) > limit:
        last = rows[limit - 1]
        args = {k: v for k, v in request.args.items() if k not in ("cursor",)}
        args.update(values)
        next_url = url_for(endpoint, cursor=last.id, _external=True, **args)
        items = items[:limit]
    return {"items": items, "next": next_url}


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


# --------------------------------------------------------------------------- the declaration

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
# A string path parameter (a link's token): URL-safe characters only.
PATH_STRING = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[A-Za-z0-9_.~-]+$"}
_PATH_STRING_RE = re.compile(PATH_STRING["pattern"])
PATH_INT = {"type": "integer", "minimum": 1, "maximum": MAX_INT}


@dataclass
class Operation:
    """One declared API operation (what ``core.openapi`` documents)."""

    method: str
    path: str                      # Flask syntax
    summary: str
    endpoint: str
    auth: str                      # "required", "optional" or "none"
    roles: tuple[str, ...]
    body: type[BaseModel] | None
    body_required: bool
    query: type[BaseModel] | None
    responses: dict                # status -> model | (model, description) | description | {"content": ...}
    errors: dict                   # status -> description
    description: str = ""
    tags: tuple[str, ...] = ()
    path_params: list = field(default_factory=list)   # [(name, converter)]
    param_names: dict = field(default_factory=dict)   # Flask name -> documented name

    def doc_name(self, name: str) -> str:
        return self.param_names.get(name, name)

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(lambda m: "{" + self.doc_name(m.group(2)) + "}", self.path)


OPERATIONS: list[Operation] = []


def route(method: str, path: str, summary: str, *, roles: tuple[str, ...] | list[str] = (), auth: str | None = None,
          body: type[BaseModel] | None = None, body_required: bool = True, query: type[BaseModel] | None = None,
          responses: dict | None = None, errors: dict | None = None, description: str = "",
          tags: tuple[str, ...] = (), endpoint: str | None = None, before=None, param_names: dict | None = None):
    """Declare and register one API operation (see the module's docstring).

    ``auth``: "required" (the default when ``roles`` are given, or when nothing is
    said), "optional" (the token, if any, is used) or "none". ``responses`` maps each
    success status to a response model (or ``(model, description)``, or a plain
    description for an empty body, or ``{"content": {...}}`` for a file).
    ``errors`` maps the error statuses the route itself can answer (409, 410...) to
    a description; 400/401/403/404/422/429 are added from the declaration.
    ``before(**path_params)`` runs after the role check and before the body is
    validated (a refusal that must not depend on the body: 404 for an unknown
    object, 410 for a used link). ``param_names`` documents a path
    parameter under another name than the Flask rule's (API.md's ``{id}``)."""
    method = method.upper()
    allowed = tuple(str(r) for r in roles)
    auth = auth or "required"

    def decorate(view):
        name = endpoint or view.__name__
        params = [(m.group(2), m.group(1) or "string") for m in _PARAM.finditer(path)]
        op = Operation(method=method, path=path, summary=summary, endpoint=name, auth=auth, roles=allowed,
                       body=body, body_required=body_required, query=query,
                       responses=responses or {200: "OK"}, errors=dict(errors or {}),
                       description=description or (view.__doc__ or "").strip(), tags=tags, path_params=params,
                       param_names=dict(param_names or {}))
        OPERATIONS.append(op)

        @wraps(view)
        def wrapper(**kwargs):
            for pname, converter in params:
                value = kwargs.get(pname)
                if converter == "int" and not 1 <= value <= MAX_INT:
                    raise DomainError(gettext("Not found."), code="not_found", status=404)
                if converter == "string" and (len(value) > 200 or not _PATH_STRING_RE.match(value)):
                    raise DomainError(gettext("Not found."), code="not_found", status=404)
            user = None
            if auth == "required":
                user = api_user()
                if allowed and user.role not in allowed:
                    raise PermissionDenied(f"This call is for: {', '.join(allowed)}.")
            if before is not None:
                before(**kwargs)
            if query is not None:
                args = {k: v for k, v in request.args.items() if v != ""}
                for k in request.args:
                    values = request.args.getlist(k)
                    if len(values) > 1:
                        args[k] = values[-1]
                kwargs["query"] = validate(query, args, gettext("Invalid query parameters."))
            if body is not None:
                kwargs["body"] = validate(body, read_json_object(body_required))
            response = current_app.make_response(view(**kwargs))
            if current_app.config.get("TESTING"):
                check_response(op, response)
            return response

        api_bp.add_url_rule(path, name, wrapper, methods=[method])
        wrapper.operation = op
        return wrapper

    return decorate


class UndocumentedResponse(AssertionError):
    """A route answered what its declaration does not say (raised only in tests)."""


def check_response(op: Operation, response) -> None:
    """In tests, every answer of a declared route must match its declaration: a
    declared status, and a body its response model accepts. (Schemathesis checks the
    same from outside; this makes every API test check it too.)"""
    declared = op.responses.get(response.status_code)
    if declared is None:
        raise UndocumentedResponse(f"{op.method} {op.path} answered {response.status_code}, "
                                   f"declared: {sorted(op.responses)}")
    model = declared[0] if isinstance(declared, tuple) else declared
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            model.model_validate(response.get_json())
        except ValidationError as exc:
            raise UndocumentedResponse(f"{op.method} {op.path} {response.status_code}: {exc}") from None


def answer(model_or_dict, status: int = 200):
    """A JSON response from a dict or a response model (its fields as declared)."""
    if isinstance(model_or_dict, BaseModel):
        model_or_dict = model_or_dict.model_dump(mode="json")
    response = jsonify(model_or_dict)
    response.status_code = status
    return response
