"""Provider API: ``POST /providers`` and ``POST /providers/{id}/approve``
(administrators), ``GET /providers`` and ``GET /providers/{id}`` (anyone; approved
providers only, unless the caller is an administrator or a member)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from flask_babel import gettext
from flask_login import current_user
from pydantic import Field

from accounts.models import Role
from catalogue.api import Rating
from catalogue.models import Offering, OfferingArea
from core.api import Body, Out, Page, Paging, answer, api_user, page_json, route
from core.bounds import Email, Id, Language, LongText, PostalCode, Text
from core.errors import NotFoundError
from core.extensions import db
from providers import decisions, policy, registration
from providers.models import Provider, ProviderStatus
from providers.serializers import provider_item_json, provider_json

TAGS = ("Providers",)
KINDS = ("ngo", "company", "agency")


class ProviderItem(Out):
    id: int
    name: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    business_id: str
    status: str
    rating: Rating
    languages: list[str]
    url: str = Field(description="The public profile page")


class ProviderOut(ProviderItem):
    """The provider"""

    email: str
    phone: str | None
    website: str | None
    description: str | None
    contact_person: str | None
    service_areas: list[str]
    service_type_ids: list[int]
    soteri_registered: bool
    prepayment_register: bool
    created_at: datetime
    approved_at: datetime | None


class ProviderIn(Body):
    """Every field of the organisation the web application form sets
    (``providers.registration.ORGANISATION_FIELDS``)."""

    error_codes = {"business_id": "invalid_business_id"}

    name: Text(200)
    business_id: Text(20) = Field(description="Y-tunnus, checksum-validated", examples=["1234567-8"])
    kind: Literal[KINDS]  # type: ignore[valid-type]
    email: Email
    phone: Text(40) | None = None
    languages: list[Language] = Field(max_length=20)
    contact_person: Text(200) | None = None
    website: Text(300) | None = None
    service_areas: list[Text(100)] | None = Field(None, max_length=500,
                                                  description="Postal codes or municipality names")
    service_type_ids: list[Id] | None = Field(None, max_length=200, description="Service types applied for; "
                                              "those needing Soteri need soteri_registered")
    description: LongText(4000) | None = None
    soteri_registered: bool = False
    prepayment_register: bool = Field(False, description="Needed to offer services with the household tax "
                                                         "deduction")


# The body's JSON Schema (as the OpenAPI document shows it).
CREATE_BODY = ProviderIn.model_json_schema()


class ApproveIn(Body):
    reasons: LongText(2000) | None = None


class Approved(Out):
    """Approved"""

    status: Literal["approved"]
    id: int


class ProviderQuery(Paging):
    service_type_id: Id | None = None
    postal_code: PostalCode | None = None


@route("POST", "/providers", "Register a provider organisation (starts pending)", roles=(Role.ADMIN,),
       body=ProviderIn, tags=TAGS, responses={201: ProviderOut},
       errors={409: "Business ID already registered (`duplicate_business_id`)",
               422: "Invalid fields; `invalid_business_id` when the Y-tunnus fails its checksum"})
def create_provider(body: ProviderIn):
    fields = body.model_dump(exclude_none=True)
    provider = registration.create_provider(actor=api_user(), **fields)
    return answer(provider_json(provider, api_user()), 201)


@route("POST", "/providers/<int:provider_id>/approve", "Approve a pending provider", roles=(Role.ADMIN,),
       body=ApproveIn, body_required=False, tags=TAGS, param_names={"provider_id": "id"},
       responses={200: Approved},
       errors={409: "Not pending (already approved, rejected or suspended)",
               422: "Services need Soteri registration (`soteri_required`)"})
def approve_provider(provider_id: int, body: ApproveIn):
    decisions.approve_provider(provider_id, api_user(), body.reasons or "")
    return answer({"status": ProviderStatus.APPROVED.value, "id": provider_id})


@route("GET", "/providers", "Approved providers, optionally those with an active offering of a service type "
       "in a postal code", auth="none", query=ProviderQuery, tags=TAGS, responses={200: Page[ProviderItem]})
def list_providers(query: ProviderQuery):
    stmt = sa.select(Provider).where(Provider.status == ProviderStatus.APPROVED)
    if query.service_type_id is not None or query.postal_code is not None:
        offering = sa.select(Offering.id).where(Offering.provider_id == Provider.id, Offering.active.is_(True))
        if query.service_type_id is not None:
            offering = offering.where(Offering.service_type_id == query.service_type_id)
        if query.postal_code is not None:
            offering = offering.where(sa.exists().where(OfferingArea.offering_id == Offering.id,
                                                        OfferingArea.postal_code == query.postal_code))
        stmt = stmt.where(offering.exists())
    if query.cursor is not None:
        stmt = stmt.where(Provider.id > query.cursor)
    rows = db.session.scalars(stmt.order_by(Provider.id).limit(query.limit + 1)).all()
    return answer(page_json([provider_item_json(p) for p in rows], rows, query.limit, "api.list_providers"))


@route("GET", "/providers/<int:provider_id>", "One provider (approved, or any for administrators and its "
       "members)", auth="optional", tags=TAGS, param_names={"provider_id": "id"}, responses={200: ProviderOut})
def get_provider(provider_id: int):
    provider = db.session.get(Provider, provider_id)
    if not policy.can_view(current_user, provider):
        raise NotFoundError(gettext("Not found."))
    return answer(provider_json(provider, current_user))
