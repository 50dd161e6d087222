"""Staffing API (API.md "Staffing-agency requests"): ``POST /staffing-coverage``
(agencies), ``POST /staffing-requests`` (staff), ``GET /staffing-requests/{id}``
(staff; agencies it was sent to), ``POST /staffing-requests/{id}/offers``
(agencies it was sent to) and ``POST .../offers/{offer_id}/select`` (staff); beyond
the contract: the list, withdrawing an offer, reporting hours, re-opening and
cancelling. The same services as the web pages and the serializers of
``staffing.serializers``; the request's unit of work commits."""

from __future__ import annotations

from flask import jsonify, request

from accounts.models import Role
from core import openapi
from core.api import Validator, api_bp, api_user, json_body, page_params, page_response, roles
from staffing import services as svc
from staffing.models import Qualification, StaffingStatus
from staffing.serializers import offer_json, request_json

QUALIFICATIONS = [str(q) for q in Qualification]
STATUSES = [str(s) for s in StaffingStatus]


# --------------------------------------------------------------------------- OpenAPI

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_OFFER_ID = {"name": "offer_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TIME = {"type": "string", "format": "date-time"}
_CANDIDATE = {"type": "object", "required": ["qualification"], "properties": {
    "name": {"type": "string", "nullable": True, "description": "empty or null: anonymous"},
    "qualification": {"type": "string", "enum": QUALIFICATIONS}, "description": {"type": "string", "nullable": True}}}
openapi.SCHEMAS["StaffingOffer"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "request_id": {"type": "integer"},
    "provider": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "headcount": {"type": "integer"}, "hourly_rate_cents": {"type": "integer"}, "currency": {"type": "string"},
    "candidates": {"type": "array", "items": _CANDIDATE}, "note": {"type": "string", "nullable": True},
    "status": {"type": "string", "enum": ["offered", "withdrawn", "selected", "not_selected"]},
    "created_at": _TIME, "selected_at": {**_TIME, "nullable": True}, "withdrawn_at": {**_TIME, "nullable": True},
    "minutes_worked": {"type": "integer", "nullable": True}, "hours_reported_at": {**_TIME, "nullable": True}}}
openapi.SCHEMAS["StaffingRequest"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "status": {"type": "string", "enum": STATUSES},
    "unit": {"type": "string"}, "qualification": {"type": "string", "enum": QUALIFICATIONS},
    "postal_code": {"type": "string"}, "headcount": {"type": "integer"},
    "covered": {"type": "integer", "description": "people covered by selected offers"}, "respond_by": _TIME,
    "note": {"type": "string", "nullable": True},
    "shifts": {"type": "array", "items": {"type": "object", "properties": {"start": _TIME, "end": _TIME}}},
    "created_at": _TIME, "closed_at": {**_TIME, "nullable": True}, "filled_at": {**_TIME, "nullable": True},
    "cancelled_at": {**_TIME, "nullable": True}, "url": {"type": "string"},
    "recipients": {"type": "integer", "description": "staff only: agencies it was sent to"},
    "offers": {"type": "array", "description": "sorted by price and fit; an agency sees only its own",
               "items": {"$ref": "#/components/schemas/StaffingOffer"}}}}
_REQ = ("The staffing request", {"$ref": "#/components/schemas/StaffingRequest"})
_OFFER = ("The offer", {"$ref": "#/components/schemas/StaffingOffer"})

openapi.register("/staffing-coverage", "post", "Replace what the caller's agency covers", roles="agency provider",
                 request={"type": "object", "required": ["qualifications", "postal_codes"], "properties": {
                     "qualifications": {"type": "array", "items": {"type": "string", "enum": QUALIFICATIONS}},
                     "postal_codes": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{5}$"}}}},
                 responses={"201": ("The coverage", {"type": "object", "properties": {
                     "qualifications": {"type": "array", "items": {"type": "string"}},
                     "postal_codes": {"type": "array", "items": {"type": "string"}}}}),
                     "403": "Not a member of an agency (`not_agency`)"})
openapi.register("/staffing-coverage", "get", "What the caller's agency covers", roles="agency provider")
openapi.register("/staffing-requests", "post", "Open a staffing round; agencies are notified by a job", roles="staff",
                 request={"type": "object",
                          "required": ["unit", "qualification", "postal_code", "shifts", "headcount", "respond_by"],
                          "properties": {"unit": {"type": "string"},
                                         "qualification": {"type": "string", "enum": QUALIFICATIONS},
                                         "postal_code": {"type": "string"},
                                         "shifts": {"type": "array", "items": {"type": "object",
                                                                               "properties": {"start": _TIME,
                                                                                              "end": _TIME}}},
                                         "headcount": {"type": "integer", "minimum": 1}, "respond_by": _TIME,
                                         "note": {"type": "string"}}},
                 responses={"201": _REQ, "422": "Invalid fields (shift ending before it starts or in the past, "
                                                "headcount 0, answer time after the first shift, ...)"})
openapi.register("/staffing-requests", "get", "Staffing requests the caller may see, newest first",
                 roles="staff; agencies it was sent to",
                 parameters=[{"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                             {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                 responses={"200": ("Requests", {"type": "object", "properties": {
                     "items": {"type": "array", "items": {"$ref": "#/components/schemas/StaffingRequest"}},
                     "next": {"type": "string", "nullable": True}}})})
