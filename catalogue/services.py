"""Reading the catalogue: service types and categories, the public catalogue search,
the offerings API listing and a provider's shop page. Anyone may call these.

Filters on the provider's columns use ``provider_model()`` (the class the
``Offering.provider`` relationship maps), so the catalogue imports no domain."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from catalogue.models import (
    Offering,
    OfferingArea,
    ServiceCategory,
    ServiceType,
    provider_model,
)
from core.db import sql_number
from core.errors import NotFoundError
from core.extensions import db
from core.i18n import current_language

POSTAL_RE = re.compile(r"^\d{5}$")
APPROVED = "approved"              # providers.models.ProviderStatus.APPROVED
PROVIDER_KINDS = ("ngo", "company")  # the kinds a catalogue visitor can filter by
SORTS = ("price", "rating", "name")


def list_service_types(active_only: bool = True) -> list[ServiceType]:
    stmt = (sa.select(ServiceType).join(ServiceCategory)
            .order_by(ServiceCategory.position, ServiceCategory.id, ServiceType.name_fi))
    if active_only:
        stmt = stmt.where(ServiceType.active.is_(True))
    return list(db.session.scalars(stmt))


def list_categories() -> list[ServiceCategory]:
    return list(db.session.scalars(sa.select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.id)))


def category_choices() -> list[tuple[int, str]]:
    """(id, name in the current language) of every category, in their order: what a
    filter's drop-down needs, without loading the rows as objects."""
    lang = current_language()
    stmt = _CATEGORY_CHOICES.get(lang)
    if stmt is None:  # built once per language: building it cost more than running it
        names = ServiceCategory.__table__.c
        column = names.get(f"name_{lang}", names.name_fi)
        stmt = _CATEGORY_CHOICES[lang] = (sa.select(names.id, sa.func.coalesce(sa.func.nullif(column, ""), names.name_fi))
                                          .order_by(names.position, names.id))
    return [tuple(row) for row in db.session.execute(stmt).all()]


_CATEGORY_CHOICES: dict[str, sa.Select] = {}


def get_category(category_id: int) -> ServiceCategory:
    category = db.session.get(ServiceCategory, category_id)
    if category is None:
        raise NotFoundError(_("No such category."))
    return category


def get_service_type(type_id: int) -> ServiceType:
    service_type = db.session.get(ServiceType, type_id)
    if service_type is None:
        raise NotFoundError(_("No such service type."))
    return service_type


@dataclass
class CatalogueFilter:
    """What a catalogue visitor asked for; every field is optional."""

    q: str = ""
    category_id: int | None = None
    service_type_id: int | None = None
    postal_code: str | None = None
    language: str | None = None
    kind: str | None = None
    max_price_cents: int | None = None
    provider_id: int | None = None
    sort: str = "price"


def is_sellable(offering: Offering) -> bool:
    """An offering a buyer can put in the cart (the row-level twin of ``sellable_offerings``)."""
    return (offering.active and offering.self_paid and offering.price_cents is not None
            and offering.provider.status == APPROVED and offering.service_type.active
            and offering.service_type.self_paid_allowed)


def sellable_offerings() -> sa.Select:
    """Offerings a buyer can put in the cart: active, self-paid, priced, of an
    approved provider and an active service type that may be sold to self-payers."""
    provider = provider_model()
    return (sa.select(Offering)
            .join(Offering.provider).join(Offering.service_type).join(ServiceType.category)
            .options(sa.orm.contains_eager(Offering.provider),
                     sa.orm.contains_eager(Offering.service_type).contains_eager(ServiceType.category))
            .where(Offering.active.is_(True), Offering.self_paid.is_(True), Offering.price_cents.is_not(None),
                   provider.status == APPROVED, ServiceType.active.is_(True),
                   ServiceType.self_paid_allowed.is_(True)))


def sellable_offering(offering_id: int) -> Offering | None:
    return db.session.scalar(sellable_offerings().where(Offering.id == offering_id))


def _serves(postal_code: str):
    return sa.exists().where(OfferingArea.offering_id == Offering.id, OfferingArea.postal_code == postal_code)


class OfferingCard(NamedTuple):
    """What an offering's card in the shop shows (``offering_cards`` in
    templates/marketplace/_shop.html unpacks it in this order): the service type's name
    in the reader's language, the provider's name, kind and rating (``rating_average`` as
    ``Provider.rating_average`` gives it), the price, and ``work_share`` (the percentage of
    the price that is work) only where the household tax deduction applies: the offering
    qualifies and the provider is in the prepayment register. ``postal_codes``: the
    provider page's cards only."""

    id: int
    type_name: str
    provider_id: int
    provider_name: str
    kind: str
    rating_average: float | None
    rating_count: int
    price_cents: int
    unit: str
    vat_rate_bp: int
    languages: list
    work_share: int | None
    description: str
    postal_codes: list[str] | None = None


