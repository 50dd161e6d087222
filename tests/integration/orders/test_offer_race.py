"""A decline and another provider's accept at the same moment: each keeps its own
answer. The accept withdraws the other pending offers with a guarded UPDATE, so an
offer declined meanwhile stays "declined" (it used to be overwritten as "withdrawn"
when the ids were read first and updated without a status guard). Runs on both
databases: PostgreSQL's row locks and SQLite's single writer both let exactly one of
the two go first, and both orders happen over the repetitions."""

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from orders.models import Offer, OrderEvent, ServiceOrder

pytestmark = pytest.mark.smoke  # also in CI's SQLite run

REPETITIONS = 30


def test_a_concurrent_decline_is_never_overwritten_by_the_accept(app, db, market):
    from accounts.services import issue_token
    from orders.services import place_order

    tokens = []
    for member in market.members[:2]:
        token, _ = issue_token(member)
        tokens.append({"Authorization": f"Bearer {token}"})
    db.session.commit()
    accepter, decliner = market.providers[0].id, market.providers[1].id
    outcomes = []
    for _ in range(REPETITIONS):
        order = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                            start_date=date.today() + timedelta(days=3), provider_ids=[accepter, decliner],
                            mode="broadcast")
        db.session.commit()
        order_id = order.id
        barrier = threading.Barrier(2)
        codes: dict[str, int] = {}

        def answer(name: str, path: str, headers: dict, body: dict | None):
            with app.app_context():
                test_client = app.test_client()
                barrier.wait()
                codes[name] = test_client.post(path, headers=headers, json=body).status_code

        threads = [
            threading.Thread(target=answer, args=("accept", f"/api/v1/orders/{order_id}/accept", tokens[0], None)),
            threading.Thread(target=answer, args=("decline", f"/api/v1/orders/{order_id}/decline", tokens[1],
                                                  {"reason": "Ei vapaita työntekijöitä"})),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        db.session.expire_all()
        offers = {o.provider_id: o.status for o in db.session.scalars(
            sa.select(Offer).where(Offer.order_id == order_id))}
        declines = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.action == "decline"))
        # The accept always wins the order: a decline leaves the other offer pending.
        assert codes["accept"] == 200, codes
        assert db.session.get(ServiceOrder, order_id).status == "accepted"
        assert list(offers.values()).count("accepted") == 1 and offers[accepter] == "accepted"
        if codes["decline"] == 200:
            # The decline committed: it stays a decline, with its timeline entry.
            assert offers[decliner] == "declined", (codes, offers)
            assert declines == 1
        else:
            # The accept committed first and withdrew the offer: the decline was refused.
            assert codes["decline"] == 409, codes
            assert offers[decliner] == "withdrawn" and declines == 0
        outcomes.append(offers[decliner])
    print("decliner's offers:", {s: outcomes.count(s) for s in set(outcomes)})
