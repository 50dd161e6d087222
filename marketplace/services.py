"""Marketplace services: the catalogue, providers' offerings, pricing, the self-paid
shop's checkout and the purchase lifecycle (payment, time, fulfilment, cancellation,
refunds), the Stripe webhook events and the admin's service catalogue.

The only code that changes marketplace state. Services take plain values and the
acting user, flush and never commit (the view, API route or job commits), and raise
``core.errors`` domain errors with an API error ``code``. Stripe is reached only
through ``marketplace.billing``. Buyers' e-mails are sent by jobs
(``marketplace.jobs.send_buyer_email``) recorded in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from decimal import ROUND_HALF_UP, Decimal

import redis
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from accounts.models import Role
from accounts.permissions import scope_provider_owned
from clients.scopes import represented_client_ids
from marketplace.scopes import scope_shop_orders
from core.access import Purpose, record_access
from core.db import assign_number, pending_number, utcnow
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.urls import absolute_url
from marketplace import billing
from marketplace.models import (
    SHOP_TRANSITIONS,
    STATUS_STAMPS,
    Offering,
    OfferingArea,
    ServiceCategory,
    ServiceType,
    ShopAction,
    ShopOrder,
    ShopOrderEvent,
    ShopOrderItem,
    ShopOrderStatus,
    StripeEvent,
    Unit,
)
from providers.models import Provider, ProviderKind, ProviderStatus

log = logging.getLogger(__name__)

MIN_QUANTITY, MAX_QUANTITY = 1, 100
MAX_CART_LINES = 20
MIN_CARD_PRICE_CENTS = 50          # Stripe's smallest charge in euros
MAX_PRICE_CENTS = 1_000_000        # 10 000 € per unit
QUOTE_MAX_AGE = 2 * 24 * 3600      # a price shown stays valid in a cart for two days
CHECKOUT_MINUTES = 60              # a Checkout Session can be paid for an hour
SUBMISSION_TTL = 24 * 3600
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
POSTAL_RE = re.compile(r"^\d{5}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY = "EUR"
# Finnish VAT rates a provider can choose in the web form (basis points).
VAT_CHOICES_BP = (2550, 1400, 1350, 1000, 0)


class PaymentUnavailable(DomainError):
    """Stripe could not be reached: nothing was saved, the buyer can try again."""

    status = 503
    code = "payment_unavailable"


class AlreadyCheckedOut(DomainError):
    """The same checkout was submitted twice; ``shop_order`` is the purchase the first
    submission made (None while it is still being made)."""

    status = 409
    code = "already_submitted"

    def __init__(self, message: str, shop_order: ShopOrder | None):
        super().__init__(message)
        self.shop_order = shop_order


# --------------------------------------------------------------------------- money


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_from_gross(gross_cents: int, rate_bp: int) -> int:
    """VAT included in a gross amount: gross * rate / (1 + rate), rounded half up."""
    return _half_up(Decimal(gross_cents) * rate_bp / (10000 + rate_bp))


def deduction_base(gross_cents: int, labour_share_percent: int, applies: bool) -> int:
    """The part of a gross amount that qualifies for the household tax deduction
    (kotitalousvähennys): the labour share, VAT included. Not the deduction itself:
    the buyer deducts a percentage of it in their own taxation (docs/shop.md)."""
    return _half_up(Decimal(gross_cents) * labour_share_percent / 100) if applies else 0


def platform_fee(total_cents: int) -> int:
    percent = Decimal(str(current_app.config.get("PLATFORM_FEE_PERCENT", 0) or 0))
    return max(0, min(total_cents, _half_up(Decimal(total_cents) * percent / 100)))


def vat_rate_label(rate_bp: int) -> str:
    """25.5, 14, 0 – a rate for people and the API."""
    return f"{Decimal(rate_bp) / 100:f}".rstrip("0").rstrip(".") if rate_bp % 100 else str(rate_bp // 100)


# --------------------------------------------------------------------------- catalogue (read side)


def list_service_types(active_only: bool = True) -> list[ServiceType]:
    stmt = (sa.select(ServiceType).join(ServiceCategory)
            .order_by(ServiceCategory.position, ServiceCategory.id, ServiceType.name_fi))
    if active_only:
        stmt = stmt.where(ServiceType.active.is_(True))
    return list(db.session.scalars(stmt))


def list_categories() -> list[ServiceCategory]:
    return list(db.session.scalars(sa.select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.id)))


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


SORTS = ("price", "rating", "name")


def sellable_offerings() -> sa.Select:
    """Offerings a buyer can put in the cart: active, self-paid, priced, of an
    approved provider and an active service type that may be sold to self-payers."""
    return (sa.select(Offering)
            .join(Offering.provider).join(Offering.service_type).join(ServiceType.category)
            .options(sa.orm.contains_eager(Offering.provider),
                     sa.orm.contains_eager(Offering.service_type).contains_eager(ServiceType.category))
            .where(Offering.active.is_(True), Offering.self_paid.is_(True), Offering.price_cents.is_not(None),
                   Provider.status == ProviderStatus.APPROVED, ServiceType.active.is_(True),
                   ServiceType.self_paid_allowed.is_(True)))


def _serves(postal_code: str):
    return sa.exists().where(OfferingArea.offering_id == Offering.id, OfferingArea.postal_code == postal_code)


def _speaks(language: str):
    # Languages are a small JSON list such as ["fi", "sv"]; matching the quoted code in
    # its text form works the same on SQLite and PostgreSQL.
    return sa.cast(Offering.languages, sa.Text).like(f'%"{language}"%')


def search_catalogue(f: CatalogueFilter, page: int = 1, per_page: int = 20) -> tuple[list[Offering], bool]:
    """One page of the public catalogue and whether a next page exists. Anyone may
    call; only sellable offerings are listed. One query whatever the page size."""
    stmt = sellable_offerings()
    if f.q:
        needle = f.q.strip().lower()[:100]
        stmt = stmt.where(sa.or_(*(sa.func.lower(col).contains(needle, autoescape=True) for col in (
            Provider.name, ServiceType.name_fi, ServiceType.name_sv, ServiceType.name_en,
            ServiceCategory.name_fi, ServiceCategory.name_sv, ServiceCategory.name_en))))
    if f.category_id:
        stmt = stmt.where(ServiceType.category_id == f.category_id)
    if f.service_type_id:
        stmt = stmt.where(Offering.service_type_id == f.service_type_id)
    if f.provider_id:
        stmt = stmt.where(Offering.provider_id == f.provider_id)
    if f.postal_code:
        stmt = stmt.where(_serves(f.postal_code))
    if f.language:
        stmt = stmt.where(_speaks(f.language))
    if f.kind:
        stmt = stmt.where(Provider.kind == f.kind)
    if f.max_price_cents is not None:
        stmt = stmt.where(Offering.price_cents <= f.max_price_cents)
    if f.sort == "rating":
        average = Provider.rating_sum * 1.0 / sa.func.nullif(Provider.rating_count, 0)
        stmt = stmt.order_by(sa.case((Provider.rating_count == 0, 1), else_=0), average.desc(),
                             Offering.price_cents, Offering.id)
    elif f.sort == "name":
        stmt = stmt.order_by(ServiceType.name_fi, Provider.name, Offering.id)
    else:
        stmt = stmt.order_by(Offering.price_cents, Offering.id)
    rows = list(db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)).unique())
    return rows[:per_page], len(rows) > per_page


def list_offerings(*, service_type_id=None, postal_code=None, self_paid=None, provider_id=None,
                   limit: int = 50, cursor: int | None = None) -> list[Offering]:
    """``GET /offerings``: active offerings of approved providers, by id, limit+1 rows."""
    stmt = (sa.select(Offering).join(Offering.provider)
            .options(sa.orm.contains_eager(Offering.provider), sa.orm.selectinload(Offering.areas))
            .where(Offering.active.is_(True), Provider.status == ProviderStatus.APPROVED)
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


def get_public_provider(provider_id: int) -> Provider:
    """An approved provider for its public page; 404 for anything else."""
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.status != ProviderStatus.APPROVED:
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


def published_feedback(provider_id: int, limit: int = 20) -> list:
    """Feedback on the provider that no admin has hidden, newest first."""
    from feedback.models import Feedback

    return list(db.session.scalars(
        sa.select(Feedback).where(Feedback.provider_id == provider_id, Feedback.hidden_at.is_(None))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)))


# --------------------------------------------------------------------------- offerings


def _require_provider(actor) -> int:
    if actor is None or actor.role != Role.PROVIDER or actor.provider_id is None:
        raise PermissionDenied(_("Only a provider organisation's members manage its offerings."))
    return actor.provider_id


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


def deduction_applies(offering: Offering) -> bool:
    """The household tax deduction is possible only for work bought from a provider in
    the prepayment register (ennakkoperintärekisteri)."""
    return bool(offering.household_deduction and offering.provider.prepayment_register)


def _check_offering(data: OfferingInput, provider: Provider) -> ServiceType | None:
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
        errors["postal_codes"] = [_("At most 500 postal codes.")]
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
        errors["description"] = [_("At most 4000 characters.")]
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
    provider_id = _require_provider(actor)
    _check_offering(data, db.session.get(Provider, provider_id))
    offering = Offering(provider_id=provider_id)
    _apply_offering(offering, data)
    db.session.add(offering)
    db.session.flush()
    return offering


def update_offering(actor, offering: Offering, data: OfferingInput) -> Offering:
    """Change an offering of the actor's organisation. A new price applies to new
    carts; carts that showed the old price keep it (see ``price_items``)."""
    if offering.provider_id != _require_provider(actor):
        raise NotFoundError(_("No such offering."))
    _check_offering(data, offering.provider)
    _apply_offering(offering, data)
    db.session.flush()
    return offering


def set_offering_active(actor, offering: Offering, active: bool) -> Offering:
    """Take an offering off sale (or back on); carts holding it are refused at checkout."""
    if offering.provider_id != _require_provider(actor):
        raise NotFoundError(_("No such offering."))
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


# --------------------------------------------------------------------------- price quotes


def _quote_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kotiapu.marketplace.price-quote")


def price_quote(offering: Offering) -> str | None:
    """A signed statement of the price shown for an offering now; a checkout that
    presents it within two days is charged that price even if it has risen since."""
    if offering.price_cents is None:
        return None
    return _quote_serializer().dumps([offering.id, offering.price_cents])


def read_price_quote(token: str, offering_id: int) -> int | None:
    """The quoted unit price for ``offering_id``, or None for a quote that has
    expired. Raises ValidationFailed for a forged quote or one of another offering."""
    try:
        quoted_id, price = _quote_serializer().loads(token, max_age=QUOTE_MAX_AGE)
    except SignatureExpired:
        return None
    except (BadSignature, ValueError, TypeError):
        raise ValidationFailed(_("The price quote is not valid."), code="invalid_price_quote") from None
    if quoted_id != offering_id or not isinstance(price, int):
        raise ValidationFailed(_("The price quote is for another offering."), code="invalid_price_quote")
    return price


# --------------------------------------------------------------------------- pricing a cart


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

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def vat_cents(self) -> int:
        return sum(line.vat_cents for line in self.lines)

    @property
    def household_deduction_cents(self) -> int:
        return sum(line.household_deduction_cents for line in self.lines)


def _money_text(cents: int) -> str:
    from core.templating import money

    return money(cents)


def _sellable(offering: Offering) -> bool:
    return (offering.active and offering.self_paid and offering.price_cents is not None
            and offering.provider.status == ProviderStatus.APPROVED and offering.service_type.active
            and offering.service_type.self_paid_allowed)


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
        errors["items"] = [_("At most %(n)s different services in one purchase.", n=MAX_CART_LINES)]
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
        elif not _sellable(offering):
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

    lines, notices = [], []
    for offering_id, item in merged.items():
        offering = offerings[offering_id]
        current = offering.price_cents
        name = offering.service_type.name()
        unit_price = current
        if item.claimed_price_cents is not None and item.claimed_price_cents != (item.shown_price_cents or current):
            errors[f"items[{index[offering_id]}].unit_price_cents"] = [
                _("The price of %(service)s is %(price)s, not %(claimed)s.", service=name,
                  price=_money_text(item.shown_price_cents or current), claimed=_money_text(item.claimed_price_cents))]
            continue
        if item.shown_price_cents is not None and item.shown_price_cents != current:
            unit_price = min(item.shown_price_cents, current)
            if item.shown_price_cents < current:
                notices.append(_("The price of %(service)s has risen from %(old)s to %(new)s since it was shown to you. "
                                 "This order keeps the price shown, %(old)s.",
                                 service=name, old=_money_text(item.shown_price_cents), new=_money_text(current)))
            else:
                notices.append(_("The price of %(service)s has dropped from %(old)s to %(new)s since it was shown to you. "
                                 "You pay the new price, %(new)s.",
                                 service=name, old=_money_text(item.shown_price_cents), new=_money_text(current)))
        total = unit_price * item.quantity
        lines.append(PricedLine(
            offering=offering, quantity=item.quantity, unit_price_cents=unit_price, current_price_cents=current,
            total_cents=total, vat_cents=vat_from_gross(total, offering.vat_rate_bp),
            household_deduction_cents=deduction_base(total, offering.labour_share_percent, deduction_applies(offering))))
    if errors:
        raise ValidationFailed(_("A price has changed. Show the buyer the current price and try again."),
                               code="price_mismatch", fields=errors)
    return PricedCart(provider=offerings[next(iter(merged))].provider, lines=lines, notices=notices)


def sellable_offering(offering_id: int) -> Offering | None:
    return db.session.scalar(sellable_offerings().where(Offering.id == offering_id))


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
    gone = [i.offering_id for i in items if i.offering_id not in offerings or not _sellable(offerings[i.offering_id])]
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


def clients_acted_for(user) -> list:
    """Client records a client-role user may buy for: their own and those they represent."""
    from clients.models import Client

    if user is None or user.role != Role.CLIENT:
        return []
    return list(db.session.scalars(sa.select(Client).where(Client.id.in_(represented_client_ids(user)),
                                                           Client.erased_at.is_(None))
                                   .order_by(Client.last_name, Client.first_name)))


def buyer_defaults(user) -> dict:
    """Checkout form defaults for a logged-in user: name, e-mail and phone, and for a
    client their own address (the read is access-logged as the client's own)."""
    values = {"name": user.name, "email": user.email, "phone": user.phone}
    if user.role == Role.CLIENT and user.client_id:
        client = user.client
        if client is not None and client.erased_at is None:
            values.update(address=client.address, postal_code=client.postal_code, phone=user.phone or client.phone)
            record_access(client.id, "view", Purpose.OWN_DATA, what="contact details for a purchase", actor=user)
    return values


# --------------------------------------------------------------------------- payment options


def payment_options(provider: Provider) -> dict[str, bool]:
    """Which payment methods a buyer may choose for this provider's services: card
    when Stripe is configured and the provider has a connected account; invoice when
    Stripe is not configured (the only way then) or the provider allows it."""
    card = billing.configured() and bool(provider.stripe_account_id)
    invoice = (not billing.configured()) or provider.allows_invoice or not card
    return {"card": card, "invoice": invoice}


def _check_payment(provider: Provider, method: str) -> None:
    if method not in ("card", "invoice"):
        raise ValidationFailed(_("Choose card or invoice."), fields={"payment": [_("Choose card or invoice.")]})
    options = payment_options(provider)
    if method == "card" and not options["card"]:
        message = (_("Card payment is not in use. Choose invoice: the provider sends you an invoice.")
                   if not billing.configured() else
                   _("%(provider)s does not take card payments yet. Choose invoice.", provider=provider.name))
        raise ValidationFailed(message, code="card_unavailable", fields={"payment": [message]})
    if method == "invoice" and not options["invoice"]:
        message = _("%(provider)s does not send invoices. Pay by card.", provider=provider.name)
        raise ValidationFailed(message, code="invoice_unavailable", fields={"payment": [message]})


# --------------------------------------------------------------------------- access to a purchase


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token(order: ShopOrder) -> str:
    """The secret of the purchase's link, derived from SECRET_KEY and the row (only its
    SHA-256 is stored), so that every e-mail about the purchase can carry the link."""
    key = current_app.config["SECRET_KEY"].encode()
    stamp = order.created_at.isoformat()
    mac = hmac.new(key, f"shop-order:{order.id}:{stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def order_url(order: ShopOrder, endpoint: str = "marketplace.order", **values) -> str | None:
    """The absolute link a buyer (also a guest) follows the purchase with; None when
    the stored hash is not one this server derives (e.g. SECRET_KEY was rotated)."""
    token = access_token(order)
    if not hmac.compare_digest(_token_hash(token), order.access_token_hash):
        return None
    return absolute_url(endpoint, order_id=order.id, token=token, **values)


def get_order_with_token(order_id: int, token: str | None) -> ShopOrder:
    """A purchase for whoever holds its link's token; 404 for anything else."""
    order = db.session.get(ShopOrder, order_id)
    if order is None or not token or len(token) > 200 \
            or not hmac.compare_digest(_token_hash(token), order.access_token_hash):
        raise NotFoundError(_("No such purchase."))
    return order


def get_order_for(actor, order_id: int) -> ShopOrder:
    """A purchase the logged-in user may see (the buyer, the provider, admin); 404
    otherwise. A provider's or admin's view of a client's purchase is access-logged."""
    order = db.session.scalar(scope_shop_orders(sa.select(ShopOrder).where(ShopOrder.id == order_id), actor))
    if order is None:
        raise NotFoundError(_("No such purchase."))
    if order.client_id is not None and actor.role in (Role.PROVIDER, Role.ADMIN):
        record_access(order.client_id, "view", Purpose.SERVICE if actor.role == Role.PROVIDER else Purpose.ORDERING,
                      what=f"purchase {order.number}: contact details", actor=actor)
    return order


def find_order(actor, order_id: int, token: str | None) -> tuple[ShopOrder, bool]:
    """The purchase by login or by link token; returns it and whether the viewer is
    its buyer. 404 when neither gives access."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        try:
            order = get_order_for(actor, order_id)
            return order, actor.role == Role.CLIENT
        except NotFoundError:
            if not token:
                raise
    return get_order_with_token(order_id, token), True


def list_purchases(actor, *, status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[ShopOrder], bool]:
    """Purchases the user may see, newest first (provider: its own; client: theirs)."""
    stmt = scope_shop_orders(sa.select(ShopOrder), actor).options(sa.orm.selectinload(ShopOrder.items))
    if status:
        stmt = stmt.where(ShopOrder.status == status)
    stmt = stmt.order_by(ShopOrder.created_at.desc(), ShopOrder.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    rows = list(db.session.scalars(stmt))
    return rows[:per_page], len(rows) > per_page


def order_events(order: ShopOrder) -> list[ShopOrderEvent]:
    return list(db.session.scalars(sa.select(ShopOrderEvent).where(ShopOrderEvent.shop_order_id == order.id)
                                   .order_by(ShopOrderEvent.at, ShopOrderEvent.id)))


# --------------------------------------------------------------------------- checkout


@dataclass
class Buyer:
    name: str
    email: str
    postal_code: str
    phone: str | None = None
    address: str | None = None
    desired_time: str | None = None
    message: str | None = None


@dataclass
class CheckoutResult:
    shop_order: ShopOrder
    cart: PricedCart
    order_url: str
    checkout_url: str | None


def _check_buyer(buyer: Buyer) -> Buyer:
    from accounts.services import normalise_email

    errors: dict[str, list[str]] = {}

    def text(name, value, limit, required=False):
        value = (value or "").strip()
        if required and not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)s characters.", n=limit)]
        return value or None

    name = text("name", buyer.name, 200, required=True)
    phone = text("phone", buyer.phone, 40)
    address = text("address", buyer.address, 300)
    desired = text("desired_time", buyer.desired_time, 200)
    message = text("message", buyer.message, 2000)
    email = None
    try:
        email = normalise_email(buyer.email or "")
    except ValidationFailed:
        errors["email"] = [_("Give a valid e-mail address.")]
    postal = (buyer.postal_code or "").strip()
    if not POSTAL_RE.match(postal):
        errors["postal_code"] = [_("Give a Finnish postal code of five digits.")]
    if errors:
        raise ValidationFailed(_("Check the buyer's details."), fields={f"buyer.{k}": v for k, v in errors.items()})
    return Buyer(name=name, email=email, postal_code=postal, phone=phone, address=address, desired_time=desired,
                 message=message)


def _submission_key(key: str) -> str:
    return "kotiapu:shop:submission:" + hashlib.sha256(key.encode()).hexdigest()


def _claim_submission(key: str | None) -> str | None:
    """First use of a checkout form (or API Idempotency-Key) wins; a repeat raises
    AlreadyCheckedOut. Without Redis the guard is skipped rather than refusing sales."""
    if not key:
        return None
    from core.redis import get_redis

    rkey = _submission_key(key)
    try:
        r = get_redis()
        if r.set(rkey, "pending", nx=True, ex=SUBMISSION_TTL):
            return rkey
        value = r.get(rkey)
    except redis.exceptions.RedisError:
        log.warning("redis unavailable: checkout submitted without the double-submit guard")
        return None
    order = db.session.get(ShopOrder, int(value)) if value and value.isdigit() else None
    if order is None and value and value != b"pending":
        # The first submission failed after claiming: let this one try again.
        try:
            r.delete(rkey)
            if r.set(rkey, "pending", nx=True, ex=SUBMISSION_TTL):
                return rkey
        except redis.exceptions.RedisError:
            return None
    raise AlreadyCheckedOut(_("This order has already been sent. You will find it below and in your e-mail."), order)


def _release_submission(rkey: str | None, order_id: int | None = None) -> None:
    if not rkey:
        return
    from core.redis import get_redis

    try:
        r = get_redis()
        if order_id is None:
            r.delete(rkey)
        else:
            r.set(rkey, str(order_id), ex=SUBMISSION_TTL)
    except redis.exceptions.RedisError:
        pass


def checkout(items: list[CartItem], buyer: Buyer, payment_method: str, *, actor=None, for_client_id: int | None = None,
             language: str = "fi", expected_total_cents: int | None = None,
             submission_key: str | None = None) -> CheckoutResult:
    """Make a purchase of one provider's services, for a logged-in client (or a
    relative acting for a client) or a guest.

    Prices the cart (``price_items``: the order keeps the price shown, never an amount
    sent by the buyer), checks the buyer's postal code against every offering's
    area, the payment method against the provider's, and that the total the buyer
    saw (``expected_total_cents``) is what would be charged (``amount_mismatch``).
    Creates the purchase in ``pending_payment``; for card payment creates its one
    Stripe Checkout Session (destination charge to the provider's connected account,
    platform fee, idempotency key) and returns its URL. Queues the buyer's
    confirmation e-mail (and, for an invoice purchase, the provider's).
    Raises ValidationFailed/AlreadyCheckedOut/PaymentUnavailable; on any error the
    caller rolls back and nothing is kept.
    """
    buyer = _check_buyer(buyer)
    if payment_method not in ("card", "invoice"):
        raise ValidationFailed(_("Choose card or invoice."), fields={"payment": [_("Choose card or invoice.")]})
    cart = price_items(items, postal_code=buyer.postal_code)
    if expected_total_cents is not None and expected_total_cents != cart.total_cents:
        raise ValidationFailed(
            _("The total is now %(total)s, not %(expected)s. Check the order and send it again.",
              total=_money_text(cart.total_cents), expected=_money_text(expected_total_cents)),
            code="amount_mismatch", fields={"expected_total_cents": [_("Does not match the current total.")]})
    provider = cart.provider
    _check_payment(provider, payment_method)

    buyer_user_id = client_id = None
    if actor is not None and getattr(actor, "is_authenticated", False) and actor.role == Role.CLIENT:
        buyer_user_id = actor.id
        client_id = actor.client_id
        if for_client_id is not None:
            if for_client_id not in set(db.session.scalars(represented_client_ids(actor))):
                raise ValidationFailed(_("You cannot buy for that person."), fields={"client_id": [_("Not a person you act for.")]})
            client_id = for_client_id
    elif for_client_id is not None:
        raise ValidationFailed(_("Only a logged-in client buys for a person they act for."),
                               fields={"client_id": [_("Not allowed.")]})

    claim = _claim_submission(submission_key)
    try:
        result = _create_purchase(cart, buyer, payment_method, buyer_user_id, client_id,
                                  language if language in ("fi", "sv", "en") else "fi")
    except BaseException:
        _release_submission(claim)
        raise
    _release_submission(claim, result.shop_order.id)
    return result


def _create_purchase(cart: PricedCart, buyer: Buyer, method: str, buyer_user_id, client_id, language) -> CheckoutResult:
    provider = cart.provider
    order = ShopOrder(
        number=pending_number(), access_token_hash=_token_hash(secrets.token_urlsafe(32)),
        provider_id=provider.id, buyer_user_id=buyer_user_id, client_id=client_id,
        buyer_name=buyer.name, buyer_email=buyer.email, buyer_phone=buyer.phone, buyer_address=buyer.address,
        buyer_postal_code=buyer.postal_code, buyer_language=language, desired_time=buyer.desired_time,
        message=buyer.message, status=ShopOrderStatus.PENDING_PAYMENT, payment_method=method, currency=CURRENCY,
        total_cents=cart.total_cents, vat_cents=cart.vat_cents,
        household_deduction_cents=cart.household_deduction_cents,
        platform_fee_cents=platform_fee(cart.total_cents) if method == "card" else 0,
        created_at=utcnow(),
    )
    for line in cart.lines:
        order.items.append(ShopOrderItem(
            offering_id=line.offering.id, description=line.offering.service_type.name(language)[:300],
            unit=line.offering.unit, quantity=line.quantity, unit_price_cents=line.unit_price_cents,
            vat_rate_bp=line.offering.vat_rate_bp, total_cents=line.total_cents, vat_cents=line.vat_cents,
            household_deduction_cents=line.household_deduction_cents))
    db.session.add(order)
    assign_number(order, "SH")
    token = access_token(order)
    order.access_token_hash = _token_hash(token)
    if client_id is not None:
        record_access(client_id, "create", Purpose.OWN_DATA, what=f"purchase {order.number}")
    _event(order, None, ShopOrderStatus.PENDING_PAYMENT, None, "\n".join(cart.notices) or None)
    db.session.flush()

    url = absolute_url("marketplace.order", order_id=order.id, token=token)
    checkout_url = None
    if method == "card":
        checkout_url = _start_card_payment(order, cart, token)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "received", queue="mail")
    if method == "invoice":
        enqueue("marketplace.jobs.send_provider_email", order.id, "new_purchase", queue="mail")
    return CheckoutResult(shop_order=order, cart=cart, order_url=url, checkout_url=checkout_url)


def _start_card_payment(order: ShopOrder, cart: PricedCart, token: str) -> str:
    provider = cart.provider
    lines = [{"name": f"{line.offering.service_type.name(order.buyer_language)} – {provider.name}",
              "unit_amount": line.unit_price_cents, "quantity": line.quantity} for line in cart.lines]
    try:
        session = billing.create_checkout_session(
            shop_order_id=order.id, number=order.number, lines=lines, currency=order.currency,
            fee_cents=order.platform_fee_cents, destination=provider.stripe_account_id,
            customer_email=order.buyer_email,
            success_url=absolute_url("marketplace.checkout_return", order_id=order.id, token=token),
            cancel_url=absolute_url("marketplace.order", order_id=order.id, token=token, payment="cancelled"),
            expires_at=int((utcnow() + timedelta(minutes=CHECKOUT_MINUTES)).timestamp()),
            locale=order.buyer_language, idempotency_key=_checkout_key(order))
    except billing.BillingError as exc:
        if exc.unavailable:
            raise PaymentUnavailable(_("Card payment is not available right now. Try again in a moment or choose invoice.")) from None
        message = _("Card payment could not be started for %(provider)s. Choose invoice.", provider=provider.name)
        raise ValidationFailed(message, code="card_unavailable", fields={"payment": [message]}) from None
    if session.get("amount_total") not in (None, order.total_cents):
        log.error("checkout session %s amount %s differs from purchase %s total %s",
                  session.get("id"), session.get("amount_total"), order.id, order.total_cents)
        raise PaymentUnavailable(_("Card payment is not available right now. Try again in a moment or choose invoice."))
    order.stripe_checkout_session_id = session["id"]
    db.session.flush()
    return session["url"]


def _checkout_key(order: ShopOrder) -> str:
    # The id alone could repeat on SQLite after a rolled-back checkout; the hash does not.
    return f"checkout-{order.id}-{order.access_token_hash[:12]}"


def resume_card_payment(order: ShopOrder) -> str | None:
    """The Checkout page's URL for a card purchase still waiting for payment, or None
    when its session has ended (then the purchase is brought up to date: paid if
    Stripe says so, released if the session expired)."""
    if order.payment_method != "card" or order.status != ShopOrderStatus.PENDING_PAYMENT \
            or not order.stripe_checkout_session_id:
        return None
    session = _retrieve_session(order)
    if session.get("status") == "open" and session.get("url"):
        return session["url"]
    _apply_session_state(order, session, source="return")
    return None


def _retrieve_session(order: ShopOrder) -> dict:
    try:
        return billing.retrieve_checkout_session(order.stripe_checkout_session_id)
    except billing.BillingError:
        raise PaymentUnavailable(_("The payment service could not be reached. Try again in a moment.")) from None


def sync_checkout(order: ShopOrder) -> str:
    """Ask Stripe (server to server) how the purchase's Checkout Session stands and
    apply it: used when the buyer comes back from the payment page and by the
    sweep for sessions whose webhook never came. The browser's return alone never
    marks anything paid. Returns the purchase's status."""
    if order.payment_method == "card" and order.status == ShopOrderStatus.PENDING_PAYMENT \
            and order.stripe_checkout_session_id:
        _apply_session_state(order, _retrieve_session(order), source="return")
    return order.status


def _apply_session_state(order: ShopOrder, session: dict, source: str) -> str:
    if session.get("id") != order.stripe_checkout_session_id:
        return "ignored"
    if session.get("status") == "complete" and session.get("payment_status") == "paid":
        return _apply_payment(order, session)
    if session.get("status") == "expired":
        return _release(order, _("The payment time ran out; the purchase was released."))
    return "waiting"


# --------------------------------------------------------------------------- the state machine


def _event(order: ShopOrder, from_status, to_status, actor, note: str | None) -> ShopOrderEvent:
    event = ShopOrderEvent(shop_order_id=order.id, from_status=from_status, to_status=to_status,
                           actor_id=getattr(actor, "id", None), note=note, at=utcnow())
    db.session.add(event)
    return event


def _transition(order: ShopOrder, action: str, actor, note: str | None = None, **values) -> str:
    """Apply ``action`` by the table: one conditional UPDATE from the state read, so
    of two simultaneous changes only one wins (the other gets ConflictError).
    Stamps the new state's ``*_at``, writes the event, returns the new state."""
    current = order.status
    target = SHOP_TRANSITIONS.get((current, action))
    if target is None:
        raise ConflictError(_("This purchase is %(status)s; that cannot be done now.", status=_status_text(current)),
                            code="invalid_state")
    now = utcnow()
    stamp = STATUS_STAMPS.get(target)
    if stamp and stamp not in values:
        values[stamp] = now
    db.session.flush()
    won = db.session.execute(
        sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.status == current)
        .values(status=target, **values).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        db.session.expire(order)
        raise ConflictError(_("The purchase was changed at the same time. Reload the page and check it."),
                            code="invalid_state")
    db.session.expire(order)
    _event(order, current, target, actor, note)
    db.session.flush()
    return target


def _status_text(status: str) -> str:
    from core.templating import status_label

    return status_label(status).lower()


def _can_manage(actor, order: ShopOrder) -> None:
    if actor is None or not (actor.role == Role.ADMIN or (actor.role == Role.PROVIDER and actor.provider_id == order.provider_id)):
        raise NotFoundError(_("No such purchase."))


def confirm_time(actor, order: ShopOrder, confirmed_time: str) -> ShopOrder:
    """The provider (or admin) confirms when the service is delivered, before
    fulfilment. The buyer is e-mailed each distinct time confirmed."""
    _can_manage(actor, order)
    text = (confirmed_time or "").strip()
    if not text or len(text) > 200:
        raise ValidationFailed(_("Give the time, at most 200 characters."),
                               fields={"confirmed_time": [_("Give the time, at most 200 characters.")]})
    if order.status not in (ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.PAID):
        raise ConflictError(_("This purchase is %(status)s; its time can no longer be changed.",
                              status=_status_text(order.status)), code="invalid_state")
    if order.confirmed_time == text:
        return order
    order.confirmed_time = text
    _event(order, order.status, order.status, actor, _("Time confirmed: %(time)s", time=text))
    db.session.flush()
    enqueue("marketplace.jobs.send_buyer_email", order.id, "time_confirmed",
            key=hashlib.sha256(text.encode()).hexdigest()[:16], queue="mail")
    return order


def mark_invoice_paid(actor, order: ShopOrder) -> ShopOrder:
    """The provider records that the buyer paid its invoice (card purchases are marked
    paid only by Stripe). Before delivery this moves the purchase to ``paid``; after
    delivery it records the date on the fulfilled purchase."""
    _can_manage(actor, order)
    if order.payment_method != "invoice":
        raise ConflictError(_("Card payments are confirmed by the payment service, not by hand."), code="card_payment")
    if order.status == ShopOrderStatus.PENDING_PAYMENT:
        _transition(order, ShopAction.PAY, actor, _("Invoice paid."))
    elif order.status == ShopOrderStatus.FULFILLED and order.paid_at is None:
        won = db.session.execute(sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.paid_at.is_(None))
                                 .values(paid_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        db.session.expire(order)
        if won:
            _event(order, order.status, order.status, actor, _("Invoice paid."))
    else:
        raise ConflictError(_("This purchase is %(status)s; there is no invoice payment to record.",
                              status=_status_text(order.status)), code="invalid_state")
    db.session.flush()
    return order


def fulfil(actor, order: ShopOrder, note: str | None = None) -> ShopOrder:
    """The provider marks the service delivered. A card purchase must be paid first;
    an invoice purchase may be delivered before the invoice is paid. The buyer gets
    an e-mail with the one-time feedback link (by a job)."""
    _can_manage(actor, order)
    if order.status == ShopOrderStatus.PENDING_PAYMENT and order.payment_method == "card":
        raise ConflictError(_("The card payment has not arrived yet; deliver after it has."), code="not_paid")
    _transition(order, ShopAction.FULFIL, actor, (note or "").strip()[:2000] or None)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "fulfilled", queue="mail")
    return order


def cancel(actor, order: ShopOrder, reason: str = "", *, by_buyer: bool = False) -> ShopOrder:
    """Cancel a purchase. The buyer may cancel only while it waits for payment; the
    provider or admin also later: a paid purchase is then refunded in full (card:
    through Stripe). A delivered purchase is refunded, not cancelled. Before
    payment a card purchase's Checkout Session is ended at Stripe so it cannot be
    paid any more."""
    if not by_buyer:
        _can_manage(actor, order)
    reason = (reason or "").strip()[:2000]
    if order.status == ShopOrderStatus.PENDING_PAYMENT:
        if order.payment_method == "card" and order.stripe_checkout_session_id:
            _end_checkout_session(order)
            if order.status == ShopOrderStatus.CANCELLED:
                return order  # the session had expired: released (and the buyer told) just now
            if order.status != ShopOrderStatus.PENDING_PAYMENT:
                raise ConflictError(_("The buyer has just paid. Refund the purchase instead."), code="already_paid")
        _transition(order, ShopAction.CANCEL, actor, reason or None)
        enqueue("marketplace.jobs.send_buyer_email", order.id, "cancelled", queue="mail")
        if by_buyer:
            enqueue("marketplace.jobs.send_provider_email", order.id, "cancelled", queue="mail")
        return order
    if by_buyer:
        raise ConflictError(_("This purchase can no longer be cancelled here. Contact the provider."), code="invalid_state")
    if order.status == ShopOrderStatus.PAID:
        return refund(actor, order, order.total_cents - order.refunded_cents, reason or _("Cancelled."),
                      expected_refunded_cents=order.refunded_cents)
    if order.status == ShopOrderStatus.FULFILLED:
        raise ConflictError(_("The service has been delivered. Refund the purchase instead of cancelling it."),
                            code="invalid_state")
    raise ConflictError(_("This purchase is %(status)s already.", status=_status_text(order.status)), code="invalid_state")


def _end_checkout_session(order: ShopOrder) -> None:
    try:
        billing.expire_checkout_session(order.stripe_checkout_session_id, idempotency_key=f"expire-{_checkout_key(order)}")
        return
    except billing.BillingError as exc:
        if exc.unavailable:
            raise PaymentUnavailable(_("The payment service could not be reached. Try again in a moment.")) from None
    # Stripe refuses to end a session that is no longer open: find out why.
    _apply_session_state(order, _retrieve_session(order), source="return")


def refund(actor, order: ShopOrder, amount_cents: int, reason: str = "", *,
           expected_refunded_cents: int | None = None) -> ShopOrder:
    """Return ``amount_cents`` of a paid purchase to the buyer, in part or in full.

    The amount must be 1..(paid − already refunded). ``expected_refunded_cents`` is
    what the provider saw already refunded: a repeated click or a simultaneous
    refund finds it changed and is refused (409), so nothing is returned twice. The
    claim is one conditional UPDATE; a card purchase is then refunded through
    Stripe's refund API (idempotency key per step), and a failure there rolls the
    claim back. When everything paid has been returned the purchase is ``refunded``.
    """
    _can_manage(actor, order)
    if order.status not in (ShopOrderStatus.PAID, ShopOrderStatus.FULFILLED) or order.paid_at is None:
        raise ConflictError(_("Only a paid purchase can be refunded."), code="not_paid")
    remaining = order.total_cents - order.refunded_cents
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not 1 <= amount_cents <= remaining:
        message = _("The refund must be between %(min)s and %(max)s.", min=_money_text(1), max=_money_text(remaining))
        raise ValidationFailed(message, fields={"amount_cents": [message]})
    if order.payment_method == "card" and not order.stripe_payment_intent_id:
        raise ConflictError(_("The card payment is not known yet; try again in a moment."), code="not_paid")
    before = order.refunded_cents if expected_refunded_cents is None else expected_refunded_cents
    status = order.status
    db.session.flush()
    won = db.session.execute(
        sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.status == status,
                                   ShopOrder.refunded_cents == before,
                                   ShopOrder.refunded_cents + amount_cents <= ShopOrder.total_cents)
        .values(refunded_cents=ShopOrder.refunded_cents + amount_cents)
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(order)
    if won != 1:
        raise ConflictError(_("The purchase was refunded or changed meanwhile. Reload the page and check the amounts."),
                            code="refund_conflict")
    if order.payment_method == "card":
        try:
            billing.create_refund(payment_intent=order.stripe_payment_intent_id, amount_cents=amount_cents,
                                  shop_order_id=order.id, idempotency_key=f"refund-{order.id}-{before}-{amount_cents}")
        except billing.BillingError as exc:
            if exc.unavailable:
                raise PaymentUnavailable(_("The payment service could not be reached; nothing was refunded. Try again.")) from None
            raise ConflictError(_("The payment service refused the refund: %(reason)s", reason=exc.message),
                                code="refund_refused") from None
    note = _("Refunded %(amount)s.", amount=_money_text(amount_cents)) + (f" {reason.strip()[:2000]}" if reason.strip() else "")
    if order.refunded_cents >= order.total_cents:
        _transition(order, ShopAction.REFUND, actor, note)
    else:
        _event(order, status, status, actor, note)
        db.session.flush()
    enqueue("marketplace.jobs.send_buyer_email", order.id, "refunded", key=str(before + amount_cents),
            amount_cents=amount_cents, queue="mail")
    return order


# --------------------------------------------------------------------------- Stripe events


class WebhookRejected(DomainError):
    """A webhook that is not verifiably from Stripe (400)."""

    status = 400
    code = "bad_signature"


def verify_stripe_event(payload: bytes, signature_header: str | None) -> dict:
    """The event of a webhook request whose Stripe signature checks out (HMAC with
    STRIPE_WEBHOOK_SECRET, timestamp at most five minutes old). Raises WebhookRejected."""
    try:
        return billing.parse_webhook(payload, signature_header)
    except billing.SignatureError as exc:
        raise WebhookRejected(exc.message, code=exc.code or "bad_signature") from None



def _claim_event(event: dict) -> bool:
    """Insert the event's id; the first delivery inserts, every repeat finds it there
    (the primary key is the backstop, ON CONFLICT DO NOTHING the claim)."""
    from datetime import datetime

    created = event.get("created")
    values = {"id": event["id"][:255], "type": event["type"][:100], "payload": event, "received_at": utcnow(),
              "created": datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None}
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["id"]) \
        .returning(StripeEvent.id)
    # RETURNING gives the id only to the delivery that inserted (rowcount is not
    # reliable for ORM-executed inserts on every driver).
    return db.session.execute(stmt).scalar() is not None


def handle_stripe_event(event: dict) -> str:
    """Apply one verified Stripe event, once. Returns what happened (``duplicate``,
    ``applied``, ``ignored``, ...). Events may come repeated or in any order: each
    handler moves a purchase only forward by the state table and otherwise does
    nothing, so a late ``expired`` after ``completed`` changes nothing."""
    if not _claim_event(event):
        return "duplicate"
    handler = _EVENT_HANDLERS.get(event["type"])
    result = handler(event["data"]["object"]) if handler else "ignored"
    db.session.execute(sa.update(StripeEvent).where(StripeEvent.id == event["id"][:255])
                       .values(processed_at=utcnow()).execution_options(synchronize_session=False))
    return result


def _order_for_session(session: dict) -> ShopOrder | None:
    session_id = session.get("id")
    if not isinstance(session_id, str):
        return None
    order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.stripe_checkout_session_id == session_id))
    if order is None:
        return None
    metadata = session.get("metadata") or {}
    if metadata.get("shop_order_id") not in (None, str(order.id)):
        log.warning("stripe session %s names purchase %s but belongs to %s", session_id,
                    metadata.get("shop_order_id"), order.id)
        return None
    return order


