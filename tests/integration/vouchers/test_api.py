"""The voucher API of API.md: granting, voucher-funded orders, service events with
their refusals (over the balance, before the grace period), approval and the
settlement with its files, each as the caller sees it."""

import csv
import io
from datetime import date, timedelta

import pytest

from core.time import local_today

from tests import factories as f
from tests.integration.vouchers.conftest import month_start, previous_month

pytestmark = pytest.mark.smoke


def test_staff_grant_a_voucher_and_the_client_sees_its_balance(client, vw, api_token):
    staff = api_token(vw.staff)
    body = {"client_id": vw.client.id, "service_type_id": vw.service_type.id, "unit": "hour",
            "monthly_amount": 600, "value_cents_per_unit": 3500, "valid_from": date.today().isoformat(),
            "valid_to": (date.today() + timedelta(days=200)).isoformat()}
    r = client.post("/api/v1/vouchers", json=body, headers=staff)
    assert r.status_code == 201, r.get_json()
    voucher = r.get_json()
    assert voucher["status"] == "granted"
    assert voucher["balance"]["granted"] == 600 and voucher["balance"]["remaining"] == 600
    r = client.get(f"/api/v1/vouchers/{voucher['id']}", headers=api_token(vw.client_user))
    assert r.status_code == 200 and r.get_json()["balance"]["used"] == 0
    # Another client, and a provider serving no order it funds, do not see it.
    other = f.UserFactory(role="client", client=f.ClientFactory())
    assert client.get(f"/api/v1/vouchers/{voucher['id']}", headers=api_token(other)).status_code == 404
    assert client.get(f"/api/v1/vouchers/{voucher['id']}", headers=api_token(vw.members[0])).status_code == 404


def test_granting_names_bad_fields_and_needs_consent(client, db, vw, api_token):
    staff = api_token(vw.staff)
    r = client.post("/api/v1/vouchers", json={"client_id": vw.client.id, "service_type_id": vw.service_type.id,
                                              "unit": "hour", "monthly_amount": -5, "valid_from": "2026-13-01"},
                    headers=staff)
    assert r.status_code == 422
    assert {"monthly_amount", "valid_from"} <= set(r.get_json()["error"]["fields"])
    r = client.post("/api/v1/vouchers", json={"client_id": vw.client.id, "service_type_id": vw.service_type.id,
                                              "unit": "visit", "monthly_amount": 8,
                                              "valid_from": date.today().isoformat()}, headers=staff)
    assert r.status_code == 422 and "value_cents_per_unit" in r.get_json()["error"]["fields"]
    vw.client.consent_to_share = False
    db.session.commit()
    r = client.post("/api/v1/vouchers", json={"client_id": vw.client.id, "service_type_id": vw.service_type.id,
                                              "unit": "euro", "monthly_amount": 25000,
                                              "valid_from": date.today().isoformat()}, headers=staff)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_consent"
    # Only staff grant.
    r = client.post("/api/v1/vouchers", json={}, headers=api_token(vw.members[0]))
    assert r.status_code == 403


def test_an_order_is_funded_only_by_the_clients_voucher_for_its_service(client, db, vw, grant, api_token):
    voucher = grant()
    other_type = f.ServiceTypeFactory()
    wrong = grant(service_type_id=other_type.id)
    staff = api_token(vw.staff)
    order = {"client_id": vw.client.id, "service_type_id": vw.service_type.id,
             "start_date": date.today().isoformat(), "provider_ids": [vw.providers[0].id]}
    r = client.post("/api/v1/orders", json={**order, "voucher_id": wrong.id}, headers=staff)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "voucher_mismatch"
    someone_else = grant(client_id=f.ClientFactory().id)
    r = client.post("/api/v1/orders", json={**order, "voucher_id": someone_else.id}, headers=staff)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "voucher_mismatch"
    r = client.post("/api/v1/orders", json={**order, "voucher_id": voucher.id}, headers=staff)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["voucher_id"] == voucher.id and r.get_json()["funding"] == "voucher"
    assert client.get(f"/api/v1/vouchers/{voucher.id}", headers=staff).get_json()["status"] == "open"


