"""A small market for order tests: a service type offered by three approved
providers at postal code 33100, a staff member, a consenting client."""

from dataclasses import dataclass

import pytest

from tests import factories as f


@dataclass
class Market:
    service_type: object
    providers: list
    members: list
    staff: object
    client: object


@pytest.fixture
def market(db, make_user):
    service_type = f.ServiceTypeFactory()
    providers, members = [], []
    for i in range(3):
        provider = f.ProviderFactory(name=f"Palvelu {i} Oy", languages=["fi"])
        f.OfferingFactory(provider=provider, service_type=service_type, price_cents=4000 + i * 500,
                          postal_codes=["33100", "33200"])
        providers.append(provider)
        members.append(make_user("provider", provider=provider))
    staff = make_user("staff", name="Sanna Ohjaaja")
    client = f.ClientFactory(first_name="Aino", last_name="Asiakas", postal_code="33100", languages=["fi"],
                             responsible_worker_id=staff.id, email="aino@example.fi")
    db.session.commit()
    return Market(service_type, providers, members, staff, client)


@pytest.fixture
def place(market):
    """Place an order as the market's staff member (service call, committed)."""
    from datetime import date, timedelta

    from core.extensions import db
    from orders.services import place_order

    def _place(**kw):
        kw.setdefault("client_id", market.client.id)
        kw.setdefault("service_type_id", market.service_type.id)
        kw.setdefault("start_date", date.today() + timedelta(days=3))
        order = place_order(market.staff, **kw)
        db.session.commit()
        return order

    return _place
