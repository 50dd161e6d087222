"""POST /api/v1/shop/checkout and GET /api/v1/shop/orders/{id}: prices with VAT and
the household-deduction amount, the guest's secret link, and every kind of bad input
refused with a clear message and nothing saved."""

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from marketplace.models import ShopOrder, ShopOrderItem
from tests import factories as f
from tests.integration.marketplace.conftest import BUYER, checkout_body

pytestmark = pytest.mark.smoke


def count(db, model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_guest_invoice_checkout_returns_totals_and_a_followable_link(client, db, shop):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 3), (shop["windows"].id, 1)))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    # 3 h × 45,00 + 1 visit × 89,90 = 224,90 € incl. VAT 25.5 %
    assert body["status"] == "pending_payment"
    assert body["total_cents"] == 22490
    assert body["vat_cents"] == round(13500 * 2550 / 12550) + round(8990 * 2550 / 12550) == 2743 + 1827
    # labour share: 80 % of 135,00 + 100 % of 89,90
    assert body["household_deduction_cents"] == 10800 + 8990
    assert body["payment"] == {"method": "invoice"}
    url = urlsplit(body["order_url"])
    assert url.scheme == "http" and url.netloc == "kotiapu.test" and url.path == f"/shop/orders/{body['shop_order_id']}"
    token = parse_qs(url.query)["token"][0]
    assert len(token) >= 40

    order = db.session.get(ShopOrder, body["shop_order_id"])
    assert order.access_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (order.access_token_hash or "")
    assert order.number.startswith("SH-") and order.buyer_user_id is None

    # The guest follows the purchase with the token from order_url, nobody else can.
    seen = client.get(f"/api/v1/shop/orders/{order.id}?token={token}")
    assert seen.status_code == 200
    got = seen.get_json()
    assert got["status"] == "pending_payment" and got["total_cents"] == 22490
    assert [i["quantity"] for i in got["items"]] == [3, 1] or sorted(i["quantity"] for i in got["items"]) == [1, 3]
    assert client.get(f"/api/v1/shop/orders/{order.id}").status_code == 404
    assert client.get(f"/api/v1/shop/orders/{order.id}?token={token[:-2]}xx").status_code == 404
    # The web page of order_url works too.
    page = client.get(body["order_url"].replace("http://kotiapu.test", "") + "&lang=en")
    assert page.status_code == 200 and order.number in page.get_data(as_text=True)


def test_the_provider_and_admin_see_the_purchase_others_get_404(client, db, shop, make_user, api_token):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)))
    order_id = r.get_json()["shop_order_id"]
    own = make_user("provider", provider=shop["company"])
    other = make_user("provider", provider=shop["ngo"])
    admin, staff, client_user = make_user("admin"), make_user("staff"), make_user("client")
    assert client.get(f"/api/v1/shop/orders/{order_id}", headers=api_token(own)).status_code == 200
    assert client.get(f"/api/v1/shop/orders/{order_id}", headers=api_token(admin)).status_code == 200
    for user in (other, staff, client_user):
        assert client.get(f"/api/v1/shop/orders/{order_id}", headers=api_token(user)).status_code == 404


def test_logged_in_client_buys_and_sees_own_purchase(client, db, shop, make_user, api_token):
    buyer = make_user("client")
    headers = api_token(buyer)
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 2)), headers=headers)
    assert r.status_code == 201
    order = db.session.get(ShopOrder, r.get_json()["shop_order_id"])
    assert order.buyer_user_id == buyer.id and order.client_id == buyer.client_id
    assert client.get(f"/api/v1/shop/orders/{order.id}", headers=headers).status_code == 200


@pytest.mark.parametrize("items,field", [
    ([{"offering_id": 999999, "quantity": 1}], "items[0].offering_id"),
    ([{"offering_id": "OFF", "quantity": 0}], "items[0].quantity"),
    ([{"offering_id": "OFF", "quantity": 101}], "items[0].quantity"),
    ([{"offering_id": "OFF", "quantity": 10**12}], "items[0].quantity"),
    ([{"offering_id": "OFF", "quantity": -1}], "items[0].quantity"),
    ([{"offering_id": "OFF", "quantity": 1.5}], "items[0].quantity"),
    ([{"offering_id": "OFF", "quantity": "2"}], "items[0].quantity"),
    ([{"offering_id": "OFF", "quantity": 60}, {"offering_id": "OFF", "quantity": 60}], "items[1].quantity"),
    ([], "items"),
    ("not a list", "items"),
])
def test_bad_items_are_refused_with_the_field_named(client, db, shop, items, field):
    if isinstance(items, list):
        items = [dict(i, offering_id=shop["offering"].id if i["offering_id"] == "OFF" else i["offering_id"]) for i in items]
    body = {"items": items, "buyer": BUYER, "payment": "invoice"}
    r = client.post("/api/v1/shop/checkout", json=body)
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert field in error["fields"], error
    assert count(db, ShopOrder) == 0


def test_unknown_offering_has_its_own_code(client, shop):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((987654, 1)))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "unknown_offering"


def test_offering_taken_off_sale_is_refused(client, db, shop):
    shop["offering"].active = False
    db.session.commit()
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "offering_unavailable"


def test_outside_service_area_is_refused_naming_the_postal_code(client, db, shop):
    body = checkout_body((shop["offering"].id, 1))
    body["buyer"]["postal_code"] = "33500"
    r = client.post("/api/v1/shop/checkout", json=body)
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "outside_service_area" and "33500" in error["message"]
    assert count(db, ShopOrder) == 0