def _rating_average(rating_sum: int, rating_count: int) -> float | None:
    # As providers.models.Provider.rating_average (which the catalogue does not import).
    return round(rating_sum / rating_count, 2) if rating_count else None


def offering_card(offering: Offering, postal_codes: list[str] | None = None) -> OfferingCard:
    """The card of a loaded offering (its provider and service type loaded with it)."""
    provider = offering.provider
    return OfferingCard(
        offering.id, offering.service_type.name(), provider.id, provider.name, provider.kind,
        provider.rating_average, provider.rating_count, offering.price_cents, offering.unit,
        offering.vat_rate_bp, offering.languages,
        offering.labour_share_percent if offering.household_deduction and provider.prepayment_register else None,
        offering.description, postal_codes)


def search_catalogue(f: CatalogueFilter, page: int = 1, per_page: int = 20) -> tuple[list[OfferingCard], bool]:
    """One page of the public catalogue's cards and whether a next page exists. Anyone
    may call; only sellable offerings are listed (``sellable_offerings``' conditions).
    One query whatever the page size, reading only the cards' columns, by a statement
    built once for each language, order and set of filters given (with bound values)."""
    # The filters given, and their values to bind (a filter left empty narrows nothing).
    given = {name: value for name, value in (
        ("category_id", f.category_id), ("service_type_id", f.service_type_id), ("provider_id", f.provider_id),
        ("postal_code", f.postal_code), ("kind", f.kind)) if value}
    if f.q:
        # What ``contains(…, autoescape=True)`` does to a literal, done to the bound value.
        given["q"] = f.q.strip().lower()[:100].replace("/", "//").replace("%", "/%").replace("_", "/_")
    if f.language:
        # Languages are a small JSON list such as ["fi", "sv"]: the quoted code in its text.
        given["language"] = f'%"{f.language}"%'
    if f.max_price_cents is not None:
        given["max_price_cents"] = f.max_price_cents
    stmt = _search_statement(current_language(), f.sort if f.sort in SORTS else "price", frozenset(given), per_page)
    if page > 1:
        stmt = stmt.offset(sql_number((page - 1) * per_page))
    rows = db.session.execute(stmt, given).all()
    cards = [OfferingCard(id_, type_name, provider_id, provider_name, kind, _rating_average(rating_sum, rating_count),
                          rating_count, price_cents, unit, vat_rate_bp, languages,
                          labour_share if deduction and prepayment else None, description)
             for (id_, type_name, provider_id, provider_name, kind, rating_sum, rating_count, price_cents, unit,
                  vat_rate_bp, languages, deduction, prepayment, labour_share, description) in rows[:per_page]]
    return cards, len(rows) > per_page


_SEARCH_STATEMENTS: dict[tuple, sa.Select] = {}


def _search_statement(lang: str, sort: str, given: frozenset, per_page: int) -> sa.Select:
    """The catalogue search's first page for a language, an order, the names of the
    filters given and the page size, built at first use with the filters' values bound:
    building it took about as long as running it. At most 3 languages × 3 orders × 2^8
    sets of filters for the one page size the catalogue uses.

    The page's limit is written into the statement, as is a later page's offset
    (``search_catalogue`` adds it to a copy): PostgreSQL's generic plan of a statement
    with a bound limit or offset assumes it returns a tenth of the rows it filters, and
    with that it sorted every offering serving the postal code instead of walking the
    sellable offerings in price order (``ix_offerings_sellable_price``) until a page is
    found (3.7 → 0.6 ms of SQL at the reference size, 15.6 → 0.65 ms at five times it)."""
    key = (lang, sort, given, per_page)
    stmt = _SEARCH_STATEMENTS.get(key)
    if stmt is None:
        stmt = _SEARCH_STATEMENTS[key] = _build_search_statement(lang, sort, given, per_page)
    return stmt


