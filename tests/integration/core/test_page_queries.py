"""The pages of issue 19 run a fixed number of SQL queries, however many rows they
show, and still write one access-log row per client they show (the order list and
the provider inbox: tests/integration/orders/test_pages.py; the catalogue and the
provider dashboard have theirs too)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from clients.models import Concern, FollowUp
from core.db import utcnow
from core.models import AccessLogEntry
from core.time import local_today
from orders.models import ServiceOrder
from tests import factories as f

pytestmark = pytest.mark.smoke


@contextmanager
def count_queries(db):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def _access_rows(db, actor_id) -> list[AccessLogEntry]:
    db.session.expire_all()
    return db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.actor_id == actor_id)
                              .order_by(AccessLogEntry.id)).all()


def _staff_orders(staff, provider, service_type, n):
    """``n`` orders of ``staff`` in each list of the staff dashboard."""
    for _ in range(n):
        f.ServiceOrderFactory(ordered_by_id=staff.id, service_type=service_type, status="escalated")
        f.ServiceOrderFactory(ordered_by_id=staff.id, service_type=service_type, status="in_progress",
                              provider=provider, has_concern=True)
        f.ServiceOrderFactory(ordered_by_id=staff.id, service_type=service_type, status="completed",
                              provider=provider)
        f.FollowUpFactory(assigned_to_id=staff.id, due_at=utcnow() - timedelta(days=1))


def _help_requests(staff, n):
    from frontdoor.models import HelpRequest

    for i in range(n):
        for status, due, claimed in (("open", -1, None), ("open", 2, None), ("claimed", -3, staff.id)):
            db_session().add(HelpRequest(reference=f"R{status[0]}{due}-{n}-{i}", for_whom="self", name="Soittaja",
                                         contact_key=f"k{status}{due}{n}{i}", postal_code="33100", status=status,
                                         callback_due=utcnow() + timedelta(hours=due), claimed_by_id=claimed))
    db_session().flush()


def _assign_follow_ups(staff):
    for follow_up in db_session().scalars(sa.select(FollowUp)):
        follow_up.assigned_to_id = staff.id
    db_session().flush()


def test_staff_dashboard_counts_help_requests_and_concerns_without_more_queries(client, db, login_as):
    """The help-request figures and the follow-ups' concerns (with who reported and
    who acknowledged them) come in the same number of queries however many."""
    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    _people_named_in_rows(person, staff, 1)
    _help_requests(staff, 1)
    f.FollowUpFactory(client_id=person.id, assigned_to_id=staff.id)
    _assign_follow_ups(staff)
    db.session.commit()
    login_as(staff)
    with count_queries(db) as few:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Help requests waiting for a callback: 2" in html and "overdue: 2" in html and "claimed by you: 1" in html
    assert html.count("Acknowledged by") == 1
    _people_named_in_rows(person, staff, 5)
    _assign_follow_ups(staff)
    _help_requests(staff, 11)
    db.session.commit()
    with count_queries(db) as many:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Help requests waiting for a callback: 24" in html and "overdue: 24" in html
    assert "claimed by you: 12" in html
    assert html.count("Acknowledged by") == 6
    assert len(many) == len(few), (len(few), len(many))
    # The figures of both domains (front door, clients) are one statement.
    figures = [s for s in many if "help_requests" in s]
    assert len(figures) == 1 and "responsible_worker_id" in figures[0] and "follow_ups" in figures[0]


def test_staff_dashboard_queries_do_not_grow_and_its_reads_are_logged(client, db, login_as):
    staff = f.UserFactory(role="staff")
    provider = f.ProviderFactory()
    service_type = f.ServiceTypeFactory()
    _staff_orders(staff, provider, service_type, 2)
    login_as(staff)
    with count_queries(db) as few:
        page = client.get("/dashboard?lang=en")
    assert page.status_code == 200
    _staff_orders(staff, provider, service_type, 12)
    db.session.commit()
    with count_queries(db) as many:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert html.count("/orders/") >= 30  # the lists grew: escalated, concerns, waiting to close, latest
    assert len(many) == len(few), (len(few), len(many))
    shown = {row.client_id for row in _access_rows(db, staff.id) if row.what == "name on the dashboard"}
    clients = set(db.session.scalars(sa.select(ServiceOrder.client_id).where(ServiceOrder.ordered_by_id == staff.id)))
    assert shown and shown <= clients


def _client_history(client_row, provider, service_type, staff, n):
    for _ in range(n):
        order = f.ServiceOrderFactory(client=client_row, service_type=service_type, status="in_progress",
                                      provider=provider, ordered_by_id=staff.id)
        f.VisitReportFactory(order_id=order.id, provider_id=provider.id, date=local_today())
        f.FollowUpFactory(client_id=client_row.id, assigned_to_id=staff.id)
        f.MessageFactory(client_id=client_row.id, sender_id=staff.id)
        f.GuidanceContactFactory(client_id=client_row.id, staff_id=staff.id)
        f.NetworkMemberFactory(client_id=client_row.id)


def _people_named_in_rows(client_row, staff, n):
    """Rows that name people and organisations of their own, each a different one:
    a concern (its reporter, provider and acknowledger) behind a follow-up, a
    provider's message, a relative whose access another worker ended, a
    declined offer."""
    for _ in range(n):
        other_provider = f.ProviderFactory()
        reporter = f.UserFactory(role="provider", provider=other_provider)
        worker = f.UserFactory(role="staff")
        order = f.ServiceOrderFactory(client=client_row, status="accepted", provider=other_provider,
                                      ordered_by_id=staff.id)
        concern = Concern(client_id=client_row.id, order_id=order.id, provider_id=other_provider.id,
                          reported_by_id=reporter.id, description="Laihtunut", urgency="week",
                          acknowledged_at=utcnow(), acknowledged_by_id=worker.id)
        db_session().add(concern)
        db_session().flush()
        f.FollowUpFactory(client_id=client_row.id, assigned_to_id=worker.id, concern_id=concern.id, kind="concern")
        f.MessageFactory(client_id=client_row.id, sender_id=reporter.id, to_user_id=staff.id)
        f.ClientRepresentativeFactory(client_id=client_row.id, consent_recorded_by_id=worker.id,
                                      ended_at=utcnow(), ended_by_id=f.UserFactory(role="staff").id)
        f.OfferFactory(order=order, provider=f.ProviderFactory(), status="declined", answered_at=utcnow())


def db_session():
    from core.extensions import db

    return db.session


# The staff client page's statements: the session with its user, the client (with
# whether a message waits unread for the reader), the orders, the open follow-ups,
# the relatives' mandates, the messages, the guidance contacts, the history, the
# network members and the users as one UNION ALL, the signals, and the access-log
# rows; the read marks' UPDATE only when a message to the reader waits unread.
# Six in production (bench/profile_page.py --sql); the tests' application is not in
# production mode and asks whether the demo data is loaded (accounts.demo_mode), one more.
# The guidance workers to hand the client over to are kept for a few seconds
# (clients.queries.handover_workers, tests/integration/clients/test_handover_workers_kept.py):
# the counts are taken with them kept (``_keep_workers``), as a page is served but
# once every few seconds per process or after a change of a user.
CLIENT_PAGE_STATEMENTS = {"postgresql": 7, "sqlite": 7}


def _keep_workers(client, db) -> None:
    """The handover workers read and kept, by a view of another client's page."""
    other = f.ClientFactory()
    db.session.commit()
    assert client.get(f"/clients/{other.id}?lang=en").status_code == 200


