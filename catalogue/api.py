"""Catalogue API (API.md "Catalogue and providers"): ``GET /service-types``,
``POST/GET /offerings``."""

from __future__ import annotations

from typing import Literal

from flask_babel import gettext
from pydantic import Field, field_validator

from catalogue import offerings as offering_services
from catalogue import services
from catalogue.models import Unit
from catalogue.money import MAX_PRICE_CENTS
from catalogue.serializers import offering_json, service_type_json
from core.api import Body, Out, Page, Paging, answer, api_user, page_json, route
from core.bounds import Id, Language, LongText, PostalCode

TAGS = ("Catalogue",)
UNITS = tuple(str(u) for u in Unit)


class Rating(Out):
    average: float | None = Field(description="Average of the published ratings, null before any")
    count: int


class ProviderSummary(Out):
    id: int
    name: str
    kind: Literal["ngo", "company", "agency"]
    business_id: str
    rating: Rating


class ServiceType(Out):
    id: int
    name: str
    category: str
    category_id: int
    self_paid_allowed: bool


class Offering(Out):
    """An offering of an approved provider"""

    id: int
    provider_id: int
    provider: ProviderSummary
    service_type_id: int
    service_type: str
    postal_codes: list[str]
    languages: list[str]
    unit: Literal[UNITS]  # type: ignore[valid-type]
    price_cents: int | None = Field(description="Gross unit price including VAT")
    currency: Literal["EUR"]
    vat_rate: float = Field(description="Percent, e.g. 25.5")
    self_paid: bool
    household_deduction: bool
    labour_share_percent: int
    description: str
    active: bool
    price_quote: str | None = Field(description="Signed price shown now; send it back at checkout to keep this "
                                                "price for two days")


class OfferingIn(Body):
    service_type_id: Id
    postal_codes: list[PostalCode] = Field(max_length=500)
    languages: list[Language] = Field(max_length=20)
    unit: Literal[UNITS]  # type: ignore[valid-type]
    price_cents: int | None = Field(None, ge=0, le=MAX_PRICE_CENTS, description="Gross unit price incl. VAT")
    vat_rate: float = Field(25.5, ge=0, le=100, allow_inf_nan=False, description="Percent, e.g. 25.5")
    self_paid: bool
    household_deduction: bool
    labour_share_percent: int = Field(100, ge=0, le=100, description="The share of the price that is work")
    description: LongText(4000) | None = None

    @field_validator("vat_rate")
    @classmethod
    def _two_decimals(cls, value: float) -> float:
        if abs(value * 100 - round(value * 100)) > 1e-6:
            raise ValueError(gettext("At most two decimals, e.g. 25.5."))
        return value


class OfferingQuery(Paging):
    service_type_id: Id | None = None
    postal_code: PostalCode | None = None
    self_paid: bool | None = None
    provider_id: Id | None = None


@route("GET", "/service-types", "The service catalogue", auth="none", tags=TAGS,
       responses={200: Page[ServiceType]})
def service_types():
    return answer({"items": [service_type_json(t) for t in services.list_service_types()], "next": None})


@route("POST", "/offerings", "Add an offering of the caller's organisation", roles=("provider",), body=OfferingIn,
       tags=TAGS, responses={201: Offering})
def create_offering(body: OfferingIn):
    data = offering_services.OfferingInput(
        service_type_id=body.service_type_id, postal_codes=list(dict.fromkeys(body.postal_codes)),
        languages=list(dict.fromkeys(body.languages)), unit=body.unit, price_cents=body.price_cents,
        vat_rate_bp=round(body.vat_rate * 100), self_paid=body.self_paid,
        household_deduction=body.household_deduction, labour_share_percent=body.labour_share_percent,
        description=body.description or "")
    offering = offering_services.create_offering(api_user(), data)
    return answer(offering_json(offering), 201)


@route("GET", "/offerings", "Offerings of approved providers", auth="none", query=OfferingQuery, tags=TAGS,
       responses={200: Page[Offering]})
def list_offerings(query: OfferingQuery):
    rows = services.list_offerings(limit=query.limit, cursor=query.cursor, service_type_id=query.service_type_id,
                                   provider_id=query.provider_id, self_paid=query.self_paid,
                                   postal_code=query.postal_code)
    return answer(page_json([offering_json(o) for o in rows[:query.limit]], rows, query.limit, "api.list_offerings"))
