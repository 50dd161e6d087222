"""A small voucher market: a service type offered by two approved providers at
33100 (40,00 € and 30,00 € an hour), staff, an administrator, a consenting client
with a login, and helpers to grant a voucher and get a voucher-funded order
accepted by the first provider."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from tests import factories as f


@dataclass
class VoucherWorld:
    service_type: object
    providers: list
    members: list
    staff: object
    admin: object
    client: object
    client_user: object


@pytest.fixture
def vw(app, db, make_user):
    # Events may be dated back two whole months in these tests, whatever today is.
    app.config["VOUCHER_GRACE_DAYS"] = 100
    service_type = f.ServiceTypeFactory()
    providers, members = [], []
    for i, price in enumerate((4000, 3000)):
        provider = f.ProviderFactory(name=f"Seteli {i} Oy", languages=["fi"])
        f.OfferingFactory(provider=provider, service_type=service_type, price_cents=price, unit="hour")
        providers.append(provider)
        members.append(make_user("provider", provider=provider))
    staff = make_user("staff", name="Sanna Ohjaaja")
    admin = make_user("admin", name="Tiina Talous")
    client = f.ClientFactory(first_name="Aino", last_name="Asiakas", postal_code="33100", languages=["fi"],
                             responsible_worker_id=staff.id)
    client_user = make_user("client", client=client)
    db.session.commit()
    return VoucherWorld(service_type, providers, members, staff, admin, client, client_user)


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


@pytest.fixture
def grant(vw, db):
    from vouchers.services import grant_voucher

    def _grant(**kw):
        kw.setdefault("client_id", vw.client.id)
        kw.setdefault("service_type_id", vw.service_type.id)
        kw.setdefault("unit", "hour")
        kw.setdefault("monthly_amount", 600)  # 10 h a month
        kw.setdefault("value_cents_per_unit", 3500)
        kw.setdefault("valid_from", date.today() - timedelta(days=120))
        kw.setdefault("valid_to", date.today() + timedelta(days=365))
        voucher = grant_voucher(vw.staff, **kw)
        db.session.commit()
        return voucher

    return _grant


@pytest.fixture
def funded_order(vw, db, grant):
    """``funded_order(voucher=None, provider=0, **order)``: a voucher-funded order
    accepted by the given provider of the world."""
    from orders.services import accept_offer, place_order

    def _order(voucher=None, provider: int = 0, **kw):
        voucher = voucher or grant()
        order = place_order(vw.staff, client_id=vw.client.id, service_type_id=vw.service_type.id,
                            start_date=date.today(), provider_ids=[vw.providers[provider].id], voucher_id=voucher.id,
                            **kw)
        db.session.commit()
        accept_offer(vw.members[provider], order.id)
        db.session.commit()
        return order, voucher

    return _order