def test_staff_client_page_queries_do_not_grow(client, db, login_as):
    staff = f.UserFactory(role="staff")
    provider = f.ProviderFactory()
    service_type = f.ServiceTypeFactory()
    person = f.ClientFactory(responsible_worker_id=staff.id)
    _client_history(person, provider, service_type, staff, 1)
    login_as(staff)
    page = f"/clients/{person.id}?lang=en"
    _keep_workers(client, db)
    with count_queries(db) as few:
        assert client.get(page).status_code == 200
    _client_history(person, provider, service_type, staff, 8)
    db.session.commit()
    _keep_workers(client, db)
    with count_queries(db) as many:
        html = client.get(page).get_data(as_text=True)
    assert html.count("/orders/") >= 9
    assert len(many) == len(few) == CLIENT_PAGE_STATEMENTS[db.engine.dialect.name], "\n".join(many)
    assert any(row.client_id == person.id for row in _access_rows(db, staff.id))


def test_staff_client_page_marks_the_reader_s_messages_read_only_when_one_waits(client, db, login_as):
    """The read marks' UPDATE runs when a message to the reader waits unread (the
    client's row says so) and stamps it; without one the page does not send it."""
    from clients.models import Message

    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    login = f.UserFactory(role="client", client_id=person.id)
    to_me = f.MessageFactory(client_id=person.id, sender_id=login.id, to_user_id=staff.id, body="Hei")
    to_other = f.MessageFactory(client_id=person.id, sender_id=login.id, to_user_id=f.UserFactory(role="staff").id)
    db.session.commit()
    login_as(staff)
    page, to_me_id, to_other_id = f"/clients/{person.id}?lang=en", to_me.id, to_other.id
    expected = CLIENT_PAGE_STATEMENTS[db.engine.dialect.name]
    _keep_workers(client, db)
    with count_queries(db) as first:
        assert client.get(page).status_code == 200
    assert len(first) == expected + 1 and any(s.startswith("UPDATE messages") for s in first), "\n".join(first)
    db.session.expire_all()
    assert db.session.get(Message, to_me_id).read_at is not None
    assert db.session.get(Message, to_other_id).read_at is None  # addressed to another worker
    with count_queries(db) as second:
        assert client.get(page).status_code == 200
    assert len(second) == expected and not any(s.startswith("UPDATE") for s in second), "\n".join(second)


