"""Pricing a cart: the lines a buyer asks for, priced as they would be charged now
(keeping a price the platform showed), grouped by provider for the web cart."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from catalogue.models import Offering, OfferingArea
from catalogue.money import deduction_applies, deduction_base, half_up, vat_from_gross
from catalogue.services import is_sellable
from core.errors import ValidationFailed
from core.extensions import db
from marketplace.states import money_text
from providers.models import Provider

MIN_QUANTITY, MAX_QUANTITY = 1, 100
MAX_CART_LINES = 20


def platform_fee(total_cents: int) -> int:
    percent = Decimal(str(current_app.config.get("PLATFORM_FEE_PERCENT", 0) or 0))
    return max(0, min(total_cents, half_up(Decimal(total_cents) * percent / 100)))


@dataclass
class CartItem:
    """One line the buyer asks for. ``shown_price_cents`` is a price the platform itself
    showed (from the signed session cart or a verified quote) and is honoured;
    ``claimed_price_cents`` is what an API client says it showed, only compared."""

    offering_id: int
    quantity: int
    shown_price_cents: int | None = None
    claimed_price_cents: int | None = None


@dataclass
class PricedLine:
    offering: Offering
    quantity: int
    unit_price_cents: int
    current_price_cents: int
    total_cents: int
    vat_cents: int
    household_deduction_cents: int

    @property
    def price_kept(self) -> bool:
        return self.unit_price_cents != self.current_price_cents

    @property
    def description(self) -> str:
        return self.offering.service_type.name()

    @property
    def unit(self) -> str:
        return self.offering.unit

    @property
    def vat_rate_bp(self) -> int:
        return self.offering.vat_rate_bp


@dataclass
class PricedCart:
    provider: Provider
    lines: list[PricedLine]
    notices: list[str] = field(default_factory=list)
    # The same notices as message codes for the purchase's history (``marketplace.texts``).
    notice_codes: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def vat_cents(self) -> int:
        return sum(line.vat_cents for line in self.lines)

    @property
    def household_deduction_cents(self) -> int:
        return sum(line.household_deduction_cents for line in self.lines)


def price_items(items: list[CartItem], *, postal_code: str | None = None) -> PricedCart:
    """Price a cart of one provider's offerings, as it would be charged now.

    Refuses (ValidationFailed, ``fields`` keyed ``items[i].…``): an empty or too long
    cart, a quantity outside 1..100 (``validation_failed``), an unknown offering
    (``unknown_offering``), one no longer sold (``offering_unavailable``), offerings
    of several providers (``multiple_providers``), an offering that does not serve
    ``postal_code`` (``outside_service_area``) and a claimed price that is not the
    current one (``price_mismatch``). A price the platform showed and has changed
    since is kept when it is lower (the buyer agreed to it), and the current price is
    charged when that is lower; either way a notice says so.
    """
    if not items:
        raise ValidationFailed(_("The cart is empty."), code="empty_cart", fields={"items": [_("Add at least one service.")]})
    merged: dict[int, CartItem] = {}
    index: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) \
                or not MIN_QUANTITY <= item.quantity <= MAX_QUANTITY:
            errors[f"items[{i}].quantity"] = [_("The quantity must be a whole number from %(min)s to %(max)s.",
                                                 min=MIN_QUANTITY, max=MAX_QUANTITY)]
            continue
        if item.offering_id in merged:
            merged[item.offering_id].quantity += item.quantity
            if merged[item.offering_id].quantity > MAX_QUANTITY:
                errors[f"items[{i}].quantity"] = [_("At most %(max)s of one service in one purchase.", max=MAX_QUANTITY)]
        else:
            merged[item.offering_id] = CartItem(item.offering_id, item.quantity, item.shown_price_cents,
                                                item.claimed_price_cents)
            index[item.offering_id] = i
    if len(merged) > MAX_CART_LINES:
        errors["items"] = [ngettext("At most %(num)d different service in one purchase.", "At most %(num)d different services in one purchase.", MAX_CART_LINES)]
    if errors:
        raise ValidationFailed(_("Some items are invalid."), fields=errors)

    offerings = {o.id: o for o in db.session.scalars(
        sa.select(Offering).where(Offering.id.in_(list(merged)))
        .options(sa.orm.joinedload(Offering.provider), sa.orm.joinedload(Offering.service_type))).unique()}
    code = "validation_failed"
    for offering_id, i in index.items():
        offering = offerings.get(offering_id)
        if offering is None:
            errors[f"items[{i}].offering_id"] = [_("Unknown offering %(id)s.", id=offering_id)]
            code = "unknown_offering"
        elif not is_sellable(offering):
            errors[f"items[{i}].offering_id"] = [_("%(service)s by %(provider)s is no longer sold in the shop.",
                                                   service=offering.service_type.name(), provider=offering.provider.name)]
            code = code if code == "unknown_offering" else "offering_unavailable"
    if errors:
        raise ValidationFailed(_("Some services in the cart cannot be bought."), code=code, fields=errors)

    providers = {o.provider_id for o in offerings.values()}
    if len(providers) > 1:
        raise ValidationFailed(
            _("The services are from different providers. Check out each provider's services separately."),
            code="multiple_providers", fields={"items": [_("All services of one purchase must be from one provider.")]})

    if postal_code:
        served = set(db.session.scalars(sa.select(OfferingArea.offering_id).where(
            OfferingArea.offering_id.in_(list(merged)), OfferingArea.postal_code == postal_code)))
        outside = [oid for oid in merged if oid not in served]
        if outside:
            fields = {f"items[{index[oid]}].offering_id": [
                _("%(provider)s does not provide %(service)s at postal code %(code)s.",
                  provider=offerings[oid].provider.name, service=offerings[oid].service_type.name(), code=postal_code)]
                for oid in outside}
            first = offerings[outside[0]]
            raise ValidationFailed(
                _("%(provider)s does not provide %(service)s at postal code %(code)s. Choose a provider that serves your area in the catalogue.",
                  provider=first.provider.name, service=first.service_type.name(), code=postal_code),
                code="outside_service_area", fields=fields)

    lines, notices, notice_codes = [], [], []
    for offering_id, item in merged.items():
        offering = offerings[offering_id]
        current = offering.price_cents
        name = offering.service_type.name()
        unit_price = current
        if item.claimed_price_cents is not None and item.claimed_price_cents != (item.shown_price_cents or current):
            errors[f"items[{index[offering_id]}].unit_price_cents"] = [
                _("The price of %(service)s is %(price)s, not %(claimed)s.", service=name,
                  price=money_text(item.shown_price_cents or current), claimed=money_text(item.claimed_price_cents))]
            continue
        if item.shown_price_cents is not None and item.shown_price_cents != current:
            unit_price = min(item.shown_price_cents, current)
            if item.shown_price_cents < current:
                notices.append(_("The price of %(service)s has risen from %(old)s to %(new)s since it was shown to you. "
                                 "This order keeps the price shown, %(old)s.",
                                 service=name, old=money_text(item.shown_price_cents), new=money_text(current)))
                notice_codes.append(("shop.price_rose", {"service": offering.service_type_id,
                                                         "old": item.shown_price_cents, "new": current}))
            else:
                notices.append(_("The price of %(service)s has dropped from %(old)s to %(new)s since it was shown to you. "
                                 "You pay the new price, %(new)s.",
                                 service=name, old=money_text(item.shown_price_cents), new=money_text(current)))
                notice_codes.append(("shop.price_dropped", {"service": offering.service_type_id,
                                                            "old": item.shown_price_cents, "new": current}))
        total = unit_price * item.quantity
        lines.append(PricedLine(
            offering=offering, quantity=item.quantity, unit_price_cents=unit_price, current_price_cents=current,
            total_cents=total, vat_cents=vat_from_gross(total, offering.vat_rate_bp),
            household_deduction_cents=deduction_base(total, offering.labour_share_percent, deduction_applies(offering))))
    if errors:
        raise ValidationFailed(_("A price has changed. Show the buyer the current price and try again."),
                               code="price_mismatch", fields=errors)
    return PricedCart(provider=offerings[next(iter(merged))].provider, lines=lines, notices=notices,
                      notice_codes=notice_codes)


def items_of_provider(items: list[CartItem], provider_id: int) -> list[CartItem]:
    """The cart lines whose offering belongs to ``provider_id``."""
    ids = [i.offering_id for i in items]
    own = set(db.session.scalars(sa.select(Offering.id).where(Offering.id.in_(ids), Offering.provider_id == provider_id)))
    return [i for i in items if i.offering_id in own]


def price_cart_by_provider(items: list[CartItem]) -> tuple[list[PricedCart], list[int]]:
    """The web cart priced per provider (no area yet), and the offering ids that can no
    longer be bought (to be taken out of the cart)."""
    if not items:
        return [], []
    offerings = {o.id: o for o in db.session.scalars(
        sa.select(Offering).where(Offering.id.in_([i.offering_id for i in items]))
        .options(sa.orm.joinedload(Offering.provider)))}
    gone = [i.offering_id for i in items if i.offering_id not in offerings or not is_sellable(offerings[i.offering_id])]
    groups: dict[int, list[CartItem]] = {}
    for item in items:
        if item.offering_id not in gone:
            groups.setdefault(offerings[item.offering_id].provider_id, []).append(item)
    priced = []
    for group in groups.values():
        try:
            priced.append(price_items(group))
        except ValidationFailed:
            gone.extend(i.offering_id for i in group)
    return priced, gone


