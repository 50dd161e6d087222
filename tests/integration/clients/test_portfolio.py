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
