"""The client portfolio's one statement (``clients.queries.portfolio``: the client, the
responsible worker, the unread messages and the orders) is scoped as the user's other
reads are: their own record, or a mandate in force covering the services. The page's
read is logged with the purpose the client sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from clients import queries
from clients.models import ClientRepresentative
from clients.policy import RELATIVE_PURPOSE
from core.access import Purpose
from core.errors import NotFoundError
from core.models import AccessLogEntry
from core.time import local_today
from tests import factories as f


def _set_mandate(db, world, **values):
    db.session.execute(sa.update(ClientRepresentative).where(ClientRepresentative.id == world.representation.id)
                       .values(**values))
    db.session.commit()


def test_own_record_and_a_relative_under_a_mandate_get_the_client_worker_and_orders(app, db, world):
    with app.test_request_context("/?lang=en"):
        for user in (world.aino_user, world.relative):
            client, groups, unread = queries.portfolio(user, world.aino.id)
            assert (client.id, client.full_name) == (world.aino.id, "Aino Asiakas")
            assert client.responsible_worker.name == "Sanna Ohjaaja"
            assert [s.order.id for s in groups["active"]] == [world.aino_order.id]
            assert groups["active"][0].visit_count == 1 and unread == 0


@pytest.mark.parametrize("mandate", [
    {"may_see_services": False},
    {"valid_until": "yesterday"},
    {"valid_from": "tomorrow"},
    {"ended_at": "now"},
])
def test_outside_the_mandate_the_statement_gives_nothing(app, db, world, mandate):
    today = local_today()
    days = {"yesterday": today - timedelta(days=1), "tomorrow": today + timedelta(days=1)}
    values = {k: (days.get(v, v) if k != "ended_at" else sa.func.now()) for k, v in mandate.items()}
    _set_mandate(db, world, **values)
    with app.test_request_context("/"), pytest.raises(NotFoundError):
        queries.portfolio(world.relative, world.aino.id)


def test_another_clients_or_an_erased_record_gives_nothing(app, db, world):
    with app.test_request_context("/"):
        with pytest.raises(NotFoundError):
            queries.portfolio(world.aino_user, world.bertta.id)
        with pytest.raises(NotFoundError):
            queries.portfolio(world.relative, world.bertta.id)
    world.aino.erased_at = world.aino.created_at
    db.session.commit()
    with app.test_request_context("/"), pytest.raises(NotFoundError):
        queries.portfolio(world.aino_user, world.aino.id)


def test_a_client_without_orders_or_worker_gets_one_row_with_the_unread_count(app, db, make_user):
    staff = make_user("staff")
    person = f.ClientFactory(responsible_worker_id=None)
    login = make_user("client", client=person)
    f.MessageFactory(client_id=person.id, sender_id=staff.id)
    db.session.commit()
    with app.test_request_context("/"):
        client, groups, unread = queries.portfolio(login, person.id)
    assert client.responsible_worker is None and unread == 1
    assert groups == {"arranging": [], "active": [], "past": []}


def test_the_portfolio_read_is_logged_with_the_purpose_the_client_sees(client, db, world, login_as):
    for user, purpose in ((world.aino_user, Purpose.OWN_DATA), (world.relative, RELATIVE_PURPOSE)):
        client.post("/logout")
        login_as(user)
        assert client.get(f"/dashboard?client={world.aino.id}").status_code == 200
        db.session.expire_all()
        row = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.actor_id == user.id)
                                 .order_by(AccessLogEntry.id.desc())).first()
        assert (row.client_id, row.action, row.what, row.purpose) == (world.aino.id, "view", "my services", purpose)


def _cards(html: str) -> str:
    return html.split('<ul class="service-list">', 1)[1].rsplit("</ul>", 1)[0]


def test_the_cards_escape_every_text_from_the_database(client, db, world, login_as):
    """The cards are written without autoescape (clients.portfolio escapes each value):
    markup in the provider's name and phone, the service's name and a visit's tasks
    shows as text."""
    evil = f.ProviderFactory(name="<b>Evil</b> & Co", phone="040 <i>1</i> 2")
    kind = f.ServiceTypeFactory(name_en="<script>x</script>")
    order = f.ServiceOrderFactory(client=world.aino, service_type=kind, provider=evil, status="accepted",
                                  ordered_by_id=world.worker.id, start_date=local_today() + timedelta(days=3))
    f.VisitReportFactory(order_id=order.id, provider_id=evil.id, tasks=["<em>tasks</em>"])
    db.session.commit()
    login_as(world.aino_user)
    cards = _cards(client.get("/dashboard?lang=en").get_data(as_text=True))
    for raw in ("<b>Evil", "<i>1", "<script>", "<em>"):
        assert raw not in cards
    assert "<dd>&lt;b&gt;Evil&lt;/b&gt; &amp; Co, " in cards
    assert '<a href="tel:040&lt;i&gt;1&lt;/i&gt;2">040 &lt;i&gt;1&lt;/i&gt; 2</a>' in cards
    assert "<h3>&lt;script&gt;x&lt;/script&gt;</h3>" in cards
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co starts on" in cards  # what happens next names the provider
    assert "60 minutes – &lt;em&gt;tasks&lt;/em&gt;</li>" in cards


@pytest.mark.parametrize("relative", [False, True])
def test_what_happens_next_speaks_to_the_client_or_about_them(client, db, world, login_as, relative):
    today = local_today()
    for status, start, end in (("offered", 5, None), ("accepted", -1, None), ("in_progress", -10, 10),
                               ("completed", -30, -1), ("closed", -60, -30), ("cancelled", 3, None)):
        f.ServiceOrderFactory(client=world.aino, service_type=world.service_type, provider=world.provider,
                              status=status, ordered_by_id=world.worker.id, start_date=today + timedelta(days=start),
                              end_date=None if end is None else today + timedelta(days=end), visits_per_week=3)
    db.session.commit()
    login_as(world.relative if relative else world.aino_user)
    cards = _cards(client.get(f"/dashboard?client={world.aino.id}&lang=en").get_data(as_text=True))
    if relative:
        expected = ["A provider is being found.", "Kirkas Koti Oy will come. They contact the client",
                    "The responsible worker will check that the client got", "the responsible worker has checked it"]
    else:
        expected = ["We are finding a provider for you.", "Kirkas Koti Oy will come to you.",
                    "Your guidance worker will check that you got", "your guidance worker has checked it"]
    for text in expected + ["The visits continue 3 times a week. The service ends on", "The service was cancelled."]:
        assert text in cards, text


def test_the_cards_look_up_each_distinct_text_once(client, db, world, login_as, monkeypatch):
    """Ten cards with the same plural forms, dates and labels translate no more texts
    than one (every card used to translate its own)."""
    from babel.support import Translations

    login_as(world.aino_user)
    client.get("/dashboard?lang=en")  # the kept page shell made
    looked_up = []
    for name in ("ugettext", "ungettext"):
        original = getattr(Translations, name)
        monkeypatch.setattr(Translations, name,
                            lambda self, *a, _o=original: looked_up.append(a[0]) or _o(self, *a))
    assert client.get("/dashboard?lang=en").status_code == 200
    one = len(looked_up)
    start = world.aino_order.start_date
    for _ in range(9):
        order = f.ServiceOrderFactory(client=world.aino, service_type=world.service_type, provider=world.provider,
                                      status="in_progress", ordered_by_id=world.worker.id, start_date=start,
                                      end_date=world.aino_order.end_date, visits_per_week=2)
        f.VisitReportFactory(order_id=order.id, provider_id=world.provider.id, date=local_today() - timedelta(days=3),
                             minutes=45)
    db.session.commit()
    looked_up.clear()
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert html.count("2 times a week") == 20  # on every card twice: how often, what happens next
    assert len(looked_up) == one, (one, len(looked_up))
