"""The request and offer state machines as data: every (state, action) pair is
walked; the pairs the tables lack are refused and change nothing."""

from __future__ import annotations

import itertools

import pytest

from staffing import services
from staffing.models import (
    OFFER_TRANSITIONS, STAFFING_TRANSITIONS, OfferAction, StaffingAction, StaffingOfferStatus, StaffingStatus,
)
from tests import factories as f

pytestmark = pytest.mark.smoke


def _check_transition(db, factory, transition, table, state, action) -> None:
    """``transition(id, action)`` on a record in ``state`` moves it exactly as
    ``table`` says, and leaves it alone where the table has no entry."""
    record = factory(status=state)
    moved = transition(record.id, action)
    db.session.expire_all()
    expected = table.get((state, action))
    assert moved is (expected is not None)
    assert db.session.get(type(record), record.id).status == (expected or state)


@pytest.mark.parametrize("state,action", list(itertools.product(StaffingStatus, StaffingAction)))
def test_request_transition_table(db, state, action):
    _check_transition(db, f.StaffingRequestFactory, services.transition_request, STAFFING_TRANSITIONS, state, action)


@pytest.mark.parametrize("state,action", list(itertools.product(StaffingOfferStatus, OfferAction)))
def test_offer_transition_table(db, state, action):
    _check_transition(db, f.StaffingOfferFactory, services.transition_offer, OFFER_TRANSITIONS, state, action)
