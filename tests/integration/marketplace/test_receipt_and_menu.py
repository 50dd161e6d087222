"""Issue 13, point 7 (the shop side): "My purchases" is in the client's menu; the
cart and the checkout do not tell the buyer to keep a receipt before anything is
bought; the receipt of a paid purchase does."""

from __future__ import annotations

import re

import pytest

from tests import factories as f

pytestmark = pytest.mark.smoke

KEEP = "Keep this receipt."


def test_my_purchases_is_in_the_clients_menu(client, db, make_user, login_as):
    me = make_user("client")
    db.session.commit()
    login_as(me)
    page = client.get("/dashboard?lang=en").get_data(as_text=True)
    nav = page[page.index('class="main-nav"'):]
    nav = nav[:nav.index("</nav>")]
    assert 'href="/my/purchases"' in nav and "My purchases" in nav


def test_no_keep_this_receipt_before_anything_is_bought(client, db, shop):
    client.get("/?lang=en")
    client.post("/cart/add", data={"offering_id": shop["offering"].id, "quantity": 2, "next": "/services"})
    cart = client.get("/cart").get_data(as_text=True)
    assert "household tax deduction" in cart and KEEP not in cart
    assert "After the purchase you get a receipt for it." in cart
    checkout = client.get(f"/shop/checkout/{shop['company'].id}").get_data(as_text=True)
    assert KEEP not in checkout
    # Bought: the purchase gets its number at once, never the "tmp-" placeholder.
    data = {"name": "Liisa Laine", "email": "liisa@example.fi", "phone": "040 222 3333",
            "address": "Satakunnankatu 5", "postal_code": "33100", "desired_date": "2099-05-04",
            "desired_time": "aamupäivä", "message": "", "payment": "invoice",
            "expected_total_cents": _hidden(checkout, "expected_total_cents"),
            "submission": _hidden(checkout, "submission")}
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert re.search(r"SH-\d{4}-\d{6}", page) and "tmp-" not in page


def _hidden(page, name):
    m = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return m.group(1) if m else None


def test_the_paid_purchase_says_keep_this_receipt(client, db, shop, make_user, login_as):
    me = make_user("client")
    order = f.ShopOrderFactory(provider=shop["company"], status="paid", buyer_user_id=me.id, client_id=me.client_id,
                               total_cents=9000, household_deduction_cents=7200)
    db.session.commit()
    login_as(me)
    page = client.get(f"/shop/orders/{order.id}?lang=en").get_data(as_text=True)
    assert KEEP in page and not order.number.startswith("tmp-")
