"""The guidance workers a client can be handed over to (the staff client page's
hand-over choice) are kept a few seconds per web process (core.kept,
clients.queries.handover_workers), as the staff order list keeps its filter lists:
read once, shown again while kept, a change through this process shown at once and
one from elsewhere when the kept seconds are over."""

import re

import pytest
import sqlalchemy as sa

from accounts.models import User
from core import kept
from tests import factories as f

WORKERS = "users.role = 'staff'"


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: now[0])
    return now


def choices(page: str) -> list[str]:
    select = re.search(r'<select id="new_worker_id".*?</select>', page, re.DOTALL).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_workers_are_read_once_and_shown_again_while_kept(client, db, login_as, sql_statements, clock):
    me = f.UserFactory(role="staff", name="Anna Ohjaaja")
    f.UserFactory(role="staff", name="Bertta <b>Ohjaaja</b>")
    f.UserFactory(role="staff", name="Ei Aktiivinen", active=False)
    person = f.ClientFactory(responsible_worker_id=me.id)
    db.session.commit()
    login_as(me)
    page = f"/clients/{person.id}?lang=en"
    first = client.get(page).get_data(as_text=True)
    assert any(WORKERS in s for s in sql_statements)
    # The client's own worker is not a choice; an inactive one is not either; names escaped.
    assert choices(first) == ["Bertta &lt;b&gt;Ohjaaja&lt;/b&gt;"]
    sql_statements.clear()
    second = client.get(page).get_data(as_text=True)
    assert not any(WORKERS in s for s in sql_statements)
    assert choices(second) == choices(first)


def test_a_change_in_this_process_shows_at_once_and_one_from_elsewhere_after_the_kept_seconds(
        client, db, login_as, clock):
    me = f.UserFactory(role="staff", name="Anna Ohjaaja")
    person = f.ClientFactory(responsible_worker_id=me.id)
    db.session.commit()
    login_as(me)
    page = f"/clients/{person.id}?lang=en"
    assert choices(client.get(page).get_data(as_text=True)) == []
    f.UserFactory(role="staff", name="Uusi Ohjaaja")  # through this process's ORM session
    db.session.commit()
    assert choices(client.get(page).get_data(as_text=True)) == ["Uusi Ohjaaja"]
    # Another process's write (a plain statement this process's ORM does not see).
    with db.engine.begin() as conn:
        conn.execute(sa.update(User.__table__).where(User.__table__.c.name == "Uusi Ohjaaja").values(active=False))
    assert choices(client.get(page).get_data(as_text=True)) == ["Uusi Ohjaaja"]  # kept for now
    clock[0] += 6
    assert choices(client.get(page).get_data(as_text=True)) == []
