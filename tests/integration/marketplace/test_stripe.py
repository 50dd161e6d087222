"""Card payments through Stripe Checkout + Connect against the local Stripe test
double: what is sent to Stripe, the signed webhook (valid, bad signature, stale,
repeated, out of order), the buyer's return, refunds, Connect onboarding, and that
nothing is ever charged or refunded twice."""

import json
import time

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from marketplace.models import ShopOrder, ShopOrderEvent, StripeEvent
from tests.integration.marketplace.conftest import checkout_body

pytestmark = pytest.mark.smoke


def card_checkout(client, shop, *items, headers=None):
    items = items or ((shop["offering"].id, 2),)
    r = client.post("/api/v1/shop/checkout", json=checkout_body(*items, payment="card"), headers=headers or {})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def reload(db, order_id) -> ShopOrder:
    db.session.expire_all()
    return db.session.get(ShopOrder, order_id)


def test_card_checkout_creates_one_destination_charge_session(client, db, shop, stripe_on):
    body = card_checkout(client, shop)
    assert body["payment"]["method"] == "card"
    assert body["payment"]["checkout_url"].startswith("https://checkout.stripe.com/")
    calls = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 1
    sent = calls[0]
    p = sent.params
    assert p["mode"] == "payment"
    assert p["line_items"][0]["price_data"]["unit_amount"] == "4500" and p["line_items"][0]["quantity"] == "2"
    assert p["line_items"][0]["price_data"]["currency"] == "eur"
    assert p["payment_intent_data"]["application_fee_amount"] == "450"  # 5 % of 90,00 €
    assert p["payment_intent_data"]["transfer_data"]["destination"] == "acct_ok_kirkas"
    assert p["metadata"]["shop_order_id"] == str(body["shop_order_id"])
    assert p["success_url"].startswith("http://kotiapu.test/shop/orders/") and "token=" in p["success_url"]
    assert p["cancel_url"].startswith("http://kotiapu.test/")
    assert sent.idempotency_key.startswith(f"checkout-{body['shop_order_id']}-")
    order = reload(db, body["shop_order_id"])
    assert order.stripe_checkout_session_id == next(iter(stripe_on.sessions))
    assert order.status == "pending_payment" and order.platform_fee_cents == 450


def test_provider_without_connected_account_takes_no_card(client, db, shop, stripe_on):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["meals"].id, 1), payment="card",
                                                                buyer=dict(checkout_body()["buyer"], postal_code="33500")))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "card_unavailable"
    assert stripe_on.calls("POST", "/v1/checkout/sessions") == []


def test_stripe_down_saves_nothing(client, db, shop, stripe_on):
    stripe_on.fail_next("/v1/checkout/sessions", 500, times=10)
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1), payment="card"))
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "payment_unavailable"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopOrder)) == 0
    tried = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert len(tried) >= 2 and len({c.idempotency_key for c in tried}) == 1  # retried with the same key


def test_a_retry_after_a_lost_answer_creates_no_second_session(client, db, shop, stripe_on):
    stripe_on.fail_next("/v1/checkout/sessions", 500, times=1)
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1), payment="card"))
    assert r.status_code == 201
    assert len(stripe_on.sessions) == 1


def test_stripe_refusing_the_session_is_a_clear_422(client, db, shop, stripe_on):
    shop["company"].stripe_account_id = "acct_gone"
    db.session.commit()
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1), payment="card"))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "card_unavailable"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopOrder)) == 0


def test_completed_webhook_marks_paid_once_and_emails(client, db, shop, stripe_on, post_webhook, run_jobs):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id)
    r = post_webhook("checkout.session.completed", session, event_id="evt_paid_1")
    assert r.status_code == 200 and r.get_json()["result"] == "applied"
    order = reload(db, order.id)
    assert order.status == "paid" and order.paid_at is not None
    assert order.stripe_payment_intent_id == session["payment_intent"]
    # Stripe delivers the same event again: nothing more happens.
    again = post_webhook("checkout.session.completed", session, event_id="evt_paid_1")
    assert again.status_code == 200 and again.get_json()["result"] == "duplicate"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 1
    events = db.session.scalars(sa.select(ShopOrderEvent).where(ShopOrderEvent.to_status == "paid")).all()
    assert len(events) == 1
    run_jobs()
    mails = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == "matti@example.fi")).all()
    subjects = sorted(m.subject for m in mails)
    assert len(mails) == 2, subjects  # received + paid (receipt), each once
    receipt = next(m for m in mails if m.dedupe_key.endswith("-paid"))
    assert "90,00" in receipt.body and "18,29" in receipt.body  # total and VAT (25.5 %) on the receipt
    assert "token=" in receipt.body
    provider_mail = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == shop["company"].email)).all()
    assert len(provider_mail) == 1


