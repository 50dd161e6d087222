"""The voucher pages, as each role sees them: granting with the error summary,
the review queue with bulk approval and refusal, the provider's recording and
correction, the client's vouchers with each provider's own share, the settlement
page and its downloads."""

from datetime import date, timedelta

import sqlalchemy as sa

from tests.integration.vouchers.conftest import previous_month



def test_staff_grant_a_voucher_on_the_page(client, db, vw, login_as):
    login_as(vw.staff)
    page = client.get(f"/vouchers/new?client_id={vw.client.id}")
    assert page.status_code == 200 and "Aino" in page.get_data(as_text=True)
    form = {"service_type_id": vw.service_type.id, "unit": "hour", "monthly_amount": "7,5", "value": "32,50",
            "renews": "y", "valid_from": date.today().isoformat()}
    bad = client.post(f"/vouchers/new?client_id={vw.client.id}", data={**form, "monthly_amount": "7,333"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'aria-invalid="true"' in html
    r = client.post(f"/vouchers/new?client_id={vw.client.id}", data=form)
    assert r.status_code == 302
    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "7 h 30 min" in detail and "32,50" in detail
    from vouchers.models import ServiceVoucher

    voucher = db.session.scalar(sa.select(ServiceVoucher))
    assert (voucher.monthly_amount, voucher.value_cents_per_unit, voucher.renews) == (450, 3250, True)
    # The order form offers the voucher.
    order_form = client.get(f"/orders/new?client_id={vw.client.id}&service_type_id={vw.service_type.id}"
                            f"&voucher_id={voucher.id}").get_data(as_text=True)
    assert f'selected value="{voucher.id}"' in order_form or f'value="{voucher.id}" selected' in order_form


def test_review_provider_and_client_pages(client, db, vw, login_as, funded_order):
    from vouchers import services as svc

    order, voucher = funded_order()
    login_as(vw.members[0])
    page = client.get("/vouchers/provider").get_data(as_text=True)
    assert order.number in page
    assert "/vouchers/provider" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    r = client.post(f"/vouchers/orders/{order.id}/events",
                    data={f"o{order.id}-date": date.today().isoformat(), f"o{order.id}-quantity": "1,5"})
    assert r.status_code == 302
    r = client.post(f"/vouchers/orders/{order.id}/events",
                    data={f"o{order.id}-date": date.today().isoformat(), f"o{order.id}-quantity": "9"},
                    follow_redirects=True)
    assert "left" in r.get_data(as_text=True) or "jäljellä" in r.get_data(as_text=True)
    client.post("/logout")
    login_as(vw.staff)
    queue = client.get("/vouchers/review").get_data(as_text=True)
    assert "1 h 30 min" in queue
    [event] = svc.events_of_voucher(voucher.id)
    r = client.post(f"/vouchers/events/{event.id}/refuse", data={"reason": "", "next": "/vouchers/review"})
    assert r.status_code == 302
    db.session.expire_all()
    assert svc.events_of_voucher(voucher.id)[0].status == "recorded"
    r = client.post("/vouchers/review/approve", data={"event_ids": [str(event.id)]})
    assert r.status_code == 302
    db.session.expire_all()
    assert svc.events_of_voucher(voucher.id)[0].status == "approved"
    client.post("/logout")
    login_as(vw.client_user)
    mine = client.get("/vouchers/mine").get_data(as_text=True)
    assert "Seteli 0 Oy" in mine and "Seteli 1 Oy" in mine
    assert "5,00" in mine  # 40 € an hour against a 35 € voucher
    assert client.get(f"/vouchers/{voucher.id}").status_code == 200


def test_the_administrator_settles_and_the_provider_downloads(client, db, vw, login_as, funded_order):
    from vouchers import services as svc

    p1 = previous_month(date.today())
    order, voucher = funded_order()
    event = svc.record_event(vw.members[0], order.id, event_date=p1 + timedelta(days=2), quantity=90)
    svc.approve_event(vw.staff, event.id)
    db.session.commit()
    login_as(vw.admin)
    assert client.get("/vouchers/settlements").status_code == 200
    bad = client.post("/vouchers/settlements", data={"month": "2026-13"})
    assert bad.status_code == 422
    r = client.post("/vouchers/settlements", data={"month": f"{p1:%Y-%m}"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Seteli 0 Oy" in page and "52,50" in page
    settlement_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    county = client.get(f"/vouchers/settlements/{settlement_id}/county.json")
    assert county.status_code == 200 and county.get_json()["total_payable_cents"] == 5250
    client.post("/logout")
    login_as(vw.members[0])
    assert f"/vouchers/settlements/{settlement_id}" in client.get("/vouchers/provider").get_data(as_text=True)
    pdf = client.get(f"/vouchers/settlements/{settlement_id}/statements/{vw.providers[0].id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    csv_body = client.get(f"/vouchers/settlements/{settlement_id}/statements/{vw.providers[0].id}.csv")
    assert "52,50" in csv_body.get_data(as_text=True)
    assert client.get(f"/vouchers/settlements/{settlement_id}/county.json").status_code == 403
    client.post("/logout")
    login_as(vw.members[1])
    assert client.get(f"/vouchers/settlements/{settlement_id}").status_code == 404
    assert client.get(f"/vouchers/settlements/{settlement_id}/statements/{vw.providers[0].id}.pdf").status_code == 404


def test_a_relative_with_a_mandate_sees_the_clients_vouchers(client, db, vw, login_as, grant, make_user, api_token):
    from tests import factories as f

    voucher = grant()
    relative = f.UserFactory(role="client")
    f.ClientRepresentativeFactory(client_id=vw.client.id, user_id=relative.id)
    stranger = f.UserFactory(role="client")
    db.session.commit()
    login_as(relative)
    page = client.get("/vouchers/mine").get_data(as_text=True)
    assert "Aino Asiakas" in page and f"{voucher.id}" in page and "10 h" in page
    assert client.get(f"/vouchers/{voucher.id}").status_code == 200
    assert client.get(f"/api/v1/vouchers/{voucher.id}", headers=api_token(relative)).status_code == 200
    client.post("/logout")
    login_as(stranger)
    assert "Aino" not in client.get("/vouchers/mine").get_data(as_text=True)
    assert client.get(f"/vouchers/{voucher.id}").status_code == 404
