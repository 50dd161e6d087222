"""The public catalogue's results kept for a few seconds (marketplace.page_cache): the
same page for everyone asking the same, each visitor's own CSRF token in it, a change
through this process shown at once and one from elsewhere within the kept seconds."""

import re

import pytest
import sqlalchemy as sa

from catalogue.models import Offering
from core import kept
from marketplace import page_cache
from providers.models import Provider
from tests import factories as f

pytestmark = pytest.mark.smoke


def html(r):
    return r.get_data(as_text=True)


def tokens(page):
    return set(re.findall(r'name="csrf_token" value="([^"]*)"', page))


@pytest.fixture
def count(sql_statements):
    return sql_statements


def test_the_same_query_is_served_from_what_is_kept_with_each_visitors_own_token(app, client, shop, count):
    other = app.test_client()
    first = html(client.get("/services?postal_code=33100"))
    assert first.count('class="panel offering"') == 2
    count.clear()
    second = html(other.get("/services?postal_code=33100"))
    assert not [s for s in count if "offerings" in s]  # no search
    assert second.count('class="panel offering"') == 2
    assert len(tokens(first)) == 1 and len(tokens(second)) == 1 and tokens(first) != tokens(second)
    assert page_cache.CSRF_STAND_IN not in first + second
    strip = lambda page: re.sub(r'value="[^"]*" name="csrf_token"|name="csrf_token" value="[^"]*"', "", page)
    assert strip(first) == strip(second)


def test_a_token_of_the_kept_page_is_accepted_by_the_cart(app, shop):
    app.config["WTF_CSRF_ENABLED"] = True
    visitor, other = app.test_client(), app.test_client()
    visitor.get("/services?postal_code=33100")
    page = html(other.get("/services?postal_code=33100"))  # from what was kept
    token = tokens(page).pop()
    r = other.post("/cart/add", data={"csrf_token": token, "offering_id": shop["offering"].id, "quantity": 1,
                                      "next": "/services"})
    assert r.status_code == 302
    assert "(1)" in html(other.get("/services?postal_code=33100"))


def test_language_and_query_are_kept_apart(client, shop):
    client.get("/?lang=en")
    assert "Cleaning" in html(client.get("/services?postal_code=33100"))
    client.get("/?lang=fi")
    page = html(client.get("/services?postal_code=33100"))
    assert "Siivous" in page and ">Cleaning<" not in page
    assert "Meal delivery" not in html(client.get("/services?postal_code=33200&lang=en"))


def test_a_change_in_this_process_shows_at_once(client, db, shop):
    client.get("/?lang=en")
    assert "45,00" in html(client.get("/services?postal_code=33100")) or "45.00" in html(
        client.get("/services?postal_code=33100"))
    shop["offering"].price_cents = 4700  # a provider's new price
    db.session.commit()
    page = html(client.get("/services?postal_code=33100"))
    assert "47.00" in page or "47,00" in page
    db.session.execute(sa.update(Provider).where(Provider.id == shop["company"].id)
                       .values(rating_sum=9, rating_count=2))  # a new rating, as feedback writes it
    db.session.commit()
    assert "4.5" in html(client.get("/services?postal_code=33100"))
    shop["company"].status = "suspended"
    db.session.commit()
    assert "Kirkas Koti Oy" not in html(client.get("/services?postal_code=33100"))


def test_a_change_from_elsewhere_shows_when_the_kept_seconds_are_over(app, client, db, shop, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: now[0])
    client.get("/?lang=en")
    assert "Window cleaning" in html(client.get("/services?postal_code=33100"))
    with db.engine.begin() as conn:  # another process: no ORM session of this one sees it
        conn.execute(sa.update(Offering.__table__).where(Offering.__table__.c.id == shop["windows"].id)
                     .values(active=False))
    now[0] += page_cache.DEFAULT_SECONDS - 0.5
    assert "Window cleaning" in html(client.get("/services?postal_code=33100"))
    now[0] += 1
    assert "Window cleaning" not in html(client.get("/services?postal_code=33100"))


def test_invalid_queries_are_not_kept_and_the_store_is_bounded(app, client, shop, monkeypatch):
    assert client.get("/services?postal_code=abc").status_code == 422
    assert client.get("/services?postal_code=abc").status_code == 422
    assert not [key for key in app.extensions.get("kept:catalogue-pages", {}) if "abc" in key[1]]
    monkeypatch.setattr(page_cache._pages, "max_entries", 3)
    for i in range(5):
        assert client.get(f"/services?q=x{i}").status_code == 200
    assert len(app.extensions["kept:catalogue-pages"]) == 3


def test_kept_for_no_time_when_turned_off(app, client, shop, count):
    app.config["CATALOGUE_CACHE_SECONDS"] = 0
    client.get("/services?postal_code=33100")
    count.clear()
    client.get("/services?postal_code=33100")
    assert [s for s in count if "offerings" in s]
    assert not app.extensions.get("kept:catalogue-pages")


def test_an_offering_text_cannot_carry_the_stand_in(client, db, shop):
    f.OfferingFactory(provider=shop["company"], service_type=shop["cleaning"], postal_codes=["33100"],
                      price_cents=100, description="csrf-stand-in-0000 <b>x</b>")
    db.session.commit()
    page = html(client.get("/services?postal_code=33100"))
    assert "csrf-stand-in-0000 &lt;b&gt;x&lt;/b&gt;" in page


def test_a_bulk_insert_in_this_process_drops_what_is_kept(db):
    """A Core INSERT into a watched table (through the session) counts as a change, as an
    ORM flush or a bulk UPDATE does."""
    from catalogue.models import ServiceCategory

    before = page_cache.generation()
    db.session.execute(sa.insert(ServiceCategory), [{"slug": "uusi-luokka", "name_fi": "Uusi luokka", "position": 99}])
    assert page_cache.generation() > before