@pytest.mark.parametrize("header", [
    lambda body: f"t={int(time.time())},v1={'0' * 64}",          # wrong signature
    lambda body: "",                                               # none
    lambda body: "garbage",
])
def test_unsigned_or_badly_signed_webhooks_are_refused(client, db, shop, stripe_on, header):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id)
    payload = json.dumps({"id": "evt_x", "type": "checkout.session.completed", "data": {"object": session}})
    r = client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": header(payload)},
                    content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"]
    assert reload(db, order.id).status == "pending_payment"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 0


def test_webhook_signed_with_another_secret_or_stale_is_refused(client, db, shop, stripe_on, post_webhook):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id)
    assert post_webhook("checkout.session.completed", session, secret="whsec_other").status_code == 400
    stale = post_webhook("checkout.session.completed", session, timestamp=int(time.time()) - 3600)
    assert stale.status_code == 400
    assert reload(db, order.id).status == "pending_payment"
    # The same event, freshly signed, is accepted.
    assert post_webhook("checkout.session.completed", session).status_code == 200
    assert reload(db, order.id).status == "paid"


def test_webhook_csrf_exempt_even_when_csrf_is_on(client, db, shop, stripe_on, post_webhook, app):
    app.config["WTF_CSRF_ENABLED"] = True
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id)
    assert post_webhook("checkout.session.completed", session).status_code == 200


def test_out_of_order_expired_after_completed_changes_nothing(client, db, shop, stripe_on, post_webhook):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    completed = stripe_on.complete_session(order.stripe_checkout_session_id)
    expired = dict(completed, status="expired")
    assert post_webhook("checkout.session.completed", completed, created=int(time.time())).status_code == 200
    assert post_webhook("checkout.session.expired", expired, created=int(time.time()) - 60).get_json()["result"] == "no_change"
    assert reload(db, order.id).status == "paid"


def test_async_payment_succeeded_before_completed(client, db, shop, stripe_on, post_webhook):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    pending = stripe_on.complete_session(order.stripe_checkout_session_id, payment_status="unpaid")
    paid = dict(pending, payment_status="paid")
    assert post_webhook("checkout.session.async_payment_succeeded", paid).get_json()["result"] == "applied"
    assert post_webhook("checkout.session.completed", pending).get_json()["result"] == "waiting"
    assert reload(db, order.id).status == "paid"


def test_completed_without_payment_then_failure_releases(client, db, shop, stripe_on, post_webhook, run_jobs):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    pending = stripe_on.complete_session(order.stripe_checkout_session_id, payment_status="unpaid")
    assert post_webhook("checkout.session.completed", pending).get_json()["result"] == "waiting"
    assert reload(db, order.id).status == "pending_payment"
    assert post_webhook("checkout.session.async_payment_failed", pending).get_json()["result"] == "applied"
    order = reload(db, order.id)
    assert order.status == "cancelled" and order.cancelled_at is not None
    run_jobs()
    assert db.session.scalar(sa.select(OutgoingEmail).where(OutgoingEmail.dedupe_key == f"shop-{order.id}-released"))


def test_expiry_releases_the_purchase(client, db, shop, stripe_on, post_webhook):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    expired = stripe_on.expire_session(order.stripe_checkout_session_id)
    assert post_webhook("checkout.session.expired", expired).get_json()["result"] == "applied"
    assert reload(db, order.id).status == "cancelled"


def test_paid_amount_not_matching_is_not_marked_paid(client, db, shop, stripe_on, post_webhook):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id, amount_total=100)
    assert post_webhook("checkout.session.completed", session).get_json()["result"] == "amount_mismatch"
    assert reload(db, order.id).status == "pending_payment"


def test_event_for_another_session_or_tampered_metadata_is_ignored(client, db, shop, stripe_on, post_webhook):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id)
    other = dict(session, id="cs_test_unknown")
    assert post_webhook("checkout.session.completed", other).get_json()["result"] == "unknown_purchase"
    tampered = dict(session, metadata={"shop_order_id": "999"})
    assert post_webhook("checkout.session.completed", tampered).get_json()["result"] == "unknown_purchase"
    assert reload(db, order.id).status == "pending_payment"
    assert post_webhook("account.updated", {"id": "acct_x", "object": "account"}).get_json()["result"] == "ignored"


