"""Feedback API: ``GET``/``POST /api/v1/feedback/{token}`` (anyone with the link,
no authentication) and ``GET /api/v1/providers/{id}/feedback`` (anyone: published
items only; a hidden item is left out of the list, as it is of the average)."""

from __future__ import annotations

from datetime import datetime

from flask import request
from flask_babel import gettext
from pydantic import Field

from catalogue.api import Rating
from core.api import Body, Out, Page, Paging, answer, page_json, route
from core.bounds import LongText
from core.errors import NotFoundError
from core.extensions import db
from feedback import policy, services
from feedback.serializers import feedback_json, link_json
from providers.models import Provider

TAGS = ("Feedback",)


class LinkOrder(Out):
    number: str
    service: str | None
    provider: str | None


class LinkOut(Out):
    """The order and when the link expires"""

    order: LinkOrder
    expires_at: datetime


class FeedbackItem(Out):
    id: int
    rating: int = Field(ge=1, le=5)
    needs_met: bool
    comment: str | None
    response: str | None
    responded_at: datetime | None
    service: str | None
    at: datetime


class ProviderFeedback(Page[FeedbackItem]):
    """Published items (hidden items are left out)"""

    rating: Rating


class FeedbackIn(Body):
    rating: int = Field(ge=1, le=5)
    needs_met: bool
    comment: LongText(services.COMMENT_MAX) | None = Field(None, description="HTML tags are removed before storing")


_LINK_ERRORS = {404: "Unknown token", 410: "Feedback already given or the link has expired"}


@route("GET", "/feedback/<token>", "What a feedback link is about (anyone with the link)", auth="none",
       tags=TAGS, responses={200: LinkOut}, errors=_LINK_ERRORS)
def feedback_link(token: str):
    link = services.find_link(token)
    services.require_open(link)
    return answer(link_json(link, services.link_summary(link)))


def _open_link(token: str) -> None:
    services.check_submission_rate(request.remote_addr)
    services.require_open(services.find_link(token))


@route("POST", "/feedback/<token>", "Give feedback once (anyone with the link)", auth="none", body=FeedbackIn,
       tags=TAGS, before=_open_link, responses={201: (FeedbackItem, "Stored and published")},
       errors={**_LINK_ERRORS, 429: "Too many submissions from this address"})
def give_feedback(token: str, body: FeedbackIn):
    feedback = services.submit_feedback(token, rating=body.rating, needs_met=body.needs_met, comment=body.comment)
    return answer(feedback_json(feedback), 201)


@route("GET", "/providers/<int:provider_id>/feedback", "A provider's published feedback, newest first",
       auth="none", query=Paging, tags=TAGS, responses={200: ProviderFeedback})
def provider_feedback(provider_id: int, query: Paging):
    provider = db.session.get(Provider, provider_id)
    if not policy.shows_feedback_of(provider):
        raise NotFoundError(gettext("Not found."))
    rows = services.published_feedback(provider.id, limit=query.limit + 1, before_id=query.cursor)
    body = page_json([feedback_json(f) for f in rows], rows, query.limit, "api.provider_feedback",
                     provider_id=provider.id)
    body["rating"] = services.rating_json(provider)
    return answer(body)
