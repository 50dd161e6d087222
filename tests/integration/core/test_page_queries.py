"""The pages of issue 19 run a fixed number of SQL queries, however many rows they
show, and still write one access-log row per client they show (the order list and
the provider inbox: tests/integration/orders/test_pages.py; the catalogue and the
provider dashboard have theirs too)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.models import AccessLogEntry
from core.time import local_today
from orders.models import ServiceOrder, VisitReport
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


def test_staff_client_page_queries_do_not_grow(client, db, login_as):
    staff = f.UserFactory(role="staff")
    provider = f.ProviderFactory()
    service_type = f.ServiceTypeFactory()
    person = f.ClientFactory(responsible_worker_id=staff.id)
    _client_history(person, provider, service_type, staff, 1)
    login_as(staff)
    with count_queries(db) as few:
        assert client.get(f"/clients/{person.id}?lang=en").status_code == 200
    _client_history(person, provider, service_type, staff, 8)
    db.session.commit()
    with count_queries(db) as many:
        html = client.get(f"/clients/{person.id}?lang=en").get_data(as_text=True)
    assert html.count("/orders/") >= 9
    assert len(many) == len(few), (len(few), len(many))
    assert any(row.client_id == person.id for row in _access_rows(db, staff.id))


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

    def on_execute(state):
        """Every row a statement on the visits returns to the page (run here, then handed on)."""
        if state.is_select and "visit_reports" in str(state.statement):
            frozen = state.invoke_statement().freeze()
            visit_rows.extend(frozen().all())
            return frozen()

    sa.event.listen(db.session, "do_orm_execute", on_execute)
    try:
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
    finally:
        sa.event.remove(db.session, "do_orm_execute", on_execute)
    assert "Visits so far</dt><dd>40" in html
    latest = html.split("Latest visits", 1)[1].split("</ul>", 1)[0]
    assert latest.count("<li>") == 5 and "30 minutes" in latest and "34 minutes" in latest and "35 minutes" not in latest
    assert len(visit_rows) == 5  # the five shown, not the forty
