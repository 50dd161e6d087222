"""Eligibility, capacity, ranked lists and automatic acceptance."""

from datetime import date, timedelta

import pytest

from orders.services import eligible_providers, place_order
from tests import factories as f

pytestmark = pytest.mark.smoke


def test_ranked_list_orders_eligible_providers(db, market):
    f.ProviderRankingFactory(service_type_id=market.service_type.id, postal_code="33100",
                             provider_id=market.providers[2].id, rank=1)
    f.ProviderRankingFactory(service_type_id=market.service_type.id, postal_code="33100",
                             provider_id=market.providers[0].id, rank=2)
    db.session.commit()
    ids = [e.provider.id for e in eligible_providers(market.client, market.service_type.id)]
    assert ids[:2] == [market.providers[2].id, market.providers[0].id]
    order = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                        start_date=date.today(), mode="ranked")
    db.session.commit()
    sent = [o.provider_id for o in order.offers if o.sent_at is not None]
    waiting = [o.provider_id for o in sorted(order.offers, key=lambda o: o.rank) if o.sent_at is None]
    assert sent == [market.providers[2].id] and waiting == [market.providers[0].id]


def test_ranked_decline_moves_on(db, market):
    from orders.services import decline_offer

    order = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                        start_date=date.today(), mode="ranked",
                        provider_ids=[market.providers[1].id, market.providers[0].id])
    db.session.commit()
    decline_offer(market.members[1], order.id, "Täynnä")
    db.session.commit()
    offers = {o.provider_id: o for o in order.offers}
    assert offers[market.providers[0].id].sent_at is not None and offers[market.providers[0].id].status == "pending"
    decline_offer(market.members[0], order.id, "Täynnä myös")
    db.session.commit()
    assert order.status == "escalated"


def test_capacity_is_respected(db, market):
    f.ProviderCapacityFactory(provider_id=market.providers[0].id, service_type_id=market.service_type.id,
                              orders_per_week=1)
    from core.db import utcnow

    f.ServiceOrderFactory(service_type=market.service_type, status="accepted", provider=market.providers[0],
                          accepted_at=utcnow() - timedelta(days=1))
    db.session.commit()
    ids = {e.provider.id for e in eligible_providers(market.client, market.service_type.id)}
    assert market.providers[0].id not in ids and market.providers[1].id in ids


def test_automatic_acceptance_rule_takes_a_matching_order_at_once(db, market, run_jobs):
    weekday = date.today().weekday()
    f.AutoAcceptRuleFactory(provider_id=market.providers[1].id, service_type_ids=[market.service_type.id],
                            postal_codes=["33100"], weekdays=[weekday], capacity_per_week=1)
    db.session.commit()
    order = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                        start_date=date.today())
    db.session.commit()
    assert order.status == "accepted" and order.provider_id == market.providers[1].id
    accepted = [o for o in order.offers if o.status == "accepted"]
    assert len(accepted) == 1 and accepted[0].auto_accepted
    assert {o.status for o in order.offers if o is not accepted[0]} == {"withdrawn"}
    # Capacity of the rule: the next order is offered normally.
    second = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                         start_date=date.today())
    db.session.commit()
    assert second.status == "offered"


def test_rule_for_other_weekdays_does_not_apply(db, market):
    other_day = (date.today().weekday() + 1) % 7
    f.AutoAcceptRuleFactory(provider_id=market.providers[1].id, weekdays=[other_day])
    db.session.commit()
    order = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                        start_date=date.today())
    db.session.commit()
    assert order.status == "offered"


def test_suspension_withdraws_offers_and_flags_active_orders(db, market):
    from clients.models import FollowUp
    from orders.services import accept_offer, handle_provider_suspension

    active = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                         start_date=date.today(), provider_ids=[market.providers[0].id])
    accept_offer(market.members[0], active.id)
    pending = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                          start_date=date.today(), provider_ids=[market.providers[0].id])
    db.session.commit()
    handle_provider_suspension(market.providers[0].id, None)
    db.session.commit()
    assert pending.status == "escalated" and pending.offers[0].status == "withdrawn"
    follow_ups = db.session.query(FollowUp).filter_by(order_id=active.id).all()
    assert len(follow_ups) == 1 and follow_ups[0].assigned_to_id == market.staff.id
