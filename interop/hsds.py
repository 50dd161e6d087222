"""The public catalogue as Open Referral HSDS 3, in the shape of HSDS 3's own API,
at ``/open/hsds/`` (no ``/api/v1`` prefix, no authentication).

- a service is one active offering of an approved provider (its service type, its
  postal codes as service areas, its languages, its price as a cost option);
- an organization is an approved provider;
- identifiers are UUIDs, as HSDS requires: a fixed prefix per kind of object and the
  platform's integer id in the last twelve hex digits (stable across exports);
- lists are HSDS ``Page`` objects (``total_items, total_pages, page_number, size,
  first_page, last_page, empty, contents``), ``?page=`` from 1, ``?per_page=`` up to
  200; services can be filtered with ``?organization_id=`` and ``?search=``.

Errors use the API's error shape (JSON), as every machine-readable call does.
"""

from __future__ import annotations

import math
import uuid

import sqlalchemy as sa
from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from catalogue.models import Offering, ServiceType
from core.api import iso
from core.errors import DomainError, NotFoundError, ValidationFailed, api_error
from core.extensions import db
from core.uow import mark_failed
from providers.models import Provider, ProviderStatus

bp = Blueprint("hsds", __name__, url_prefix="/open/hsds")

HSDS_VERSION = "3.0"
# The HSDS 3 OpenAPI document this API follows (the copy in tests/standards/hsds3/).
OPENAPI_URL = ("https://raw.githubusercontent.com/openreferral/specification/"
               "279fd2eb3552c349bf698c07c00cc25f5fc8249b/schema/openapi.json")
_KINDS = {"service": 1, "organization": 2, "service_area": 3, "language": 4, "cost_option": 5, "phone": 6,
          "identifier": 7}
_LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "en": "English", "se": "Northern Sami", "ru": "Russian",
                   "et": "Estonian", "so": "Somali", "ar": "Arabic", "fa": "Persian", "uk": "Ukrainian"}
_UNITS = {"hour": "per hour", "visit": "per visit", "item": "per item"}


def hsds_id(kind: str, number: int) -> str:
    return f"{_KINDS[kind]:08x}-0000-4000-8000-{number:012x}"


def parse_id(kind: str, value: str) -> int:
    """The integer id inside an HSDS id of ``kind``, or 404."""
    try:
        parsed = str(uuid.UUID(value))
    except ValueError:
        raise NotFoundError(gettext("Not found.")) from None
    prefix = f"{_KINDS[kind]:08x}-0000-4000-8000-"
    if not parsed.startswith(prefix):
        raise NotFoundError(gettext("Not found."))
    return int(parsed[len(prefix):], 16)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    mark_failed()
    return api_error(exc.status, exc.code, exc.message, exc.fields)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    mark_failed()
    return api_error(exc.code or 500, "not_found" if exc.code == 404 else "error",
                     "Not found." if exc.code == 404 else exc.description)


# --------------------------------------------------------------------------- objects


