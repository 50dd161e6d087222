"""One JSON shape per staffing object (``<thing>_json(obj, user)``), shared by the
API and any export."""

from __future__ import annotations

from core.api import iso
from core.urls import absolute_url
from staffing import policy
from staffing import services as svc
from staffing.models import StaffingOffer, StaffingRequest


def offer_json(o: StaffingOffer, user=None) -> dict:
    """An offer (the user may see it: the caller has scoped it)."""
    return {"id": o.id, "request_id": o.request_id, "provider": {"id": o.provider_id, "name": o.provider.name},
            "headcount": o.headcount, "hourly_rate_cents": o.hourly_rate_cents, "currency": "EUR",
            "candidates": svc.candidate_rows(o), "note": o.note, "status": o.status,
            "created_at": iso(o.created_at), "selected_at": iso(o.selected_at), "withdrawn_at": iso(o.withdrawn_at),
            "minutes_worked": o.minutes_worked, "hours_reported_at": iso(o.hours_reported_at)}


def request_json(req: StaffingRequest, user, with_offers: bool = True, covered: int | None = None) -> dict:
    """A request; in lists (``with_offers`` False, ``covered`` known) without the
    per-request queries."""
    body = {"id": req.id, "number": req.number, "status": req.status, "unit": req.unit,
            "qualification": req.qualification, "postal_code": req.postal_code, "headcount": req.headcount,
            "covered": svc.covered_headcount(req.id) if covered is None else covered,
            "respond_by": iso(req.respond_by), "note": req.note,
            "shifts": [{"start": iso(s.start_at), "end": iso(s.end_at)} for s in req.shifts],
            "created_at": iso(req.created_at), "closed_at": iso(req.closed_at), "filled_at": iso(req.filled_at),
            "cancelled_at": iso(req.cancelled_at), "url": absolute_url("staffing.detail", request_id=req.id)}
    if policy.is_staff(user):
        body["created_by_id"] = req.created_by_id
    if with_offers:
        if policy.is_staff(user):
            body["recipients"] = svc.recipient_count(req.id)
        body["offers"] = [offer_json(r.offer, user) for r in svc.rank_offers(req, svc.offers_for(user, req))]
    return body