def _on_session_completed(session: dict) -> str:
    order = _order_for_session(session)
    if order is None:
        return "unknown_purchase"
    if session.get("payment_status") == "paid":
        return _apply_payment(order, session)
    return "waiting"  # a delayed payment method: async_payment_succeeded/failed follows


def _on_async_succeeded(session: dict) -> str:
    order = _order_for_session(session)
    return _apply_payment(order, session) if order else "unknown_purchase"


def _on_session_ended(session: dict) -> str:
    order = _order_for_session(session)
    if order is None:
        return "unknown_purchase"
    return _release(order, _("The payment was not completed; the purchase was released."))


def _on_charge_refunded(charge: dict) -> str:
    """Refunds made in Stripe's dashboard: bring the refunded amount up to Stripe's
    (cumulative, so the order of events does not matter)."""
    intent = charge.get("payment_intent")
    refunded = charge.get("amount_refunded")
    if not isinstance(intent, str) or not isinstance(refunded, int):
        return "ignored"
    order = db.session.scalar(sa.select(ShopOrder).where(ShopOrder.stripe_payment_intent_id == intent))
    if order is None:
        return "unknown_purchase"
    refunded = min(refunded, order.total_cents)
    if refunded <= order.refunded_cents:
        return "no_change"
    status = order.status
    db.session.execute(sa.update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.refunded_cents < refunded)
                       .values(refunded_cents=refunded).execution_options(synchronize_session=False))
    db.session.expire(order)
    note = _("Refunded through the payment service; %(amount)s refunded in all.", amount=_money_text(refunded))
    if refunded >= order.total_cents and (status, ShopAction.REFUND) in SHOP_TRANSITIONS:
        _transition(order, ShopAction.REFUND, None, note)
    else:
        _event(order, status, status, None, note)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "refunded", key=str(refunded), queue="mail")
    return "applied"


