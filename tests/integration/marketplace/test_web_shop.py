"""The shop as a buyer and a provider use it in the browser: cart, checkout (guest
and logged in), the order page and receipt, the provider's purchases with their
actions, and the buyer's e-mails at each step."""

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from marketplace.models import ShopOrder
from tests import factories as f

pytestmark = pytest.mark.smoke

FORM = {"name": "Liisa Laine", "email": "liisa@example.fi", "phone": "040 222 3333", "address": "Satakunnankatu 5",
        "postal_code": "33100", "desired_date": "", "desired_time": "aamupäivä", "message": "Ovikoodi 1234",
        "payment": "invoice"}


def html(r):
    return r.get_data(as_text=True)


def add(client, offering, quantity=1):
    r = client.post("/cart/add", data={"offering_id": offering.id, "quantity": quantity, "next": "/services"})
    assert r.status_code == 302
    return r


def hidden(page, name):
    m = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return m.group(1) if m else None


def last_order(db) -> ShopOrder:
    db.session.expire_all()
    return db.session.scalars(sa.select(ShopOrder).order_by(ShopOrder.id.desc())).first()


def test_guest_orders_by_invoice_and_follows_the_order(client, db, shop, run_jobs):
    client.get("/?lang=en")
    add(client, shop["offering"], 2)
    add(client, shop["windows"], 1)
    cart = html(client.get("/cart"))
    assert "Kirkas Koti Oy" in cart
    assert "€179.90" in cart
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    assert "€179.90" in page
    assert 'value="invoice"' in page and 'value="card"' not in page  # without Stripe only invoice is offered
    data = dict(FORM, desired_date="2099-05-04", expected_total_cents=hidden(page, "expected_total_cents"),
                submission=hidden(page, "submission"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert r.status_code == 303, html(r)[:2000]
    order = last_order(db)
    assert order.total_cents == 17990 and order.payment_method == "invoice" and order.status == "pending_payment"
    assert order.desired_time == "2099-05-04 aamupäivä" and order.message == "Ovikoodi 1234"
    assert order.buyer_language == "en"
    location = r.headers["Location"]
    assert location.startswith(f"http://kotiapu.test/shop/orders/{order.id}?token=")
    # The cart no longer holds what was bought.
    assert "Your cart is empty" in html(client.get("/cart"))
    # The order confirmation shows VAT and the amount qualifying for the household deduction.
    page = html(client.get(urlsplit(location).path + "?" + urlsplit(location).query))
    assert "Order confirmation" in page and order.number in page
    assert "€36.56" in page  # VAT at 25.5 %: 18,29 + 18,27
    assert "€161.90" in page  # 80 % of 90,00 + 100 % of 89,90 qualifies
    assert "Business ID".lower() in page.lower()
    run_jobs()
    mails = db.session.scalars(sa.select(OutgoingEmail).order_by(OutgoingEmail.id)).all()
    buyer_mail = next(m for m in mails if m.to_address == "liisa@example.fi")
    assert "We received your order" in buyer_mail.subject and "/shop/orders/" in buyer_mail.body
    assert "€161.90" in buyer_mail.body and "€36.56" in buyer_mail.body
    assert any(m.to_address == shop["company"].email and "Uusi osto" in m.subject for m in mails)


def test_double_submit_makes_one_order(client, db, shop):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    data = dict(FORM, expected_total_cents=hidden(page, "expected_total_cents"), submission=hidden(page, "submission"))
    first = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    add(client, shop["offering"], 1)  # the same form sent again (e.g. a second click)
    second = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert first.status_code == 303 and second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopOrder)) == 1


