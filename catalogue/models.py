"""The service catalogue: categories, service types, and providers' offerings with
their postal-code areas. Tables keep the names they had under ``marketplace``.

The catalogue sits below the domains: it imports only ``core`` (and ``accounts``).
An offering belongs to a provider; the relationship names its class by string, and
``provider_model()`` finds that class through the mapper for the few queries that
filter on the provider's columns, so no import of ``providers`` is needed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.i18n import current_language
from core.extensions import db


def _localised(obj, field: str, lang: str | None = None) -> str:
    if lang is None:
        try:
            lang = current_language()
        except RuntimeError:  # outside a request
            lang = "fi"
    return getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_fi")


class ServiceCategory(db.Model):
    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), nullable=False, unique=True)
    name_fi: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    name_sv: Mapped[str | None] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    service_types = relationship("ServiceType", back_populates="category", order_by="ServiceType.name_fi")

    def name(self, lang: str | None = None) -> str:
        return _localised(self, "name", lang)


class ServiceType(db.Model):
    __tablename__ = "service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("service_categories.id"), nullable=False, index=True)
    slug: Mapped[str] = mapped_column(sa.String(80), nullable=False, unique=True)
    name_fi: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    name_sv: Mapped[str | None] = mapped_column(sa.String(160))
    name_en: Mapped[str | None] = mapped_column(sa.String(160))
    description_fi: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    self_paid_allowed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Services that are social or health care need registration in Soteri.
    needs_soteri: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    default_unit: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="hour")
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    category = relationship("ServiceCategory", back_populates="service_types", lazy="joined")

    def name(self, lang: str | None = None) -> str:
        return _localised(self, "name", lang)


class Unit(StrEnum):
    HOUR = "hour"
    VISIT = "visit"
    ITEM = "item"


class Offering(db.Model):
    """A provider's offer of one service type: price, areas, languages, and whether it
    is sold in the self-paid shop. ``price_cents`` is the gross unit price incl. VAT;
    ``vat_rate_bp`` is the VAT rate in basis points (25.5 % = 2550)."""

    __tablename__ = "offerings"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), nullable=False, index=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"), nullable=False, index=True)
    unit: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=Unit.HOUR)
    price_cents: Mapped[int | None] = mapped_column(sa.Integer)
    vat_rate_bp: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=2550)
    self_paid: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    household_deduction: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    labour_share_percent: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=100)
    languages: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    provider = relationship("Provider", lazy="joined")
    service_type = relationship("ServiceType", lazy="joined")
    areas = relationship("OfferingArea", cascade="all, delete-orphan", order_by="OfferingArea.postal_code")

    __table_args__ = (
        sa.CheckConstraint("unit in ('hour','visit','item')", name="unit_known"),
        sa.CheckConstraint("labour_share_percent between 0 and 100", name="labour_share_range"),
        sa.CheckConstraint("price_cents IS NULL OR price_cents >= 0", name="price_not_negative"),
        # The public catalogue's first page in its default order (cheapest first): the
        # sellable offerings walked in price order until a page of them serves the
        # postal code asked, whatever the number of offerings (migration perf4). The
        # predicate is written as the search statement writes sellable_offerings'
        # conditions, so that PostgreSQL's generic plan can use it.
        sa.Index("ix_offerings_sellable_price", "price_cents", "id",
                 postgresql_where=sa.text("active IS true AND self_paid IS true AND price_cents IS NOT NULL"),
                 sqlite_where=sa.text("active IS 1 AND self_paid IS 1 AND price_cents IS NOT NULL")),
    )

    @property
    def postal_codes(self) -> list[str]:
        return [a.postal_code for a in self.areas]


class OfferingArea(db.Model):
    """One postal code an offering serves; indexed by postal code for matching."""

    __tablename__ = "offering_areas"

    offering_id: Mapped[int] = mapped_column(sa.ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True)
    postal_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)

    __table_args__ = (sa.Index("ix_offering_areas_postal_code", "postal_code", "offering_id"),)


def provider_model():
    """The provider class the ``Offering.provider`` relationship points at."""
    return sa.inspect(Offering).relationships["provider"].mapper.class_