def _apply_payment(order: ShopOrder, session: dict) -> str:
    """Stripe says the session is paid. Only the amount and currency of the purchase
    are accepted; a payment for a purchase cancelled meanwhile is refunded at once."""
    if session.get("amount_total") != order.total_cents or str(session.get("currency", "")).upper() != order.currency:
        log.error("purchase %s: paid %s %s, expected %s %s; not marked paid", order.id, session.get("amount_total"),
                  session.get("currency"), order.total_cents, order.currency)
        _event(order, order.status, order.status, None,
               _("The payment service reported a different amount; the purchase was not marked paid."))
        return "amount_mismatch"
    intent = session.get("payment_intent")
    intent = intent.get("id") if isinstance(intent, dict) else intent
    if order.status == ShopOrderStatus.PENDING_PAYMENT:
        _transition(order, ShopAction.PAY, None, _("Card payment received."), stripe_payment_intent_id=intent)
        enqueue("marketplace.jobs.send_buyer_email", order.id, "paid", queue="mail")
        enqueue("marketplace.jobs.send_provider_email", order.id, "new_purchase", queue="mail")
        return "applied"
    if order.status == ShopOrderStatus.CANCELLED and order.paid_at is None and intent:
        # Paid at the very moment it was cancelled: give the money back.
        try:
            billing.create_refund(payment_intent=intent, amount_cents=order.total_cents, shop_order_id=order.id,
                                  idempotency_key=f"late-refund-{order.id}")
        except billing.BillingError:
            raise PaymentUnavailable("refund of a late payment failed; Stripe will deliver the event again") from None
        _transition(order, ShopAction.LATE_REFUND, None,
                    _("The payment arrived after the purchase was cancelled and was refunded in full."),
                    stripe_payment_intent_id=intent, paid_at=utcnow(), refunded_cents=order.total_cents)
        enqueue("marketplace.jobs.send_buyer_email", order.id, "refunded", key=str(order.total_cents), queue="mail")
        return "refunded_late_payment"
    return "no_change"


