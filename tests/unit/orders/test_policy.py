"""orders.policy: who sees a client's identity and contact details on an order and
which actions each user gets, from the state machines and the roles."""

from types import SimpleNamespace as NS

import pytest

from orders import policy
from orders.models import ORDER_TRANSITIONS, OrderStatus

STAFF = NS(id=1, role="staff", provider_id=None, client_id=None)
WINNER = NS(id=2, role="provider", provider_id=10, client_id=None, provider_role="admin")  # its organisation's administrator
OTHER = NS(id=3, role="provider", provider_id=11, client_id=None, provider_role="admin")
CLIENT = NS(id=4, role="client", provider_id=None, client_id=100)
MANAGER = NS(id=5, role="manager", provider_id=None, client_id=None)


def _order(status="accepted", provider_id=10, non_disclosure=False, worker=1, offers=()):
    client = NS(id=100, non_disclosure=non_disclosure, responsible_worker_id=worker)
    return NS(status=status, provider_id=provider_id, client=client, client_id=100, offers=list(offers))


def _offer(provider_id=11, status="pending", sent=True):
    return NS(provider_id=provider_id, status=status, sent_at=object() if sent else None)


def test_identity_is_for_staff_the_client_and_the_winner():
    order = _order()
    assert [policy.sees_identity(order, u) for u in (STAFF, WINNER, OTHER, CLIENT, MANAGER, None)] == [
        True, True, False, True, False, False]
    assert not policy.sees_identity(_order(provider_id=None), NS(id=9, role="provider", provider_id=None))


@pytest.mark.parametrize("status", list(OrderStatus))
def test_non_disclosure_contact_goes_to_the_worker_the_client_and_the_serving_provider(status):
    order = _order(status=status, non_disclosure=True, worker=1)
    serving = status in ("accepted", "in_progress")
    assert policy.shows_contact(order, STAFF)  # the responsible worker
    assert not policy.shows_contact(order, NS(id=77, role="staff", provider_id=None, client_id=None))
    assert policy.shows_contact(order, CLIENT)
    assert policy.shows_contact(order, WINNER) == serving
    assert not policy.shows_contact(order, OTHER)
    assert all(policy.shows_contact(_order(status=status), u) for u in (STAFF, WINNER, CLIENT))


def test_a_pending_offer_gives_accept_and_decline_only_while_offered():
    mine = _offer(provider_id=11)
    assert policy.allowed_actions(_order("offered", None, offers=[mine]), OTHER, mine) == {"accept", "decline"}
    for answered in ("accepted", "declined", "expired", "withdrawn"):
        offer = _offer(provider_id=11, status=answered)
        assert policy.allowed_actions(_order("offered", None), OTHER, offer) == set()
    assert policy.allowed_actions(_order("accepted", 10), OTHER, mine) == set()
    assert policy.allowed_actions(_order("offered", None), OTHER, _offer(11, sent=False)) == set()
    # Someone else's offer is no reason to answer.
    assert policy.allowed_actions(_order("offered", None), WINNER, mine) == set()


@pytest.mark.parametrize("status", list(OrderStatus))
def test_actions_follow_the_order_table_and_the_roles(status):
    order = _order(status=status, provider_id=10)
    table = {a for (s, a) in ORDER_TRANSITIONS if s == status}
    assert policy.allowed_actions(order, STAFF) == table & {"close", "cancel", "reoffer"}
    winner = policy.allowed_actions(order, WINNER)
    assert ("visit" in winner) == (status in ("accepted", "in_progress"))
    assert ("complete" in winner) == (status == "in_progress")
    assert winner <= {"visit", "complete"}
    for user in (OTHER, CLIENT, MANAGER, None):
        assert policy.allowed_actions(order, user) == set()


def test_my_offer_is_the_users_organisations():
    mine, theirs = _offer(provider_id=11), _offer(provider_id=12)
    order = _order("offered", None, offers=[theirs, mine])
    assert policy.my_offer(order, OTHER) is mine
    assert policy.my_offer(order, STAFF) is None