def test_return_from_stripe_alone_marks_nothing_paid(client, db, shop, stripe_on):
    body = card_checkout(client, shop)
    order = reload(db, body["shop_order_id"])
    success_url = stripe_on.calls("POST", "/v1/checkout/sessions")[0].params["success_url"]
    path = success_url.replace("http://kotiapu.test", "")
    # The buyer (or anyone with the link) opens the success URL without paying.
    r = client.get(path + "&session_id=cs_fake&lang=en")
    assert r.status_code == 302
    assert reload(db, order.id).status == "pending_payment"
    # After paying, the return asks Stripe itself and marks the purchase paid.
    stripe_on.complete_session(order.stripe_checkout_session_id)
    client.get(path)
    assert reload(db, order.id).status == "paid"
    assert stripe_on.calls("GET", f"/v1/checkout/sessions/{order.stripe_checkout_session_id}")


def test_stale_sweep_settles_purchases_whose_webhook_never_came(client, db, shop, stripe_on, app):
    from datetime import timedelta

    from marketplace.jobs import sync_stale_checkouts

    paid = reload(db, card_checkout(client, shop)["shop_order_id"])
    gone = reload(db, card_checkout(client, shop)["shop_order_id"])
    fresh = reload(db, card_checkout(client, shop)["shop_order_id"])
    stripe_on.complete_session(paid.stripe_checkout_session_id)
    stripe_on.expire_session(gone.stripe_checkout_session_id)
    for o in (paid, gone):
        o.created_at = o.created_at - timedelta(hours=3)
    db.session.commit()
    assert sync_stale_checkouts() == 2
    db.session.commit()
    assert reload(db, paid.id).status == "paid"
    assert reload(db, gone.id).status == "cancelled"
    assert reload(db, fresh.id).status == "pending_payment"


def paid_order(client, db, shop, stripe_on, post_webhook, quantity=2):
    body = card_checkout(client, shop, (shop["offering"].id, quantity))
    order = reload(db, body["shop_order_id"])
    post_webhook("checkout.session.completed", stripe_on.complete_session(order.stripe_checkout_session_id))
    return reload(db, order.id)


def test_partial_then_full_refund_through_stripe(client, db, shop, stripe_on, post_webhook, make_user, api_token, run_jobs):
    order = paid_order(client, db, shop, stripe_on, post_webhook)
    headers = api_token(make_user("provider", provider=shop["company"]))
    r = client.post(f"/api/v1/shop/orders/{order.id}/refund", json={"amount_cents": 2000, "reason": "Shorter visit"},
                    headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "paid" and r.get_json()["refunded_cents"] == 2000
    refund_call = stripe_on.calls("POST", "/v1/refunds")[-1]
    assert refund_call.params["amount"] == "2000"
    assert refund_call.params["payment_intent"] == order.stripe_payment_intent_id
    assert refund_call.params["reverse_transfer"] == "true" and refund_call.params["refund_application_fee"] == "true"
    assert refund_call.idempotency_key == f"refund-{order.id}-0-2000"
    # More than what is left is refused, and Stripe is not asked.
    r = client.post(f"/api/v1/shop/orders/{order.id}/refund", json={"amount_cents": 7001}, headers=headers)
    assert r.status_code == 422 and "amount_cents" in r.get_json()["error"]["fields"]
    # A repeated click with the amount already refunded seen as 0 is refused (409).
    r = client.post(f"/api/v1/shop/orders/{order.id}/refund", json={"amount_cents": 2000, "expected_refunded_cents": 0},
                    headers=headers)
    assert r.status_code == 409
    assert len(stripe_on.calls("POST", "/v1/refunds")) == 1
    r = client.post(f"/api/v1/shop/orders/{order.id}/refund", json={"amount_cents": 7000}, headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "refunded"
    assert stripe_on.refunded_total(order.stripe_payment_intent_id) == 9000
    assert client.post(f"/api/v1/shop/orders/{order.id}/refund", json={"amount_cents": 1},
                       headers=headers).status_code == 409
    run_jobs()
    refunds = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.dedupe_key.like(f"shop-{order.id}-refunded-%"))).all()
    assert len(refunds) == 2


