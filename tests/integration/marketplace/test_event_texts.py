"""What the system writes on a purchase's history is a message code, shown in the
reader's language (issue 20 point 1): the seller's purchase page and the buyer's
order page in Finnish and Swedish show the same events in their own language, and
what a person wrote (a refund's reason) stays as written."""

import re

import pytest
import sqlalchemy as sa

from marketplace import lifecycle
from marketplace.models import ShopOrder, ShopOrderEvent
from tests.integration.marketplace.test_web_shop import (
    FORM,
    add,
    hidden,
    html,
    last_order,
)

pytestmark = pytest.mark.smoke

NBSP = "\u00a0"


def history(page: str) -> str:
    """The text of the purchase's history list, tags dropped, spaces squeezed."""
    match = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.DOTALL)
    assert match, page[:2000]
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_the_seller_and_the_buyer_read_the_events_in_their_own_language(client, db, shop, make_user, login_as):
    r = client.post("/api/v1/shop/checkout", json={
        "items": [{"offering_id": shop["offering"].id, "quantity": 2}],
        "buyer": {"name": "Pekka", "email": "pekka@example.fi", "postal_code": "33100"},
        "payment": "invoice", "language": "en"})
    assert r.status_code == 201
    order_path = r.get_json()["order_url"].replace("http://kotiapu.test", "")
    order = db.session.get(ShopOrder, r.get_json()["shop_order_id"])
    # A Finnish-speaking seller does the steps; the English buyer and a Swedish-speaking
    # colleague read them.
    finn = make_user("provider", provider=shop["company"], language="fi")
    lifecycle.confirm_time(finn, order, "ti 12.5. klo 9–11")
    lifecycle.mark_invoice_paid(finn, order)
    lifecycle.refund(finn, order, 1000, "Käynti jäi lyhyemmäksi.")
    db.session.commit()

    events = db.session.scalars(sa.select(ShopOrderEvent).where(ShopOrderEvent.shop_order_id == order.id)
                                .order_by(ShopOrderEvent.id)).all()
    assert [(e.code, e.params, e.note) for e in events[1:]] == [
        ("shop.time_confirmed", {"time": "ti 12.5. klo 9–11"}, None),
        ("shop.invoice_paid", {}, None),
        ("shop.refunded", {"amount": 1000}, "Käynti jäi lyhyemmäksi."),
    ]

    login_as(make_user("provider", provider=shop["company"], language="sv"))
    swedish = history(html(client.get(f"/provider/purchases/{order.id}")))
    assert "Tiden bekräftad: ti 12.5. klo 9–11" in swedish
    assert "Fakturan betald." in swedish
    assert f"Återbetalat 10,00{NBSP}€. Käynti jäi lyhyemmäksi." in swedish
    finnish = history(html(client.get(f"/provider/purchases/{order.id}?lang=fi")))
    assert "Aika vahvistettu: ti 12.5. klo 9–11" in finnish
    assert "Lasku maksettu." in finnish
    assert f"Hyvitetty 10,00{NBSP}€. Käynti jäi lyhyemmäksi." in finnish
    for text in (swedish, finnish):
        assert "Invoice paid" not in text and "Refunded" not in text and "Time confirmed" not in text

    buyer_sv = history(html(client.get(order_path + "&lang=sv")))
    assert "Fakturan betald." in buyer_sv and f"Återbetalat 10,00{NBSP}€." in buyer_sv
    buyer_fi = history(html(client.get(order_path + "&lang=fi")))
    assert "Lasku maksettu." in buyer_fi and f"Hyvitetty 10,00{NBSP}€." in buyer_fi
    buyer_en = history(html(client.get(order_path + "&lang=en")))
    assert "Invoice paid." in buyer_en and "Refunded €10.00." in buyer_en


def test_a_price_change_at_checkout_is_shown_in_the_readers_language(client, db, shop):
    client.get("/?lang=fi")
    add(client, shop["offering"], 2)
    shop["offering"].price_cents = 5000
    db.session.commit()
    page = html(client.get(f"/shop/checkout/{shop['company'].id}"))
    data = dict(FORM, expected_total_cents=hidden(page, "expected_total_cents"), submission=hidden(page, "submission"))
    r = client.post(f"/shop/checkout/{shop['company'].id}", data=data)
    assert r.status_code == 303
    order = last_order(db)
    first = db.session.scalars(sa.select(ShopOrderEvent).where(ShopOrderEvent.shop_order_id == order.id)).first()
    assert (first.code, first.params) == ("shop.price_rose", {"service": shop["cleaning"].id, "old": 4500, "new": 5000})
    path = r.headers["Location"].replace("http://kotiapu.test", "")
    finnish = history(html(client.get(path + "&lang=fi")))
    assert f"Palvelun Siivous hinta oli tilaushetkellä noussut: ennen 45,00{NBSP}€, nyt 50,00{NBSP}€." in finnish
    swedish = history(html(client.get(path + "&lang=sv")))
    assert f"hade stigit från 45,00{NBSP}€ till 50,00{NBSP}€" in swedish
    english = history(html(client.get(path + "&lang=en")))
    assert "The price of Cleaning had risen from €45.00 to €50.00" in english