def test_staff_client_page_queries_do_not_grow_with_the_people_its_rows_name(client, db, login_as):
    """Each row brings the people and organisations it names with it: no query per
    concern, message sender, ended mandate or signal, however many there are."""
    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=f.UserFactory(role="staff").id,
                             consent_recorded_by_id=f.UserFactory(role="staff").id)
    _people_named_in_rows(person, staff, 1)
    db.session.commit()
    login_as(staff)
    _keep_workers(client, db)
    with count_queries(db) as few:
        assert client.get(f"/clients/{person.id}?lang=en").status_code == 200
    _people_named_in_rows(person, staff, 6)
    db.session.commit()
    _keep_workers(client, db)
    with count_queries(db) as many:
        html = client.get(f"/clients/{person.id}?lang=en").get_data(as_text=True)
    assert html.count("Concern: contact within a week") == 7 and html.count("Acknowledged by") == 7
    assert html.count("Declined order") == 7
    assert len(many) == len(few), (len(few), len(many))


def test_staff_client_page_names_the_provider_of_an_old_order_still_running(client, db, login_as):
    """The record lists the latest 100 orders; the network still names the provider
    of an older order that is running, and the record does not list that order."""
    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    service_type = f.ServiceTypeFactory()
    old_provider = f.ProviderFactory(name="Vanha Hoiva Oy")
    old = f.ServiceOrderFactory(client=person, service_type=service_type, status="in_progress",
                                provider=old_provider, ordered_by_id=staff.id,
                                created_at=utcnow() - timedelta(days=400))
    for _ in range(100):
        f.ServiceOrderFactory(client=person, service_type=service_type, status="cancelled", ordered_by_id=staff.id)
    db.session.commit()
    login_as(staff)
    html = client.get(f"/clients/{person.id}?lang=en").get_data(as_text=True)
    network = html.split('id="network-h"', 1)[1].split("</section>", 1)[0]
    orders = html.split('id="orders-h"', 1)[1].split("</table>", 1)[0]
    assert "Vanha Hoiva Oy" in network and f"/orders/{old.id}\"" in network
    assert orders.count("<tr>") == 101 and f"/orders/{old.id}\"" not in orders  # the header row and 100 orders


