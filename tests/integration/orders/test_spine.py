"""The orders package on the spine: state now, messages later (the feedback link
exists with the completion, Redis or no Redis); the offer transition table and
its guarded moves; offer events on the order's timeline."""

from datetime import date

import pytest
import sqlalchemy as sa

from core.models import OutboxJob
from core.templating import status_label
from feedback.models import FeedbackLink
from feedback.services import feedback_url_for_order
from orders.models import OFFER_TRANSITIONS, Offer, OfferAction, OfferStatus, OrderEvent, ServiceOrder
from orders.states import OFFER_MACHINE, OrderError
from tests.fixtures import PASSWORD


def test_completion_creates_the_feedback_link_while_redis_is_down(app, client, db, market, place, login_as):
    from orders.services import accept_offer, record_visit

    order = place(start_date=date.today())
    accept_offer(market.members[0], order.id)
    record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    db.session.commit()
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there: no job can be pushed
    provider_client = app.test_client()
    assert provider_client.post("/login", data={"email": market.members[0].email, "password": PASSWORD}).status_code == 302
    assert provider_client.post(f"/orders/{order.id}/complete", data={
        "reason": "Asiakas siirtyi palveluasumiseen", "confirmed": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "completed"
    link = db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.order_id == order.id))
    assert link is not None and link.language == "fi"
    # Only the e-mail waits for the worker: its job is recorded, not pushed.
    mail_job = db.session.scalar(sa.select(OutboxJob).where(
        OutboxJob.func == "orders.jobs.send_completion_notifications"))
    assert mail_job is not None and mail_job.pushed_at is None
    login_as(market.staff)
    page = client.get(f"/orders/{order.id}")
    url = feedback_url_for_order(order.id)
    assert page.status_code == 200 and url and "/feedback/" in url
    assert f'<p class="copy-box">{url}</p>' in page.get_data(as_text=True)


@pytest.mark.parametrize("state", list(OfferStatus))
def test_offer_transition_table(db, market, place, state):
    """Only a pending offer moves; an answered one refuses every action, so a
    decline is never turned into "withdrawn"."""
    order = place(mode="broadcast")
    offer = order.offers[0]
    db.session.execute(sa.update(Offer).where(Offer.id == offer.id).values(status=state))
    db.session.commit()
    db.session.refresh(offer)
    for action in OfferAction:
        target = OFFER_TRANSITIONS.get((state, action))
        if target is None:
            with pytest.raises(OrderError) as refused:
                OFFER_MACHINE.apply(offer, action, None)
            assert refused.value.code == "offer_not_pending"
            assert f"”{status_label(state)}”" in refused.value.message  # the default language outside a request
            assert OFFER_MACHINE.apply_where(action, Offer.id == offer.id) == []
            db.session.rollback()
            assert db.session.get(Offer, offer.id).status == state
        else:
            assert state == OfferStatus.PENDING
            assert OFFER_MACHINE.apply(offer, action, None) == target
            db.session.rollback()


def test_offer_events_stay_on_the_order_timeline(db, market, place):
    from orders.services import accept_offer, decline_offer

    order = place(mode="broadcast")
    decline_offer(market.members[1], order.id, "Ei vapaita työntekijöitä")
    accept_offer(market.members[0], order.id)
    db.session.commit()
    events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id)
                                .order_by(OrderEvent.id)).all()
    assert [e.action for e in events] == ["create", "decline", "accept"]
    decline = events[1]
    assert (decline.provider_id, decline.note) == (market.providers[1].id, "Ei vapaita työntekijöitä")
    assert decline.from_status == decline.to_status == "offered"
    statuses = {o.provider_id: o.status for o in db.session.get(ServiceOrder, order.id).offers}
    assert statuses == {market.providers[0].id: "accepted", market.providers[1].id: "declined",
                        market.providers[2].id: "withdrawn"}


def test_suspension_withdraws_only_pending_offers_and_says_so(db, market, place):
    from orders.services import decline_offer, handle_provider_suspension

    declined = place(mode="broadcast")
    decline_offer(market.members[0], declined.id, "Ei kapasiteettia")
    pending = place(mode="broadcast")
    db.session.commit()
    handle_provider_suspension(market.providers[0].id, market.staff)
    db.session.commit()
    status = {o.order_id: o.status for o in db.session.scalars(
        sa.select(Offer).where(Offer.provider_id == market.providers[0].id))}
    assert status == {declined.id: "declined", pending.id: "withdrawn"}
    withdraw_events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.action == "withdraw")).all()
    assert [(e.order_id, e.code) for e in withdraw_events] == [(pending.id, "offer.provider_suspended")]
