"""Front-door API (API.md "The front door"): ``POST /help-requests`` (anyone; 422
``no_contact``, 429 when rate-limited), ``GET /help-requests`` (staff: the callback
queue, most urgent and oldest first) and ``POST /help-requests/{id}/claim`` (staff;
409 ``already_claimed``); beyond the contract ``GET /help-requests/{id}``. The same
services as the pages; the request's unit of work commits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import request, url_for
from flask_babel import gettext
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from accounts.models import Role
from core.api import Body, Out, Page, Query, answer, api_user, read_json_object, route
from core.bounds import LongText, OptText, PostalCode, Text
from frontdoor import services as svc
from frontdoor.models import ASSESSMENT_QUESTIONS, ForWhom, HelpStatus
from frontdoor.serializers import help_request_json, receipt_json

TAGS = ("Front door",)
STATUSES = tuple(str(s) for s in HelpStatus)
PUBLIC_QUESTIONS = ("daily_tasks", "helpers", "worry")


# --------------------------------------------------------------------------- declarations

def _agreed(value: bool) -> bool:
    if value is not True:
        raise PydanticCustomError("consent", gettext("We can only call you back if you agree to be contacted."))
    return value


class HelpRequestIn(Body):
    """A help request from the public. With neither `phone` nor `email` it is refused (`no_contact`)."""

    for_whom: Literal[tuple(str(f) for f in ForWhom)]  # type: ignore[valid-type]
    topics: list[Literal[svc.TOPICS]] = Field(min_length=1, max_length=50)  # type: ignore[valid-type]
    name: Text(svc.NAME_MAX)
    phone: OptText(40) | None = None
    email: OptText(254) | None = None
    postal_code: PostalCode
    language: Literal[svc.LANGUAGES] = "fi"  # type: ignore[valid-type]
    best_time: OptText(svc.BEST_TIME_MAX) | None = None
    message: LongText(svc.MESSAGE_MAX) | None = None
    consent_to_contact: Annotated[bool, AfterValidator(_agreed), Field(json_schema_extra={"const": True})]
    daily_tasks: Literal[ASSESSMENT_QUESTIONS["daily_tasks"]] | None = Field(  # type: ignore[valid-type]
        None, description="Optional self-assessment answer")
    helpers: Literal[ASSESSMENT_QUESTIONS["helpers"]] | None = Field(  # type: ignore[valid-type]
        None, description="Optional self-assessment answer")
    worry: Literal[ASSESSMENT_QUESTIONS["worry"]] | None = Field(  # type: ignore[valid-type]
        None, description="Optional self-assessment answer")


class Receipt(Out):
    """The receipt: the reference and when to expect the call back"""

    reference: str
    callback_due: datetime
    merged: bool = Field(description="true when it was added to an open request from the same contact")


class ClaimedBy(Out):
    id: int
    name: str | None


class HelpRequestOut(Out):
    """A help request as guidance staff see it"""

    id: int
    reference: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    channel: str
    for_whom: str
    topics: list[str]
    name: str
    phone: str | None
    email: str | None
    postal_code: str | None
    language: str | None
    best_time: str | None
    message: str | None
    consent_to_contact: bool
    urgency: int
    callback_due: datetime
    overdue: bool
    created_at: datetime
    merged_count: int | None
    claimed_by: ClaimedBy | None
    claimed_at: datetime | None
    called_back_at: datetime | None
    escalated_at: datetime | None
    closed_at: datetime | None
    converted_at: datetime | None
    client_id: int | None
    url: str


class QueueQuery(Query):
    status: Literal[STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="Only requests in this state (default: the queue, open and claimed)")
    limit: int = Field(50, ge=0, le=200, description="Items per page (up to 200)")
    cursor: int = Field(0, ge=0, le=10**9, description="From the previous page's `next` URL")


# --------------------------------------------------------------------------- routes

@route("POST", "/help-requests", "Ask for help at home (no login)", auth="none", body=HelpRequestIn, tags=TAGS,
       description="A request that says it is a phone call or a chat (`channel`) is refused with 422: only "
                   "guidance staff enter those, on their pages.",
       responses={201: Receipt}, errors={422: "Invalid fields; `no_contact` with neither phone nor e-mail",
                                         429: "Too many requests from this connection or for this contact"})
def create_help_request(body: HelpRequestIn):
    data = body.model_dump(exclude_none=True, exclude=set(PUBLIC_QUESTIONS))
    # Not a field of this call (the public form has none either), but a request that
    # says it is a phone call or a chat is refused: only staff enter those.
    data["channel"] = read_json_object().get("channel")
    answers = {q: getattr(body, q) for q in PUBLIC_QUESTIONS if getattr(body, q) is not None}
    req, merged = svc.submit_help_request(data, address=request.remote_addr, answers=answers)
    return answer(receipt_json(req, merged), 201)


@route("GET", "/help-requests", "The callback queue, most urgent and oldest first", roles=(Role.STAFF,),
       query=QueueQuery, tags=TAGS, responses={200: Page[HelpRequestOut]})
def list_help_requests(query: QueueQuery):
    limit, offset = max(1, query.limit), query.cursor
    rows = svc.queue(api_user(), status=query.status, limit=limit + 1, offset=offset)
    next_url = None
    if len(rows) > limit:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for("api.list_help_requests", cursor=offset + limit, _external=True, **args)
    return answer({"items": [help_request_json(r, svc.is_overdue(r)) for r in rows[:limit]], "next": next_url})


@route("GET", "/help-requests/<int:request_id>", "One help request", roles=(Role.STAFF,), tags=TAGS,
       param_names={"request_id": "id"}, responses={200: HelpRequestOut})
def get_help_request(request_id: int):
    req = svc.get_request(api_user(), request_id)
    return answer(help_request_json(req, svc.is_overdue(req)))


@route("POST", "/help-requests/<int:request_id>/claim", "Claim a help request", roles=(Role.STAFF,), tags=TAGS,
       param_names={"request_id": "id"}, responses={200: (HelpRequestOut, "Claimed by the caller")},
       errors={409: "Already claimed (`already_claimed`), or closed"})
def claim_help_request(request_id: int):
    req = svc.claim(api_user(), request_id)
    return answer(help_request_json(req, svc.is_overdue(req)))
