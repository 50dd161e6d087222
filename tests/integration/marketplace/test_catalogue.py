"""The public catalogue (no login), provider pages, GET/POST /offerings, providers'
offering management and the admin's service catalogue."""

import re

import pytest
import sqlalchemy as sa

from catalogue.models import Offering, ServiceType
from tests import factories as f

pytestmark = pytest.mark.smoke


def html(r):
    return r.get_data(as_text=True)


def test_catalogue_needs_no_login_and_filters_by_postal_code(client, shop):
    r = client.get("/services?lang=en")
    assert r.status_code == 200
    page = html(r)
    assert "Cleaning" in page and "Meal delivery" in page and "Kirkas Koti Oy" in page
    page = html(client.get("/services?postal_code=33500"))
    assert "Meal delivery" in page and "Cleaning" not in page
    page = html(client.get("/services?postal_code=33200"))
    assert "Cleaning" in page and "Window cleaning" not in page and "Meal delivery" not in page


@pytest.mark.parametrize("query,present,absent", [
    ("kind=ngo", ["Meal delivery"], ["Window cleaning"]),
    ("kind=company", ["Window cleaning", "Cleaning"], ["Meal delivery"]),
    ("language=sv", ["Cleaning"], ["Meal delivery", "Window cleaning"]),
    ("max_price=45", ["Cleaning", "Meal delivery"], ["Window cleaning"]),
    ("max_price=10,50", ["Meal delivery"], ["Window cleaning", ">Cleaning<"]),
    ("q=ateria", ["Meal delivery"], ["Window cleaning"]),
])
def test_catalogue_filters(client, shop, query, present, absent):
    client.get("/services?lang=en")
    page = html(client.get(f"/services?{query}"))
    for text in present:
        assert text in page, (query, text)
    for text in absent:
        assert text not in page, (query, text)


def test_catalogue_filter_by_category(client, shop):
    client.get("/?lang=en")
    page = html(client.get(f"/services?category={shop['cleaning_cat'].id}"))
    assert "Window cleaning" in page and "Meal delivery" not in page


def test_bad_filters_are_a_clear_422_not_a_500(client, shop):
    client.get("/?lang=en")
    r = client.get("/services?postal_code=abc&max_price=lots")
    assert r.status_code == 422
    page = html(r)
    assert "five digits" in page and "euros" in page


def test_catalogue_hides_what_cannot_be_bought(client, db, shop):
    pending = f.ProviderFactory(name="Odottava Oy", status="pending")
    f.OfferingFactory(provider=pending, service_type=shop["cleaning"])
    f.OfferingFactory(provider=shop["company"], service_type=f.ServiceTypeFactory(name_en="Public only"), self_paid=False)
    f.OfferingFactory(provider=shop["company"], service_type=f.ServiceTypeFactory(name_en="Stopped"), active=False)
    f.OfferingFactory(provider=shop["company"], service_type=f.ServiceTypeFactory(name_en="Not for sale",
                                                                                  self_paid_allowed=False))
    db.session.commit()
    page = html(client.get("/services?lang=en"))
    for text in ("Odottava Oy", "Public only", "Stopped", "Not for sale"):
        assert text not in page


def test_catalogue_query_count_does_not_grow_with_rows(client, db, shop, app):
    from core.extensions import db as _db

    statements = []

    def count(*args, **kwargs):
        statements.append(1)

    client.get("/services?lang=en")
    sa.event.listen(_db.engine, "before_cursor_execute", count)
    try:
        client.get("/services")
        few = len(statements)
        for i in range(25):
            f.OfferingFactory(provider=f.ProviderFactory(), service_type=shop["cleaning"], price_cents=1000 + i)
        db.session.commit()
        statements.clear()
        page = html(client.get("/services"))
        many = len(statements)
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", count)
    assert page.count('class="panel offering"') == 20  # one page
    assert many == few, (few, many)


