"""The request and offer state machines as data: every (state, action) pair is
walked; the pairs the tables lack are refused and change nothing."""

from __future__ import annotations

import itertools

import pytest

from staffing import services
from staffing.models import (
    OFFER_TRANSITIONS, STAFFING_TRANSITIONS, OfferAction, StaffingAction, StaffingOffer, StaffingOfferStatus,
    StaffingRequest, StaffingStatus,
)
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("state,action", list(itertools.product(StaffingStatus, StaffingAction)))
def test_request_transition_table(db, state, action):
    req = f.StaffingRequestFactory(status=state)
    moved = services.transition_request(req.id, action)
    db.session.expire_all()
    expected = STAFFING_TRANSITIONS.get((state, action))
    assert moved is (expected is not None)
    assert db.session.get(StaffingRequest, req.id).status == (expected or state)


@pytest.mark.parametrize("state,action", list(itertools.product(StaffingOfferStatus, OfferAction)))
def test_offer_transition_table(db, state, action):
    offer = f.StaffingOfferFactory(status=state)
    moved = services.transition_offer(offer.id, action)
    db.session.expire_all()
    expected = OFFER_TRANSITIONS.get((state, action))
    assert moved is (expected is not None)
    assert db.session.get(StaffingOffer, offer.id).status == (expected or state)