def _release(order: ShopOrder, note: str) -> str:
    if order.status != ShopOrderStatus.PENDING_PAYMENT or order.payment_method != "card":
        return "no_change"
    _transition(order, ShopAction.RELEASE, None, note)
    enqueue("marketplace.jobs.send_buyer_email", order.id, "released", queue="mail")
    return "applied"


_EVENT_HANDLERS = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_succeeded,
    "checkout.session.async_payment_failed": _on_session_ended,
    "checkout.session.expired": _on_session_ended,
    "charge.refunded": _on_charge_refunded,
}


def stale_card_purchases(limit: int = 100) -> list[int]:
    """Card purchases still waiting although their Checkout Session has ended."""
    cutoff = utcnow() - timedelta(minutes=CHECKOUT_MINUTES + 15)
    return list(db.session.scalars(
        sa.select(ShopOrder.id).where(ShopOrder.payment_method == "card",
                                      ShopOrder.status == ShopOrderStatus.PENDING_PAYMENT,
                                      ShopOrder.stripe_checkout_session_id.is_not(None),
                                      ShopOrder.created_at < cutoff)
        .order_by(ShopOrder.id).limit(limit)))


# --------------------------------------------------------------------------- Stripe Connect onboarding


def start_payment_onboarding(actor) -> str:
    """An organisation admin connects the organisation to Stripe to take card payments:
    creates its Express account once (idempotency key per organisation) and returns a
    fresh onboarding link. Raises PermissionDenied for others, ConflictError when
    Stripe is not configured, PaymentUnavailable when it cannot be reached."""
    provider_id = _require_provider(actor)
    if not actor.is_org_admin:
        raise PermissionDenied(_("Only the organisation's administrator sets up card payments."))
    if not billing.configured():
        raise ConflictError(_("Card payments are not in use on this platform."), code="card_unavailable")
    provider = db.session.get(Provider, provider_id)
    try:
        if not provider.stripe_account_id:
            account = billing.create_connected_account(email=provider.email, business_name=provider.name,
                                                       provider_id=provider.id,
                                                       idempotency_key=f"account-{provider.id}")
            provider.stripe_account_id = account["id"]
            db.session.flush()
        link = billing.create_account_link(
            account=provider.stripe_account_id,
            refresh_url=absolute_url("marketplace.provider_offerings", onboarding="refresh"),
            return_url=absolute_url("marketplace.provider_offerings", onboarding="done"))
    except billing.BillingError as exc:
        if exc.unavailable:
            raise PaymentUnavailable(_("The payment service could not be reached. Try again in a moment.")) from None
        raise ConflictError(_("The payment service refused: %(reason)s", reason=exc.message), code="onboarding_refused") from None
    return link["url"]


