"""The order state machine as a table: every (state, action) pair is either the
table's transition or refused with a clear message, and every change writes an event."""

import pytest
import sqlalchemy as sa

from orders.models import ORDER_TRANSITIONS, OrderAction, OrderEvent, OrderStatus, ServiceOrder
from core.templating import status_label
from orders.services import IllegalTransition, _transition
from tests import factories as f

pytestmark = pytest.mark.smoke

PAIRS = [(s, a) for s in OrderStatus for a in OrderAction]


@pytest.mark.parametrize("state,action", PAIRS, ids=[f"{s.value}-{a.value}" for s, a in PAIRS])
def test_transition_table(db, state, action):
    order = f.ServiceOrderFactory(status=state)
    db.session.commit()
    target = ORDER_TRANSITIONS.get((state, action))
    if target is None:
        with pytest.raises(IllegalTransition) as refused:
            _transition(order, action, None)
        # Named in the default language (Finnish) outside a request.
        assert f"”{status_label(state)}”" in refused.value.message
        db.session.rollback()
        assert db.session.get(ServiceOrder, order.id).status == state
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)) == 0
    else:
        assert _transition(order, action, None, note="test") == target
        db.session.commit()
        order = db.session.get(ServiceOrder, order.id)
        assert order.status == target and order.version == 2
        event = db.session.scalar(sa.select(OrderEvent))
        assert (event.from_status, event.to_status, event.action) == (state, target, action)
        stamp = getattr(order, f"{target.value}_at", None)
        if hasattr(ServiceOrder, f"{target.value}_at"):
            assert stamp is not None


def test_stale_version_loses(db):
    order = f.ServiceOrderFactory(status="offered")
    db.session.commit()
    stale = db.session.get(ServiceOrder, order.id)
    assert stale.version == 1
    with db.engine.begin() as other_transaction:  # someone else changed the order meanwhile
        other_transaction.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(version=5))
    with pytest.raises(IllegalTransition):
        _transition(stale, OrderAction.ESCALATE, None)


def test_nothing_goes_back_from_closed_or_cancelled():
    for final in (OrderStatus.CLOSED, OrderStatus.CANCELLED):
        assert not [a for (s, a) in ORDER_TRANSITIONS if s == final]
