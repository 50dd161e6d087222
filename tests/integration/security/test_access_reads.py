"""Every read of client data is logged (issue 16, point 5): the staff dashboard's
client names, the provider's purchase list with buyers' names, a client's own
purchase page; and a winning provider stops seeing the client's identity
PROVIDER_IDENTITY_DAYS after the order was closed or cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from tests import factories

pytestmark = pytest.mark.smoke


def _rows(db, client_id, what):
    from core.models import AccessLogEntry

    db.session.expire_all()
    return db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == client_id,
                                                              AccessLogEntry.what.like(f"%{what}%"))).all()


def test_staff_dashboard_logs_the_clients_it_names(client, db, make_user, login_as):
    staff = make_user("staff")
    order = factories.ServiceOrderFactory(ordered_by_id=staff.id, status="escalated")
    login_as(staff)
    page = client.get("/dashboard").get_data(as_text=True)
    assert order.client.last_name in page
    rows = _rows(db, order.client_id, "dashboard")
    assert len(rows) == 1 and rows[0].actor_id == staff.id


def test_provider_purchase_list_logs_client_buyers(client, db, make_user, login_as):
    seller = make_user("provider")
    buyer = factories.ClientFactory()
    purchase = factories.ShopOrderFactory(provider=_provider(db, seller), client_id=buyer.id, buyer_name="Aino Virtanen")
    login_as(seller)
    page = client.get("/provider/purchases").get_data(as_text=True)
    assert purchase.number in page
    rows = _rows(db, buyer.id, "purchase list")
    assert len(rows) == 1 and rows[0].actor_id == seller.id


def test_clients_own_purchase_page_is_logged(client, db, make_user, login_as):
    me = make_user("client")
    purchase = factories.ShopOrderFactory(client_id=me.client_id, buyer_user_id=me.id, buyer_name="Aino Virtanen")
    login_as(me)
    r = client.get(f"/shop/orders/{purchase.id}")
    assert r.status_code == 200 and "Aino Virtanen" in r.get_data(as_text=True)
    rows = _rows(db, me.client_id, "name and address")
    assert len(rows) == 1 and rows[0].purpose == "the client viewing their own data"


@pytest.mark.parametrize(("status", "days_ago", "setting", "sees"), [
    ("closed", 10, None, True), ("closed", 31, None, False), ("cancelled", 31, None, False),
    ("closed", 10, 5, False), ("accepted", 400, None, True),
])
def test_winner_identity_ends_after_closing(app, client, db, make_user, login_as, status, days_ago, setting, sees):
    if setting is not None:
        app.config["PROVIDER_IDENTITY_DAYS"] = setting
    provider_user = make_user("provider")
    at = utcnow() - timedelta(days=days_ago)
    order = factories.ServiceOrderFactory(status=status, provider=_provider(db, provider_user),
                                          closed_at=at if status == "closed" else None,
                                          cancelled_at=at if status == "cancelled" else None)
    factories.OfferFactory(order=order, provider=_provider(db, provider_user), status="accepted")
    login_as(provider_user)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert (order.client.first_name in page) == sees
    assert bool(_rows(db, order.client_id, order.number)) == sees
    r = client.get(f"/api/v1/orders/{order.id}", headers=_token(client, provider_user))
    assert ("first_name" in r.get_json()["client"]) == sees


def _token(client, user):
    from tests.fixtures import PASSWORD

    r = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _provider(db, user):
    from providers.models import Provider

    return db.session.get(Provider, user.provider_id)