def test_catalogue_cards_escape_every_text_from_the_database(client, db, shop):
    # The cards are written with autoescape off (templates/marketplace/_shop.html): each
    # text read from the database goes through |e, in its own place on the card.
    provider = f.ProviderFactory(name='Firma <b>"1"</b> & co', kind="company")
    service_type = f.ServiceTypeFactory(name_fi="Palvelu <i>2</i>", name_en="Service <i>2</i> & 'more'")
    f.OfferingFactory(provider=provider, service_type=service_type, price_cents=1, languages=["fi", "<sv>"],
                      description='Kuvaus <script>alert("3")</script>')
    db.session.commit()
    client.get("/?lang=en")
    page = html(client.get("/services?postal_code=33100&q=firma"))
    assert page.count('class="panel offering"') == 1
    for raw in ("<b>", "<i>", "<sv>", "<script>"):
        assert raw not in page
    assert '<h3 class="offering-title">Service &lt;i&gt;2&lt;/i&gt; &amp; &#39;more&#39;</h3>' in page
    assert f'<a href="/services/providers/{provider.id}">Firma &lt;b&gt;&#34;1&#34;&lt;/b&gt; &amp; co</a>' in page
    assert "<li>Languages: fi, &lt;sv&gt;</li>" in page
    assert "<p>Kuvaus &lt;script&gt;alert(&#34;3&#34;)&lt;/script&gt;</p>" in page
    assert ('<span class="visually-hidden">: Service &lt;i&gt;2&lt;/i&gt; &amp; &#39;more&#39;, '
            "Firma &lt;b&gt;&#34;1&#34;&lt;/b&gt; &amp; co</span>") in page
    # The page's own address (a query the visitor typed) is escaped in every card's form.
    page = html(client.get('/services?postal_code=33100&q=firma&x="><i>'))
    assert 'name="next" value="/services?postal_code=33100&amp;q=firma&amp;x=&#34;&gt;&lt;i&gt;"' in page


def test_catalogue_search_matches_percent_and_underscore_as_they_are(client, db, shop):
    f.OfferingFactory(provider=f.ProviderFactory(name="Hoiva 100% Oy"), service_type=shop["cleaning"])
    f.OfferingFactory(provider=f.ProviderFactory(name="Apu_ja_tuki ry", kind="ngo"), service_type=shop["cleaning"])
    db.session.commit()
    client.get("/?lang=en")
    assert "Hoiva 100% Oy" in html(client.get("/services?q=%25")) and "Apu_ja_tuki" not in html(client.get("/services?q=%25"))
    page = html(client.get("/services?q=_"))
    assert "Apu_ja_tuki ry" in page and "Hoiva 100%" not in page and "Kirkas Koti" not in page


def test_catalogue_orders_by_rating_name_and_price(client, db, shop):
    shop["company"].rating_sum, shop["company"].rating_count = 9, 2      # 4.5
    shop["ngo"].rating_sum, shop["ngo"].rating_count = 5, 1              # 5.0
    unrated = f.ProviderFactory(name="Arvioimaton Oy")
    f.OfferingFactory(provider=unrated, service_type=shop["cleaning"], price_cents=100)
    db.session.commit()
    client.get("/?lang=en")

    def ids(query):
        return [int(i) for i in re.findall(r'name="offering_id" value="(\d+)"', html(client.get(query)))]

    cleaning, windows, meals = shop["offering"].id, shop["windows"].id, shop["meals"].id
    cheap = ids("/services?q=arvioimaton")[0]
    assert ids("/services") == [cheap, meals, cleaning, windows]
    assert ids("/services?sort=rating") == [meals, cleaning, windows, cheap]
    # By the Finnish name of the service type (Ateriakuljetus, Ikkunanpesu, Siivous), then the provider's name.
    assert ids("/services?sort=name") == [meals, windows, cheap, cleaning]
    page = html(client.get("/services?sort=rating"))
    assert "Rating 5.0 / 5 (1 review)" in page and "Rating 4.5 / 5 (2 reviews)" in page and "No reviews yet" in page


def test_catalogue_shows_names_in_the_readers_language_finnish_where_none(client, db, shop):
    f.OfferingFactory(provider=shop["company"], service_type=f.ServiceTypeFactory(name_fi="Vain suomeksi", name_sv="",
                                                                                  name_en=None))
    db.session.commit()
    client.get("/?lang=sv")
    page = html(client.get("/services?postal_code=33100"))
    assert ">Vain suomeksi</h3>" in page and '<h3 class="offering-title">Tjänst ' in page
    client.get("/?lang=en")
    page = html(client.get("/services?postal_code=33100"))
    assert ">Vain suomeksi</h3>" in page and ">Cleaning</h3>" in page


def test_catalogue_search_statement_is_built_once_per_shape(app, client, shop):
    from catalogue import services

    services._SEARCH_STATEMENTS.clear()  # a cache of the process: other tests filled it
    client.get("/services?postal_code=33100&lang=en")
    built = dict(services._SEARCH_STATEMENTS)
    client.get("/services?postal_code=33200")
    client.get("/services?postal_code=33500&page=2")
    assert services._SEARCH_STATEMENTS == built  # the same shape: the same statement, other values
    client.get("/services?postal_code=33100&kind=ngo")
    assert len(services._SEARCH_STATEMENTS) == len(built) + 1 == 2


