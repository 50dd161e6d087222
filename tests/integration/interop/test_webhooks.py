"""Signed webhooks (API.md "Webhooks to provider systems"): registration, a real
delivery to a receiver on 127.0.0.1 by a real RQ worker with the signature checked,
the policy of the payload, retries with exponential backoff, automatic disabling."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.models import AccessLogEntry, OutgoingEmail
from interop.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from interop.webhooks import verify
from tests.integration.interop.conftest import wait_until

ORDER_EVENTS = ["order.offered", "order.accepted", "order.taken", "order.cancelled"]


def _register(client, headers, url, events=ORDER_EVENTS, **extra):
    return client.post("/api/v1/webhooks", json={"url": url, "events": events, **extra}, headers=headers)


def _order_body(market):
    return {"client_id": market.client.id, "service_type_id": market.service_type.id,
            "start_date": (date.today() + timedelta(days=2)).isoformat(), "visits_per_week": 2,
            "minutes_per_visit": 60}


@pytest.mark.smoke
def test_register_shows_the_secret_once_and_refuses_insecure_urls(client, market, api_token, make_user, db):
    headers = api_token(market.admins[0])
    r = _register(client, headers, "https://erp.example.fi/kotiapu", description="ERP")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ORDER_EVENTS and body["active"] is True
    again = client.get(f"/api/v1/webhooks/{body['id']}", headers=headers).get_json()
    assert "secret" not in again and again["url"] == "https://erp.example.fi/kotiapu"
    listed = client.get("/api/v1/webhooks", headers=headers).get_json()["items"]
    assert [e["id"] for e in listed] == [body["id"]] and all("secret" not in e for e in listed)

    r = _register(client, headers, "http://erp.example.fi/hook")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "insecure_url"
    assert "url" in r.get_json()["error"]["fields"]
    assert _register(client, headers, "http://127.0.0.1:9/hook").status_code == 201
    r = _register(client, headers, "ftp://example.fi/x", events=["order.nonsense"])
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"url", "events"}
    assert "order.nonsense" in r.get_json()["error"]["fields"]["events"][0]
    assert client.post("/api/v1/webhooks", data="[1]", headers=headers).status_code == 400

    worker = make_user("provider", provider=market.providers[0], provider_role="worker")
    r = _register(client, api_token(worker), "https://erp.example.fi/kotiapu")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "org_admin_only"
    assert _register(client, api_token(market.staff), "https://erp.example.fi/kotiapu").status_code == 403
    # Another organisation sees neither the endpoint nor its log.
    other = api_token(market.admins[1])
    assert client.get(f"/api/v1/webhooks/{body['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/webhooks/{body['id']}/deliveries", headers=other).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 2


def test_production_refuses_http_even_to_loopback(app, market, db):
    from interop.webhooks import InsecureUrl, check_url

    app.config["APP_ENV"] = "production"
    try:
        with pytest.raises(InsecureUrl):
            check_url("http://127.0.0.1:8000/hook")
        assert check_url("https://erp.example.fi/hook") == "https://erp.example.fi/hook"
    finally:
        app.config["APP_ENV"] = "test"


@pytest.mark.smoke
def test_events_reach_the_receiver_signed_without_identity_before_acceptance(
        client, market, api_token, receiver, run_jobs, db):
    secrets = {}
    for admin in market.admins:
        r = _register(client, api_token(admin), receiver.url + f"?org={admin.provider_id}")
        assert r.status_code == 201
        secrets[admin.provider_id] = r.get_json()["secret"]
    staff = api_token(market.staff)
    order = client.post("/api/v1/orders", json=_order_body(market), headers=staff).get_json()
    run_jobs()

    offered = receiver.of_type("order.offered")
    assert sorted(r.path for r in offered) == sorted(f"/kotiapu/hooks?org={p.id}" for p in market.providers)
    for r in offered:
        provider_id = int(r.path.rsplit("=", 1)[1])
        assert r.headers["Content-Type"].startswith("application/json")
        assert verify(secrets[provider_id], r.headers["Kotiapu-Signature"], r.body)
        assert not verify(secrets[provider_id], r.headers["Kotiapu-Signature"], r.body + b" ")
        event = r.json()
        assert set(event) == {"id", "type", "created_at", "data"} and event["id"].startswith("evt_")
        assert event["data"]["order"]["id"] == order["id"]
        # No client identity before acceptance: what GET /orders/{id} shows the provider.
        assert event["data"]["order"]["client"] == {"postal_code": "33100", "languages": ["fi"]}
        assert b"Aino" not in r.body and b"Asiakas" not in r.body and b"H\\u00e4meenkatu" not in r.body
        assert "H\u00e4meenkatu".encode() not in r.body

    winner, loser = market.providers
    assert client.post(f"/api/v1/orders/{order['id']}/accept", headers=api_token(market.admins[0])).status_code == 200
    run_jobs()
    accepted = receiver.of_type("order.accepted")
    assert [r.path for r in accepted] == [f"/kotiapu/hooks?org={winner.id}"]
    assert verify(secrets[winner.id], accepted[0].headers["Kotiapu-Signature"], accepted[0].body)
    assert accepted[0].json()["data"]["order"]["client"]["first_name"] == "Aino"
    taken = receiver.of_type("order.taken")
    assert [r.path for r in taken] == [f"/kotiapu/hooks?org={loser.id}"]
    assert b"Aino" not in taken[0].body
    # The identity sent to the winner's system is in the client's access log.
    rows = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == market.client.id,
                                                              AccessLogEntry.action == "webhook")).all()
    assert len(rows) == 1 and "order.accepted" in rows[0].what

    log = client.get(f"/api/v1/webhooks/{db.session.scalar(sa.select(WebhookEndpoint.id).where(WebhookEndpoint.provider_id == winner.id))}/deliveries",
                     headers=api_token(market.admins[0])).get_json()
    assert [i["event"] for i in log["items"]] == ["order.accepted", "order.offered"]
    assert all(i["status_code"] == 200 and i["attempts"] == 1 and i["delivered_at"] for i in log["items"])
    assert log["items"][0]["event_id"] == accepted[0].json()["id"]


def test_nothing_is_raised_when_nobody_subscribed_or_the_change_is_refused(client, market, api_token, receiver,
                                                                           run_jobs, db):
    _register(client, api_token(market.admins[0]), receiver.url, events=["order.cancelled"])
    client.post("/api/v1/orders", json={**_order_body(market), "client_id": 999999}, headers=api_token(market.staff))
    client.post("/api/v1/orders", json=_order_body(market), headers=api_token(market.staff))
    run_jobs()
    assert receiver.requests == []  # order.offered is not subscribed; the refused order raised nothing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0


def test_failing_receiver_retries_with_backoff_then_disables_the_endpoint(
        client, market, api_token, receiver, running_worker, login_as, db):
    receiver.status = 500
    admin = market.admins[0]
    endpoint_id = _register(client, api_token(admin), receiver.url, events=["order.offered"]).get_json()["id"]
    staff = api_token(market.staff)
    for _ in range(2):
        assert client.post("/api/v1/orders", json=_order_body(market), headers=staff).status_code == 201
    running_worker(WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_RETRY_BASE_SECONDS=1.0, WEBHOOK_DISABLE_AFTER=2)

    def all_failed():
        rows = db.session.scalars(sa.select(WebhookDelivery)).all()
        return len(rows) == 2 and all(d.status == "failed" for d in rows)

    assert wait_until(db, all_failed, timeout=60)
    deliveries = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    for d in deliveries:
        assert d.attempts == 3 and d.status_code == 500 and d.delivered_at is None
        times = [a.at for a in db.session.scalars(sa.select(WebhookAttempt).where(
            WebhookAttempt.delivery_id == d.id).order_by(WebhookAttempt.id))]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        # Exponential backoff: 1 s, then 2 s.
        assert gaps[0] >= 1.0 and gaps[1] >= 2.0, gaps
    # Every attempt reached the receiver, each delivery always with the same event id and bytes.
    assert len(receiver.requests) == 6
    assert len({r.json()["id"] for r in receiver.requests}) == 2 and len({r.body for r in receiver.requests}) == 2
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.active is False and endpoint.disabled_at is not None
    # The organisation is told: e-mail (organisation address and its administrators), dashboard, API.
    assert wait_until(db, lambda: db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail).where(
        OutgoingEmail.subject.contains(receiver.url))) == 2, timeout=20)
    to = set(db.session.scalars(sa.select(OutgoingEmail.to_address).where(OutgoingEmail.subject.contains(receiver.url))))
    assert to == {market.providers[0].email, admin.email}
    assert client.get(f"/api/v1/webhooks/{endpoint_id}", headers=api_token(admin)).get_json()["active"] is False
    login_as(admin)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "/organisation/webhooks" in page
    # A disabled endpoint gets no new events.
    receiver.status = 200
    client.post("/api/v1/orders", json=_order_body(market), headers=staff)
    time.sleep(2)
    assert len(receiver.requests) == 6
    # The test button still reaches it; switched on again, events flow.
    assert client.post(f"/api/v1/webhooks/{endpoint_id}/test", headers=api_token(admin)).status_code == 202
    assert wait_until(db, lambda: len(receiver.requests) == 7, timeout=20)
    assert receiver.requests[-1].json()["type"] == "webhook.test"
    assert client.post(f"/organisation/webhooks/{endpoint_id}/enable").status_code == 302
    client.post("/api/v1/orders", json=_order_body(market), headers=staff)
    assert wait_until(db, lambda: len(receiver.of_type("order.offered")) == 7, timeout=20)


def test_web_pages_add_an_endpoint_show_the_secret_once_and_send_a_test_event(
        client, market, login_as, receiver, run_jobs, make_user, db):
    admin = market.admins[0]
    login_as(admin)
    assert "/organisation/webhooks" in client.get("/organisation").get_data(as_text=True)
    page = client.get("/organisation/webhooks")
    assert page.status_code == 200 and 'name="url"' in page.get_data(as_text=True)
    bad = client.post("/organisation/webhooks", data={"url": "http://example.fi/x", "events": ["order.offered"]})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    r = client.post("/organisation/webhooks", data={"url": receiver.url, "events": ["order.offered", "order.taken"],
                                                    "description": "Toiminnanohjaus"})
    assert r.status_code == 302
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    first = client.get(r.headers["Location"]).get_data(as_text=True)
    assert endpoint.secret in first
    assert endpoint.secret not in client.get(r.headers["Location"]).get_data(as_text=True)
    assert client.post(f"/organisation/webhooks/{endpoint.id}/test").status_code == 302
    run_jobs()
    assert [r.json()["type"] for r in receiver.requests] == ["webhook.test"]
    assert verify(endpoint.secret, receiver.requests[0].headers["Kotiapu-Signature"], receiver.requests[0].body)
    log = client.get(f"/organisation/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "webhook.test" in log and receiver.requests[0].json()["id"] in log

    # A worker of the organisation reads the log but cannot add or change endpoints.
    worker = make_user("provider", provider=market.providers[0], provider_role="worker")
    db.session.commit()  # SQLite: the test's own open write would lock out the logout's session update
    client.post("/logout")
    login_as(worker)
    assert 'name="url"' not in client.get("/organisation/webhooks").get_data(as_text=True)
    assert client.get(f"/organisation/webhooks/{endpoint.id}").status_code == 200
    assert client.post("/organisation/webhooks", data={"url": receiver.url, "events": ["order.offered"]}).status_code == 403
    client.post(f"/organisation/webhooks/{endpoint.id}/delete")
    assert db.session.get(WebhookEndpoint, endpoint.id).deleted_at is None
    # Another organisation's admin gets 404.
    client.post("/logout")
    login_as(market.admins[1])
    assert client.get(f"/organisation/webhooks/{endpoint.id}").status_code == 404


def test_staffing_requests_reach_the_agencies_they_are_sent_to(client, market, api_token, make_user, receiver,
                                                               run_jobs, db):
    from tests import factories as f
    from tests.integration.staffing.conftest import request_body

    agencies = []
    for postal_code in ("33100", "00100"):
        provider = f.ProviderFactory(kind="agency")
        f.StaffingCoverageFactory(provider_id=provider.id, qualification="practical_nurse", postal_code=postal_code)
        agencies.append(make_user("provider", provider=provider))
    secrets = [_register(client, api_token(a), receiver.url + f"?agency={a.provider_id}",
                         events=["staffing_request.opened"]).get_json()["secret"] for a in agencies]
    r = client.post("/api/v1/staffing-requests", json=request_body(), headers=api_token(market.staff))
    assert r.status_code == 201
    run_jobs()
    # Only the agency covering 33100 got it, signed, as the API shows it to the agency.
    assert [x.path for x in receiver.requests] == [f"/kotiapu/hooks?agency={agencies[0].provider_id}"]
    event = receiver.requests[0]
    assert verify(secrets[0], event.headers["Kotiapu-Signature"], event.body)
    assert event.json()["type"] == "staffing_request.opened"
    assert event.json()["data"]["staffing_request"]["id"] == r.get_json()["id"]
    assert "created_by_id" not in event.json()["data"]["staffing_request"]


def test_a_paid_invoice_purchase_reaches_the_seller(client, market, api_token, receiver, run_jobs, db):
    from marketplace.lifecycle import mark_invoice_paid
    from marketplace.models import ShopOrder
    from tests import factories as f

    seller = market.admins[0]
    secret = _register(client, api_token(seller), receiver.url, events=["shop_order.paid"]).get_json()["secret"]
    purchase = f.ShopOrderFactory(provider=market.providers[0], buyer_name="Matti Ostaja")
    db.session.commit()
    mark_invoice_paid(seller, db.session.get(ShopOrder, purchase.id))
    db.session.commit()
    run_jobs()
    assert [r.json()["type"] for r in receiver.requests] == ["shop_order.paid"]
    assert verify(secret, receiver.requests[0].headers["Kotiapu-Signature"], receiver.requests[0].body)
    data = receiver.requests[0].json()["data"]["shop_order"]
    assert data["id"] == purchase.id and data["status"] == "paid" and data["buyer"]["name"] == "Matti Ostaja"


def test_cancelled_order_reaches_the_providers_it_was_offered_to(client, market, api_token, receiver, run_jobs,
                                                                  make_user, db):
    for admin in market.admins:
        _register(client, api_token(admin), receiver.url + f"?org={admin.provider_id}", events=["order.cancelled"])
    staff = api_token(market.staff)
    order = client.post("/api/v1/orders", json=_order_body(market), headers=staff).get_json()
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "Asiakas muutti"},
                       headers=staff).status_code == 200
    run_jobs()
    cancelled = receiver.of_type("order.cancelled")
    assert sorted(r.path for r in cancelled) == sorted(f"/kotiapu/hooks?org={p.id}" for p in market.providers)
    assert all(r.json()["data"]["order"]["status"] == "cancelled" and b"Aino" not in r.body for r in cancelled)
    # Any member of the organisation reads the log; the OpenAPI document describes the calls.
    worker = make_user("provider", provider=market.providers[0], provider_role="worker")
    endpoint_id = client.get("/api/v1/webhooks", headers=api_token(worker)).get_json()["items"][0]["id"]
    log = client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=api_token(worker)).get_json()
    assert [i["event"] for i in log["items"]] == ["order.cancelled"] and log["next"] is None
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/webhooks", "/webhooks/{endpoint_id}/deliveries", "/fhir/Task/{order_id}", "/fhir/CareTeam"} <= set(paths)


def test_a_ranked_round_offers_the_next_provider_when_the_first_declines(client, market, api_token, receiver,
                                                                          run_jobs, db):
    for admin in market.admins:
        _register(client, api_token(admin), receiver.url + f"?org={admin.provider_id}", events=["order.offered"])
    first, second = market.providers
    body = {**_order_body(market), "provider_ids": [first.id, second.id], "mode": "ranked"}
    order = client.post("/api/v1/orders", json=body, headers=api_token(market.staff)).get_json()
    run_jobs()
    assert [r.path for r in receiver.of_type("order.offered")] == [f"/kotiapu/hooks?org={first.id}"]
    assert client.post(f"/api/v1/orders/{order['id']}/decline", json={"reason": "Ei kapasiteettia"},
                       headers=api_token(market.admins[0])).status_code == 200
    run_jobs()
    assert [r.path for r in receiver.of_type("order.offered")] == [f"/kotiapu/hooks?org={first.id}",
                                                                  f"/kotiapu/hooks?org={second.id}"]