def test_events_beyond_the_balance_or_before_the_grace_period_are_refused(client, app, vw, funded_order,
                                                                           api_token):
    order, voucher = funded_order()
    provider = api_token(vw.members[0])
    url = f"/api/v1/orders/{order.id}/service-events"
    with app.app_context():
        today = local_today()  # the county's day: after midnight in Helsinki it is not UTC's
    r = client.post(url, json={"date": today.isoformat(), "quantity": 480}, headers=provider)
    assert r.status_code == 201, r.get_json()
    event = r.get_json()
    assert event["status"] == "recorded"
    # 8 h at 40 €/h: the voucher pays 35 €/h, the client 5 €/h.
    assert event["voucher_cents"] == 28000 and event["client_share_cents"] == 4000
    r = client.post(url, json={"date": today.isoformat(), "quantity": 121}, headers=provider)
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "over_balance" and "2 h" in error["message"] and "quantity" in error["fields"]
    assert client.post(url, json={"date": today.isoformat(), "quantity": 120}, headers=provider).status_code == 201
    assert client.get(f"/api/v1/vouchers/{voucher.id}", headers=provider).get_json()["balance"]["remaining"] == 0
    app.config["VOUCHER_GRACE_DAYS"] = 60
    too_old = month_start(today) - timedelta(days=61)
    r = client.post(url, json={"date": too_old.isoformat(), "quantity": 30}, headers=provider)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "outside_period"
    r = client.post(url, json={"date": (today + timedelta(days=1)).isoformat(), "quantity": 30}, headers=provider)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "outside_period"
    # Not the winner: the order is not there.
    r = client.post(url, json={"date": today.isoformat(), "quantity": 30}, headers=api_token(vw.members[1]))
    assert r.status_code == 404
    r = client.post(url, json={"date": today.isoformat(), "quantity": "lots"}, headers=provider)
    assert r.status_code == 422 and "quantity" in r.get_json()["error"]["fields"]


def test_a_free_service_leaves_no_own_share(client, db, vw, grant, funded_order, api_token):
    from vouchers.services import set_free_services

    set_free_services(vw.admin, [vw.service_type.id])
    db.session.commit()
    voucher = grant()
    staff = api_token(vw.staff)
    r = client.post("/api/v1/orders", json={"client_id": vw.client.id, "service_type_id": vw.service_type.id,
                                            "start_date": date.today().isoformat(),
                                            "provider_ids": [vw.providers[0].id], "voucher_id": voucher.id},
                    headers=staff)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "own_share_not_allowed"
    # Offered to everyone: only the provider within the voucher's value gets it.
    r = client.post("/api/v1/orders", json={"client_id": vw.client.id, "service_type_id": vw.service_type.id,
                                            "start_date": date.today().isoformat(), "voucher_id": voucher.id},
                    headers=staff)
    assert r.status_code == 201
    assert [o["provider_id"] for o in r.get_json()["offers"]] == [vw.providers[1].id]


