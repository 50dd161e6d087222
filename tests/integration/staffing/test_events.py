"""Staffing moves go through the state machines and leave events with their actor:
staff's select, fill and cancel, the agency's withdrawal, the system's close; the
staff's page shows them as a timeline."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.db import utcnow
from staffing import services
from staffing.models import StaffingEvent, StaffingOffer
from tests import factories as f


def _events(db, request_id):
    db.session.expire_all()
    return [(e.offer_id, e.action, e.from_status, e.to_status, e.actor_id, e.note) for e in db.session.scalars(
        sa.select(StaffingEvent).where(StaffingEvent.request_id == request_id).order_by(StaffingEvent.id))]


def test_select_fill_and_reject_write_events_with_the_actor(db, staff, make_agency):
    agency = make_agency()
    req = f.StaffingRequestFactory(created_by_id=staff.id, headcount=1, status="closed")
    f.StaffingShiftFactory(request_id=req.id)
    chosen = f.StaffingOfferFactory(request_id=req.id, provider_id=agency.provider_id)
    other = f.StaffingOfferFactory(request_id=req.id)
    db.session.commit()
    result = services.select_offer(staff, req.id, chosen.id)
    db.session.commit()
    assert result.filled
    assert _events(db, req.id) == [
        (chosen.id, "select", "offered", "selected", staff.id, None),
        (None, "fill", "closed", "filled", staff.id, "headcount_covered"),
        (other.id, "reject", "offered", "not_selected", staff.id, "request_filled"),
    ]


def test_withdrawn_offer_is_not_overwritten_by_the_rejection(db, staff, make_agency):
    agency = make_agency()
    req = f.StaffingRequestFactory(created_by_id=staff.id, status="open")
    f.StaffingRecipientFactory(request_id=req.id, provider_id=agency.provider_id)
    offer = f.StaffingOfferFactory(request_id=req.id, provider_id=agency.provider_id)
    db.session.commit()
    services.withdraw_offer(agency, req.id, offer.id)
    services.cancel_request(staff, req.id)
    db.session.commit()
    assert db.session.get(StaffingOffer, offer.id).status == "withdrawn"
    assert _events(db, req.id) == [
        (offer.id, "withdraw", "offered", "withdrawn", agency.id, None),
        (None, "cancel", "open", "cancelled", staff.id, None),
    ]


def test_the_system_closes_a_round_without_an_actor_and_staff_see_the_history(db, client, staff, login_as):
    req = f.StaffingRequestFactory(created_by_id=staff.id, respond_by=utcnow() - timedelta(minutes=1))
    f.StaffingShiftFactory(request_id=req.id)
    db.session.commit()
    assert services.close_round(req.id)
    assert not services.close_round(req.id)  # only one call wins
    db.session.commit()
    assert _events(db, req.id) == [(None, "close", "open", "closed", None, "answer_time_passed")]
    login_as(staff)
    page = client.get(f"/staffing/{req.id}").get_data(as_text=True)
    assert "History" in page and "automatically" in page
