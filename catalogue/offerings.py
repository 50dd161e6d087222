"""Providers' offerings: a provider organisation's members add and change the
offerings of their own organisation (price, areas, languages, self-paid sale).
Services flush and never commit; refusals are ``core.errors`` domain errors."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from accounts.permissions import scope_provider_owned
from catalogue.models import Offering, OfferingArea, ServiceType, Unit, provider_model
from catalogue.money import MAX_PRICE_CENTS, MIN_CARD_PRICE_CENTS
from catalogue.services import POSTAL_RE
from core.errors import NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.roles import Role

LANGUAGE_RE = re.compile(r"^[a-z]{2}$")


def require_provider(actor) -> int:
    if actor is None or actor.role != Role.PROVIDER or actor.provider_id is None:
        raise PermissionDenied(_("Only a provider organisation's members manage its offerings."))
    return actor.provider_id


def can_manage_offerings(actor) -> bool:
    """Add offerings, change prices, take them off sale: the organisation's
    administrators only (a worker sees the offerings and changes nothing)."""
    return (actor is not None and getattr(actor, "is_authenticated", True) and actor.role == Role.PROVIDER
            and actor.provider_id is not None and actor.is_org_admin)


def require_offering_manager(actor) -> int:
    provider_id = require_provider(actor)
    if not can_manage_offerings(actor):
        raise PermissionDenied(_("Only the organisation's administrators change its offerings and prices."))
    return provider_id


@dataclass
class OfferingInput:
    """An offering as the provider describes it. ``vat_rate_bp``: 25.5 % is 2550."""

    service_type_id: int | None
    postal_codes: list[str]
    languages: list[str]
    unit: str
    price_cents: int | None
    vat_rate_bp: int
    self_paid: bool
    household_deduction: bool
    labour_share_percent: int = 100
    description: str = ""


def _check_offering(data: OfferingInput, provider) -> ServiceType | None:
    errors: dict[str, list[str]] = {}
    if data.household_deduction and not provider.prepayment_register:
        errors["household_deduction"] = [_("The household tax deduction needs a provider in the prepayment register "
                                           "(ennakkoperintärekisteri). Ask the administrator to record yours.")]
    service_type = db.session.get(ServiceType, data.service_type_id) if data.service_type_id else None
    if service_type is None or not service_type.active:
        errors["service_type_id"] = [_("Unknown service type.")]
    codes = list(dict.fromkeys(c.strip() for c in data.postal_codes if c and c.strip()))
    if not codes:
        errors["postal_codes"] = [_("Give at least one postal code you serve.")]
    elif len(codes) > 500:
        errors["postal_codes"] = [ngettext("At most %(num)d postal code.", "At most %(num)d postal codes.", 500)]
    elif bad := [c for c in codes if not POSTAL_RE.match(c)]:
        errors["postal_codes"] = [_("Not postal codes of five digits: %(codes)s.", codes=", ".join(bad[:10]))]
    data.postal_codes = codes
    langs = list(dict.fromkeys(lang.strip().lower() for lang in data.languages if lang and lang.strip()))
    if not langs:
        errors["languages"] = [_("Choose at least one language.")]
    elif len(langs) > 20 or not all(LANGUAGE_RE.match(lang) for lang in langs):
        errors["languages"] = [_("Languages are two-letter codes such as fi, sv, en.")]
    data.languages = langs
    if data.unit not in set(Unit):
        errors["unit"] = [_("Choose hour, visit or item.")]
    if data.price_cents is not None and not 0 <= data.price_cents <= MAX_PRICE_CENTS:
        errors["price_cents"] = [_("The price must be between 0 and 10 000 euros.")]
    if data.self_paid:
        if service_type is not None and not service_type.self_paid_allowed:
            errors["self_paid"] = [_("This service type is not sold to self-paying buyers.")]
        if data.price_cents is None:
            errors.setdefault("price_cents", []).append(_("A self-paid offering needs a price."))
        elif data.price_cents < MIN_CARD_PRICE_CENTS:
            errors.setdefault("price_cents", []).append(_("A self-paid price must be at least 0.50 euros."))
    if not 0 <= data.vat_rate_bp <= 10000:
        errors["vat_rate"] = [_("The VAT rate must be between 0 and 100 %.")]
    if not 0 <= data.labour_share_percent <= 100:
        errors["labour_share_percent"] = [_("The labour share must be between 0 and 100 %.")]
    if len(data.description or "") > 4000:
        errors["description"] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", 4000)]
    if errors:
        raise ValidationFailed(_("The offering could not be saved."), fields=errors)
    return service_type


def _apply_offering(offering: Offering, data: OfferingInput) -> None:
    offering.service_type_id = data.service_type_id
    offering.unit = data.unit
    offering.price_cents = data.price_cents
    offering.vat_rate_bp = data.vat_rate_bp
    offering.self_paid = data.self_paid
    offering.household_deduction = data.household_deduction
    offering.labour_share_percent = data.labour_share_percent
    offering.languages = data.languages
    offering.description = (data.description or "").strip()
    have = {a.postal_code: a for a in offering.areas}
    offering.areas = [have.get(code) or OfferingArea(postal_code=code) for code in data.postal_codes]


def create_offering(actor, data: OfferingInput) -> Offering:
    """A provider member adds an offering of its own organisation. Raises
    PermissionDenied for other roles and ValidationFailed naming each bad field."""
    provider_id = require_offering_manager(actor)
    _check_offering(data, db.session.get(provider_model(), provider_id))
    offering = Offering(provider_id=provider_id)
    _apply_offering(offering, data)
    db.session.add(offering)
    db.session.flush()
    return offering


def update_offering(actor, offering: Offering, data: OfferingInput) -> Offering:
    """Change an offering of the actor's organisation. A new price applies to new
    carts; carts that showed the old price keep it (see ``price_items``)."""
    if offering.provider_id != require_provider(actor):
        raise NotFoundError(_("No such offering."))
    require_offering_manager(actor)
    _check_offering(data, offering.provider)
    _apply_offering(offering, data)
    db.session.flush()
    return offering


def set_offering_active(actor, offering: Offering, active: bool) -> Offering:
    """Take an offering off sale (or back on); carts holding it are refused at checkout."""
    if offering.provider_id != require_provider(actor):
        raise NotFoundError(_("No such offering."))
    require_offering_manager(actor)
    offering.active = bool(active)
    db.session.flush()
    return offering


def own_offerings(actor) -> list[Offering]:
    stmt = scope_provider_owned(sa.select(Offering), actor, Offering.provider_id) \
        .join(Offering.service_type).options(sa.orm.selectinload(Offering.areas)) \
        .order_by(Offering.active.desc(), ServiceType.name_fi, Offering.id)
    return list(db.session.scalars(stmt).unique())


def get_own_offering(actor, offering_id: int) -> Offering:
    """An offering of the actor's organisation (admin: any); 404 otherwise."""
    offering = db.session.scalar(scope_provider_owned(
        sa.select(Offering).where(Offering.id == offering_id), actor, Offering.provider_id))
    if offering is None:
        raise NotFoundError(_("No such offering."))
    return offering