openapi.register("/staffing-requests/{id}", "get", "One staffing request with its offers",
                 roles="staff; agencies it was sent to", parameters=[_ID],
                 responses={"200": _REQ, "404": "Not found or not sent to your agency"})
openapi.register("/staffing-requests/{id}/offers", "post", "Offer people", roles="agency it was sent to",
                 parameters=[_ID],
                 request={"type": "object", "required": ["headcount", "hourly_rate_cents"], "properties": {
                     "headcount": {"type": "integer", "minimum": 1}, "hourly_rate_cents": {"type": "integer"},
                     "candidates": {"type": "array", "items": _CANDIDATE}, "note": {"type": "string"}}},
                 responses={"201": _OFFER, "404": "Not sent to your agency",
                            "409": "No longer open (`not_open`), or your offer stands (`already_offered`)"})
openapi.register("/staffing-requests/{id}/offers/{offer_id}/select", "post", "Select an offer", roles="staff",
                 parameters=[_ID, _OFFER_ID],
                 responses={"200": ("The request after the selection (`filled` once the headcount is covered)",
                                    {"$ref": "#/components/schemas/StaffingRequest"}),
                            "404": "Not found", "409": "Filled or cancelled, or the offer was withdrawn or decided"})
openapi.register("/staffing-requests/{id}/offers/{offer_id}/withdraw", "post", "Withdraw an offer before selection",
                 roles="the agency that made it", parameters=[_ID, _OFFER_ID],
                 responses={"200": _OFFER, "404": "Not found", "409": "Already decided or withdrawn"})
openapi.register("/staffing-requests/{id}/offers/{offer_id}/hours", "post",
                 "Report the minutes actually worked on a selected offer, after the last shift",
                 roles="the agency that made it", parameters=[_ID, _OFFER_ID],
                 request={"type": "object", "required": ["minutes_worked"],
                          "properties": {"minutes_worked": {"type": "integer", "minimum": 0}}},
                 responses={"200": _OFFER, "404": "Not found", "409": "Not selected, or the shifts are not over"})
openapi.register("/staffing-requests/{id}/reopen", "post", "Open a closed round again with a new answer time",
                 roles="staff", parameters=[_ID],
                 request={"type": "object", "required": ["respond_by"], "properties": {"respond_by": _TIME}},
                 responses={"200": _REQ, "404": "Not found", "409": "Not closed"})
openapi.register("/staffing-requests/{id}/cancel", "post", "Cancel a request", roles="staff", parameters=[_ID],
                 responses={"200": _REQ, "404": "Not found", "409": "Already cancelled"})


# --------------------------------------------------------------------------- routes

@api_bp.post("/staffing-coverage")
@roles(Role.PROVIDER)
def staffing_set_coverage():
    user = api_user()
    svc.agency_of(user)  # 403 before looking at the body
    v = Validator(json_body())
    qualifications = v.string_list("qualifications", required=True, choices=QUALIFICATIONS, max_items=20)
    postal_codes = v.string_list("postal_codes", required=True, max_items=svc.MAX_POSTAL_CODES, item_max_len=5)
    v.done()
    svc.set_coverage(user, qualifications, postal_codes)
    qualifications, postal_codes = svc.coverage_of(user.provider_id)
    return jsonify({"qualifications": qualifications, "postal_codes": postal_codes}), 201


@api_bp.get("/staffing-coverage")
@roles(Role.PROVIDER)
def staffing_get_coverage():
    agency = svc.agency_of(api_user())
    qualifications, postal_codes = svc.coverage_of(agency.id)
    return jsonify({"qualifications": qualifications, "postal_codes": postal_codes})


