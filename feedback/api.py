"""Feedback API: ``GET``/``POST /api/v1/feedback/{token}`` (anyone with the link,
no authentication) and ``GET /api/v1/providers/{id}/feedback`` (anyone: published
items only; a hidden item is left out of the list, as it is of the average)."""

from __future__ import annotations

from flask import jsonify, request

from core import openapi
from core.api import api_bp, json_body, page_params, page_response
from core.errors import NotFoundError
from core.extensions import db
from feedback import policy, services
from feedback.serializers import feedback_json, link_json
from providers.models import Provider

_TOKEN = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "The one-time token at the end of the feedback link"}]
_LINK = {"type": "object", "properties": {
    "order": {"type": "object", "properties": {"number": {"type": "string"}, "service": {"type": "string"},
                                               "provider": {"type": "string"}}},
    "expires_at": {"type": "string", "format": "date-time"}}}
_ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"}, "rating": {"type": "integer", "minimum": 1, "maximum": 5},
    "needs_met": {"type": "boolean"}, "comment": {"type": "string", "nullable": True},
    "response": {"type": "string", "nullable": True}, "responded_at": {"type": "string", "nullable": True},
    "service": {"type": "string", "nullable": True}, "at": {"type": "string", "format": "date-time"}}}

openapi.register("/feedback/{token}", "get", "What a feedback link is about (anyone with the link)", auth=False,
                 parameters=_TOKEN,
                 responses={"200": ("The order and when the link expires", _LINK), "404": "Unknown token",
                            "410": "Feedback already given or the link has expired"})
openapi.register("/feedback/{token}", "post", "Give feedback once (anyone with the link)", auth=False,
                 parameters=_TOKEN,
                 request={"type": "object", "required": ["rating", "needs_met"], "properties": {
                     "rating": {"type": "integer", "minimum": 1, "maximum": 5}, "needs_met": {"type": "boolean"},
                     "comment": {"type": "string", "maxLength": services.COMMENT_MAX,
                                 "description": "HTML tags are removed before storing"}}},
                 responses={"201": ("Stored and published", _ITEM), "404": "Unknown token",
                            "410": "Feedback already given or the link has expired",
                            "429": "Too many submissions from this address"})
openapi.register("/providers/{provider_id}/feedback", "get", "A provider's published feedback, newest first", auth=False,
                 parameters=[{"name": "provider_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                             {"name": "cursor", "in": "query", "schema": {"type": "integer"}}],
                 responses={"200": ("Published items (hidden items are left out)", {"type": "object", "properties": {
                     "rating": {"type": "object", "properties": {"average": {"type": "number", "nullable": True},
                                                                 "count": {"type": "integer"}}},
                     "items": {"type": "array", "items": _ITEM}, "next": {"type": "string", "nullable": True}}}),
                     "404": "No such provider"})


@api_bp.get("/feedback/<token>")
def feedback_link(token: str):
    link = services.find_link(token)
    services.require_open(link)
    return jsonify(link_json(link, services.link_summary(link)))


@api_bp.post("/feedback/<token>")
def give_feedback(token: str):
    services.check_submission_rate(request.remote_addr)
    link = services.find_link(token)
    services.require_open(link)
    body = json_body()
    feedback = services.submit_feedback(token, rating=body.get("rating"), needs_met=body.get("needs_met"),
                                        comment=body.get("comment"))
    return jsonify(feedback_json(feedback)), 201


@api_bp.get("/providers/<int:provider_id>/feedback")
def provider_feedback(provider_id: int):
    provider = db.session.get(Provider, provider_id)
    if not policy.shows_feedback_of(provider):
        raise NotFoundError("Not found.")
    limit, cursor = page_params()
    rows = services.published_feedback(provider.id, limit=limit + 1, before_id=cursor)
    response = page_response([feedback_json(f) for f in rows], rows, limit, "api.provider_feedback",
                             provider_id=provider.id)
    body = response.get_json()
    body["rating"] = services.rating_json(provider)
    return jsonify(body)