# --------------------------------------------------------------------------- admin: the service catalogue


def _require_admin(actor) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only an administrator manages the service catalogue."))


def _check_slug(model, slug: str, own_id: int | None) -> dict:
    if not slug or len(slug) > 60 or not SLUG_RE.match(slug):
        return {"slug": [_("Lower-case letters, digits and hyphens, e.g. window-cleaning.")]}
    taken = db.session.scalar(sa.select(model.id).where(model.slug == slug, model.id != (own_id or -1)))
    if taken is not None:
        return {"slug": [_("Already in use.")]}
    return {}


def save_category(actor, *, slug: str, name_fi: str, name_sv: str = "", name_en: str = "", position: int = 0,
                  category: ServiceCategory | None = None) -> ServiceCategory:
    """Create or edit a service category. Admin only; ValidationFailed for a bad or
    taken slug or a missing Finnish name."""
    _require_admin(actor)
    slug = (slug or "").strip().lower()
    errors = _check_slug(ServiceCategory, slug, category.id if category else None)
    if not (name_fi or "").strip():
        errors["name_fi"] = [_("The Finnish name is required.")]
    if errors:
        raise ValidationFailed(_("The category could not be saved."), fields=errors)
    category = category or ServiceCategory()
    category.slug, category.position = slug, int(position or 0)
    category.name_fi, category.name_sv, category.name_en = name_fi.strip(), (name_sv or "").strip() or None, \
        (name_en or "").strip() or None
    db.session.add(category)
    db.session.flush()
    return category


