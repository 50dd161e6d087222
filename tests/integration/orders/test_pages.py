"""The order pages as staff and providers use them, and their query counts."""

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.access import Purpose
from core.models import AccessLogEntry
from orders.models import ServiceOrder
from tests import factories as f

pytestmark = pytest.mark.smoke


@contextmanager
def count_queries(db):
    counter = {"n": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        counter["n"] += 1

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def test_staff_orders_a_service_through_the_pages(client, market, login_as, db):
    login_as(market.staff)
    found = client.get("/clients/?q=aino").get_data(as_text=True)
    assert "Asiakas, Aino" in found
    page = client.get(f"/orders/new?client_id={market.client.id}&service_type_id={market.service_type.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for provider in market.providers:
        assert provider.name in html
    r = client.post(f"/orders/new?client_id={market.client.id}", data={
        "step": "order", "service_type_id": market.service_type.id, "mode": "broadcast",
        "start_date": (date.today() + timedelta(days=1)).isoformat(), "visits_per_week": "2",
        "minutes_per_visit": "60", "funding": "municipality", "instructions": "Ovikoodi annetaan puhelimessa",
        "provider_ids": [str(market.providers[0].id), str(market.providers[2].id)]})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    order = db.session.scalar(sa.select(ServiceOrder))
    assert sorted(o.provider_id for o in order.offers) == [market.providers[0].id, market.providers[2].id]
    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert order.number in detail and "Ovikoodi" in detail


def test_order_form_refuses_a_client_without_consent(client, market, login_as, db):
    market.client.consent_to_share = False
    db.session.commit()
    login_as(market.staff)
    r = client.post(f"/orders/new?client_id={market.client.id}", data={
        "step": "order", "service_type_id": market.service_type.id, "mode": "broadcast",
        "start_date": date.today().isoformat(), "funding": "municipality"})
    assert r.status_code == 422 and "Aino" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 0
    # The page showed the client again: its one access row survives the refusal.
    shown = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == market.client.id)).all()
    assert [row.purpose for row in shown] == [Purpose.ORDERING]


def test_provider_answers_reports_and_completes(client, market, place, login_as, db):
    order = place(start_date=date.today())
    login_as(market.members[0])
    inbox = client.get("/orders/inbox").get_data(as_text=True)
    assert order.number in inbox and "Aino" not in inbox
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Aino" not in page and "33100" in page
    r = client.post(f"/orders/{order.id}/accept")
    assert r.status_code == 302
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Aino" in page and "Hämeenkatu" in page
    r = client.post(f"/orders/{order.id}/visits", data={"date": date.today().isoformat(), "minutes": "50",
                                                       "tasks": "siivous, pyykit", "concern": "yes",
                                                       "concern_text": "Asiakas vaikutti sekavalta",
                                                       "urgency": "today"})
    assert r.status_code == 302
    db.session.expire_all()
    order = db.session.get(ServiceOrder, order.id)
    assert order.status == "in_progress" and order.has_concern
    assert order.visits[0].tasks == ["siivous", "pyykit"]
    client.post(f"/orders/{order.id}/complete", data={"reason": "Asiakas muutti", "confirmed": "yes"})
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "completed"


def test_another_provider_gets_404(client, market, place, login_as, make_user):
    order = place(provider_ids=[market.providers[0].id])
    login_as(make_user("provider"))
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post(f"/orders/{order.id}/accept").status_code == 404


def test_decline_without_reason_is_refused_with_a_message(client, market, place, login_as, db):
    order = place()
    login_as(market.members[0])
    r = client.post(f"/orders/{order.id}/decline?lang=en", data={"reason": ""})
    assert r.status_code == 422 and "Reason for declining: Give a reason." in r.get_data(as_text=True)
    db.session.expire_all()
    assert {o.status for o in db.session.get(ServiceOrder, order.id).offers} == {"pending"}


def test_staff_closes_the_loop(client, market, place, login_as, db):
    from orders.services import accept_offer, complete_order, record_visit

    order = place(start_date=date.today())
    accept_offer(market.members[0], order.id)
    record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    complete_order(market.members[0], order.id, "Asiakas muutti")
    db.session.commit()
    login_as(market.staff)
    r = client.post(f"/orders/{order.id}/close", data={"outcome": "not_received"}, follow_redirects=True)
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "completed"
    r = client.post(f"/orders/{order.id}/close", data={"outcome": "not_received", "note": "Ei tavoitettu",
                                                      "confirmed": "yes"})
    assert r.status_code == 302
    db.session.expire_all()
    closed = db.session.get(ServiceOrder, order.id)
    assert closed.status == "closed" and closed.outcome == "not_received"