def test_catalogue_lists_exactly_the_sellable_offerings(app, db, shop):
    # The search's statement repeats sellable_offerings' conditions on the tables' columns
    # (catalogue.services._build_search_statement): the two must agree on every offering.
    from catalogue.services import (
        CatalogueFilter,
        is_sellable,
        search_catalogue,
        sellable_offerings,
    )

    pending = f.ProviderFactory(status="pending")
    stopped_type = f.ServiceTypeFactory(active=False)
    not_for_sale = f.ServiceTypeFactory(self_paid_allowed=False)
    for provider, service_type, extra in [
        (pending, shop["cleaning"], {}), (shop["company"], stopped_type, {}), (shop["company"], not_for_sale, {}),
        (shop["ngo"], shop["cleaning"], {"price_cents": None}), (shop["ngo"], shop["cleaning"], {"active": False}),
        (shop["ngo"], shop["cleaning"], {"self_paid": False}), (shop["ngo"], shop["cleaning"], {"price_cents": 0}),
    ]:
        f.OfferingFactory(provider=provider, service_type=service_type, **extra)
    db.session.commit()
    with app.test_request_context("/services?lang=en"):
        listed, has_next = search_catalogue(CatalogueFilter(), per_page=100)
        sellable = {o.id for o in db.session.scalars(sellable_offerings())}
        assert not has_next and {card.id for card in listed} == sellable
        assert sellable == {o.id for o in db.session.scalars(sa.select(Offering)) if is_sellable(o)}
        assert len(sellable) == 4  # the shop's three and the free one


def test_card_rating_is_the_providers_rating_average():
    from catalogue.services import _rating_average
    from providers.models import Provider

    for rating_sum, rating_count in [(0, 0), (5, 1), (9, 2), (10, 3), (37, 9), (41, 10), (2, 3), (1, 8)]:
        provider = Provider(rating_sum=rating_sum, rating_count=rating_count)
        assert _rating_average(rating_sum, rating_count) == provider.rating_average


def test_paging(client, db, shop):
    for i in range(25):
        f.OfferingFactory(provider=shop["company"], service_type=f.ServiceTypeFactory(), price_cents=2000 + i)
    db.session.commit()
    client.get("/?lang=en")
    first = html(client.get("/services"))
    assert "Next page" in first
    second = html(client.get("/services?page=2"))
    assert second.count('class="panel offering"') == 28 - 20


def test_pages_walk_every_offering_serving_a_postal_code_once_cheapest_first(app, db, shop):
    """The first page has no offset and a later one writes its own (perf4): paging
    through a postal code's offerings with tied prices gives each offering once, in
    price order (ties by number), and says on the last page that none is left."""
    from catalogue.services import CatalogueFilter, search_catalogue

    service_type = f.ServiceTypeFactory()
    for i in range(45):
        f.OfferingFactory(provider=shop["ngo"], service_type=service_type, price_cents=1000 + (i % 7) * 100,
                          postal_codes=["33720"] if i % 3 else ["33720", "33100"])
    f.OfferingFactory(provider=shop["ngo"], service_type=service_type, price_cents=1, postal_codes=["33820"])
    db.session.commit()
    expected = db.session.execute(
        sa.select(Offering.id).join(Offering.areas).where(sa.text("offering_areas.postal_code = '33720'"))
        .order_by(Offering.price_cents, Offering.id)).scalars().all()
    assert len(expected) == 45
    with app.test_request_context("/services?lang=en"):
        pages = [search_catalogue(CatalogueFilter(postal_code="33720"), page=page) for page in (1, 2, 3)]
        assert [has_next for _, has_next in pages] == [True, True, False]
        assert [card.id for cards, _ in pages for card in cards] == expected
        assert search_catalogue(CatalogueFilter(postal_code="33720"), page=4) == ([], False)
        # The same shape with another postal code and another page: other values, the right rows.
        cards, has_next = search_catalogue(CatalogueFilter(postal_code="33100"), page=1)
        assert len(cards) == 17 and not has_next
        assert [c.price_cents for c in cards] == sorted(c.price_cents for c in cards)


