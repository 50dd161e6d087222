"""Offers not answered by their deadline escalate to the ordering staff member,
through RQ's scheduler and a real `flask worker` process against real Redis."""

import os
from functools import partial

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from orders.models import Offer, ServiceOrder
from tests.fixtures import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.smoke


_wait_for = partial(wait_for, timeout=100.0, interval=0.3)


def test_unanswered_offers_escalate_by_the_scheduler(app, db, market, place, worker_env, tmp_path):
    app.config["OFFER_DEADLINE_HOURS"] = 3 / 3600  # three seconds
    order = place()
    order_id = order.id
    assert {o.status for o in order.offers} == {"pending"}
    worker, log = start_worker(worker_env, tmp_path / "worker.log")
    try:
        def escalated():
            db.session.expire_all()
            return db.session.get(ServiceOrder, order_id).status == "escalated"

        assert _wait_for(escalated), "the order did not escalate:\n" + (tmp_path / "worker.log").read_text()[-3000:]
        assert {o.status for o in db.session.scalars(sa.select(Offer).where(Offer.order_id == order_id))} == {"expired"}

        def staff_told():
            db.session.expire_all()
            return db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail).where(
                OutgoingEmail.to_address == market.staff.email, OutgoingEmail.sent_at.is_not(None),
                OutgoingEmail.subject.contains(order.number))) == 1

        assert _wait_for(staff_told), "the ordering staff member was not told"
    finally:
        stop_worker(worker, log)
    output = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in output, output[-3000:]


def test_ranked_round_moves_to_the_next_provider_on_expiry(app, db, market, place, run_jobs):
    from datetime import timedelta

    from core.db import utcnow
    from orders.jobs import expire_overdue_offers

    first, second = market.providers[0], market.providers[1]
    order = place(provider_ids=[first.id, second.id], mode="ranked")
    offers = {o.provider_id: o for o in order.offers}
    assert offers[first.id].sent_at is not None and offers[second.id].sent_at is None
    db.session.execute(sa.update(Offer).where(Offer.id == offers[first.id].id)
                       .values(deadline_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert expire_overdue_offers() == 1
    db.session.commit()
    db.session.expire_all()
    offers = {o.provider_id: o for o in db.session.get(ServiceOrder, order.id).offers}
    assert offers[first.id].status == "expired"
    assert offers[second.id].status == "pending" and offers[second.id].sent_at is not None
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)
                             .where(OutgoingEmail.to_address == second.email)) == 1
    assert os.environ.get("APP_ENV") == "test"
