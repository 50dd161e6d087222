"""Role scoping: a provider member only sees its own organisation's rows, a client
only their own (and those they represent), managers and admins no client data."""

import pytest
import sqlalchemy as sa

from accounts.permissions import scope_provider_owned
from clients.scopes import can_act_for_client, scope_clients
from marketplace.scopes import scope_shop_orders
from orders.scopes import scope_orders
from staffing.policy import scope_staffing_requests
from catalogue.models import Offering
from clients.models import Client
from marketplace.models import ShopOrder
from orders.models import ServiceOrder
from staffing.models import StaffingRequest
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def world(db, make_user):
    """Two organisations, two clients, orders offered to and won by each."""
    org_a, org_b = f.ProviderFactory(), f.ProviderFactory()
    client_a, client_b = f.ClientFactory(), f.ClientFactory()
    offered_to_a = f.ServiceOrderFactory(client=client_a)
    f.OfferFactory(order=offered_to_a, provider=org_a)
    won_by_a = f.ServiceOrderFactory(client=client_a, status="accepted", provider=org_a)
    won_by_b = f.ServiceOrderFactory(client=client_b, status="in_progress", provider=org_b)
    f.OfferFactory(order=won_by_b, provider=org_b, status="accepted")
    queued_for_a = f.ServiceOrderFactory(client=client_b)  # ranked round: not yet sent to A
    f.OfferFactory(order=queued_for_a, provider=org_a, sent_at=None, deadline_at=None)
    shop_a = f.ShopOrderFactory(provider=org_a)
    shop_b = f.ShopOrderFactory(provider=org_b)
    agency = f.ProviderFactory(kind="agency")
    sent = f.StaffingRequestFactory()
    f.StaffingRecipientFactory(request_id=sent.id, provider_id=agency.id)
    not_sent = f.StaffingRequestFactory()
    offering_a = f.OfferingFactory(provider=org_a)
    offering_b = f.OfferingFactory(provider=org_b)
    users = {
        "staff": make_user("staff"), "manager": make_user("manager"), "admin": make_user("admin"),
        "provider_a": make_user("provider", provider=org_a), "provider_b": make_user("provider", provider=org_b),
        "agency": make_user("provider", provider=agency),
        "client_a": make_user("client", client=client_a), "client_b": make_user("client", client=client_b),
    }
    db.session.commit()
    return dict(locals())


def ids(db, stmt):
    return set(db.session.scalars(stmt))


def test_orders(db, world):
    w = world
    q = sa.select(ServiceOrder.id)
    all_orders = {w["offered_to_a"].id, w["won_by_a"].id, w["won_by_b"].id, w["queued_for_a"].id}
    assert ids(db, scope_orders(q, w["users"]["staff"])) == all_orders
    assert ids(db, scope_orders(q, w["users"]["provider_a"])) == {w["offered_to_a"].id, w["won_by_a"].id}
    assert ids(db, scope_orders(q, w["users"]["provider_b"])) == {w["won_by_b"].id}
    assert ids(db, scope_orders(q, w["users"]["client_a"])) == {w["offered_to_a"].id, w["won_by_a"].id}
    assert ids(db, scope_orders(q, w["users"]["client_b"])) == {w["won_by_b"].id, w["queued_for_a"].id}
    assert ids(db, scope_orders(q, w["users"]["manager"])) == set()
    assert ids(db, scope_orders(q, w["users"]["admin"])) == set()


def test_clients(db, world):
    w = world
    q = sa.select(Client.id)
    assert ids(db, scope_clients(q, w["users"]["staff"])) >= {w["client_a"].id, w["client_b"].id}
    # A provider sees a client only through an order it has won.
    assert ids(db, scope_clients(q, w["users"]["provider_a"])) == {w["client_a"].id}
    assert ids(db, scope_clients(q, w["users"]["provider_b"])) == {w["client_b"].id}
    assert ids(db, scope_clients(q, w["users"]["agency"])) == set()
    assert ids(db, scope_clients(q, w["users"]["client_a"])) == {w["client_a"].id}
    assert ids(db, scope_clients(q, w["users"]["manager"])) == set()
    assert ids(db, scope_clients(q, w["users"]["admin"])) == set()


def test_relative_acts_only_for_represented_clients(db, world, make_user):
    w = world
    relative = make_user("client", client=None, client_id=None)
    rep = f.ClientRepresentativeFactory(client_id=w["client_b"].id, user_id=relative.id)
    db.session.commit()
    assert ids(db, scope_clients(sa.select(Client.id), relative)) == {w["client_b"].id}
    assert can_act_for_client(relative, w["client_b"].id)
    assert not can_act_for_client(relative, w["client_a"].id)
    from core.db import utcnow

    rep.ended_at = utcnow()
    db.session.commit()
    assert ids(db, scope_clients(sa.select(Client.id), relative)) == set()


def test_shop_orders_staffing_and_org_rows(db, world):
    w = world
    u = w["users"]
    assert ids(db, scope_shop_orders(sa.select(ShopOrder.id), u["provider_a"])) == {w["shop_a"].id}
    assert ids(db, scope_shop_orders(sa.select(ShopOrder.id), u["admin"])) == {w["shop_a"].id, w["shop_b"].id}
    assert ids(db, scope_shop_orders(sa.select(ShopOrder.id), u["staff"])) == set()
    assert ids(db, scope_staffing_requests(sa.select(StaffingRequest.id), u["agency"])) == {w["sent"].id}
    assert ids(db, scope_staffing_requests(sa.select(StaffingRequest.id), u["provider_a"])) == set()
    assert ids(db, scope_staffing_requests(sa.select(StaffingRequest.id), u["staff"])) == {w["sent"].id, w["not_sent"].id}
    offerings = sa.select(Offering.id)
    assert ids(db, scope_provider_owned(offerings, u["provider_a"], Offering.provider_id)) == {w["offering_a"].id}
    assert ids(db, scope_provider_owned(offerings, u["client_a"], Offering.provider_id)) == set()


@pytest.mark.parametrize("role,allowed", [("admin", True), ("staff", True), ("manager", True),
                                          ("provider", True), ("client", True)])
def test_every_role_reaches_its_dashboard(client, make_user, login_as, role, allowed):
    login_as(make_user(role))
    r = client.get("/dashboard")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<nav class="main-nav"' in html and "<h1>" in html


def test_manager_dashboard_suppresses_small_groups(client, make_user, login_as, db):
    for _ in range(3):
        f.ServiceOrderFactory(status="escalated")
    for _ in range(6):
        f.ServiceOrderFactory(status="closed")
    login_as(make_user("manager"))
    html = client.get("/dashboard").get_data(as_text=True)
    assert "&lt;5" in html and ">6<" in html
    assert "Virtanen" not in html  # no client names