def test_catalogue_statement_writes_its_page_and_matches_the_price_index(app):
    """PostgreSQL's generic plan of a statement with a bound limit or offset assumes a
    tenth of the rows it filters and sorted every offering serving the postal code
    (15 ms at five times the reference data); the statement writes its limit and a
    later page's offset, and repeats the partial index's predicate as the index writes
    it, so that the plan walks the sellable offerings in price order."""
    from sqlalchemy.dialects import postgresql, sqlite

    from catalogue import services

    index = next(i for i in Offering.__table__.indexes if i.name == "ix_offerings_sellable_price")
    assert [c.name for c in index.columns] == ["price_cents", "id"]
    with app.app_context():
        first = services._search_statement("fi", "price", frozenset({"postal_code"}), 20)
        later = first.offset(services.sql_number(40))
        compiled = first.compile(dialect=postgresql.dialect())
        assert re.findall(r"\b(LIMIT|OFFSET) (\S+)", str(compiled)) == [("LIMIT", "21")]
        assert re.findall(r"\b(LIMIT|OFFSET) (\S+)", str(later.compile(dialect=postgresql.dialect()))) == [
            ("LIMIT", "21"), ("OFFSET", "40")]
        assert set(compiled.params) == {"nullif_1", "status_1", "postal_code"}
        for dialect in (postgresql.dialect(), sqlite.dialect()):  # SQLite plans each statement afresh
            sql = str(first.compile(dialect=dialect))
            assert "ORDER BY offerings.price_cents, offerings.id" in sql
            predicate = str(index.dialect_options[dialect.name]["where"])
            for term in predicate.split(" AND "):
                assert f"offerings.{term}" in sql, (dialect.name, term)


def test_provider_page_shows_areas_languages_rating_and_published_feedback(client, db, shop):
    company = shop["company"]
    company.description = "Siivousta Tampereella vuodesta 1999."
    company.rating_sum, company.rating_count = 9, 2
    f.FeedbackFactory(provider_id=company.id, rating=5, comment="Erinomainen palvelu", response="Kiitos!")
    f.FeedbackFactory(provider_id=company.id, rating=1, comment="Piilotettu kommentti", hidden_at=__import__("core.db").db.utcnow())
    db.session.commit()
    page = html(client.get(f"/services/providers/{company.id}?lang=en"))
    assert "Siivousta Tampereella" in page and "33100" in page and "33200" in page
    assert "fi, sv" in page and "4.5" in page
    assert "Erinomainen palvelu" in page and "Kiitos!" in page
    assert "Piilotettu kommentti" not in page
    pending = f.ProviderFactory(status="pending")
    db.session.commit()
    assert client.get(f"/services/providers/{pending.id}").status_code == 404


def test_get_offerings_api_with_provider_embedded_and_filters(client, db, shop):
    r = client.get("/api/v1/offerings?postal_code=33100&self_paid=true")
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert {i["id"] for i in items} == {shop["offering"].id, shop["windows"].id}
    item = next(i for i in items if i["id"] == shop["offering"].id)
    assert item["provider"]["name"] == "Kirkas Koti Oy" and item["provider"]["kind"] == "company"
    assert item["vat_rate"] == 25.5 and item["price_cents"] == 4500 and item["labour_share_percent"] == 80
    assert item["postal_codes"] == ["33100", "33200"]
    r = client.get(f"/api/v1/offerings?service_type_id={shop['cleaning'].id}")
    assert [i["id"] for i in r.get_json()["items"]] == [shop["offering"].id]
    assert client.get("/api/v1/offerings?postal_code=1").status_code == 422
    assert client.get("/api/v1/offerings?self_paid=maybe").status_code == 422
    paged = client.get("/api/v1/offerings?limit=2").get_json()
    assert len(paged["items"]) == 2 and paged["next"].startswith("http://kotiapu.test/api/v1/offerings")
    rest = client.get(paged["next"].replace("http://kotiapu.test", "")).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None