def save_service_type(actor, *, category_id: int, slug: str, name_fi: str, name_sv: str = "", name_en: str = "",
                      description_fi: str = "", self_paid_allowed: bool = True, needs_soteri: bool = False,
                      default_unit: str = "hour", service_type: ServiceType | None = None) -> ServiceType:
    """Create or edit a service type. Admin only."""
    _require_admin(actor)
    slug = (slug or "").strip().lower()
    errors = _check_slug(ServiceType, slug, service_type.id if service_type else None)
    if db.session.get(ServiceCategory, category_id) is None:
        errors["category_id"] = [_("Choose a category.")]
    if not (name_fi or "").strip():
        errors["name_fi"] = [_("The Finnish name is required.")]
    if default_unit not in set(Unit):
        errors["default_unit"] = [_("Choose hour, visit or item.")]
    if errors:
        raise ValidationFailed(_("The service type could not be saved."), fields=errors)
    st = service_type or ServiceType()
    st.category_id, st.slug = category_id, slug
    st.name_fi, st.name_sv, st.name_en = name_fi.strip(), (name_sv or "").strip() or None, (name_en or "").strip() or None
    st.description_fi = (description_fi or "").strip()
    st.self_paid_allowed, st.needs_soteri, st.default_unit = bool(self_paid_allowed), bool(needs_soteri), default_unit
    db.session.add(st)
    db.session.flush()
    return st


def set_service_type_active(actor, service_type: ServiceType, active: bool) -> ServiceType:
    """Deactivate a service type (no new offerings, orders or purchases) or bring it back."""
    _require_admin(actor)
    service_type.active = bool(active)
    db.session.flush()
    return service_type


PROVIDER_KINDS = (ProviderKind.NGO, ProviderKind.COMPANY)
