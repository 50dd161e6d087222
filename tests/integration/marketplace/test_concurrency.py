"""Simultaneous deliveries and clicks: the same Stripe event delivered by several
requests at once is applied once; two refunds clicked at once return the money once.
Meaningful on PostgreSQL (real concurrency); on SQLite the writes serialise."""

import threading

import sqlalchemy as sa

from marketplace.models import ShopOrder, ShopOrderEvent, StripeEvent
from tests.integration.marketplace.conftest import WEBHOOK_SECRET, checkout_body
from tests.stripe_double import event, sign


def run_together(app, calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        client = app.test_client()
        barrier.wait()
        results[i] = call(client)

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_one_event_delivered_five_times_at_once_is_applied_once(app, client, db, shop, stripe_on, run_jobs):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 2), payment="card"))
    order = db.session.get(ShopOrder, r.get_json()["shop_order_id"])
    body, header = sign(event("checkout.session.completed",
                              stripe_on.complete_session(order.stripe_checkout_session_id), event_id="evt_same"),
                        WEBHOOK_SECRET)
    db.session.commit()
    results = run_together(app, [lambda c: c.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header},
                                                  content_type="application/json")] * 5)
    outcomes = sorted(r.get_json().get("result", "error") for r in results)
    assert outcomes.count("applied") == 1, outcomes
    assert all(r.status_code in (200, 503) for r in results)
    db.session.expire_all()
    assert db.session.get(ShopOrder, order.id).status == "paid"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 1
    paid_events = db.session.scalar(sa.select(sa.func.count()).select_from(ShopOrderEvent)
                                    .where(ShopOrderEvent.to_status == "paid"))
    assert paid_events == 1
    run_jobs()
    from core.models import OutgoingEmail

    receipts = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.dedupe_key == f"shop-{order.id}-paid")).all()
    assert len(receipts) == 1


def test_two_refund_clicks_at_once_refund_once(app, client, db, shop, stripe_on, post_webhook, make_user, api_token):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 2), payment="card"))
    order = db.session.get(ShopOrder, r.get_json()["shop_order_id"])
    post_webhook("checkout.session.completed", stripe_on.complete_session(order.stripe_checkout_session_id))
    headers = api_token(make_user("provider", provider=shop["company"]))
    url = f"/api/v1/shop/orders/{order.id}/refund"
    db.session.commit()
    refund = {"amount_cents": 6000, "expected_refunded_cents": 0}
    results = run_together(app, [lambda c: c.post(url, json=refund, headers=headers)] * 2)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.get_json() for r in results]
    db.session.expire_all()
    order = db.session.get(ShopOrder, int(url.split("/")[-2]))
    assert order.refunded_cents == 6000
    assert stripe_on.refunded_total(order.stripe_payment_intent_id) == 6000
    assert len(stripe_on.calls("POST", "/v1/refunds")) == 1
