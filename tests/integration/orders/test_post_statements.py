"""The two POSTs of issue 19 (placing an order, accepting an offer through the API)
run a fixed number of SQL statements, counted over the whole request (the token,
the view, the commit and the push of its jobs), and still leave every side effect:
the offers, the timeline, the jobs in the outbox (pushed to Redis), the access-log
row, the client's last activity, the marks of closed report months and, for an
organisation with an endpoint, the webhook events."""

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.models import AccessLogEntry, OutboxJob
from core.time import local_today
from interop.models import WebhookEndpoint, WebhookEvent
from orders.models import Offer, OrderEvent, ServiceOrder
from reports.models import ReportMonth

pytestmark = pytest.mark.smoke

# Per dialect: PostgreSQL writes a request's jobs in one INSERT and takes the new
# order's id (for its number) with the client query; SQLite has one INSERT per job
# (SQLAlchemy batches INSERT … RETURNING only where the order of the returned rows
# is kept) and numbers the order with an UPDATE after its INSERT.
# Placing an order: the token, the client with the service type (and whether any
# webhook endpoint is active), the eligibility (offerings, providers, capacity,
# ranking and automatic-acceptance rules), the order, its offer, the client's
# activity, the timeline, the two jobs, the access-log row and the jobs' push stamp.
# (22 before issue 19's POST work; 11 with the webhook check in a query of its own.)
PLACE_STATEMENTS = {"postgresql": 10, "sqlite": 12}
# Accepting an offer of an order placed in a closed month whose report figures are
# kept: the token, the offer with its order (and whether any webhook endpoint is
# active), the month marked stale (once), the order's UPDATE … RETURNING, the
# timeline, the offer's UPDATE … RETURNING, the other offers withdrawn, the jobs (the
# acceptance, the two withdrawals) and the push stamp. (21 on PostgreSQL and 22 on
# SQLite before; 10 and 12 with the webhook check in a query of its own.)
ACCEPT_STATEMENTS = {"postgresql": 9, "sqlite": 11}


@contextmanager
def count_statements(db):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:200])

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def _body(market, **kw):
    body = {"client_id": market.client.id, "service_type_id": market.service_type.id,
            "provider_ids": [market.providers[1].id], "start_date": (date.today() + timedelta(days=2)).isoformat(),
            "visits_per_week": 1, "minutes_per_visit": 60, "instructions": "Avain naapurilla."}
    body.update(kw)
    return body


def _used_token(client, api_token, user) -> dict:
    """A token used once already (its first use stamps ``last_used_at``)."""
    headers = api_token(user)
    assert client.get("/api/v1/tokens", headers=headers).status_code == 200
    return headers


def _jobs(db, func: str, arg: int) -> list[OutboxJob]:
    rows = db.session.scalars(sa.select(OutboxJob).where(OutboxJob.func == func)).all()
    return [r for r in rows if r.args == [arg]]


def test_placing_an_order_runs_a_fixed_number_of_statements_and_keeps_its_side_effects(client, db, market,
                                                                                     api_token):
    headers = _used_token(client, api_token, market.staff)
    body = _body(market)
    db.session.expunge_all()  # nothing of the setup left in the session: a request starts empty
    with count_statements(db) as statements:
        answer = client.post("/api/v1/orders", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert len(statements) == PLACE_STATEMENTS[db.engine.dialect.name], "\n".join(statements)
    body = answer.get_json()
    assert body["status"] == "offered" and body["number"] == f"SO-{local_today().year}-{body['id']:06d}"
    assert body["client"]["last_name"] == "Asiakas" and body["service_type"]
    assert [(o["provider_id"], o["status"]) for o in body["offers"]] == [(market.providers[1].id, "pending")]

    db.session.expire_all()
    order = db.session.get(ServiceOrder, body["id"])
    assert order.number == body["number"] and order.client_id == market.client.id
    offer = db.session.scalar(sa.select(Offer).where(Offer.order_id == order.id))
    assert offer.provider_id == market.providers[1].id and offer.sent_at is not None
    events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id)).all()
    assert [(e.action, e.to_status, e.actor_id) for e in events] == [("create", "offered", market.staff.id)]
    # The offer's e-mail and its deadline check, in the outbox and pushed to Redis.
    for func in ("orders.jobs.send_offer_notification", "orders.jobs.check_offer_deadline"):
        jobs = _jobs(db, func, offer.id)
        assert len(jobs) == 1 and jobs[0].pushed_at is not None, func
    assert _jobs(db, "orders.jobs.check_offer_deadline", offer.id)[0].run_at == offer.deadline_at
    logged = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == market.client.id)).all()
    assert [(r.actor_id, r.action, r.what) for r in logged] == [(market.staff.id, "order", "service order")]
    assert db.session.get(type(market.client), market.client.id).last_activity_at is not None


