"""The purchase's state table, walked whole: every allowed (state, action) pair moves
to its state and stamps it; every other pair is refused with 409 and changes nothing."""

import itertools

import pytest
import sqlalchemy as sa

from core.errors import ConflictError
from marketplace import states
from marketplace.models import (
    SHOP_TRANSITIONS,
    STATUS_STAMPS,
    ShopAction,
    ShopOrder,
    ShopOrderEvent,
    ShopOrderStatus,
)
from tests import factories as f

pytestmark = pytest.mark.smoke

PAIRS = list(itertools.product(list(ShopOrderStatus), list(ShopAction)))


@pytest.mark.parametrize("state,action", PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_transition_table(db, app, state, action):
    order = f.ShopOrderFactory(status=state)
    db.session.commit()
    target = SHOP_TRANSITIONS.get((state, action))
    with app.test_request_context():
        if target is None:
            with pytest.raises(ConflictError):
                states.transition(order, action, None)
            db.session.rollback()
            assert db.session.get(ShopOrder, order.id).status == state
            return
        assert states.transition(order, action, None, "note") == target
        db.session.commit()
    order = db.session.get(ShopOrder, order.id)
    assert order.status == target
    if target in STATUS_STAMPS:
        assert getattr(order, STATUS_STAMPS[target]) is not None
    event = db.session.scalar(sa.select(ShopOrderEvent).where(ShopOrderEvent.shop_order_id == order.id))
    assert (event.from_status, event.to_status, event.note) == (state, target, "note")


def test_a_stale_copy_loses_to_the_first_change(db, app):
    order = f.ShopOrderFactory(status="pending_payment")
    db.session.commit()
    with app.test_request_context():
        # Someone else paid it meanwhile; this copy still says pending_payment.
        db.session.execute(sa.update(ShopOrder).where(ShopOrder.id == order.id).values(status="paid"))
        with pytest.raises(ConflictError):
            states.transition(order, ShopAction.CANCEL, None)