def test_outside_area_is_shown_at_the_postal_code_field(client, db, shop):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    data = dict(FORM, postal_code="33500", expected_total_cents=hidden(page, "expected_total_cents"),
                submission=hidden(page, "submission"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert r.status_code == 422
    assert re.search(r'id="postal_code-error">[^<]*does not provide[^<]*33500', html(r))
    assert last_order(db) is None


def test_bad_checkout_form_is_a_422_with_errors_linked(client, db, shop):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=dict(FORM, email="nope", postal_code="12",
                                                                        desired_date="2001-01-01", payment="card"))
    assert r.status_code == 422
    page = html(r)
    assert 'class="error-summary"' in page and 'id="postal_code-error"' in page and 'id="desired_date-error"' in page
    assert last_order(db) is None


def test_price_change_between_cart_and_checkout_keeps_the_price_shown(client, db, shop):
    client.get("/?lang=en")
    add(client, shop["offering"], 2)
    shop["offering"].price_cents = 5000
    db.session.commit()
    cart = html(client.get("/cart"))
    assert "Price now €50.00" in cart and "keeps the price shown" in cart
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    data = dict(FORM, expected_total_cents=hidden(page, "expected_total_cents"), submission=hidden(page, "submission"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert r.status_code == 303
    order = last_order(db)
    assert order.total_cents == 9000 and order.items[0].unit_price_cents == 4500
    page = html(client.get(r.headers["Location"].replace("http://kotiapu.test", "")))
    assert "keeps the price shown" in page  # the order says so


def test_tampered_total_is_refused_and_the_new_total_shown(client, db, shop):
    client.get("/?lang=en")
    add(client, shop["offering"], 2)
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    data = dict(FORM, expected_total_cents="100", submission=hidden(page, "submission"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert r.status_code == 422 and "The total is now €90.00" in html(r)
    assert last_order(db) is None


def test_cart_with_two_providers_is_ordered_per_provider(client, db, shop):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    add(client, shop["meals"], 3)
    cart = html(client.get("/cart"))
    assert "2 providers" in cart
    assert f'/shop/checkout/{shop["company"].id}' in cart and f'/shop/checkout/{shop["ngo"].id}' in cart
    page = html(client.get(f"/shop/checkout/{shop['ngo'].id}"))
    assert "Meal delivery" in page and "Cleaning" not in page
    data = dict(FORM, postal_code="33500", expected_total_cents=hidden(page, "expected_total_cents"),
                submission=hidden(page, "submission"))
    assert client.post(f"/shop/checkout/{shop['ngo'].id}", data=data).status_code == 303
    cart = html(client.get("/cart"))
    assert "Cleaning" in cart and "Meal delivery" not in cart


def test_cart_quantity_bounds_and_removal(client, db, shop):
    client.get("/?lang=en")
    r = client.post("/cart/add", data={"offering_id": shop["offering"].id, "quantity": 0, "next": "/services"})
    assert "Cart (0)" in html(client.get("/services"))
    client.post("/cart/add", data={"offering_id": shop["offering"].id, "quantity": 1000, "next": "/services"})
    client.post("/cart/add", data={"offering_id": 999999, "quantity": 1, "next": "/services"})
    client.post("/cart/add", data={"offering_id": shop["offering"].id, "quantity": 2, "next": "https://evil.example/"})
    assert "Cart (2)" in html(client.get("/services"))
    client.post(f"/cart/{shop['offering'].id}", data={"quantity": 500})
    assert "Cart (2)" in html(client.get("/services"))
    client.post(f"/cart/{shop['offering'].id}", data={"quantity": 0})
    assert "Your cart is empty" in html(client.get("/cart"))
    assert r.status_code == 302


def test_logged_in_client_checks_out_with_details_prefilled(client, db, shop, make_user, login_as):
    aino = f.ClientFactory(address="Hallituskatu 3", postal_code="33200")
    user = make_user("client", client=aino, name="Aino Virtanen", email="aino@example.fi", language="en")
    login_as(user)
    add(client, shop["offering"], 1)
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    assert 'value="Aino Virtanen"' in page and 'value="Hallituskatu 3"' in page and 'value="33200"' in page
    data = dict(FORM, name="Aino Virtanen", email="aino@example.fi", postal_code="33200",
                expected_total_cents=hidden(page, "expected_total_cents"), submission=hidden(page, "submission"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert r.status_code == 303
    order = last_order(db)
    assert order.buyer_user_id == user.id and order.client_id == aino.id
    listing = html(client.get("/my/purchases"))
    assert order.number in listing
    assert client.get(f"/shop/orders/{order.id}").status_code == 200  # no token needed when logged in


def test_buyer_cancels_while_waiting_for_payment(client, db, shop, run_jobs):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=dict(
        FORM, expected_total_cents=hidden(page, "expected_total_cents"), submission=hidden(page, "submission")))
    location = r.headers["Location"].replace("http://kotiapu.test", "")
    order = last_order(db)
    token = location.split("token=")[1]
    assert client.post(f"/shop/orders/{order.id}/cancel").status_code == 404  # no token: not the buyer
    assert client.post(f"/shop/orders/{order.id}/cancel?token={token}", data={"confirmed": "yes"}).status_code == 302
    assert last_order(db).status == "cancelled"
    run_jobs()
    assert db.session.scalar(sa.select(OutgoingEmail).where(OutgoingEmail.dedupe_key == f"shop-{order.id}-cancelled"))


def make_invoice_order(client, db, shop):
    r = client.post("/api/v1/shop/checkout", json={
        "items": [{"offering_id": shop["offering"].id, "quantity": 2}],
        "buyer": {"name": "Pekka", "email": "pekka@example.fi", "postal_code": "33100"},
        "payment": "invoice", "language": "en", "desired_time": "ti 9-12"})
    assert r.status_code == 201
    return last_order(db)


def test_provider_confirms_time_fulfils_and_the_buyer_gets_the_feedback_link(client, db, shop, make_user, login_as, run_jobs):
    order = make_invoice_order(client, db, shop)
    login_as(make_user("provider", provider=shop["company"], language="en"))
    listing = html(client.get("/provider/purchases"))
    assert order.number in listing and "Pekka" in listing
    page = html(client.get(f"/provider/purchases/{order.id}"))
    assert "pekka@example.fi" in page and "ti 9-12" in page
    r = client.post(f"/provider/purchases/{order.id}/time", data={"time-confirmed_time": "Tue 12 May at 9–11"})
    assert r.status_code == 302
    assert last_order(db).confirmed_time == "Tue 12 May at 9–11"
    # Confirming the same time again sends nothing new; a new time does.
    client.post(f"/provider/purchases/{order.id}/time", data={"time-confirmed_time": "Tue 12 May at 9–11"})
    client.post(f"/provider/purchases/{order.id}/time", data={"time-confirmed_time": "Wed 13 May at 10"})
    r = client.post(f"/provider/purchases/{order.id}/fulfil", data={"note-note": "Done"})
    assert r.status_code == 302
    order = last_order(db)
    assert order.status == "fulfilled" and order.fulfilled_at is not None
    # The invoice is paid after delivery.
    client.post(f"/provider/purchases/{order.id}/paid")
    assert last_order(db).paid_at is not None and last_order(db).status == "fulfilled"
    run_jobs()
    mails = {m.dedupe_key: m for m in db.session.scalars(sa.select(OutgoingEmail).where(
        OutgoingEmail.to_address == "pekka@example.fi"))}
    assert sum(1 for k in mails if "-time_confirmed-" in k) == 2
    fulfilled = mails[f"shop-{order.id}-fulfilled"]
    assert "delivered" in fulfilled.subject
    from feedback.models import FeedbackLink

    link = db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.shop_order_id == order.id))
    assert link is not None and link.provider_id == shop["company"].id
    assert re.search(r"http://kotiapu\.test/\S*feedback/\S+", fulfilled.body), fulfilled.body


def test_provider_actions_refused_in_the_wrong_state(client, db, shop, make_user, login_as, stripe_on):
    r = client.post("/api/v1/shop/checkout", json={
        "items": [{"offering_id": shop["offering"].id, "quantity": 1}],
        "buyer": {"name": "Pekka", "email": "pekka@example.fi", "postal_code": "33100"}, "payment": "card"})
    order = last_order(db)
    login_as(make_user("provider", provider=shop["company"], language="en"))
    r = client.post(f"/provider/purchases/{order.id}/fulfil", data={})
    assert r.status_code == 302
    assert "card payment has not arrived" in html(client.get(f"/provider/purchases/{order.id}"))
    assert last_order(db).status == "pending_payment"
    client.post(f"/provider/purchases/{order.id}/paid")
    assert last_order(db).status == "pending_payment"  # card purchases are never marked paid by hand


def test_provider_sees_only_its_own_purchases(client, db, shop, make_user, login_as):
    order = make_invoice_order(client, db, shop)
    login_as(make_user("provider", provider=shop["ngo"], language="en"))
    assert order.number not in html(client.get("/provider/purchases"))
    assert client.get(f"/provider/purchases/{order.id}").status_code == 404
    assert client.post(f"/provider/purchases/{order.id}/fulfil").status_code == 404
    assert client.get(f"/shop/orders/{order.id}").status_code == 404


def test_provider_view_of_a_clients_purchase_is_access_logged(client, db, shop, make_user, login_as):
    from core.models import AccessLogEntry

    aino = f.ClientFactory()
    buyer = make_user("client", client=aino)
    order = f.ShopOrderFactory(provider=shop["company"], client_id=aino.id, buyer_user_id=buyer.id)
    db.session.commit()
    provider_user = make_user("provider", provider=shop["company"])
    login_as(provider_user)
    assert client.get(f"/provider/purchases/{order.id}").status_code == 200
    db.session.expire_all()
    entry = db.session.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == aino.id))
    assert entry is not None and entry.actor_id == provider_user.id and order.number in entry.what


def test_card_checkout_on_the_web_redirects_to_stripe(client, db, shop, stripe_on, post_webhook):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    assert 'value="card"' in page and 'value="invoice"' in page
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=dict(
        FORM, payment="card", expected_total_cents=hidden(page, "expected_total_cents"),
        submission=hidden(page, "submission")))
    assert r.status_code == 303 and r.headers["Location"].startswith("https://checkout.stripe.com/")
    order = last_order(db)
    # The buyer comes back by the cancel URL: the order waits, with a Pay button that resumes the session.
    cancel_url = stripe_on.calls("POST", "/v1/checkout/sessions")[0].params["cancel_url"]
    page = html(client.get(cancel_url.replace("http://kotiapu.test", "")))
    assert "You left the payment page" in page and "Pay now" in page
    token = cancel_url.split("token=")[1].split("&")[0]
    r = client.post(f"/shop/orders/{order.id}/pay?token={token}")
    assert r.status_code == 303 and r.headers["Location"] == stripe_on.sessions[order.stripe_checkout_session_id]["url"]
    post_webhook("checkout.session.completed", stripe_on.complete_session(order.stripe_checkout_session_id))
    page = html(client.get(f"/shop/orders/{order.id}?token={token}"))
    assert "Receipt" in page and "Paid" in page


def test_shop_pages_have_no_inline_script(client, db, shop, make_user, login_as):
    client.get("/?lang=en")
    add(client, shop["offering"], 1)
    pages = ["/services", f"/services/providers/{shop['company'].id}", "/cart", f"/shop/checkout/{shop['company'].id}"]
    for path in pages:
        page = html(client.get(path))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"\son[a-z]+=", page), path
        assert 'name="viewport"' in page