def test_client_portfolio_queries_do_not_grow(client, db, login_as):
    staff = f.UserFactory(role="staff")
    provider = f.ProviderFactory()
    service_type = f.ServiceTypeFactory()
    person = f.ClientFactory(responsible_worker_id=staff.id)
    login = f.UserFactory(role="client", client_id=person.id)
    _client_history(person, provider, service_type, staff, 1)
    login_as(login)
    with count_queries(db) as few:
        assert client.get("/dashboard?lang=en").status_code == 200
    _client_history(person, provider, service_type, staff, 8)
    db.session.commit()
    with count_queries(db) as many:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert html.count("/orders/") >= 9
    assert len(many) == len(few), (len(few), len(many))
    assert [row.client_id for row in _access_rows(db, login.id)][-1] == person.id


def test_client_portfolio_reads_only_the_latest_visits_however_long_the_service(client, db, login_as):
    """A service of years has hundreds of visits: the page shows their number, the
    last date and the five latest, and reads no more rows than that."""
    staff = f.UserFactory(role="staff")
    provider = f.ProviderFactory()
    person = f.ClientFactory(responsible_worker_id=staff.id)
    login = f.UserFactory(role="client", client_id=person.id)
    order = f.ServiceOrderFactory(client=person, status="in_progress", provider=provider, ordered_by_id=staff.id,
                                  start_date=local_today() - timedelta(days=60))
    for days in range(40):
        f.VisitReportFactory(order_id=order.id, provider_id=provider.id, date=local_today() - timedelta(days=days),
                             minutes=30 + days)
    login_as(login)
    visit_rows = []

    def after(conn, cursor, statement, parameters, context, executemany):
        """How many rows a statement on the visits returns to the page (counted at the
        cursor: the page runs it on the connection, not through the ORM)."""
        if statement.lstrip().upper().startswith("SELECT") and "visit_reports" in statement:
            visit_rows.extend(range(cursor.rowcount))

    sa.event.listen(db.engine, "after_cursor_execute", after)
    try:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", after)
    assert "Visits so far</dt><dd>40" in html
    latest = html.split("Latest visits", 1)[1].split("</ul>", 1)[0]
    assert latest.count("<li>") == 5 and "30 minutes" in latest and "34 minutes" in latest and "35 minutes" not in latest
    if db.engine.dialect.name == "postgresql":  # SQLite's cursor gives no row count for a SELECT
        assert len(visit_rows) == 5  # the five shown, not the forty


def test_staff_client_page_translates_one_label_per_history_row(client, db, login_as, monkeypatch):
    """The record's history looks up the one label each event shows (the label macros
    used to translate their whole dictionary, 19 texts, for every row)."""
    from babel.support import Translations

    from clients.models import ClientEvent

    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    db.session.commit()
    login_as(staff)
    client.get(f"/clients/{person.id}?lang=fi")
    looked_up = []
    original = Translations.ugettext
    monkeypatch.setattr(Translations, "ugettext", lambda self, text: looked_up.append(text) or original(self, text))
    assert client.get(f"/clients/{person.id}?lang=fi").status_code == 200
    few = len(looked_up)
    for i in range(10):
        db.session.add(ClientEvent(client_id=person.id, at=utcnow() - timedelta(minutes=i), action="checked"))
    db.session.commit()
    looked_up.clear()
    html = client.get(f"/clients/{person.id}?lang=fi").get_data(as_text=True)
    assert html.count("Tarkistus tehty") == 10 and html.count("(automaattinen)") == 10
    assert few and len(looked_up) - few <= 10 * 3, (few, len(looked_up))