@api_bp.post("/staffing-requests")
@roles(Role.STAFF)
def staffing_create_request():
    user = api_user()
    body = json_body()
    v = Validator(body)
    unit = v.string("unit", required=True, max_len=200)
    qualification = v.string("qualification", required=True, choices=QUALIFICATIONS)
    postal_code = v.postal_code("postal_code", required=True)
    headcount = v.integer("headcount", required=True)
    respond_by = v.datetime("respond_by", required=True)
    note = v.string("note", max_len=2000)
    shifts = _shifts(v, body.get("shifts"))
    v.done()
    req = svc.create_request(user, unit=unit, qualification=qualification, postal_code=postal_code, shifts=shifts,
                             headcount=headcount, respond_by=respond_by, note=note)
    return jsonify(request_json(req, user)), 201


def _shifts(v: Validator, raw) -> list:
    """``[{start, end}]`` as UTC pairs; type errors go on the ``shifts`` field (the
    service checks the order and the times)."""
    if raw is None:
        v.error("shifts", "This field is required.")
        return []
    if not isinstance(raw, list) or not raw:
        v.error("shifts", "Must be a non-empty list of {start, end}.")
        return []
    pairs = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            v.error("shifts", f"Shift {number}: must be an object with start and end.")
            continue
        inner = Validator(item)
        start, end = inner.datetime("start", required=True), inner.datetime("end", required=True)
        for name, messages in inner.errors.items():
            for message in messages:
                v.error("shifts", f"Shift {number} {name}: {message}")
        if not inner.errors:
            pairs.append((start, end))
    return pairs


@api_bp.get("/staffing-requests")
@roles(Role.STAFF, Role.PROVIDER)
def staffing_list_requests():
    user = api_user()
    limit, cursor = page_params()
    v = Validator({"status": request.args.get("status")})
    status = v.string("status", choices=STATUSES)
    v.done()
    rows = svc.list_requests(user, status=status, limit=limit, cursor=cursor)
    items = [request_json(r.request, user, with_offers=False, covered=r.covered) for r in rows]
    return page_response(items, [r.request for r in rows], limit, "api.staffing_list_requests")


@api_bp.get("/staffing-requests/<int:request_id>")
def staffing_get_request(request_id: int):
    user = api_user()
    req = svc.visible_request(user, request_id)  # 404 for everyone it is not visible to
    return jsonify(request_json(req, user))


@api_bp.post("/staffing-requests/<int:request_id>/offers")
@roles(Role.PROVIDER)
def staffing_create_offer(request_id: int):
    user = api_user()
    svc.agency_of(user)
    body = json_body()
    v = Validator(body)
    headcount = v.integer("headcount", required=True)
    rate = v.integer("hourly_rate_cents", required=True)
    note = v.string("note", max_len=2000)
    candidates = body.get("candidates")
    v.done()
    offer = svc.submit_offer(user, request_id, headcount=headcount, hourly_rate_cents=rate, candidates=candidates,
                             note=note)
    return jsonify(offer_json(offer, user)), 201


@api_bp.post("/staffing-requests/<int:request_id>/offers/<int:offer_id>/select")
@roles(Role.STAFF)
def staffing_select_offer(request_id: int, offer_id: int):
    user = api_user()
    result = svc.select_offer(user, request_id, offer_id)
    return jsonify(request_json(result.request, user))


@api_bp.post("/staffing-requests/<int:request_id>/offers/<int:offer_id>/withdraw")
@roles(Role.PROVIDER)
def staffing_withdraw_offer(request_id: int, offer_id: int):
    user = api_user()
    offer = svc.withdraw_offer(user, request_id, offer_id)
    return jsonify(offer_json(offer, user))


@api_bp.post("/staffing-requests/<int:request_id>/offers/<int:offer_id>/hours")
@roles(Role.PROVIDER)
def staffing_report_hours(request_id: int, offer_id: int):
    user = api_user()
    svc.agency_of(user)
    v = Validator(json_body())
    minutes = v.integer("minutes_worked", required=True, minimum=0)
    v.done()
    offer = svc.report_hours(user, request_id, offer_id, minutes)
    return jsonify(offer_json(offer, user))


@api_bp.post("/staffing-requests/<int:request_id>/reopen")
@roles(Role.STAFF)
def staffing_reopen_request(request_id: int):
    user = api_user()
    svc.visible_request(user, request_id)
    v = Validator(json_body())
    respond_by = v.datetime("respond_by", required=True)
    v.done()
    req = svc.reopen_request(user, request_id, respond_by)
    return jsonify(request_json(req, user))


@api_bp.post("/staffing-requests/<int:request_id>/cancel")
@roles(Role.STAFF)
def staffing_cancel_request(request_id: int):
    user = api_user()
    req = svc.cancel_request(user, request_id)
    return jsonify(request_json(req, user))
