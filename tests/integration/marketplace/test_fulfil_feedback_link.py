"""State now, messages later: fulfilling a purchase creates its one-time feedback
link in the same transaction (staff can give it out while Redis or the worker is
down); only the buyer's e-mail is a job. The purchase page offers only the actions
the state and the policy allow."""

import sqlalchemy as sa

from core.models import OutboxJob
from feedback.models import FeedbackLink
from feedback.services import feedback_url_for_shop_order
from marketplace.models import ShopOrder
from marketplace.policy import purchase_actions
from tests.integration.marketplace.conftest import checkout_body


def test_fulfilling_creates_the_feedback_link_before_any_job_runs(client, db, shop, make_user, api_token):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)))
    order_id = r.get_json()["shop_order_id"]
    provider = make_user("provider", provider=shop["company"])
    r = client.post(f"/api/v1/shop/orders/{order_id}/fulfil", json={"note": "Done"}, headers=api_token(provider))
    assert r.status_code == 200 and r.get_json()["status"] == "fulfilled"
    db.session.expire_all()
    # No job has run: the link is there already, and its URL can be read out.
    link = db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.shop_order_id == order_id))
    assert link is not None and link.provider_id == shop["company"].id and link.used_at is None
    assert feedback_url_for_shop_order(order_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob)
                             .where(OutboxJob.func == "marketplace.jobs.send_buyer_email")) >= 1


def test_refused_fulfilment_creates_no_link(client, db, shop, make_user, api_token):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)))
    order_id = r.get_json()["shop_order_id"]
    provider = make_user("provider", provider=shop["company"])
    headers = api_token(provider)
    assert client.post(f"/api/v1/shop/orders/{order_id}/cancel", json={}, headers=headers).status_code == 200
    assert client.post(f"/api/v1/shop/orders/{order_id}/fulfil", json={}, headers=headers).status_code == 409
    db.session.expire_all()
    assert db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.shop_order_id == order_id)) is None


def test_allowed_actions_follow_state_and_policy(client, db, shop, make_user):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)))
    order = db.session.get(ShopOrder, r.get_json()["shop_order_id"])
    own, other, admin = make_user("provider", provider=shop["company"]), make_user("provider", provider=shop["ngo"]), \
        make_user("admin")
    # An invoice purchase waiting for payment: deliver, record paid, confirm the time, cancel.
    assert purchase_actions(own, order) == {"confirm_time", "fulfil", "mark_paid", "cancel"}
    assert purchase_actions(admin, order) == purchase_actions(own, order)
    assert purchase_actions(other, order) == set()
    assert purchase_actions(None, order, is_buyer=True) == {"cancel"}
    order.status = "cancelled"
    assert purchase_actions(own, order) == set() and purchase_actions(None, order, is_buyer=True) == set()