def test_post_offerings_by_provider(client, db, shop, make_user, api_token):
    shop["ngo"].prepayment_register = True
    member = make_user("provider", provider=shop["ngo"])
    headers = api_token(member)
    body = {"service_type_id": shop["cleaning"].id, "postal_codes": ["33500", "33540"], "languages": ["fi", "sv"],
            "unit": "hour", "price_cents": 3900, "vat_rate": 25.5, "self_paid": True, "household_deduction": True,
            "labour_share_percent": 90}
    r = client.post("/api/v1/offerings", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert data["provider_id"] == shop["ngo"].id and data["vat_rate"] == 25.5 and data["postal_codes"] == ["33500", "33540"]
    offering = db.session.get(Offering, data["id"])
    assert offering.vat_rate_bp == 2550 and offering.labour_share_percent == 90
    # labour share defaults to 100; VAT 14 %
    r = client.post("/api/v1/offerings", json=dict(body, vat_rate=14, labour_share_percent=None), headers=headers)
    assert r.status_code == 201 and db.session.get(Offering, r.get_json()["id"]).labour_share_percent == 100
    assert db.session.get(Offering, r.get_json()["id"]).vat_rate_bp == 1400


@pytest.mark.parametrize("change,field", [
    ({"service_type_id": 999999}, "service_type_id"),
    ({"postal_codes": ["331"]}, "postal_codes"),
    ({"postal_codes": []}, "postal_codes"),
    ({"languages": ["finnish"]}, "languages"),
    ({"unit": "day"}, "unit"),
    ({"price_cents": -1}, "price_cents"),
    ({"price_cents": None}, "price_cents"),
    ({"vat_rate": 25.555}, "vat_rate"),
    ({"vat_rate": 120}, "vat_rate"),
    ({"labour_share_percent": 101}, "labour_share_percent"),
    ({"self_paid": "yes"}, "self_paid"),
])
def test_post_offerings_validation(client, db, shop, make_user, api_token, change, field):
    headers = api_token(make_user("provider", provider=shop["ngo"]))
    body = {"service_type_id": shop["cleaning"].id, "postal_codes": ["33500"], "languages": ["fi"], "unit": "hour",
            "price_cents": 3900, "vat_rate": 25.5, "self_paid": True, "household_deduction": False}
    body.update(change)
    r = client.post("/api/v1/offerings", json=body, headers=headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_household_deduction_needs_the_prepayment_register(client, db, shop, make_user, api_token):
    headers = api_token(make_user("provider", provider=shop["ngo"]))  # an NGO not in the register
    body = {"service_type_id": shop["cleaning"].id, "postal_codes": ["33500"], "languages": ["fi"], "unit": "hour",
            "price_cents": 3900, "self_paid": True, "household_deduction": True}
    r = client.post("/api/v1/offerings", json=body, headers=headers)
    assert r.status_code == 422 and "household_deduction" in r.get_json()["error"]["fields"]
    assert client.post("/api/v1/offerings", json=dict(body, household_deduction=False), headers=headers).status_code == 201


def test_openapi_describes_the_shop(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/offerings", "/shop/checkout", "/shop/orders/{id}", "/shop/orders/{id}/refund", "/service-types"):
        assert path in paths
    assert set(paths["/offerings"]) == {"get", "post"}


def test_post_offerings_roles(client, db, shop, make_user, api_token):
    body = {"service_type_id": shop["cleaning"].id, "postal_codes": ["33500"], "languages": ["fi"], "unit": "hour",
            "price_cents": 3900, "self_paid": True, "household_deduction": False}
    assert client.post("/api/v1/offerings", json=body).status_code == 401
    assert client.post("/api/v1/offerings", json=body, headers=api_token(make_user("staff"))).status_code == 403


def test_self_paid_not_allowed_for_the_service_type(client, db, shop, make_user, api_token):
    st = f.ServiceTypeFactory(self_paid_allowed=False)
    db.session.commit()
    body = {"service_type_id": st.id, "postal_codes": ["33500"], "languages": ["fi"], "unit": "hour",
            "price_cents": 3900, "self_paid": True, "household_deduction": False}
    r = client.post("/api/v1/offerings", json=body, headers=api_token(make_user("provider", provider=shop["ngo"])))
    assert r.status_code == 422 and "self_paid" in r.get_json()["error"]["fields"]


def test_provider_manages_offerings_on_the_web(client, db, shop, make_user, login_as):
    shop["ngo"].prepayment_register = True
    member = make_user("provider", provider=shop["ngo"], language="en")
    login_as(member)
    page = html(client.get("/provider/offerings"))
    assert "Meal delivery" in page and "Cleaning" not in page  # only its own
    r = client.post("/provider/offerings/new", data={
        "service_type_id": shop["cleaning"].id, "unit": "hour", "price": "39,90", "vat_rate_bp": "2550",
        "postal_codes": "33500, 33540 33560", "languages": "fi, sv", "self_paid": "y", "household_deduction": "y",
        "labour_share_percent": "75", "description": "Kotisiivous"})
    assert r.status_code == 302, html(r)[:3000]
    offering = db.session.scalar(sa.select(Offering).where(Offering.provider_id == shop["ngo"].id,
                                                           Offering.service_type_id == shop["cleaning"].id))
    assert offering.price_cents == 3990 and offering.postal_codes == ["33500", "33540", "33560"]
    assert offering.languages == ["fi", "sv"] and offering.labour_share_percent == 75 and offering.household_deduction
    # Bad input: a clear form error, nothing saved.
    r = client.post(f"/provider/offerings/{offering.id}", data={
        "service_type_id": shop["cleaning"].id, "unit": "hour", "price": "abc", "vat_rate_bp": "2550",
        "postal_codes": "335", "languages": "fi", "labour_share_percent": "75"})
    assert r.status_code == 422 and "Give an amount in euros" in html(r)
    r = client.post(f"/provider/offerings/{offering.id}", data={
        "service_type_id": shop["cleaning"].id, "unit": "hour", "price": "41", "vat_rate_bp": "2550",
        "postal_codes": "335 33500", "languages": "fi", "labour_share_percent": "75"})
    assert r.status_code == 422 and "five digits: 335." in html(r)
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).price_cents == 3990
    # Take it off sale.
    assert client.post(f"/provider/offerings/{offering.id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).active is False
    # Another organisation's offering is not found.
    assert client.get(f"/provider/offerings/{shop['offering'].id}").status_code == 404
    assert client.post(f"/provider/offerings/{shop['offering'].id}/active", data={"active": "0"}).status_code == 404


def test_admin_manages_the_service_catalogue(client, db, shop, make_user, login_as):
    login_as(make_user("admin", language="en"))
    page = html(client.get("/admin/catalogue"))
    assert "Home care" in page and "Window cleaning" in page
    r = client.post("/admin/catalogue/categories/new", data={"slug": "garden", "name_fi": "Piha", "name_en": "Garden",
                                                              "position": "5"})
    assert r.status_code == 302
    r = client.post("/admin/catalogue/categories/new", data={"slug": "garden", "name_fi": "Piha 2"})
    assert r.status_code == 422 and "Already in use" in html(r)
    cat_id = db.session.scalar(sa.text("SELECT id FROM service_categories WHERE slug = 'garden'"))
    r = client.post("/admin/catalogue/types/new", data={
        "category_id": cat_id, "slug": "lawn-mowing", "name_fi": "Nurmikon leikkuu", "name_en": "Lawn mowing",
        "default_unit": "hour", "self_paid_allowed": "y"})
    assert r.status_code == 302
    st = db.session.scalar(sa.select(ServiceType).where(ServiceType.slug == "lawn-mowing"))
    assert st.self_paid_allowed and st.active
    r = client.post(f"/admin/catalogue/types/{st.id}", data={
        "category_id": cat_id, "slug": "lawn-mowing", "name_fi": "Ruohonleikkuu", "default_unit": "hour"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceType, st.id).name_fi == "Ruohonleikkuu"
    assert db.session.get(ServiceType, st.id).self_paid_allowed is False  # unchecked box
    assert client.post(f"/admin/catalogue/types/{shop['cleaning'].id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceType, shop["cleaning"].id).active is False
    titles = re.findall(r'<h3 class="offering-title">([^<]*)</h3>', html(client.get("/services")))
    assert "Cleaning" not in titles and "Window cleaning" in titles
    r = client.post("/admin/catalogue/types/new", data={"category_id": cat_id, "slug": "Bad Slug!", "name_fi": "x",
                                                        "default_unit": "hour"})
    assert r.status_code == 422


@pytest.mark.parametrize("role", ["staff", "provider", "client", "manager"])
def test_admin_catalogue_is_for_admins_only(client, make_user, login_as, role):
    login_as(make_user(role))
    assert client.get("/admin/catalogue").status_code == 403
    assert client.post("/admin/catalogue/categories/new", data={"slug": "x", "name_fi": "x"}).status_code == 403


def test_menu_entries_appear_per_role(client, make_user, login_as):
    login_as(make_user("admin", language="en"))
    assert 'href="/admin/catalogue"' in html(client.get("/dashboard"))
    client.post("/logout")
    login_as(make_user("provider", language="en"))
    assert 'href="/provider/purchases"' in html(client.get("/dashboard"))
    client.post("/logout")
    login_as(make_user("client", language="en"))
    assert 'href="/services"' in html(client.get("/dashboard"))