def test_the_event_state_machine_per_role(client, vw, funded_order, api_token):
    order, voucher = funded_order()
    provider, staff, admin = api_token(vw.members[0]), api_token(vw.staff), api_token(vw.admin)
    url = f"/api/v1/orders/{order.id}/service-events"
    first = client.post(url, json={"date": date.today().isoformat(), "quantity": 60}, headers=provider).get_json()
    second = client.post(url, json={"date": date.today().isoformat(), "quantity": 90}, headers=provider).get_json()
    # Only staff approve; the provider and the admin are refused.
    assert client.post(f"/api/v1/service-events/{first['id']}/approve", headers=provider).status_code == 403
    assert client.post(f"/api/v1/service-events/{first['id']}/approve", headers=admin).status_code == 403
    r = client.post(f"/api/v1/service-events/{first['id']}/approve", headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    # Approved once: not again (409), and settled events cannot be refused or resubmitted.
    r = client.post(f"/api/v1/service-events/{first['id']}/approve", headers=staff)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_approvable"
    # Refused with a reason, back to the provider; staff cannot resubmit for it.
    assert client.post(f"/api/v1/service-events/{second['id']}/refuse", json={}, headers=staff).status_code == 422
    r = client.post(f"/api/v1/service-events/{second['id']}/refuse", json={"reason": "Ei sovittu"}, headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "refused"
    assert r.get_json()["refusal_reason"] == "Ei sovittu"
    assert client.post(f"/api/v1/service-events/{second['id']}/approve", headers=staff).status_code == 409
    # A refused event no longer uses the balance.
    balance = client.get(f"/api/v1/vouchers/{voucher.id}", headers=staff).get_json()["balance"]
    assert balance["used"] == 60
    # The other provider does not see the order's events; the winner does.
    assert client.get(url, headers=api_token(vw.members[1])).status_code == 404
    items = client.get(url, headers=provider).get_json()["items"]
    assert {i["status"] for i in items} == {"approved", "refused"}
    # Correcting is for settled events only.
    r = client.post(f"/api/v1/service-events/{first['id']}/correct", json={"quantity": 30, "reason": "x"},
                    headers=provider)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_settled"


def test_resubmission_and_transitions_through_the_services(vw, db, funded_order):
    from core.errors import ConflictError, PermissionDenied
    from vouchers import services as svc

    order, voucher = funded_order()
    event = svc.record_event(vw.members[0], order.id, event_date=date.today(), quantity=60)
    with pytest.raises(PermissionDenied):
        svc.review_event(vw.members[0], event.id)
    svc.review_event(vw.staff, event.id)
    assert event.status == "under_review"
    with pytest.raises(ConflictError):
        svc.review_event(vw.staff, event.id)
    svc.refuse_event(vw.staff, event.id, "Väärä päivä")
    with pytest.raises(PermissionDenied):
        svc.resubmit_event(vw.staff, event.id, event_date=date.today(), quantity=45)
    svc.resubmit_event(vw.members[0], event.id, event_date=date.today(), quantity=45)
    assert event.status == "recorded" and event.quantity == 45 and event.refusal_reason is None
    svc.approve_event(vw.staff, event.id)
    with pytest.raises(ConflictError):
        svc.resubmit_event(vw.members[0], event.id, event_date=date.today(), quantity=45)
    timeline = [(t.action, t.to_status, t.actor_id) for t in svc.event_timeline(event.id)]
    assert timeline == [("record", "recorded", vw.members[0].id), ("review", "under_review", vw.staff.id),
                        ("refuse", "refused", vw.staff.id), ("resubmit", "recorded", vw.members[0].id),
                        ("approve", "approved", vw.staff.id)]


def test_an_event_matching_the_plan_is_approved_by_the_rule(client, vw, db, funded_order, api_token, run_jobs):
    order, voucher = funded_order(minutes_per_visit=90, visits_per_week=2)
    provider = api_token(vw.members[0])
    url = f"/api/v1/orders/{order.id}/service-events"
    within = client.post(url, json={"date": date.today().isoformat(), "quantity": 90}, headers=provider).get_json()
    beyond = client.post(url, json={"date": date.today().isoformat(), "quantity": 120}, headers=provider).get_json()
    assert within["status"] == beyond["status"] == "recorded"
    run_jobs()
    statuses = {e["id"]: (e["status"], e["auto_approved"]) for e in client.get(url, headers=provider).get_json()["items"]}
    assert statuses == {within["id"]: ("approved", True), beyond["id"]: ("recorded", False)}


def test_bulk_approval_leaves_what_moved_meanwhile(vw, db, funded_order):
    from vouchers import services as svc

    order, voucher = funded_order()
    events = [svc.record_event(vw.members[0], order.id, event_date=date.today(), quantity=30) for _ in range(3)]
    svc.refuse_event(vw.staff, events[0].id, "ei")
    moved = svc.approve_events(vw.staff, [e.id for e in events])
    assert sorted(moved) == sorted(e.id for e in events[1:])
    db.session.refresh(events[0])
    assert events[0].status == "refused"


def _settle(client, admin, month: date):
    return client.post("/api/v1/settlements", json={"month": f"{month:%Y-%m}"}, headers=admin)


def test_the_settlement_job_runs_once_and_a_credit_follows_a_correction(client, db, vw, funded_order, api_token,
                                                                        run_jobs):
    from vouchers import services as svc

    today = date.today()
    p1, p2 = previous_month(today), previous_month(previous_month(today))
    order, voucher = funded_order()
    staff, admin = api_token(vw.staff), api_token(vw.admin)
    provider = api_token(vw.members[0])
    url = f"/api/v1/orders/{order.id}/service-events"
    ids = [client.post(url, json={"date": (p2 + timedelta(days=d)).isoformat(), "quantity": q},
                       headers=provider).get_json()["id"] for d, q in ((3, 120), (10, 45))]
    for event_id in ids:
        assert client.post(f"/api/v1/service-events/{event_id}/approve", headers=staff).status_code == 200
    # The current month cannot be settled yet; nor can anyone but an administrator settle.
    r = _settle(client, admin, month_start(today))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "month_not_over"
    assert _settle(client, staff, p2).status_code == 403
    r = _settle(client, admin, p2)
    assert r.status_code == 202 and r.get_json()["status"] == "queued"
    settlement_id = r.get_json()["id"]
    assert run_jobs() >= 1
    again = _settle(client, admin, p2)
    assert again.status_code == 202 and again.get_json()["id"] == settlement_id
    run_jobs()
    body = client.get(f"/api/v1/settlements/{settlement_id}", headers=admin).get_json()
    assert body["status"] == "done" and body["download_url"].startswith("http")
    [line] = body["lines"]
    # 2 h + 45 min at 35 €/h = 70,00 + 26,25; own share 5 €/h = 10,00 + 3,75.
    assert line == {**line, "provider_id": vw.providers[0].id, "events": 2, "voucher_cents": 9625,
                    "client_share_cents": 1375, "credit_cents": 0, "payable_cents": 9625}
    # The provider corrects the 2-hour event to 1 hour: a new event, reviewed again.
    r = client.post(f"/api/v1/service-events/{ids[0]}/correct", json={"quantity": 60, "reason": "Vain tunti"},
                    headers=provider)
    assert r.status_code == 201, r.get_json()
    correction = r.get_json()
    assert correction["corrects_id"] == ids[0] and correction["status"] == "recorded"
    r = client.post(f"/api/v1/service-events/{ids[0]}/correct", json={"quantity": 30, "reason": "x"},
                    headers=provider)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "correction_pending"
    assert client.post(f"/api/v1/service-events/{correction['id']}/approve", headers=staff).status_code == 200
    # The settled statement is not edited...
    assert client.get(f"/api/v1/settlements/{settlement_id}", headers=admin).get_json()["lines"] == body["lines"]
    # ...the next one carries the reversal and the corrected amount.
    r = _settle(client, admin, p1)
    run_jobs()
    nxt = client.get(f"/api/v1/settlements/{r.get_json()['id']}", headers=admin).get_json()
    [line] = nxt["lines"]
    assert line["voucher_cents"] == 0 and line["credit_cents"] == -3500 and line["payable_cents"] == -3500
    assert line["client_share_cents"] == -500
    rows = list(csv.reader(io.StringIO(client.get(line["statement_csv_url"], headers=provider)
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    amounts = [(r[8], r[9]) for r in rows[1:] if len(r) > 9]
    assert amounts == [("-120", "-70,00"), ("60", "35,00")]
    # The corrected event is what the balance of that month now counts.
    assert svc.used_amount(voucher.id, p2, p2 + timedelta(days=27)) == 105


def test_statements_are_files_each_provider_sees_only_its_own(client, db, vw, funded_order, api_token):
    from vouchers import services as svc

    p1 = previous_month(date.today())
    order0, voucher = funded_order(provider=0)
    order1, _v = funded_order(voucher=voucher, provider=1)
    for order, member in ((order0, vw.members[0]), (order1, vw.members[1])):
        event = svc.record_event(member, order.id, event_date=p1 + timedelta(days=4), quantity=60)
        svc.approve_event(vw.staff, event.id)
    settlement = svc.settle_month(vw.admin, p1)
    db.session.commit()
    admin, mine, other = api_token(vw.admin), api_token(vw.members[0]), api_token(vw.members[1])
    body = client.get(f"/api/v1/settlements/{settlement.id}", headers=mine).get_json()
    assert [line["provider_id"] for line in body["lines"]] == [vw.providers[0].id]
    pdf = client.get(body["download_url"], headers=mine)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    # The other provider's statement is not there for this provider.
    r = client.get(f"/api/v1/settlements/{settlement.id}/statements/{vw.providers[1].id}.pdf", headers=mine)
    assert r.status_code == 404
    assert client.get(body["lines"][0]["statement_csv_url"], headers=mine).mimetype == "text/csv"
    for name in (f"{vw.providers[0].id}.txt", "abc.pdf", f"{vw.providers[0].id}", "9999999999.pdf", "0.pdf"):
        assert client.get(f"/api/v1/settlements/{settlement.id}/statements/{name}", headers=mine).status_code == 404
    assert client.get(f"/api/v1/settlements/{settlement.id}/county.json", headers=mine).status_code == 403
    county = client.get(client.get(f"/api/v1/settlements/{settlement.id}", headers=admin).get_json()["download_url"],
                        headers=admin).get_json()
    assert county["month"] == f"{p1:%Y-%m}" and len(county["providers"]) == 2
    # 1 h: 35,00 from the voucher for each (the second provider's price 30 €/h is below it: 30,00).
    assert county["total_payable_cents"] == 3500 + 3000
    assert sum(i["voucher_cents"] for p in county["providers"] for i in p["items"]) == county["total_payable_cents"]
    assert client.get(f"/api/v1/settlements/{settlement.id}", headers=other).get_json()["lines"][0]["voucher_cents"] == 3000
    outsider = api_token(f.UserFactory(role="provider", provider=f.ProviderFactory()))
    assert client.get(f"/api/v1/settlements/{settlement.id}", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/settlements/{settlement.id}", headers=api_token(vw.staff)).status_code == 403
    # Paid: the events are paid.
    svc.mark_paid(vw.admin, settlement.id)
    db.session.commit()
    assert {e["status"] for e in client.get(f"/api/v1/orders/{order0.id}/service-events",
                                            headers=mine).get_json()["items"]} == {"paid"}


def test_staff_close_a_voucher_and_no_more_events_are_recorded(client, vw, funded_order, api_token):
    order, voucher = funded_order()
    staff = api_token(vw.staff)
    assert client.post(f"/api/v1/vouchers/{voucher.id}/close", json={}, headers=staff).status_code == 422
    assert client.post(f"/api/v1/vouchers/{voucher.id}/close", json={"reason": "x"},
                       headers=api_token(vw.members[0])).status_code == 403
    r = client.post(f"/api/v1/vouchers/{voucher.id}/close", json={"reason": "Muutti pois"}, headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    assert client.post(f"/api/v1/vouchers/{voucher.id}/close", json={"reason": "x"}, headers=staff).status_code == 409
    r = client.post(f"/api/v1/orders/{order.id}/service-events", json={"date": date.today().isoformat(),
                                                                      "quantity": 30},
                    headers=api_token(vw.members[0]))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "voucher_closed"


def test_the_scheduled_job_settles_the_previous_month_once(app, client, db, vw, funded_order, api_token):
    from core.worker import run_periodic
    from vouchers import services as svc

    p1 = previous_month(date.today())
    order, voucher = funded_order()
    event = svc.record_event(vw.members[0], order.id, event_date=p1 + timedelta(days=1), quantity=60)
    svc.approve_event(vw.staff, event.id)
    db.session.commit()
    admin = api_token(vw.admin)  # the periodic wrapper ends the session: ask for the token first
    app.config["VOUCHER_SETTLEMENT_DAY"] = 31 if date.today().day < 31 else 32
    assert run_periodic("vouchers.jobs.monthly_settlement") is None  # not due yet
    app.config["VOUCHER_SETTLEMENT_DAY"] = 1
    first = run_periodic("vouchers.jobs.monthly_settlement")
    second = run_periodic("vouchers.jobs.monthly_settlement")
    assert first == second
    body = client.get(f"/api/v1/settlements/{first}", headers=admin).get_json()
    assert body["month"] == f"{p1:%Y-%m}" and body["status"] == "done"
    assert [(line["events"], line["voucher_cents"]) for line in body["lines"]] == [(1, 3500)]
