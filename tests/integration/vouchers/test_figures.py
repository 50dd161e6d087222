"""Voucher use figures: aggregated, with groups of fewer than five clients
suppressed (and the rows that would give them away), for managers only."""

from datetime import date

import pytest

from tests import factories as f

pytestmark = pytest.mark.smoke


def _use(vw, db, client_row, provider: int, minutes: int):
    from orders.services import accept_offer, place_order
    from vouchers import services as svc

    voucher = svc.grant_voucher(vw.staff, client_id=client_row.id, service_type_id=vw.service_type.id, unit="hour",
                                monthly_amount=600, value_cents_per_unit=3500, valid_from=date.today(),
                                valid_to=None)
    order = place_order(vw.staff, client_id=client_row.id, service_type_id=vw.service_type.id,
                        start_date=date.today(), provider_ids=[vw.providers[provider].id], voucher_id=voucher.id)
    accept_offer(vw.members[provider], order.id)
    svc.record_event(vw.members[provider], order.id, event_date=date.today(), quantity=minutes)


def test_small_groups_are_suppressed_and_managers_see_the_rest(client, db, vw, api_token, make_user):
    for _ in range(5):
        _use(vw, db, f.ClientFactory(postal_code="33100"), provider=0, minutes=60)
    _use(vw, db, f.ClientFactory(postal_code="33100"), provider=1, minutes=60)
    db.session.commit()
    manager = api_token(make_user("manager"))
    month = f"{date.today():%Y-%m}"
    r = client.get(f"/api/v1/voucher-figures?from={month}&to={month}", headers=manager)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    providers = {row["provider"]: row for row in body["use_by_provider"]}
    # One client at the other provider: suppressed, and so is the row of the five (the month's
    # total minus it would give the one away).
    assert providers["Seteli 1 Oy"]["suppressed"] and providers["Seteli 1 Oy"]["voucher_cents"] is None
    assert providers["Seteli 0 Oy"]["suppressed"] and providers["Seteli 0 Oy"]["clients"] is None
    [use] = body["use_by_month_and_category"]
    assert use["clients"] == 6 and use["events"] == 6 and not use["suppressed"]
    [share] = body["share_of_granted_value_used"]
    # 6 vouchers of 10 h at 35 €/h; used 5 h at 35 € and 1 h at the cheaper provider's 30 €.
    assert (share["granted_cents"], share["used_cents"], share["used_percent"]) == (210000, 20500, 9.8)
    # Nobody but managers and admins.
    assert client.get("/api/v1/voucher-figures", headers=api_token(vw.staff)).status_code == 403
    assert client.get("/api/v1/voucher-figures?from=2026-99", headers=manager).status_code == 422


def test_the_figures_page(client, db, vw, login_as, make_user):
    _use(vw, db, vw.client, provider=0, minutes=90)
    db.session.commit()
    login_as(make_user("manager"))
    page = client.get("/vouchers/figures")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "&lt;5" in html and "Aino" not in html


def test_groups_of_five_are_shown(client, db, vw, api_token, make_user):
    for provider in (0, 1):
        for _ in range(5):
            _use(vw, db, f.ClientFactory(postal_code="33100"), provider=provider, minutes=60)
    db.session.commit()
    body = client.get("/api/v1/voucher-figures", headers=api_token(make_user("manager"))).get_json()
    providers = {row["provider"]: row for row in body["use_by_provider"]}
    assert (providers["Seteli 0 Oy"]["clients"], providers["Seteli 0 Oy"]["voucher_cents"]) == (5, 5 * 3500)
    assert (providers["Seteli 1 Oy"]["clients"], providers["Seteli 1 Oy"]["voucher_cents"]) == (5, 5 * 3000)
