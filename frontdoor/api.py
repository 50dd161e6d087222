"""Front-door API (API.md "The front door"): ``POST /help-requests`` (anyone; 422
``no_contact``, 429 when rate-limited), ``GET /help-requests`` (staff: the callback
queue, most urgent and oldest first) and ``POST /help-requests/{id}/claim`` (staff;
409 ``already_claimed``); beyond the contract ``GET /help-requests/{id}``. The same
services as the pages; the request's unit of work commits."""

from __future__ import annotations

from flask import jsonify, request, url_for

from accounts.models import Role
from core import openapi
from core.api import api_bp, json_body, roles
from core.errors import ValidationFailed
from frontdoor import services as svc
from frontdoor.models import ASSESSMENT_QUESTIONS, HelpStatus
from frontdoor.serializers import help_request_json, receipt_json

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
openapi.register("/help-requests", "post", "Ask for help at home (no login)", auth=False, roles="anyone",
                 request={"type": "object", "required": ["for_whom", "topics", "name", "postal_code",
                                                         "consent_to_contact"], "properties": {
                     "for_whom": {"type": "string", "enum": ["self", "relative", "neighbour"]},
                     "topics": {"type": "array", "items": {"type": "string", "enum": list(svc.TOPICS)}},
                     "name": {"type": "string"}, "phone": {"type": "string"}, "email": {"type": "string"},
                     "postal_code": {"type": "string", "pattern": "^[0-9]{5}$"},
                     "language": {"type": "string", "enum": ["fi", "sv", "en"]}, "best_time": {"type": "string"},
                     "message": {"type": "string"}, "consent_to_contact": {"type": "boolean", "enum": [True]},
                     **{q: {"type": "string", "enum": list(ASSESSMENT_QUESTIONS[q]),
                            "description": "optional self-assessment answer"}
                        for q in ("daily_tasks", "helpers", "worry")}}},
                 responses={"201": ("The receipt", {"type": "object", "properties": {
                     "reference": {"type": "string"}, "callback_due": {"type": "string", "format": "date-time"},
                     "merged": {"type": "boolean"}}}),
                     "422": "Invalid fields; `no_contact` with neither phone nor e-mail", "429": "Rate limited"})
openapi.register("/help-requests", "get", "The callback queue, most urgent and oldest first", roles="staff",
                 parameters=[{"name": "status", "in": "query",
                              "schema": {"type": "string", "enum": [str(s) for s in HelpStatus]}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}}])
openapi.register("/help-requests/{id}", "get", "One help request", roles="staff", parameters=[_ID])
openapi.register("/help-requests/{id}/claim", "post", "Claim a help request", roles="staff", parameters=[_ID],
                 responses={"200": "Claimed by the caller", "409": "Already claimed (`already_claimed`)"})


@api_bp.post("/help-requests")
def create_help_request():
    body = json_body()
    answers = {q: body.get(q) for q in ("daily_tasks", "helpers", "worry") if body.get(q) is not None}
    req, merged = svc.submit_help_request(body, address=request.remote_addr, answers=answers)
    return jsonify(receipt_json(req, merged)), 201


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
        if not 0 <= value <= maximum:
            raise ValueError
    except ValueError:
        raise ValidationFailed("Invalid paging parameters.",
                               fields={name: [f"Must be an integer from 0 to {maximum}."]}) from None
    return value


@api_bp.get("/help-requests")
@roles(Role.STAFF)
def list_help_requests():
    from flask_login import current_user

    status = request.args.get("status") or None
    if status is not None and status not in set(HelpStatus):
        raise ValidationFailed("Invalid filter.", fields={"status": ["Must be one of: " + ", ".join(HelpStatus) + "."]})
    limit = max(1, _int_arg("limit", 50, 200))
    offset = _int_arg("cursor", 0, 10**9)
    rows = svc.queue(current_user, status=status, limit=limit + 1, offset=offset)
    next_url = None
    if len(rows) > limit:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for("api.list_help_requests", cursor=offset + limit, _external=True, **args)
    return jsonify({"items": [help_request_json(r, svc.is_overdue(r)) for r in rows[:limit]], "next": next_url})


@api_bp.get("/help-requests/<int:request_id>")
@roles(Role.STAFF)
def get_help_request(request_id: int):
    from flask_login import current_user

    req = svc.get_request(current_user, request_id)
    return jsonify(help_request_json(req, svc.is_overdue(req)))


@api_bp.post("/help-requests/<int:request_id>/claim")
@roles(Role.STAFF)
def claim_help_request(request_id: int):
    from flask_login import current_user

    req = svc.claim(current_user, request_id)
    return jsonify(help_request_json(req, svc.is_overdue(req)))
