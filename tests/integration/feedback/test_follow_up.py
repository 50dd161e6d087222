"""Closed loop: a low rating or "needs not met" opens a follow-up for the client's
responsible worker and e-mails them (without the comment)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clients.models import FollowUp
from core.models import OutgoingEmail
from feedback.models import Feedback

pytestmark = pytest.mark.smoke


def _give(client, token, **body):
    response = client.post(f"/api/v1/feedback/{token}", json=body)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("rating,needs_met", [(1, True), (2, True), (5, False)])
def test_low_rating_or_needs_not_met_opens_a_follow_up(client, db, order, make_link, worker, rating, needs_met):
    _, token = make_link(order)
    _give(client, token, rating=rating, needs_met=needs_met, comment="Salainen kommentti")
    db.session.expire_all()
    follow_up = db.session.scalar(sa.select(FollowUp))
    assert follow_up.kind == "feedback" and follow_up.assigned_to_id == worker.id
    assert follow_up.client_id == order.client_id and follow_up.order_id == order.id
    assert follow_up.done_at is None and order.number in follow_up.title


@pytest.mark.parametrize("rating", [3, 4, 5])
def test_good_feedback_opens_nothing(client, db, order, make_link, rating, count):
    _, token = make_link(order)
    _give(client, token, rating=rating, needs_met=True)
    assert count(FollowUp) == 0 and count(OutgoingEmail) == 0


def test_the_worker_gets_an_email_without_the_comment(client, db, order, make_link, worker, run_jobs):
    _, token = make_link(order)
    _give(client, token, rating=1, needs_met=False, comment="Salainen kommentti")
    assert run_jobs() >= 1
    mail = db.session.scalar(sa.select(OutgoingEmail))
    assert mail.to_address == worker.email and mail.status == "stored" and mail.sent_at is not None
    assert "Salainen" not in mail.body and "Salainen" not in mail.subject
    feedback_id = db.session.scalar(sa.select(Feedback.id))
    assert f"http://kotiapu.test/feedback/items/{feedback_id}" in mail.body
    assert order.number in mail.body


def test_without_a_responsible_worker_the_ordering_staff_member_follows_up(client, db, make_order, make_link):
    from tests import factories as f

    order = make_order(client=f.ClientFactory(responsible_worker_id=None))
    _, token = make_link(order)
    _give(client, token, rating=2, needs_met=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(FollowUp.assigned_to_id)) == order.ordered_by_id


def test_worker_opens_the_feedback_from_the_email_link(client, db, order, make_link, worker, login_as):
    _, token = make_link(order)
    _give(client, token, rating=1, needs_met=False, comment="Siivoja ei tullut")
    feedback_id = db.session.scalar(sa.select(Feedback.id))
    login_as(worker)
    page = client.get(f"/feedback/items/{feedback_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Siivoja ei tullut" in html and order.number in html and order.client.first_name in html
    from core.models import AccessLogEntry

    db.session.expire_all()
    assert db.session.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == order.client_id,
                                                             AccessLogEntry.actor_id == worker.id)) is not None


def test_a_guest_purchase_has_nobody_to_follow_up(client, db, count):
    from feedback.services import issue_feedback_link
    from tests import factories as f

    shop = f.ShopOrderFactory(status="fulfilled", client_id=None)
    f.ShopOrderItemFactory(shop_order=shop)
    _, token = issue_feedback_link(shop_order_id=shop.id)
    db.session.commit()
    _give(client, token, rating=1, needs_met=False)
    assert count(Feedback) == 1 and count(FollowUp) == 0