def _website(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    return url if url.startswith(("http://", "https://")) else "https://" + url


def _phones(provider: Provider, **link) -> list[dict]:
    if not provider.phone:
        return []
    return [{"id": hsds_id("phone", provider.id), "number": provider.phone, "type": "voice", **link}]


def organization_list_item(p: Provider) -> dict:
    item = {
        "id": hsds_id("organization", p.id),
        "name": p.name,
        "description": p.description or "",
        "email": p.email,
        "tax_id": p.business_id,
        "legal_status": {"ngo": "non-profit association", "company": "company", "agency": "staffing agency"}[p.kind],
        "uri": url_for("hsds.organization", organization_id=hsds_id("organization", p.id), _external=True),
    }
    website = _website(p.website)
    if website:
        item["website"] = website
    if p.logo_path:
        item["logo"] = url_for("providers.logo", provider_id=p.id, _external=True)
    return item


def organization_full(p: Provider, offerings: list[Offering]) -> dict:
    org = organization_list_item(p)
    org["phones"] = _phones(p, organization_id=org["id"])
    org["organization_identifiers"] = [{
        "id": hsds_id("identifier", p.id), "organization_id": org["id"], "identifier_scheme": "FI-PRO",
        "identifier_type": "Business ID (Y-tunnus)", "identifier": p.business_id}]
    org["services"] = [service_list_item(o, with_organization=False) for o in offerings]
    return org


def _fees(o: Offering) -> str | None:
    if o.price_cents is None:
        return None
    text = f"{o.price_cents / 100:.2f} EUR {_UNITS.get(o.unit, '')}, VAT {o.vat_rate_bp / 100:g} % included".strip()
    if o.household_deduction:
        text += f"; household tax deduction applies to {o.labour_share_percent} % (work share)"
    return text


def service_list_item(o: Offering, with_organization: bool = True) -> dict:
    sid = hsds_id("service", o.id)
    item = {
        "id": sid,
        "organization_id": hsds_id("organization", o.provider_id),
        "name": o.service_type.name("fi"),
        "alternate_name": o.service_type.name("en") or o.service_type.name("sv"),
        "description": o.description or o.service_type.description_fi or o.service_type.name("fi"),
        "url": url_for("providers.profile", provider_id=o.provider_id, _external=True),
        "email": o.provider.email,
        "status": "active",
        "last_modified": iso(max(o.updated_at, o.provider.approved_at or o.updated_at)),
    }
    fees = _fees(o)
    if fees:
        item["fees_description"] = fees
    if with_organization:
        item["organization"] = organization_list_item(o.provider)
    return item


def service_full(o: Offering) -> dict:
    service = service_list_item(o)
    sid = service["id"]
    service["service_areas"] = [{
        "id": hsds_id("service_area", o.id * 100000 + int(code)), "service_id": sid, "name": code,
        "description": f"Postal code {code}", "extent_type": "postcode"} for code in o.postal_codes]
    service["languages"] = [{
        "id": hsds_id("language", o.id * 1000 + i), "service_id": sid, "name": _LANGUAGE_NAMES.get(code, code),
        "code": code} for i, code in enumerate(o.languages or [])]
    service["cost_options"] = [] if o.price_cents is None else [{
        "id": hsds_id("cost_option", o.id), "service_id": sid, "option": _UNITS.get(o.unit, o.unit),
        "currency": "EUR", "amount": o.price_cents / 100, "amount_description": _fees(o)}]
    service["service_at_locations"] = []  # home care: the service comes to the client
    service["phones"] = _phones(o.provider, service_id=sid)
    org = organization_list_item(o.provider)
    org["phones"] = _phones(o.provider, organization_id=org["id"])
    service["organization"] = org
    return service


# --------------------------------------------------------------------------- queries


def _public_offerings():
    return (sa.select(Offering).join(Provider, Provider.id == Offering.provider_id)
            .join(ServiceType, ServiceType.id == Offering.service_type_id)
            .where(Offering.active.is_(True), ServiceType.active.is_(True), Provider.status == ProviderStatus.APPROVED)
            .options(sa.orm.selectinload(Offering.areas)))


def _page_params() -> tuple[int, int]:
    errors = {}
    values = {}
    for name, default, maximum in (("page", 1, 10**6), ("per_page", 50, 200)):
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= maximum:
            errors[name] = [gettext("Must be an integer from 1 to %(maximum)s.", maximum=maximum)]
        else:
            values[name] = int(raw)
    if errors:
        raise ValidationFailed(gettext("Invalid paging parameters."), fields=errors)
    return values["page"], values["per_page"]


def _page(stmt, order_by, serialize) -> dict:
    page, per_page = _page_params()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.order_by(*order_by).offset((page - 1) * per_page).limit(per_page)).unique().all()
    pages = math.ceil(total / per_page) if total else 0
    return {"total_items": total, "total_pages": pages, "page_number": page, "size": len(rows),
            "first_page": page == 1, "last_page": page >= pages, "empty": not rows,
            "contents": [serialize(r) for r in rows]}


def _json(body: dict):
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
def root():
    return _json({"version": HSDS_VERSION, "openapi_url": OPENAPI_URL})


@bp.get("/services")
def services():
    stmt = _public_offerings()
    organization = request.args.get("organization_id")
    if organization:
        try:
            stmt = stmt.where(Offering.provider_id == parse_id("organization", organization))
        except NotFoundError:
            raise ValidationFailed(gettext("Unknown organization_id."),
                                   fields={"organization_id": [gettext("Must be the id of an organization.")]}) from None
    search = (request.args.get("search") or "").strip()[:100]
    if search:
        like = f"%{search}%"
        stmt = stmt.where(sa.or_(ServiceType.name_fi.ilike(like), ServiceType.name_sv.ilike(like),
                                 ServiceType.name_en.ilike(like), Provider.name.ilike(like)))
    return _json(_page(stmt, (Offering.id,), service_list_item))


@bp.get("/services/<service_id>")
def service(service_id: str):
    offering = db.session.scalar(_public_offerings().where(Offering.id == parse_id("service", service_id)))
    if offering is None:
        raise NotFoundError(gettext("Not found."))
    return _json(service_full(offering))


def _approved():
    return sa.select(Provider).where(Provider.status == ProviderStatus.APPROVED)


@bp.get("/organizations")
def organizations():
    return _json(_page(_approved(), (Provider.id,), organization_list_item))


@bp.get("/organizations/<organization_id>")
def organization(organization_id: str):
    provider = db.session.scalar(_approved().where(Provider.id == parse_id("organization", organization_id)))
    if provider is None:
        raise NotFoundError(gettext("Not found."))
    offerings = db.session.scalars(_public_offerings().where(Offering.provider_id == provider.id)
                                   .order_by(Offering.id)).all()
    return _json(organization_full(provider, offerings))