def _orders(market, n):
    for _ in range(n):
        order = f.ServiceOrderFactory(client=f.ClientFactory(), service_type=market.service_type,
                                      ordered_by_id=market.staff.id, status="accepted", provider=market.providers[0])
        f.OfferFactory(order=order, provider=market.providers[0], status="accepted")
        pending = f.ServiceOrderFactory(client=f.ClientFactory(), service_type=market.service_type,
                                        ordered_by_id=market.staff.id)
        f.OfferFactory(order=pending, provider=market.providers[0])


@pytest.mark.parametrize("path,user", [("/orders/", "staff"), ("/orders/inbox", "provider")])
def test_list_query_count_does_not_grow_with_rows(client, market, login_as, db, path, user):
    login_as(market.staff if user == "staff" else market.members[0])
    _orders(market, 3)
    db.session.commit()
    client.get(path)  # the staff list's filter choices are then kept (test_filter_choices_kept.py)
    with count_queries(db) as few:
        assert client.get(path).status_code == 200
    _orders(market, 20)
    db.session.commit()
    with count_queries(db) as many:
        html = client.get(path).get_data(as_text=True)
    assert html.count("/orders/") > 20
    assert many["n"] == few["n"], (few["n"], many["n"])
    # The inbox reads the waiting offers and the orders, the staff list its orders (its
    # filter lists are kept); both read the session with its user and write the access log.
    assert few["n"] == (4 if user == "staff" else 5), few["n"]


def test_list_views_write_the_access_log(client, market, place, login_as, db):
    place()
    login_as(market.staff)
    client.get("/orders/")
    rows = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.action == "list")).all()
    assert [r.client_id for r in rows] == [market.client.id]


EVIL = "<b>x</b>&'\""
EVIL_ESCAPED = "&lt;b&gt;x&lt;/b&gt;&amp;&#39;&#34;"


@pytest.mark.parametrize("path,user", [("/orders/?lang=en", "staff"), ("/orders/inbox?lang=sv", "provider")])
def test_list_texts_are_escaped(client, market, login_as, db, path, user):
    """The order lists write their rows with autoescape off (what needs no escaping is
    not escaped per cell); every text of a row is still escaped: the order number,
    the client's names, the service type, the provider and the postal code."""
    provider = market.providers[0]
    provider.name = "P" + EVIL
    kind = f.ServiceTypeFactory(name_fi="S" + EVIL, name_sv="S" + EVIL, name_en="S" + EVIL)
    someone = f.ClientFactory(first_name="F" + EVIL, last_name="L" + EVIL, postal_code="<&'\">")
    won = f.ServiceOrderFactory(number="W" + EVIL, client=someone, service_type=kind, ordered_by_id=market.staff.id,
                                status="accepted", provider=provider)
    f.OfferFactory(order=won, provider=provider, status="accepted")
    offered = f.ServiceOrderFactory(number="O" + EVIL, client=someone, service_type=kind, ordered_by_id=market.staff.id,
                                    has_concern=True)
    f.OfferFactory(order=offered, provider=provider)
    db.session.commit()
    login_as(market.staff if user == "staff" else market.members[0])
    html = client.get(path).get_data(as_text=True)
    assert "<b>x" not in html
    e = EVIL_ESCAPED
    if user == "staff":  # each text in its column (the rows are unpacked by position)
        cells = [f'data-label="Order"><a href="/orders/{won.id}">W{e}</a></td>', f'data-label="Client">L{e}, F{e}</td>',
                 f'data-label="Service">S{e}</td>', f'data-label="Provider">P{e}</td>',
                 f'data-label="Order"><a href="/orders/{offered.id}">O{e}</a> <span class="status status-escalated">Concern'
                 + '</span></td>', 'data-label="Status"><span class="status status-accepted">Accepted</span></td>']
    else:
        cells = [f'data-label="Beställning"><a href="/orders/{offered.id}">O{e}</a></td>',
                 f'data-label="Tjänst">S{e}</td>', 'data-label="Postnummer">&lt;&amp;&#39;&#34;&gt;</td>',
                 f'data-label="Beställning"><a href="/orders/{won.id}">W{e}</a></td>', f'data-label="Klient">F{e} L{e}</td>']
    for cell in cells:
        assert cell in html, cell
    assert f'href="/orders/{won.id}"' in html and '<span class="status status-accepted">' in html


