"""One serializer per object, shared by the API and any export."""

from __future__ import annotations

from core.api import iso
from feedback.models import Feedback


def feedback_json(feedback: Feedback, user=None) -> dict:
    """A published feedback item as the public sees it: a hidden item's comment is
    never shown. (``user`` for symmetry with the other serializers: the public
    shape is the same for everyone.)"""
    return {
        "id": feedback.id, "rating": feedback.rating, "needs_met": feedback.needs_met,
        "comment": feedback.comment if feedback.hidden_at is None else None,
        "response": feedback.response, "responded_at": iso(feedback.responded_at),
        "service": feedback.service_type.name() if feedback.service_type is not None else None,
        "at": iso(feedback.created_at),
    }


def link_json(link, summary) -> dict:
    """What a feedback link is about (``GET /feedback/{token}``)."""
    return {"order": {"number": summary.number, "service": summary.service, "provider": summary.provider},
            "expires_at": iso(link.expires_at)}
