"""Reading the catalogue: service types and categories, the public catalogue search,
the offerings API listing and a provider's shop page. Anyone may call these.

Filters on the provider's columns use ``provider_model()`` (the class the
``Offering.provider`` relationship maps), so the catalogue imports no domain."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from catalogue.models import Offering, OfferingArea, ServiceCategory, ServiceType, provider_model
from core.db import where_given
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
    names = ServiceCategory.__table__.c
    column = names.get(f"name_{current_language()}", names.name_fi)
    return [tuple(row) for row in db.session.execute(
        sa.select(names.id, sa.func.coalesce(sa.func.nullif(column, ""), names.name_fi))
        .order_by(names.position, names.id))]


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


def _speaks(language: str):
    # Languages are a small JSON list such as ["fi", "sv"]; matching the quoted code in
    # its text form works the same on SQLite and PostgreSQL.
    return sa.cast(Offering.languages, sa.Text).like(f'%"{language}"%')


def search_catalogue(f: CatalogueFilter, page: int = 1, per_page: int = 20) -> tuple[list[Offering], bool]:
    """One page of the public catalogue and whether a next page exists. Anyone may
    call; only sellable offerings are listed. One query whatever the page size."""
    provider = provider_model()
    stmt = sellable_offerings()
    if f.q:
        needle = f.q.strip().lower()[:100]
        stmt = stmt.where(sa.or_(*(sa.func.lower(col).contains(needle, autoescape=True) for col in (
            provider.name, ServiceType.name_fi, ServiceType.name_sv, ServiceType.name_en,
            ServiceCategory.name_fi, ServiceCategory.name_sv, ServiceCategory.name_en))))
    stmt = where_given(stmt, (ServiceType.category_id, f.category_id),
                       (Offering.service_type_id, f.service_type_id), (Offering.provider_id, f.provider_id))
    if f.postal_code:
        stmt = stmt.where(_serves(f.postal_code))
    if f.language:
        stmt = stmt.where(_speaks(f.language))
    if f.kind:
        stmt = stmt.where(provider.kind == f.kind)
    if f.max_price_cents is not None:
        stmt = stmt.where(Offering.price_cents <= f.max_price_cents)
    if f.sort == "rating":
        average = provider.rating_sum * 1.0 / sa.func.nullif(provider.rating_count, 0)
        stmt = stmt.order_by(sa.case((provider.rating_count == 0, 1), else_=0), average.desc(),
                             Offering.price_cents, Offering.id)
    elif f.sort == "name":
        stmt = stmt.order_by(ServiceType.name_fi, provider.name, Offering.id)
    else:
        stmt = stmt.order_by(Offering.price_cents, Offering.id)
    rows = list(db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)).unique())
    return rows[:per_page], len(rows) > per_page


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