def test_card_is_unavailable_without_stripe(client, db, shop):
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1), payment="card"))
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "card_unavailable" and "payment" in r.get_json()["error"]["fields"]
    assert count(db, ShopOrder) == 0


def test_a_cart_of_two_providers_is_refused(client, db, shop):
    body = checkout_body((shop["offering"].id, 1), (shop["meals"].id, 2))
    r = client.post("/api/v1/shop/checkout", json=body)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "multiple_providers"
    assert count(db, ShopOrder) == 0


@pytest.mark.parametrize("buyer,field", [
    ({"email": "not-an-email"}, "buyer.email"),
    ({"postal_code": "3310"}, "buyer.postal_code"),
    ({"name": ""}, "buyer.name"),
    ({"name": "x" * 201}, "buyer.name"),
])
def test_bad_buyer_details_are_refused(client, db, shop, buyer, field):
    body = checkout_body((shop["offering"].id, 1))
    body["buyer"].update(buyer)
    r = client.post("/api/v1/shop/checkout", json=body)
    assert r.status_code == 422 and field in r.get_json()["error"]["fields"]
    assert count(db, ShopOrder) == 0


def test_malformed_bodies(client, shop):
    assert client.post("/api/v1/shop/checkout", data="[1,2", content_type="application/json").status_code == 400
    r = client.post("/api/v1/shop/checkout", json={"items": [{"offering_id": shop["offering"].id, "quantity": 1}],
                                                   "buyer": "me", "payment": "cash"})
    assert r.status_code == 422
    assert {"buyer", "payment"} <= set(r.get_json()["error"]["fields"])


def test_tampered_or_stale_amounts_are_refused(client, db, shop):
    oid = shop["offering"].id
    # A client claiming a lower unit price than the current one.
    body = checkout_body((oid, 2))
    body["items"][0]["unit_price_cents"] = 100
    r = client.post("/api/v1/shop/checkout", json=body)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "price_mismatch"
    assert "items[0].unit_price_cents" in r.get_json()["error"]["fields"]
    # A total that is not what would be charged.
    r = client.post("/api/v1/shop/checkout", json=checkout_body((oid, 2), expected_total_cents=1))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "amount_mismatch"
    # A forged price quote.
    body = checkout_body((oid, 1))
    body["items"][0]["price_quote"] = "WzEsIDFd.forged.sig"
    r = client.post("/api/v1/shop/checkout", json=body)
    assert r.status_code == 422 and "items[0].price_quote" in r.get_json()["error"]["fields"]
    assert count(db, ShopOrder) == 0
    # The right amounts pass.
    body = checkout_body((oid, 2), expected_total_cents=9000)
    body["items"][0]["unit_price_cents"] = 4500
    assert client.post("/api/v1/shop/checkout", json=body).status_code == 201


def test_price_changed_after_it_was_shown_keeps_the_price_shown_and_says_so(client, db, shop):
    listed = client.get(f"/api/v1/offerings?service_type_id={shop['cleaning'].id}").get_json()["items"][0]
    assert listed["price_cents"] == 4500 and listed["price_quote"]
    shop["offering"].price_cents = 5200  # the provider raises the price meanwhile
    db.session.commit()
    body = checkout_body((shop["offering"].id, 2))
    body["items"][0]["price_quote"] = listed["price_quote"]
    r = client.post("/api/v1/shop/checkout", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert data["total_cents"] == 9000
    assert data["notices"] and "keeps the price shown" in data["notices"][0]
    item = db.session.scalar(sa.select(ShopOrderItem).where(ShopOrderItem.shop_order_id == data["shop_order_id"]))
    assert item.unit_price_cents == 4500
    # A quote of another offering is no good.
    body = checkout_body((shop["windows"].id, 1))
    body["items"][0]["price_quote"] = listed["price_quote"]
    assert client.post("/api/v1/shop/checkout", json=body).status_code == 422


def test_same_idempotency_key_makes_one_purchase(client, db, shop):
    headers = {"Idempotency-Key": "abc-123"}
    first = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)), headers=headers)
    again = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["shop_order_id"] == first.get_json()["shop_order_id"]
    assert again.get_json()["order_url"] == first.get_json()["order_url"]
    assert count(db, ShopOrder) == 1


def test_invoice_not_allowed_by_provider_when_card_is_possible(client, db, shop, stripe_on):
    shop["company"].allows_invoice = False
    db.session.commit()
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1)))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invoice_unavailable"


def test_invoice_is_the_way_without_stripe_even_if_the_provider_prefers_card(client, db, shop):
    shop["company"].allows_invoice = False
    db.session.commit()
    assert client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1))).status_code == 201


def test_relative_buys_for_the_client_they_act_for(client, db, shop, make_user, api_token):
    relative = make_user("client", client_id=None)
    mother = f.ClientFactory()
    f.ClientRepresentativeFactory(client_id=mother.id, user_id=relative.id)
    stranger = f.ClientFactory()
    db.session.commit()
    headers = api_token(relative)
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1), client_id=stranger.id),
                    headers=headers)
    assert r.status_code == 422 and "client_id" in r.get_json()["error"]["fields"]
    r = client.post("/api/v1/shop/checkout", json=checkout_body((shop["offering"].id, 1), client_id=mother.id),
                    headers=headers)
    assert r.status_code == 201
    assert db.session.get(ShopOrder, r.get_json()["shop_order_id"]).client_id == mother.id