def test_accepting_an_offer_runs_a_fixed_number_of_statements_and_keeps_its_side_effects(client, db, market,
                                                                                       api_token, place):
    order = place()  # offered to the three providers
    order_id = order.id
    # Placed in a closed month whose report figures are kept: the accept must mark it.
    last_month = (local_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order_id)
                       .values(created_at=utcnow() - timedelta(days=40)))
    created = db.session.scalar(sa.select(ServiceOrder.created_at).where(ServiceOrder.id == order_id))
    from reports.staleness import month_of
    month = month_of(created)
    assert month <= last_month
    for kind in ("orders", "response_times", "delivered_hours", "feedback"):
        db.session.add(ReportMonth(kind=kind, month=month, stale=False, changes=0))
    db.session.commit()
    winner, loser = market.members[0], market.members[2]
    headers = _used_token(client, api_token, winner)
    number, loser_headers = order.number, api_token(loser)
    winner_id, winner_org, orgs = winner.id, winner.provider_id, [p.id for p in market.providers]
    db.session.expunge_all()  # nothing of the setup left in the session: a request starts empty

    with count_statements(db) as statements:
        answer = client.post(f"/api/v1/orders/{order_id}/accept", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert len(statements) == ACCEPT_STATEMENTS[db.engine.dialect.name], "\n".join(statements)
    assert answer.get_json() == {"id": order_id, "number": number, "status": "accepted",
                                 "provider_id": winner_org}

    db.session.expire_all()
    order = db.session.get(ServiceOrder, order_id)
    assert order.status == "accepted" and order.provider_id == winner_org and order.accepted_at
    assert order.version == 2
    offers = {o.provider_id: o for o in db.session.scalars(sa.select(Offer).where(Offer.order_id == order_id))}
    assert offers[winner_org].status == "accepted" and offers[winner_org].answered_by_id == winner_id
    assert {offers[p].status for p in orgs if p != winner_org} == {"withdrawn"}
    events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id)
                                .order_by(OrderEvent.id)).all()
    assert [(e.action, e.to_status, e.provider_id) for e in events][-1] == ("accept", "accepted", winner_org)
    jobs = _jobs(db, "orders.jobs.send_acceptance_notifications", order_id)
    assert len(jobs) == 1 and jobs[0].pushed_at is not None
    stale = dict(db.session.execute(sa.select(ReportMonth.kind, ReportMonth.stale)
                                    .where(ReportMonth.month == month)).all())
    assert stale == {"orders": True, "response_times": True, "delivered_hours": True, "feedback": False}

    # The loser's accept: 409 already_taken, nothing changed.
    r = client.post(f"/api/v1/orders/{order_id}/accept", headers=loser_headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_taken"


def test_webhook_events_still_come_from_both_posts(client, db, market, api_token):
    provider = market.providers[1]
    db.session.add(WebhookEndpoint(provider_id=provider.id, url="https://example.invalid/hook", secret="s" * 32,
                                   events=["order.offered", "order.accepted"]))
    db.session.commit()
    answer = client.post("/api/v1/orders", json=_body(market), headers=api_token(market.staff))
    assert answer.status_code == 201
    order_id = answer.get_json()["id"]
    member = next(m for m in market.members if m.provider_id == provider.id)
    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=api_token(member)).status_code == 200
    db.session.expire_all()
    events = db.session.execute(sa.select(WebhookEvent.type, WebhookEvent.provider_id, WebhookEvent.subject_id)
                                .order_by(WebhookEvent.id)).all()
    assert [tuple(e) for e in events] == [("order.offered", provider.id, order_id),
                                          ("order.accepted", provider.id, order_id)]



@pytest.mark.parametrize("how", ["flush", "bulk"])
def test_an_endpoint_written_after_the_posts_read_the_webhook_check_still_gets_its_events(db, market, how):
    """Both POSTs read whether any endpoint is active with their first query and the
    commit uses that answer (``interop.webhooks.note_any_active_endpoint``). An
    endpoint written later in the same transaction, by a flush or by a bulk
    statement, drops the answer: the commit asks again and raises the events."""
    from orders.services import accept_offer, place_order

    provider = market.providers[1]
    if how == "bulk":
        db.session.add(WebhookEndpoint(provider_id=provider.id, url="https://example.invalid/hook",
                                       secret="s" * 32, events=["order.offered", "order.accepted"], active=False))
        db.session.commit()
    order = place_order(market.staff, client_id=market.client.id, service_type_id=market.service_type.id,
                        start_date=date.today() + timedelta(days=3), provider_ids=[provider.id])
    assert db.session.info.get("interop_any_active_endpoint") is False  # none active when it was read
    if how == "bulk":
        db.session.execute(sa.update(WebhookEndpoint).values(active=True))
    else:
        db.session.add(WebhookEndpoint(provider_id=provider.id, url="https://example.invalid/hook",
                                       secret="s" * 32, events=["order.offered", "order.accepted"]))
        db.session.flush()
    assert "interop_any_active_endpoint" not in db.session.info
    db.session.commit()
    member = next(m for m in market.members if m.provider_id == provider.id)
    accept_offer(member, order.id)
    assert db.session.info.get("interop_any_active_endpoint") is True
    db.session.commit()
    assert "interop_any_active_endpoint" not in db.session.info  # for one transaction only
    events = db.session.execute(sa.select(WebhookEvent.type, WebhookEvent.provider_id, WebhookEvent.subject_id)
                                .order_by(WebhookEvent.id)).all()
    assert [tuple(e) for e in events] == [("order.offered", provider.id, order.id),
                                          ("order.accepted", provider.id, order.id)]