def test_follow_up_links_are_those_of_url_for(app):
    """follow_up_item's links, made once per list (clients.follow_up_urls), are the
    links url_for makes."""
    from flask import url_for

    from clients import follow_up_urls

    with app.test_request_context("/"):
        urls = follow_up_urls()
        assert urls["order"](12) == url_for("orders.detail", order_id=12)
        assert urls["client"](7) == url_for("clients.detail", client_id=7)
        assert urls["acknowledge"](3) == url_for("clients.concern_acknowledge", concern_id=3)
        assert urls["done"](45) == url_for("clients.follow_up_done", follow_up_id=45)


def test_signal_timeline_binds_only_the_client_and_the_date(app):
    """The client page's timeline of signals binds the client and the date only, and
    writes its other values (kinds, the declined status, the low rating) into the
    statement: PostgreSQL re-plans a prepared statement on every run while a bound
    value could change its plan, and planning the union took 1 ms per page."""
    from sqlalchemy.dialects import postgresql

    from clients import signals

    with app.app_context():
        compiled = signals._signals_query().compile(dialect=postgresql.dialect())
    assert set(compiled.params) == {"client_id", "since"}
    assert "offers.status = 'declined'" in str(compiled) and "feedback.rating <= 2" in str(compiled)


def test_staff_client_page_statements_bind_only_the_client(app):
    """The client page's statements (built once) bind the client's id only: a bound
    list of statuses was expanded into the SQL text on every run."""
    from sqlalchemy.dialects import postgresql

    from clients import queries

    with app.app_context():
        statements = queries._staff_page_statements()
        statements["lists"] = queries._staff_page_lists(sa.bindparam("client_id", type_=sa.Integer))[0]
        for name, statement in statements.items():
            compiled = statement.compile(dialect=postgresql.dialect())
            assert set(compiled.params) == {"client_id"}, (name, compiled.params)
            assert "POSTCOMPILE" not in str(compiled), name
    with pytest.raises(ValueError):
        queries._sql_word("x' OR 'a' = 'a")


def test_staff_dashboard_lists_write_their_limits(app):
    """The staff dashboard's lists (one statement) write each list's limit into the
    statement: with bound limits PostgreSQL's generic plan assumed each list returns a
    tenth of the orderer's orders and read the whole clients table into a hash (5 ms
    at the reference size instead of 0.35 ms)."""
    import re

    from sqlalchemy.dialects import postgresql

    from orders import sections

    with app.app_context():
        sql = str(sections._staff_lists_query().compile(dialect=postgresql.dialect()))
    assert re.findall(r"LIMIT ([^\s)]+)", sql) == ["20", "20", "20", "10"]


def test_provider_inbox_won_orders_match_their_partial_index(app):
    """The inbox's won orders are read from the partial index of won orders (perf3):
    its statement writes the statuses into its text exactly as the index's predicate
    names them, so that the generic plan of the prepared statement can use it."""
    from sqlalchemy.dialects import postgresql

    from core.db import sql_code
    from orders import queries

    index = next(i for i in ServiceOrder.__table__.indexes if i.name == "ix_service_orders_provider_won")
    predicate = str(index.dialect_options["postgresql"]["where"])
    with app.app_context():
        compiled = queries._build_list_statements("fi")["inbox_orders"].compile(dialect=postgresql.dialect())
    assert "status" not in " ".join(compiled.params)
    assert predicate.split(" IN ")[1] in str(compiled)
    assert predicate == "status IN ('accepted', 'in_progress', 'completed')"
    with pytest.raises(ValueError):
        sql_code("x' OR 'a' = 'a")


