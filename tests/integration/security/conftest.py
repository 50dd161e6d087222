"""The demo data as the world of the security tests: real organisations with an
administrator and a worker, clients, orders and purchases in every state; and one
logged-in test client per subject (anonymous, each platform role, the
administrator and the worker of one organisation, the administrator of another)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from demo import DEMO_PASSWORD, load_demo
from demo.base import DOMAIN

# subject -> the demo login (None: anonymous)
SUBJECTS = {
    "anonymous": None,
    "admin": f"admin@{DOMAIN}",
    "staff": f"ohjaaja1@{DOMAIN}",
    "manager": f"johtaja@{DOMAIN}",
    "org_admin": f"tilaukset@hyvaarki.{DOMAIN}",   # organisation A, its administrator
    "org_worker": f"tyontekija@hyvaarki.{DOMAIN}",  # organisation A, a worker
    "other_org": f"tilaukset@kirkaskoti.{DOMAIN}",  # organisation B, its administrator
    "agency": f"tilaukset@hoivarekry.{DOMAIN}",     # a staffing agency's administrator
    "client": f"asiakas@{DOMAIN}",
}


@pytest.fixture
def demo_world(app, db):
    """The demo data, committed; returns the user ids by subject."""
    from accounts.models import User

    load_demo()
    db.session.commit()
    users = {name: db.session.scalar(sa.select(User).where(User.email == email))
             for name, email in SUBJECTS.items() if email}
    return users


@pytest.fixture
def subject_clients(app, demo_world):
    """One test client per subject, logged in through the login form."""
    clients = {}
    for name, email in SUBJECTS.items():
        c = app.test_client()
        if email:
            r = c.post("/login", data={"email": email, "password": DEMO_PASSWORD})
            assert r.status_code == 302, (name, r.status_code)
            r = c.post("/api/v1/tokens", json={"email": email, "password": DEMO_PASSWORD})
            assert r.status_code == 201, (name, r.status_code)
            # The API authenticates with the bearer token, the web with the session.
            c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
        clients[name] = c
    return clients


@pytest.fixture
def org_a_ids(app, demo_world, db):
    """Ids of rows that belong to organisation A (the org_admin's and org_worker's):
    an offering, a service order it won and is serving (and its client), a purchase
    from it. Keys are a path parameter's name, or (endpoint, name) where one name
    means different rows (``order_id``: service orders and purchases)."""
    from catalogue.models import Offering
    from marketplace.models import ShopOrder
    from orders.models import ServiceOrder

    provider_id = demo_world["org_admin"].provider_id
    offering = db.session.scalar(sa.select(Offering.id).where(Offering.provider_id == provider_id).limit(1))
    order = db.session.scalars(sa.select(ServiceOrder).where(
        ServiceOrder.provider_id == provider_id, ServiceOrder.status.in_(["accepted", "in_progress"]))
        .order_by(ServiceOrder.id)).first()
    ids = {"offering_id": offering, "provider_id": provider_id, "order_id": order.id, "client_id": order.client_id}
    purchase = db.session.scalar(sa.select(ShopOrder.id).where(ShopOrder.provider_id == provider_id).limit(1))
    if purchase is not None:
        for endpoint in ("marketplace.provider_purchase", "marketplace.purchase_cancel", "marketplace.purchase_confirm_time",
                         "marketplace.purchase_fulfil", "marketplace.purchase_mark_paid", "marketplace.purchase_refund",
                         "marketplace.order", "marketplace.checkout_return", "marketplace.pay", "marketplace.buyer_cancel",
                         "api.get_shop_order", "api.cancel_shop_order", "api.confirm_shop_order_time",
                         "api.fulfil_shop_order", "api.mark_shop_order_paid", "api.refund_shop_order"):
            ids[(endpoint, "order_id")] = purchase
    return ids
