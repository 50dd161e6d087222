"""One JSON shape per front-door object (API.md "The front door")."""

from __future__ import annotations

from flask import url_for

from core.api import iso


def receipt_json(req, merged: bool = False) -> dict:
    """What the person who asked gets back: the reference and the due time only."""
    return {"reference": req.reference, "callback_due": iso(req.callback_due), "merged": merged}


def help_request_json(req, overdue: bool = False) -> dict:
    """A help request as staff see it."""
    return {
        "id": req.id, "reference": req.reference, "status": req.status, "channel": req.channel,
        "for_whom": req.for_whom, "topics": list(req.topics or []), "name": req.name, "phone": req.phone,
        "email": req.email, "postal_code": req.postal_code, "language": req.language, "best_time": req.best_time,
        "message": req.message, "consent_to_contact": req.consent_to_contact, "urgency": req.urgency,
        "callback_due": iso(req.callback_due), "overdue": overdue, "created_at": iso(req.created_at),
        "merged_count": req.merged_count,
        "claimed_by": ({"id": req.claimed_by.id, "name": req.claimed_by.name} if req.claimed_by else None),
        "claimed_at": iso(req.claimed_at), "called_back_at": iso(req.called_back_at),
        "escalated_at": iso(req.escalated_at), "closed_at": iso(req.closed_at), "converted_at": iso(req.converted_at),
        "client_id": req.client_id, "url": url_for("frontdoor.detail", request_id=req.id, _external=True),
    }