def test_signal_timeline_lists_each_kind_newest_first(app, db):
    from clients import signals
    from feedback.models import Feedback
    from orders.models import Offer

    person = f.ClientFactory()
    provider = f.ProviderFactory(name="Hoiva Oy")
    order = f.ServiceOrderFactory(client=person, provider=provider, status="in_progress")
    now = utcnow()
    db.session.add_all([
        Concern(client_id=person.id, order_id=order.id, provider_id=provider.id, description="Laihtunut",
                urgency="week", created_at=now - timedelta(days=1)),
        Offer(order_id=order.id, provider_id=f.ProviderFactory(name="Toinen Oy").id, status="declined",
              answered_at=now - timedelta(days=2), decline_reason="Ei ehdi", deadline_at=now),
        Offer(order_id=order.id, provider_id=f.ProviderFactory().id, status="withdrawn",
              answered_at=now - timedelta(days=2), deadline_at=now),
    ])
    f.VisitReportFactory(order_id=order.id, provider_id=provider.id, date=local_today(), missed=True, note="Ei kotona")
    f.VisitReportFactory(order_id=order.id, provider_id=provider.id, date=local_today())
    db.session.flush()
    for rating, needs_met in ((1, True), (5, False), (5, True), (2, True)):
        db.session.add(Feedback(client_id=person.id, order_id=order.id, provider_id=provider.id, rating=rating,
                                needs_met=needs_met, created_at=now - timedelta(days=3, minutes=rating)))
    db.session.flush()
    kinds = [(s.kind, s.source_name, s.text, s.rating) for s in signals.timeline(person.id)]
    assert kinds[:3] == [("missed_visit", "Hoiva Oy", "Ei kotona", None), ("concern", "Hoiva Oy", "Laihtunut", None),
                         ("decline", "Toinen Oy", "Ei ehdi", None)]
    assert sorted(k[3] for k in kinds[3:]) == [1, 2, 5]
    assert all(k[0] == "low_feedback" for k in kinds[3:])


@pytest.mark.parametrize("orders", [0, 3])
def test_client_portfolio_counts_unread_messages_in_the_orders_statement(client, db, login_as, orders):
    """The unread messages are counted in the statement that reads the client and the
    orders (with no orders too: the client's row carries the count); a message from
    the client side and a read one are not counted."""
    staff = f.UserFactory(role="staff")
    provider = f.ProviderFactory(name="Apu Oy")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    login = f.UserFactory(role="client", client_id=person.id)
    for _ in range(orders):
        f.ServiceOrderFactory(client=person, status="in_progress", provider=provider, ordered_by_id=staff.id)
    f.MessageFactory(client_id=person.id, sender_id=staff.id)
    f.MessageFactory(client_id=person.id, sender_id=staff.id)
    f.MessageFactory(client_id=person.id, sender_id=staff.id, read_at=utcnow())
    f.MessageFactory(client_id=person.id, sender_id=login.id)
    db.session.commit()
    login_as(login)
    with count_queries(db) as statements:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Messages (2 new)" in html
    assert html.count("Apu Oy") == orders
    reading_messages = [s for s in statements if "FROM messages" in s]
    assert len(reading_messages) == 1 and "service_orders" in reading_messages[0]
    assert "FROM clients" in reading_messages[0]


def test_staff_client_page_escapes_each_text_of_its_orders(client, db, login_as):
    """The orders' rows are written with autoescape off: each text read from the
    database (the order's number, the service type's name, the provider's name)
    still comes escaped in its own cell."""
    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    service_type = f.ServiceTypeFactory(name_en="<b>Clean</b> & tidy")
    provider = f.ProviderFactory(name="<script>P</script> Oy")
    f.ServiceOrderFactory(client=person, service_type=service_type, status="in_progress", provider=provider,
                          number="<i>SO-1</i>", ordered_by_id=staff.id)
    db.session.commit()
    login_as(staff)
    html = client.get(f"/clients/{person.id}?lang=en").get_data(as_text=True)
    orders = html.split('id="orders-h"', 1)[1].split("</table>", 1)[0]
    assert ">&lt;i&gt;SO-1&lt;/i&gt;</a></td><td>&lt;b&gt;Clean&lt;/b&gt; &amp; tidy</td>" in orders
    assert "<td>&lt;script&gt;P&lt;/script&gt; Oy</td>" in orders
    assert "<i>" not in orders and "<b>" not in orders and "<script>" not in html