def _build_search_statement(lang: str, sort: str, given: frozenset, per_page: int) -> sa.Select:
    offering = Offering.__table__.c
    types = ServiceType.__table__.c
    categories = ServiceCategory.__table__.c
    provider_table = provider_model().__table__
    provider = provider_table.c
    type_name = types.get(f"name_{lang}", types.name_fi)
    # The columns of OfferingCard (less the rating's average, worked out from its sum and count).
    stmt = (sa.select(offering.id, sa.func.coalesce(sa.func.nullif(type_name, ""), types.name_fi), provider.id,
                      provider.name, provider.kind, provider.rating_sum, provider.rating_count, offering.price_cents,
                      offering.unit, offering.vat_rate_bp, offering.languages, offering.household_deduction,
                      provider.prepayment_register, offering.labour_share_percent, offering.description)
            .select_from(Offering.__table__)
            .join(provider_table, provider.id == offering.provider_id)
            .join(ServiceType.__table__, types.id == offering.service_type_id)
            # sellable_offerings' conditions
            .where(offering.active.is_(True), offering.self_paid.is_(True), offering.price_cents.is_not(None),
                   provider.status == APPROVED, types.active.is_(True), types.self_paid_allowed.is_(True)))
    if "q" in given:
        stmt = stmt.join(ServiceCategory.__table__, categories.id == types.category_id)
        needle = sa.bindparam("q", type_=sa.String)
        stmt = stmt.where(sa.or_(*(sa.func.lower(col).contains(needle, escape="/") for col in (
            provider.name, types.name_fi, types.name_sv, types.name_en,
            categories.name_fi, categories.name_sv, categories.name_en))))
    if "category_id" in given:
        stmt = stmt.where(types.category_id == sa.bindparam("category_id", type_=sa.Integer))
    if "service_type_id" in given:
        stmt = stmt.where(offering.service_type_id == sa.bindparam("service_type_id", type_=sa.Integer))
    if "provider_id" in given:
        stmt = stmt.where(offering.provider_id == sa.bindparam("provider_id", type_=sa.Integer))
    if "postal_code" in given:
        areas = OfferingArea.__table__.c
        stmt = stmt.where(sa.exists().where(areas.offering_id == offering.id,
                                            areas.postal_code == sa.bindparam("postal_code", type_=sa.String)))
    if "language" in given:
        stmt = stmt.where(sa.cast(offering.languages, sa.Text).like(sa.bindparam("language", type_=sa.String)))
    if "kind" in given:
        stmt = stmt.where(provider.kind == sa.bindparam("kind", type_=sa.String))
    if "max_price_cents" in given:
        stmt = stmt.where(offering.price_cents <= sa.bindparam("max_price_cents", type_=sa.Integer))
    if sort == "rating":
        average = provider.rating_sum * 1.0 / sa.func.nullif(provider.rating_count, 0)
        stmt = stmt.order_by(sa.case((provider.rating_count == 0, 1), else_=0), average.desc(),
                             offering.price_cents, offering.id)
    elif sort == "name":
        stmt = stmt.order_by(types.name_fi, provider.name, offering.id)
    else:
        stmt = stmt.order_by(offering.price_cents, offering.id)
    # One row more than a page tells whether a next page exists.
    return stmt.limit(sql_number(per_page + 1))


def list_offerings(*, service_type_id=None, postal_code=None, self_paid=None, provider_id=None,
                   limit: int = 50, cursor: int | None = None) -> list[Offering]:
    """``GET /offerings``: active offerings of approved providers, by id, limit+1 rows."""
    provider = provider_model()
    stmt = (sa.select(Offering).join(Offering.provider)
            .options(sa.orm.contains_eager(Offering.provider), sa.orm.selectinload(Offering.areas))
            .where(Offering.active.is_(True), provider.status == APPROVED)
            .order_by(Offering.id).limit(limit + 1))
    if service_type_id is not None:
        stmt = stmt.where(Offering.service_type_id == service_type_id)
    if postal_code:
        stmt = stmt.where(_serves(postal_code))
    if self_paid is not None:
        stmt = stmt.where(Offering.self_paid.is_(self_paid))
    if provider_id is not None:
        stmt = stmt.where(Offering.provider_id == provider_id)
    if cursor is not None:
        stmt = stmt.where(Offering.id > cursor)
    return list(db.session.scalars(stmt).unique())


def get_public_provider(provider_id: int):
    """An approved provider for its public page; 404 for anything else."""
    provider = db.session.get(provider_model(), provider_id)
    if provider is None or provider.status != APPROVED:
        raise NotFoundError(_("No such provider."))
    return provider


def provider_shop_offerings(provider_id: int) -> list[Offering]:
    stmt = sellable_offerings().where(Offering.provider_id == provider_id) \
        .options(sa.orm.selectinload(Offering.areas)).order_by(ServiceType.name_fi, Offering.id)
    return list(db.session.scalars(stmt).unique())


def provider_areas(provider_id: int) -> list[str]:
    """Postal codes any active offering of the provider serves."""
    return list(db.session.scalars(
        sa.select(OfferingArea.postal_code).join(Offering, Offering.id == OfferingArea.offering_id)
        .where(Offering.provider_id == provider_id, Offering.active.is_(True))
        .distinct().order_by(OfferingArea.postal_code)))