def test_stripe_refusing_a_refund_rolls_the_claim_back(client, db, shop, stripe_on, post_webhook, make_user, api_token):
    order = paid_order(client, db, shop, stripe_on, post_webhook)
    headers = api_token(make_user("provider", provider=shop["company"]))
    stripe_on.fail_next("/v1/refunds", 400, "charge disputed", "invalid_request_error")
    r = client.post(f"/api/v1/shop/orders/{order.id}/refund", json={"amount_cents": 1000}, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "refund_refused"
    assert reload(db, order.id).refunded_cents == 0


def test_provider_cancels_a_paid_purchase_refunding_it_in_full(client, db, shop, stripe_on, post_webhook, make_user, api_token):
    order = paid_order(client, db, shop, stripe_on, post_webhook)
    headers = api_token(make_user("provider", provider=shop["company"]))
    r = client.post(f"/api/v1/shop/orders/{order.id}/cancel", json={"reason": "Ill"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "refunded"
    assert stripe_on.refunded_total(order.stripe_payment_intent_id) == order.total_cents
    # Another org's member cannot touch it.
    other = api_token(make_user("provider", provider=shop["ngo"]))
    assert client.post(f"/api/v1/shop/orders/{order.id}/cancel", json={}, headers=other).status_code == 404


def test_cancel_before_payment_ends_the_checkout_session(client, db, shop, stripe_on, make_user, api_token):
    order = reload(db, card_checkout(client, shop)["shop_order_id"])
    headers = api_token(make_user("provider", provider=shop["company"]))
    r = client.post(f"/api/v1/shop/orders/{order.id}/cancel", json={}, headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert stripe_on.sessions[order.stripe_checkout_session_id]["status"] == "expired"


def test_payment_arriving_after_cancellation_is_refunded_at_once(client, db, shop, stripe_on, post_webhook):
    order = reload(db, card_checkout(client, shop)["shop_order_id"])
    session = stripe_on.complete_session(order.stripe_checkout_session_id)
    order.status = "cancelled"  # cancelled by the platform at the very moment the buyer paid
    db.session.commit()
    r = post_webhook("checkout.session.completed", session)
    assert r.get_json()["result"] == "refunded_late_payment"
    order = reload(db, order.id)
    assert order.status == "refunded" and order.refunded_cents == order.total_cents
    assert stripe_on.refunded_total(session["payment_intent"]) == order.total_cents


def test_charge_refunded_events_in_any_order(client, db, shop, stripe_on, post_webhook):
    order = paid_order(client, db, shop, stripe_on, post_webhook)
    pi = order.stripe_payment_intent_id
    later = {"id": "ch_1", "object": "charge", "payment_intent": pi, "amount_refunded": 9000}
    earlier = {"id": "ch_1", "object": "charge", "payment_intent": pi, "amount_refunded": 3000}
    assert post_webhook("charge.refunded", later).get_json()["result"] == "applied"
    assert post_webhook("charge.refunded", earlier).get_json()["result"] == "no_change"
    order = reload(db, order.id)
    assert order.status == "refunded" and order.refunded_cents == 9000


def test_connect_onboarding_creates_the_account_once(client, db, shop, stripe_on, make_user, login_as):
    provider = shop["ngo"]
    admin = make_user("provider", provider=provider, language="en")
    login_as(admin)
    r = client.post("/provider/payments/onboard")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "https://connect.stripe.com/setup/e/" in html
    db.session.expire_all()
    account_id = db.session.get(type(provider), provider.id).stripe_account_id
    assert account_id and account_id in stripe_on.accounts
    sent = stripe_on.calls("POST", "/v1/accounts")[0]
    assert sent.params["type"] == "express" and sent.idempotency_key == f"account-{provider.id}"
    link = stripe_on.calls("POST", "/v1/account_links")[0].params
    assert link["type"] == "account_onboarding" and link["return_url"].startswith("http://kotiapu.test/")
    client.post("/provider/payments/onboard")
    assert len(stripe_on.calls("POST", "/v1/accounts")) == 1
    assert len(stripe_on.calls("POST", "/v1/account_links")) == 2
    # A worker of the organisation may not.
    client.post("/logout")
    login_as(make_user("provider", provider=provider, provider_role="worker", language="en"))
    r = client.post("/provider/payments/onboard")
    assert r.status_code == 302


def test_no_test_talks_to_real_stripe(app, stripe_on):
    assert app.config["STRIPE_API_BASE"].startswith("http://127.0.0.1:")
