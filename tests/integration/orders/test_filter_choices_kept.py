"""The staff order list's filter lists (the guidance workers, the service types),
kept a few seconds per web process (core.kept, orders.queries.filter_choices): the
same lists without reading them again, a change through this process shown at once
and one from elsewhere when the kept seconds are over, each language apart."""

import re

import pytest
import sqlalchemy as sa

from accounts.models import User
from catalogue.models import ServiceType
from core import kept
from orders.queries import _choices_kept
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def statements(sql_statements):
    return sql_statements


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: now[0])
    return now


def options(page: str, select_id: str) -> list[str]:
    select = re.search(rf'<select id="{select_id}".*?</select>', page, re.DOTALL).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)[1:]  # without "All"


def test_the_lists_are_read_once_and_shown_again_while_kept(client, db, market, login_as, statements, clock):
    login_as(market.staff)
    first = client.get("/orders/?lang=en").get_data(as_text=True)
    assert any("row_number() OVER" in s for s in statements)  # the lists' one statement
    statements.clear()
    second = client.get("/orders/?lang=en").get_data(as_text=True)
    kept_count = len(statements)
    assert not any("row_number() OVER" in s for s in statements)
    assert options(second, "f-worker") == options(first, "f-worker") == ["Sanna Ohjaaja"]
    assert options(second, "f-service") == options(first, "f-service")
    assert market.service_type.name_en in options(second, "f-service")
    # A change through this process: read again at the next request, one statement more.
    market.service_type.name_en = "Renamed <service>"
    db.session.commit()
    statements.clear()
    third = client.get("/orders/?lang=en").get_data(as_text=True)
    assert len(statements) == kept_count + 1 and any("row_number() OVER" in s for s in statements)
    assert "Renamed &lt;service&gt;" in options(third, "f-service")


def test_a_new_worker_in_this_process_shows_at_once(client, db, market, login_as, clock):
    login_as(market.staff)
    client.get("/orders/?lang=en")
    f.UserFactory(role="staff", name="Uusi Ohjaaja", active=True)
    db.session.commit()
    page = client.get("/orders/?lang=en").get_data(as_text=True)
    assert options(page, "f-worker") == ["Sanna Ohjaaja", "Uusi Ohjaaja"]


def test_a_change_from_elsewhere_shows_when_the_kept_seconds_are_over(client, db, market, make_user, login_as,
                                                                      clock):
    leaving = make_user("staff", name="Lähtevä Ohjaaja")
    db.session.commit()
    login_as(market.staff)
    assert options(client.get("/orders/?lang=en").get_data(as_text=True), "f-worker") == [
        "Lähtevä Ohjaaja", "Sanna Ohjaaja"]
    with db.engine.begin() as conn:  # another process: no ORM session of this one sees it
        conn.execute(sa.update(User.__table__).where(User.__table__.c.id == leaving.id).values(active=False))
        conn.execute(sa.update(ServiceType.__table__).where(ServiceType.__table__.c.id == market.service_type.id)
                     .values(name_en="Changed elsewhere"))
    clock[0] += _choices_kept.seconds - 0.5
    page = client.get("/orders/?lang=en").get_data(as_text=True)
    assert options(page, "f-worker") == ["Lähtevä Ohjaaja", "Sanna Ohjaaja"]
    assert "Changed elsewhere" not in options(page, "f-service")
    clock[0] += 1
    page = client.get("/orders/?lang=en").get_data(as_text=True)
    assert options(page, "f-worker") == ["Sanna Ohjaaja"] and "Changed elsewhere" in options(page, "f-service")


def test_each_language_has_its_own_lists(client, market, login_as, clock):
    login_as(market.staff)
    english = options(client.get("/orders/?lang=en").get_data(as_text=True), "f-service")
    finnish = options(client.get("/orders/?lang=fi").get_data(as_text=True), "f-service")
    assert market.service_type.name_en in english and market.service_type.name_fi in finnish
    assert market.service_type.name_en not in finnish