def test_inbox_counts_the_waiting_offers_it_does_not_show(client, market, login_as, db):
    """The inbox shows the 50 offers with the soonest answer time and says how many
    wait in all, counted in the statement that reads them."""
    someone = f.ClientFactory()
    for _ in range(51):
        f.OfferFactory(order=f.ServiceOrderFactory(client=someone, service_type=market.service_type,
                                                   ordered_by_id=market.staff.id), provider=market.providers[0])
    db.session.commit()
    login_as(market.members[0])
    with count_queries(db) as counted:
        html = client.get("/orders/inbox?lang=en").get_data(as_text=True)
    assert "The 50 with the soonest answer time are shown, of 51." in html
    assert counted["n"] == 4, counted["n"]  # the session, the offers with their count, the orders, the access log


def test_staff_dashboard_order_texts_are_escaped(client, market, login_as, db):
    """The staff dashboard's order tables are written with autoescape off; the order
    number, the client's names, the service type and the provider are still escaped,
    each in its cell, and the link goes to the order."""
    provider = market.providers[0]
    provider.name = "P" + EVIL
    kind = f.ServiceTypeFactory(name_fi="S" + EVIL, name_sv="S" + EVIL, name_en="S" + EVIL)
    someone = f.ClientFactory(first_name="F" + EVIL, last_name="L" + EVIL)
    order = f.ServiceOrderFactory(number="W" + EVIL, client=someone, service_type=kind, ordered_by_id=market.staff.id,
                                  status="completed", provider=provider)
    db.session.commit()
    login_as(market.staff)
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "<b>x" not in html
    e = EVIL_ESCAPED
    row = (f'<tr><td><a href="/orders/{order.id}">W{e}</a></td>\n      <td>L{e}, F{e}</td><td>S{e}</td>\n'
           f'      <td>P{e}</td>\n      <td><span class="status status-completed">Completed</span></td></tr>')
    assert html.count(row) == 2  # "completed: confirm" and "your latest orders"


def test_provider_inbox_pages_through_its_won_orders_newest_first(client, market, login_as, db):
    """The inbox's won orders come 50 to a page, newest first; "Older orders" gives
    the next page, which starts where the first ended. Another provider's orders and
    finished ones are never listed, and every waiting offer is counted."""
    import re

    provider = market.providers[0]
    won = []
    for i in range(53):
        order = f.ServiceOrderFactory(client=f.ClientFactory(), service_type=market.service_type,
                                      ordered_by_id=market.staff.id, provider=provider,
                                      status=("accepted", "in_progress", "completed")[i % 3])
        won.append(order)
    hidden = [f.ServiceOrderFactory(client=f.ClientFactory(), service_type=market.service_type, provider=provider,
                                    ordered_by_id=market.staff.id, status="closed"),
              f.ServiceOrderFactory(client=f.ClientFactory(), service_type=market.service_type,
                                    provider=market.providers[1], ordered_by_id=market.staff.id, status="accepted")]
    waiting = [f.OfferFactory(order=f.ServiceOrderFactory(client=f.ClientFactory(), service_type=market.service_type,
                                                          ordered_by_id=market.staff.id), provider=provider)
               for _ in range(3)]
    db.session.commit()
    login_as(market.members[0])
    newest_first = [o.id for o in sorted(won, key=lambda o: o.id, reverse=True)]

    def listed(html):
        return [int(n) for n in re.findall(r'<a href="/orders/(\d+)"', html)]

    first = client.get("/orders/inbox?lang=en").get_data(as_text=True)
    more = re.search(r'href="/orders/inbox\?cursor=(\d+)"', first)
    assert more and int(more.group(1)) == newest_first[49]
    second = client.get(f"/orders/inbox?lang=en&cursor={more.group(1)}").get_data(as_text=True)
    offers = sorted(o.order_id for o in waiting)
    # Each page: the waiting offers' orders, then its part of the won orders.
    assert sorted(listed(first)[:3]) == offers and listed(first)[3:] == newest_first[:50]
    assert sorted(listed(second)[:3]) == offers and listed(second)[3:] == newest_first[50:]
    assert "cursor=" not in second
    assert not {o.id for o in hidden} & set(listed(first) + listed(second))
