"""Service vouchers: granting, the balance, service events and their review, the
monthly settlement and the statements. Services check the policy, change rows and
flush; the request's (or job's) unit of work commits.

Amounts are integers throughout: quantities in the voucher's unit (minutes, visits
or cents) and money in cents. An event's price is split once, when it is recorded,
into the county's part (``voucher_cents``) and the client's own share
(``client_share_cents``); both are what the statements add up, so nothing is
rounded twice.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _, ngettext

from catalogue.models import Offering, ServiceType
from clients.models import Client
from core.access import Purpose, record_access
from core.db import utcnow
from core.templating import fmt_date, fmt_month, money
from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.time import local_today
from orders.models import OrderStatus, ServiceOrder
from providers.models import Provider
from vouchers import policy
from vouchers.models import (
    COUNTING_STATUSES, EventAction, EventStatus, ItemKind, ServiceEvent, ServiceVoucher, SettlementLine,
    SettlementStatus, StatementItem, VoucherAction, VoucherEvent, VoucherServiceSetting, VoucherSettlement,
    VoucherStatus, VoucherUnit,
)
from vouchers.states import EVENT_MACHINE, VOUCHER_MACHINE

MAX_AMOUNT = 10_000_000       # per month: minutes, visits or cents
MAX_VALUE_CENTS = 1_000_000   # per hour or visit
ORDER_STATES_FOR_EVENTS = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED)


class OverBalance(ValidationFailed, code="over_balance"):
    """The event needs more than the voucher has left for its month."""


class OutsidePeriod(ValidationFailed, code="outside_period"):
    """The event is dated before the grace period (or in the future, or outside the voucher)."""


class VoucherMismatch(ValidationFailed, code="voucher_mismatch"):
    """The voucher is not the order's client's, or not for its service type."""


# -- periods and amounts --------------------------------------------------------

def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_month(text: str) -> date | None:
    """``YYYY-MM`` as the first day of the month, or None."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            return None
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        return None


def earliest_recordable(today: date | None = None) -> date:
    """The first service date an event may still have: the start of the current
    month minus the grace period (``VOUCHER_GRACE_DAYS``)."""
    today = today or local_today()
    return month_start(today) - timedelta(days=int(current_app.config.get("VOUCHER_GRACE_DAYS", 60)))


def balance_period(voucher: ServiceVoucher, day: date) -> tuple[date, date]:
    """The period whose balance an event on ``day`` uses: its calendar month for a
    renewing voucher, the whole validity for a one-off amount."""
    if voucher.renews:
        return month_start(day), month_end(day)
    return voucher.valid_from, voucher.valid_to or date(9999, 12, 31)


def split_amount(unit: str, quantity: int, value_cents_per_unit: int, price_cents_per_unit: int) -> tuple[int, int]:
    """``(voucher_cents, client_share_cents)`` of ``quantity`` in ``unit``.

    hour: minutes at the provider's hourly price, the county paying up to its value
    per hour; visit: visits likewise; euro: the quantity is the county's cents and
    the client pays nothing on top. Each part is rounded once to the cent (half
    up) and the two always add up to the event's price."""
    if quantity < 0:
        raise ValueError("negative quantity")
    if unit == VoucherUnit.EURO:
        return quantity, 0
    price = price_cents_per_unit if price_cents_per_unit > 0 else value_cents_per_unit
    covered_rate = min(value_cents_per_unit, price)
    if unit == VoucherUnit.HOUR:
        total = (price * quantity + 30) // 60
        covered = (covered_rate * quantity + 30) // 60
    else:
        total = price * quantity
        covered = covered_rate * quantity
    return covered, total - covered


def quantity_text(unit: str, quantity: int) -> str:
    """A quantity as people read it: 1 h 30 min, 3 visits, 12,50 €."""
    if unit == VoucherUnit.HOUR:
        sign = "-" if quantity < 0 else ""
        hours, minutes = divmod(abs(quantity), 60)
        if hours and minutes:
            return _("%(sign)s%(h)s h %(m)s min", sign=sign, h=hours, m=minutes)
        if hours:
            return _("%(sign)s%(h)s h", sign=sign, h=hours)
        return _("%(sign)s%(m)s min", sign=sign, m=minutes)
    if unit == VoucherUnit.VISIT:
        # The form follows the size; a correction keeps its minus sign in front.
        return ("-" if quantity < 0 else "") + ngettext("%(num)s visit", "%(num)s visits", abs(quantity))
    return euros(quantity)


def euros(cents: int) -> str:
    """Cents as euros in the language's format (core's ``money`` filter)."""
    return money(cents)


def unit_label(unit: str) -> str:
    return {VoucherUnit.HOUR: _("Hours"), VoucherUnit.VISIT: _("Visits"), VoucherUnit.EURO: _("Euros")}.get(unit, unit)


# -- settings -------------------------------------------------------------------

def free_to_client(service_type_id: int) -> bool:
    setting = db.session.get(VoucherServiceSetting, service_type_id)
    return bool(setting and setting.free_to_client)


def service_settings() -> list[tuple[ServiceType, bool]]:
    free = set(db.session.scalars(sa.select(VoucherServiceSetting.service_type_id)
                                  .where(VoucherServiceSetting.free_to_client.is_(True))))
    types = db.session.scalars(sa.select(ServiceType).where(ServiceType.active.is_(True))
                               .order_by(ServiceType.id)).all()
    return [(t, t.id in free) for t in types]


def set_free_services(actor, service_type_ids: list[int]) -> None:
    """The administrator sets which service types the client-fee law makes free to
    the client (the rest keep their own share)."""
    policy.require_admin(actor)
    known = set(db.session.scalars(sa.select(ServiceType.id)))
    wrong = [i for i in service_type_ids if i not in known]
    if wrong:
        raise ValidationFailed(_("Unknown service types."), fields={"service_type_ids": [", ".join(map(str, wrong))]})
    chosen = set(service_type_ids)
    for type_id in known:
        setting = db.session.get(VoucherServiceSetting, type_id)
        if setting is None:
            if type_id in chosen:
                db.session.add(VoucherServiceSetting(service_type_id=type_id, free_to_client=True))
        elif setting.free_to_client != (type_id in chosen):
            setting.free_to_client = type_id in chosen
    db.session.flush()


# -- granting -------------------------------------------------------------------

def grant_voucher(actor, *, client_id: int, service_type_id: int, unit: str, monthly_amount: int,
                  value_cents_per_unit: int | None, valid_from: date, valid_to: date | None,
                  renews: bool = True) -> ServiceVoucher:
    """Staff grant a client a voucher. 422 ``no_consent`` without the client's
    consent to share data with providers; field errors name every bad field."""
    policy.require_staff(actor)
    errors: dict[str, list[str]] = {}
    client = db.session.get(Client, client_id)
    if client is None or client.erased_at is not None:
        errors["client_id"] = [_("No such client.")]
    service_type = db.session.get(ServiceType, service_type_id)
    if service_type is None or not service_type.active:
        errors["service_type_id"] = [_("No such service type.")]
    if unit not in set(VoucherUnit):
        errors["unit"] = [_("Must be one of: hour, visit, euro.")]
    if not isinstance(monthly_amount, int) or not 1 <= monthly_amount <= MAX_AMOUNT:
        errors["monthly_amount"] = [_("Must be a whole number from 1 to %(max)s.", max=MAX_AMOUNT)]
    if unit in (VoucherUnit.HOUR, VoucherUnit.VISIT):
        if value_cents_per_unit is None:
            errors["value_cents_per_unit"] = [_("Required for hour and visit vouchers.")]
        elif not 1 <= value_cents_per_unit <= MAX_VALUE_CENTS:
            errors["value_cents_per_unit"] = [_("Must be from 1 to %(max)s cents.", max=MAX_VALUE_CENTS)]
    elif unit == VoucherUnit.EURO:
        value_cents_per_unit = 0
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = [_("The end of validity is before its start.")]
    if valid_to is not None and valid_to < local_today():
        errors["valid_to"] = [_("The voucher would already have ended.")]
    if errors:
        raise ValidationFailed(_("The voucher could not be granted."), fields=errors)
    if not client.consent_to_share:
        raise ValidationFailed(_("The client has not consented to sharing their details with providers; "
                                 "record the consent first."), code="no_consent",
                               fields={"client_id": [_("No consent to share data with providers.")]})
    voucher = ServiceVoucher(client_id=client.id, service_type_id=service_type.id, unit=unit,
                             monthly_amount=monthly_amount, value_cents_per_unit=value_cents_per_unit or 0,
                             renews=bool(renews), valid_from=valid_from, valid_to=valid_to,
                             status=VoucherStatus.GRANTED, granted_by_id=actor.id)
    db.session.add(voucher)
    db.session.flush()
    db.session.add(VoucherEvent(voucher_id=voucher.id, action="grant", to_status=VoucherStatus.GRANTED,
                                actor_id=actor.id))
    record_access(client.id, "voucher", Purpose.GUIDANCE, what="service voucher granted", actor=actor)
    db.session.flush()
    return voucher


def close_voucher(actor, voucher_id: int, reason: str) -> ServiceVoucher:
    """Staff close a voucher (no more events can be recorded on it)."""
    policy.require_staff(actor)
    voucher = db.session.get(ServiceVoucher, voucher_id)
    if voucher is None:
        raise NotFoundError(_("Voucher not found."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason for closing."), fields={"reason": [_("This field is required.")]})
    if len(reason) > 2000:
        raise ValidationFailed(_("The reason is too long."), fields={"reason": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]})
    VOUCHER_MACHINE.apply(voucher, VoucherAction.CLOSE, actor, note=reason, values={"close_reason": reason})
    return voucher


def close_expired_vouchers() -> int:
    """The periodic sweep: vouchers whose validity ended before the grace period
    are closed (events may still be recorded within it)."""
    cutoff = earliest_recordable()
    return len(VOUCHER_MACHINE.apply_where(VoucherAction.CLOSE, ServiceVoucher.valid_to.isnot(None),
                                           ServiceVoucher.valid_to < cutoff, note="validity ended",
                                           values={"close_reason": "validity ended"}))


# -- reading vouchers -------------------------------------------------------------

def funded_provider_ids(voucher_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(ServiceOrder.provider_id).where(
        ServiceOrder.voucher_id == voucher_id, ServiceOrder.provider_id.isnot(None))))


def visible_voucher(actor, voucher_id: int) -> ServiceVoucher:
    voucher = db.session.get(ServiceVoucher, voucher_id)
    if voucher is None:
        raise NotFoundError(_("Voucher not found."))
    policy.require_sees_voucher(actor, voucher, funded_provider_ids(voucher.id) if policy.is_provider(actor) else ())
    return voucher


def vouchers_of_client(actor, client_id: int) -> list[ServiceVoucher]:
    vouchers = db.session.scalars(sa.select(ServiceVoucher).where(ServiceVoucher.client_id == client_id)
                                  .order_by(ServiceVoucher.id.desc())).all()
    return [v for v in vouchers if policy.sees_voucher(actor, v, ())]


def vouchers_for_order(client_id: int, service_type_id: int) -> list[ServiceVoucher]:
    """The client's vouchers that can fund an order of the service type."""
    return db.session.scalars(sa.select(ServiceVoucher).where(
        ServiceVoucher.client_id == client_id, ServiceVoucher.service_type_id == service_type_id,
        ServiceVoucher.status != VoucherStatus.CLOSED).order_by(ServiceVoucher.id)).all()


def list_vouchers(actor, *, status: str | None = None, limit: int = 100) -> list[ServiceVoucher]:
    policy.require_staff(actor)
    stmt = sa.select(ServiceVoucher).options(sa.orm.joinedload(ServiceVoucher.client),
                                             sa.orm.joinedload(ServiceVoucher.service_type))
    if status:
        stmt = stmt.where(ServiceVoucher.status == status)
    return db.session.scalars(stmt.order_by(ServiceVoucher.id.desc()).limit(limit)).all()


def _superseded():
    """Ids of events replaced by a correction that stands (not refused)."""
    c = sa.orm.aliased(ServiceEvent)
    return sa.select(c.corrects_id).where(c.corrects_id.isnot(None), c.status != EventStatus.REFUSED)


def used_amount(voucher_id: int, start: date, end: date, exclude_event_id: int | None = None) -> int:
    """What the events standing on the voucher use in ``[start, end]``: every event
    not refused and not replaced by a correction."""
    stmt = sa.select(sa.func.coalesce(sa.func.sum(ServiceEvent.quantity), 0)).where(
        ServiceEvent.voucher_id == voucher_id, ServiceEvent.status.in_(COUNTING_STATUSES),
        ServiceEvent.date >= start, ServiceEvent.date <= end, ServiceEvent.id.not_in(_superseded()))
    if exclude_event_id is not None:
        stmt = stmt.where(ServiceEvent.id != exclude_event_id)
    return int(db.session.scalar(stmt) or 0)


@dataclass
class Balance:
    month: date
    start: date
    end: date
    granted: int
    used: int

    @property
    def remaining(self) -> int:
        return self.granted - self.used


def balance(voucher: ServiceVoucher, day: date | None = None) -> Balance:
    day = day or local_today()
    start, end = balance_period(voucher, day)
    return Balance(month=month_start(day), start=start, end=end, granted=voucher.monthly_amount,
                   used=used_amount(voucher.id, start, end))


def provider_price(provider_id: int, service_type_id: int, unit: str) -> int:
    """The provider's gross price per hour or visit for the service (0: not priced
    in the voucher's unit, so the voucher's value applies and there is no own share)."""
    offering_unit = {VoucherUnit.HOUR: "hour", VoucherUnit.VISIT: "visit"}.get(unit)
    if offering_unit is None:
        return 0
    price = db.session.scalar(sa.select(Offering.price_cents).where(
        Offering.provider_id == provider_id, Offering.service_type_id == service_type_id,
        Offering.unit == offering_unit, Offering.active.is_(True)).order_by(Offering.id).limit(1))
    return int(price or 0)


@dataclass
class ProviderChoice:
    provider: Provider
    price_cents: int          # per hour or visit, 0 when not priced so
    own_share_cents: int      # per hour or visit on top of the voucher
    allowed: bool             # False: free to the client and priced above the voucher


def provider_choices(voucher: ServiceVoucher) -> list[ProviderChoice]:
    """Each provider that could serve the voucher's client, with what the client
    would pay on top per hour or visit, side by side, cheapest first."""
    from orders.eligibility import eligible_providers

    client = db.session.get(Client, voucher.client_id)
    free = free_to_client(voucher.service_type_id)
    rows = []
    for e in eligible_providers(client, voucher.service_type_id):
        price = provider_price(e.provider.id, voucher.service_type_id, voucher.unit)
        share = max(0, price - voucher.value_cents_per_unit) if voucher.unit != VoucherUnit.EURO and price else 0
        rows.append(ProviderChoice(e.provider, price, share, allowed=not (free and share > 0)))
    return sorted(rows, key=lambda r: (r.own_share_cents, r.provider.name))


# -- orders funded by a voucher (called by orders.services.place_order) -----------

def voucher_for_order(voucher_id: int, client_id: int, service_type_id: int, funding: str) -> ServiceVoucher:
    """The voucher that will fund a new order: the same client and service type,
    not closed and still valid, else 422 ``voucher_mismatch``."""
    field = {"voucher_id": [_("Choose a voucher of this client for this service.")]}
    if funding not in ("voucher", "municipality"):
        raise VoucherMismatch(_("A voucher-funded order cannot be self-paid."), fields={"funding": field["voucher_id"]})
    voucher = db.session.scalar(sa.select(ServiceVoucher).where(ServiceVoucher.id == voucher_id).with_for_update())
    if voucher is None or voucher.client_id != client_id or voucher.service_type_id != service_type_id:
        raise VoucherMismatch(_("The voucher is not this client's voucher for this service."), fields=field)
    if voucher.status == VoucherStatus.CLOSED:
        raise VoucherMismatch(_("The voucher is closed."), fields={"voucher_id": [_("The voucher is closed.")]})
    if voucher.valid_to is not None and voucher.valid_to < local_today():
        raise VoucherMismatch(_("The voucher's validity has ended."),
                              fields={"voucher_id": [_("The voucher's validity has ended.")]})
    return voucher


def providers_refused_by_voucher(voucher: ServiceVoucher, provider_ids) -> set[int]:
    """Of ``provider_ids``, those that would leave the client an own share on a
    service the client-fee law makes free to the client."""
    if voucher.unit == VoucherUnit.EURO or not free_to_client(voucher.service_type_id):
        return set()
    return {pid for pid in provider_ids
            if provider_price(pid, voucher.service_type_id, voucher.unit) > voucher.value_cents_per_unit}


def providers_for_voucher(actor, voucher: ServiceVoucher, chosen: list, explicit: bool) -> list:
    """The providers a voucher-funded order may go to (``chosen``: the eligible ones,
    items with ``.provider``): on a service free to the client, none priced above the
    voucher's value (422 ``own_share_not_allowed`` naming those asked for
    explicitly). The voucher is in use from now on."""
    refused = providers_refused_by_voucher(voucher, [e.provider.id for e in chosen])
    if refused and explicit:
        raise ValidationFailed(
            _("This service is free to the client under the client-fee law; these providers' prices are above the "
              "voucher's value: %(ids)s.", ids=", ".join(map(str, sorted(refused)))),
            code="own_share_not_allowed",
            fields={"provider_ids": [_("Provider %(id)s would leave the client an own share.", id=pid)
                                     for pid in sorted(refused)]})
    chosen = [e for e in chosen if e.provider.id not in refused]
    if not chosen:
        raise ValidationFailed(_("No eligible provider serves this service within the voucher's value."),
                               code="no_eligible_provider",
                               fields={"voucher_id": [_("No provider within the voucher's value.")]})
    if voucher.status == VoucherStatus.GRANTED:
        VOUCHER_MACHINE.apply(voucher, VoucherAction.OPEN, actor, note="order placed")
    return chosen


# -- service events ---------------------------------------------------------------

def _lock_voucher(voucher_id: int) -> ServiceVoucher:
    voucher = db.session.scalar(sa.select(ServiceVoucher).where(ServiceVoucher.id == voucher_id)
                                .with_for_update().execution_options(populate_existing=True))
    if voucher is None:
        raise NotFoundError(_("Voucher not found."))
    return voucher


def _check_event(voucher: ServiceVoucher, provider_id: int, event_date: date, quantity, *,
                 replaces: int | None = None, exclude: int | None = None) -> tuple[int, int, int]:
    """Validate an event (new, resubmitted or a correction) against the voucher:
    its date, its quantity, the own-share rule and the balance. Returns
    ``(price per unit, voucher cents, client share cents)``."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0 or quantity > MAX_AMOUNT:
        raise ValidationFailed(_("The quantity is invalid."), fields={"quantity": [
            _("A whole number: minutes for hour vouchers, visits for visit vouchers, cents for euro vouchers.")]})
    if quantity == 0 and replaces is None:
        raise ValidationFailed(_("The quantity is invalid."), fields={"quantity": [_("Must be at least 1.")]})
    today = local_today()
    if event_date > today:
        raise OutsidePeriod(_("A service event cannot be recorded in advance."),
                            fields={"date": [_("The date is in the future.")]})
    earliest = earliest_recordable(today)
    if replaces is None and event_date < earliest:
        raise OutsidePeriod(_("Service events can be recorded back to %(day)s only (the current month and the "
                              "grace period); this one is dated %(date)s.",
                              day=fmt_date(earliest), date=fmt_date(event_date)),
                            fields={"date": [_("Before %(day)s.", day=fmt_date(earliest))]})
    if event_date < voucher.valid_from or (voucher.valid_to is not None and event_date > voucher.valid_to):
        raise OutsidePeriod(_("The date is outside the voucher's validity."),
                            fields={"date": [_("Outside the voucher's validity.")]})
    price = provider_price(provider_id, voucher.service_type_id, voucher.unit)
    if (voucher.unit != VoucherUnit.EURO and price > voucher.value_cents_per_unit
            and free_to_client(voucher.service_type_id)):
        raise ValidationFailed(_("This service is free to the client under the client-fee law, but your price is "
                                 "above the voucher's value: no own share may be left to the client."),
                               code="own_share_not_allowed", fields={"quantity": [_("Own share not allowed.")]})
    start, end = balance_period(voucher, event_date)
    used = used_amount(voucher.id, start, end, exclude_event_id=exclude)
    if replaces is not None:
        used -= int(db.session.scalar(sa.select(ServiceEvent.quantity).where(ServiceEvent.id == replaces)) or 0)
    remaining = voucher.monthly_amount - used
    if quantity > remaining:
        raise OverBalance(
            _("The voucher has %(left)s left for %(period)s; this event needs %(need)s.",
              left=quantity_text(voucher.unit, max(remaining, 0)), need=quantity_text(voucher.unit, quantity),
              period=fmt_month(start) if voucher.renews else _("its validity")),
            fields={"quantity": [_("Beyond the voucher's balance.")]})
    voucher_cents, share = split_amount(voucher.unit, quantity, voucher.value_cents_per_unit, price)
    return price, voucher_cents, share


def _matches_plan(order: ServiceOrder, voucher: ServiceVoucher, quantity: int) -> bool:
    """The approval rule: an event no bigger than one planned visit of the order."""
    if voucher.unit == VoucherUnit.HOUR:
        return bool(order.minutes_per_visit) and quantity <= order.minutes_per_visit
    if voucher.unit == VoucherUnit.VISIT:
        return bool(order.visits_per_week) and quantity == 1
    return False


def record_event(actor, order_id: int, *, event_date: date, quantity: int, visit_id: int | None = None,
                 ) -> ServiceEvent:
    """The winning provider records a service event on a voucher-funded order. 422
    ``over_balance`` beyond the balance, ``outside_period`` before the grace period."""
    from orders.services import visible_order

    policy.require_provider(actor)
    order = visible_order(actor, order_id)
    if order.provider_id != actor.provider_id:
        raise NotFoundError(_("Order not found."))
    if order.voucher_id is None:
        raise ValidationFailed(_("This order is not funded by a service voucher."), code="not_voucher_funded")
    if order.status not in ORDER_STATES_FOR_EVENTS:
        raise ConflictError(_("Service events cannot be recorded on an order that is %(status)s.",
                              status=order.status.replace("_", " ")), code="order_not_serving")
    voucher = _lock_voucher(order.voucher_id)
    if voucher.status == VoucherStatus.CLOSED:
        raise ConflictError(_("The voucher is closed."), code="voucher_closed")
    price, voucher_cents, share = _check_event(voucher, actor.provider_id, event_date, quantity)
    event = ServiceEvent(voucher_id=voucher.id, order_id=order.id, provider_id=actor.provider_id, visit_id=visit_id,
                         date=event_date, month=month_start(event_date), quantity=quantity,
                         price_cents_per_unit=price, voucher_cents=voucher_cents, client_share_cents=share,
                         status=EventStatus.RECORDED, recorded_by_id=actor.id, recorded_at=utcnow())
    db.session.add(event)
    db.session.flush()
    db.session.add(VoucherEvent(voucher_id=voucher.id, service_event_id=event.id, action="record",
                                to_status=EventStatus.RECORDED, actor_id=actor.id))
    if voucher.status == VoucherStatus.GRANTED:
        VOUCHER_MACHINE.apply(voucher, VoucherAction.OPEN, actor, note="first service event")
    if _matches_plan(order, voucher, quantity):
        # The approval rule runs after the commit: the event is first recorded, as
        # the provider was told, then approved by the rule (no user).
        enqueue("vouchers.jobs.apply_approval_rule", event.id)
    db.session.flush()
    return event


def apply_approval_rule(event_id: int) -> bool:
    """Approve a recorded event that matches its order's plan; an event that staff
    have moved meanwhile is left as it is. True if it was approved."""
    event = db.session.get(ServiceEvent, event_id)
    if event is None or event.status != EventStatus.RECORDED:
        return False
    order = db.session.get(ServiceOrder, event.order_id)
    if not _matches_plan(order, event.voucher, event.quantity):
        return False
    return EVENT_MACHINE.apply_by_id(event.id, EventAction.APPROVE, note="matches the order's plan",
                                     params={"voucher_id": event.voucher_id}, values={"auto_approved": True})


def order_voucher(actor, order_id: int) -> ServiceVoucher:
    """The voucher funding an order the provider serves (404 / 422 otherwise)."""
    from orders.services import visible_order

    policy.require_provider(actor)
    order = visible_order(actor, order_id)
    if order.provider_id != actor.provider_id:
        raise NotFoundError(_("Order not found."))
    if order.voucher_id is None:
        raise ValidationFailed(_("This order is not funded by a service voucher."), code="not_voucher_funded")
    return db.session.get(ServiceVoucher, order.voucher_id)


def visible_event(actor, event_id: int) -> ServiceEvent:
    event = db.session.get(ServiceEvent, event_id)
    if event is None or not policy.sees_event(actor, event):
        raise NotFoundError(_("Service event not found."))
    return event


def review_event(actor, event_id: int) -> ServiceEvent:
    policy.require_staff(actor)
    event = visible_event(actor, event_id)
    EVENT_MACHINE.apply(event, EventAction.REVIEW, actor, params={"voucher_id": event.voucher_id})
    return event


def approve_event(actor, event_id: int) -> ServiceEvent:
    """Staff approve one event: from ``recorded`` or ``under_review`` only (409)."""
    policy.require_staff(actor)
    event = visible_event(actor, event_id)
    EVENT_MACHINE.apply(event, EventAction.APPROVE, actor, params={"voucher_id": event.voucher_id})
    return event


def approve_events(actor, event_ids: list[int]) -> list[int]:
    """Staff approve many events at once; those no longer waiting stay as they are.
    Returns the ids approved."""
    policy.require_staff(actor)
    if not event_ids:
        raise ValidationFailed(_("Choose the events to approve."), fields={"event_ids": [_("Choose at least one.")]})
    return EVENT_MACHINE.apply_where(EventAction.APPROVE, ServiceEvent.id.in_(list(event_ids)), actor=actor,
                                     note="bulk approval")


def refuse_event(actor, event_id: int, reason: str) -> ServiceEvent:
    """Staff send an event back to the provider with a reason."""
    policy.require_staff(actor)
    event = visible_event(actor, event_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the event is refused."), fields={"reason": [_("This field is required.")]})
    if len(reason) > 2000:
        raise ValidationFailed(_("The reason is too long."), fields={"reason": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]})
    EVENT_MACHINE.apply(event, EventAction.REFUSE, actor, note=reason, params={"voucher_id": event.voucher_id},
                        values={"refusal_reason": reason})
    return event


def resubmit_event(actor, event_id: int, *, event_date: date, quantity: int) -> ServiceEvent:
    """The provider corrects a refused event and sends it for review again."""
    policy.require_provider(actor)
    event = visible_event(actor, event_id)
    if event.status != EventStatus.REFUSED:
        raise EVENT_MACHINE.refusal(event.status, EventAction.RESUBMIT)
    voucher = _lock_voucher(event.voucher_id)
    if event.corrects_id is not None:
        # A refused correction sent again replaces its original, unless another
        # correction of it stands meanwhile; it keeps the original's date and price.
        if pending_correction(event.corrects_id) is not None:
            raise ConflictError(_("A correction of this event is already waiting."), code="correction_pending")
        original = db.session.get(ServiceEvent, event.corrects_id)
        _check_event(voucher, event.provider_id, original.date, quantity, replaces=original.id, exclude=event.id)
        voucher_cents, share = split_amount(voucher.unit, quantity, voucher.value_cents_per_unit,
                                            original.price_cents_per_unit)
        EVENT_MACHINE.apply(event, EventAction.RESUBMIT, actor, params={"voucher_id": voucher.id}, values={
            "quantity": quantity, "voucher_cents": voucher_cents, "client_share_cents": share,
            "refusal_reason": None})
        return event
    price, voucher_cents, share = _check_event(voucher, event.provider_id, event_date, quantity,
                                               replaces=None, exclude=event.id)
    EVENT_MACHINE.apply(event, EventAction.RESUBMIT, actor, params={"voucher_id": voucher.id}, values={
        "date": event_date, "month": month_start(event_date), "quantity": quantity, "price_cents_per_unit": price,
        "voucher_cents": voucher_cents, "client_share_cents": share, "refusal_reason": None})
    return event


def pending_correction(event_id: int) -> ServiceEvent | None:
    return db.session.scalar(sa.select(ServiceEvent).where(ServiceEvent.corrects_id == event_id,
                                                           ServiceEvent.status != EventStatus.REFUSED))


def correctable(event: ServiceEvent) -> bool:
    return policy.may_correct(event) and pending_correction(event.id) is None


def correct_event(actor, event_id: int, *, quantity: int, reason: str) -> ServiceEvent:
    """A correction of a settled (or paid) event: never an edit of it, but a new
    event with the corrected quantity that replaces it once approved. The next
    settlement shows the reversal of the amount settled before and the corrected
    amount. By the provider that recorded it, or by staff."""
    if not (policy.is_staff(actor) or policy.is_provider(actor)):
        policy.require_provider(actor)
    original = visible_event(actor, event_id)
    if not policy.may_correct(original):
        raise ConflictError(_("Only a settled event is corrected this way; refuse or resubmit it instead."),
                            code="not_settled")
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise ValidationFailed(_("Say what is corrected and why."),
                               fields={"reason": [_("Required, at most 2000 characters.")]})
    voucher = _lock_voucher(original.voucher_id)
    db.session.refresh(original)
    if pending_correction(original.id) is not None:
        raise ConflictError(_("A correction of this event is already waiting."), code="correction_pending")
    if quantity == original.quantity:
        raise ValidationFailed(_("The corrected quantity is the same as the settled one."),
                               fields={"quantity": [_("Give the corrected quantity.")]})
    price, voucher_cents, share = _check_event(voucher, original.provider_id, original.date, quantity,
                                               replaces=original.id)
    # The correction keeps the original's price: only the quantity is corrected.
    voucher_cents, share = split_amount(voucher.unit, quantity, voucher.value_cents_per_unit,
                                        original.price_cents_per_unit)
    correction = ServiceEvent(voucher_id=voucher.id, order_id=original.order_id, provider_id=original.provider_id,
                              corrects_id=original.id, date=original.date, month=original.month, quantity=quantity,
                              price_cents_per_unit=original.price_cents_per_unit, voucher_cents=voucher_cents,
                              client_share_cents=share, status=EventStatus.RECORDED, recorded_by_id=actor.id,
                              recorded_at=utcnow())
    db.session.add(correction)
    db.session.flush()
    db.session.add(VoucherEvent(voucher_id=voucher.id, service_event_id=correction.id, action="correct",
                                to_status=EventStatus.RECORDED, actor_id=actor.id,
                                note=f"corrects event {original.id}: {reason}"))
    db.session.flush()
    return correction


def events_of_voucher(voucher_id: int) -> list[ServiceEvent]:
    return db.session.scalars(sa.select(ServiceEvent).where(ServiceEvent.voucher_id == voucher_id)
                              .order_by(ServiceEvent.date.desc(), ServiceEvent.id.desc())).all()


def events_of_order(actor, order_id: int) -> list[ServiceEvent]:
    stmt = sa.select(ServiceEvent).where(ServiceEvent.order_id == order_id)
    if policy.is_provider(actor):
        stmt = stmt.where(ServiceEvent.provider_id == actor.provider_id)
    return db.session.scalars(stmt.order_by(ServiceEvent.date.desc(), ServiceEvent.id.desc())).all()


def review_queue(actor, limit: int = 200) -> list[ServiceEvent]:
    """Events waiting for staff: recorded or under review, oldest first."""
    policy.require_staff(actor)
    return db.session.scalars(sa.select(ServiceEvent).options(sa.orm.joinedload(ServiceEvent.voucher))
                              .where(ServiceEvent.status.in_((EventStatus.RECORDED, EventStatus.UNDER_REVIEW)))
                              .order_by(ServiceEvent.date, ServiceEvent.id).limit(limit)).all()


def provider_events(actor, limit: int = 200) -> list[ServiceEvent]:
    policy.require_provider(actor)
    return db.session.scalars(sa.select(ServiceEvent).where(ServiceEvent.provider_id == actor.provider_id)
                              .order_by(ServiceEvent.id.desc()).limit(limit)).all()


def event_timeline(event_id: int) -> list[VoucherEvent]:
    return db.session.scalars(sa.select(VoucherEvent).where(VoucherEvent.service_event_id == event_id)
                              .order_by(VoucherEvent.id)).all()


def voucher_timeline(voucher_id: int) -> list[VoucherEvent]:
    return db.session.scalars(sa.select(VoucherEvent).where(VoucherEvent.voucher_id == voucher_id)
                              .order_by(VoucherEvent.id.desc()).limit(100)).all()


# -- settlement -------------------------------------------------------------------

def settlement_due_month(today: date | None = None) -> date | None:
    """The month the scheduled job settles: the previous one, from
    ``VOUCHER_SETTLEMENT_DAY`` of the month on."""
    today = today or local_today()
    if today.day < int(current_app.config.get("VOUCHER_SETTLEMENT_DAY", 5)):
        return None
    return month_start(month_start(today) - timedelta(days=1))


def settlement_for_month(month: date, actor=None) -> tuple[VoucherSettlement, bool]:
    existing = db.session.scalar(sa.select(VoucherSettlement).where(VoucherSettlement.month == month))
    if existing is not None:
        return existing, False
    try:
        with db.session.begin_nested():
            settlement = VoucherSettlement(month=month, status=SettlementStatus.QUEUED,
                                           requested_by_id=getattr(actor, "id", None))
            db.session.add(settlement)
    except sa.exc.IntegrityError:
        # Another transaction created it first (the unique month): use theirs.
        return db.session.scalar(sa.select(VoucherSettlement).where(VoucherSettlement.month == month)), False
    return settlement, True


def request_settlement(actor, month: date) -> VoucherSettlement:
    """An administrator settles a month on demand: the settlement is queued and a
    job runs it. Asking again for the same month gives the same settlement."""
    policy.require_admin(actor)
    if month >= month_start(local_today()):
        raise ValidationFailed(_("Only a month that has ended can be settled."), code="month_not_over",
                               fields={"month": [_("Choose a month that has ended.")]})
    settlement, _created = settlement_for_month(month, actor)
    if settlement.status == SettlementStatus.QUEUED:
        enqueue("vouchers.jobs.run_settlement", settlement.id)
    return settlement


def settle_due_month() -> int | None:
    """The scheduled job: settle the previous month once its day has come (a no-op
    when it is settled already). Returns the settlement's id."""
    month = settlement_due_month()
    if month is None:
        return None
    settlement, _created = settlement_for_month(month)
    run_settlement(settlement.id)
    return settlement.id


def run_settlement(settlement_id: int) -> VoucherSettlement:
    """Settle a month with every provider. Idempotent: the settlement row is locked,
    a settlement already done is left as it is, each event moves from ``approved``
    to ``settled`` in one guarded UPDATE (so one run only settles it) and a
    statement item is unique per event and kind.

    The statement of month M holds every approved event dated up to the end of M
    not settled before (late events from earlier months included), and every
    approved correction as two items: minus what was settled for the event it
    replaces, plus the corrected amount."""
    settlement = db.session.scalar(sa.select(VoucherSettlement).where(VoucherSettlement.id == settlement_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if settlement is None:
        raise NotFoundError(_("Settlement not found."))
    if settlement.status in (SettlementStatus.DONE, SettlementStatus.PAID):
        return settlement
    settlement.status = SettlementStatus.RUNNING
    settlement.running_at = utcnow()
    db.session.flush()
    candidates = db.session.scalars(sa.select(ServiceEvent.id).where(
        ServiceEvent.status == EventStatus.APPROVED, ServiceEvent.settlement_id.is_(None),
        ServiceEvent.date <= month_end(settlement.month))).all()
    moved = EVENT_MACHINE.apply_where(EventAction.SETTLE, ServiceEvent.id.in_(candidates),
                                      ServiceEvent.settlement_id.is_(None),
                                      note=f"settlement {settlement.month:%Y-%m}",
                                      values={"settlement_id": settlement.id}) if candidates else []
    events = db.session.scalars(sa.select(ServiceEvent).where(ServiceEvent.id.in_(moved))
                                .order_by(ServiceEvent.provider_id, ServiceEvent.date, ServiceEvent.id)).all()
    lines: dict[int, SettlementLine] = {}
    for event in events:
        line = lines.get(event.provider_id)
        if line is None:
            line = SettlementLine(settlement_id=settlement.id, provider_id=event.provider_id, events=0,
                                  voucher_cents=0, client_share_cents=0, credit_cents=0)
            db.session.add(line)
            db.session.flush()
            lines[event.provider_id] = line
        line.events += 1
        if event.corrects_id is None:
            db.session.add(StatementItem(line_id=line.id, event_id=event.id, kind=ItemKind.EVENT,
                                         service_date=event.date, quantity=event.quantity,
                                         voucher_cents=event.voucher_cents,
                                         client_share_cents=event.client_share_cents))
            line.voucher_cents += event.voucher_cents
            line.client_share_cents += event.client_share_cents
        else:
            before = db.session.get(ServiceEvent, event.corrects_id)
            db.session.add(StatementItem(line_id=line.id, event_id=event.id, kind=ItemKind.REVERSAL,
                                         service_date=before.date, quantity=-before.quantity,
                                         voucher_cents=-before.voucher_cents,
                                         client_share_cents=-before.client_share_cents))
            db.session.add(StatementItem(line_id=line.id, event_id=event.id, kind=ItemKind.CORRECTED,
                                         service_date=event.date, quantity=event.quantity,
                                         voucher_cents=event.voucher_cents,
                                         client_share_cents=event.client_share_cents))
            line.credit_cents += event.voucher_cents - before.voucher_cents
            line.client_share_cents += event.client_share_cents - before.client_share_cents
    settlement.status = SettlementStatus.DONE
    settlement.done_at = utcnow()
    db.session.flush()
    return settlement


def mark_paid(actor, settlement_id: int) -> VoucherSettlement:
    """The finance office has paid the providers: the settlement and its events are paid."""
    policy.require_admin(actor)
    settlement = db.session.scalar(sa.select(VoucherSettlement).where(VoucherSettlement.id == settlement_id)
                                   .with_for_update())
    if settlement is None:
        raise NotFoundError(_("Settlement not found."))
    if settlement.status != SettlementStatus.DONE:
        raise ConflictError(_("Only a settlement that is done can be marked paid."), code="not_done")
    settlement.status = SettlementStatus.PAID
    settlement.paid_at = utcnow()
    EVENT_MACHINE.apply_where(EventAction.PAY, ServiceEvent.settlement_id == settlement.id, actor=actor)
    db.session.flush()
    return settlement


def visible_settlement(actor, settlement_id: int) -> VoucherSettlement:
    if not policy.sees_settlement(actor):
        raise NotFoundError(_("Settlement not found."))
    settlement = db.session.get(VoucherSettlement, settlement_id)
    if settlement is None:
        raise NotFoundError(_("Settlement not found."))
    return settlement


def visible_lines(actor, settlement: VoucherSettlement) -> list[SettlementLine]:
    return [line for line in settlement.lines if policy.sees_line(actor, line)]


def visible_line(actor, settlement_id: int, provider_id: int) -> SettlementLine:
    settlement = visible_settlement(actor, settlement_id)
    line = db.session.scalar(sa.select(SettlementLine).where(SettlementLine.settlement_id == settlement.id,
                                                             SettlementLine.provider_id == provider_id))
    if line is None or not policy.sees_line(actor, line):
        raise NotFoundError(_("Statement not found."))
    return line


def list_settlements(actor, limit: int = 36) -> list[VoucherSettlement]:
    if not policy.sees_settlement(actor):
        return []
    stmt = sa.select(VoucherSettlement).order_by(VoucherSettlement.month.desc()).limit(limit)
    if policy.is_provider(actor):
        mine = sa.select(SettlementLine.settlement_id).where(SettlementLine.provider_id == actor.provider_id)
        stmt = stmt.where(VoucherSettlement.id.in_(mine))
    return db.session.scalars(stmt).all()


def statement_rows(line: SettlementLine) -> list[dict]:
    """A provider's statement, item by item (no client names: the order number and
    the voucher identify the service)."""
    rows = []
    items = db.session.scalars(sa.select(StatementItem).where(StatementItem.line_id == line.id)
                               .order_by(StatementItem.service_date, StatementItem.id)).all()
    for item in items:
        event = item.event
        voucher = event.voucher
        order_number = db.session.scalar(sa.select(ServiceOrder.number).where(ServiceOrder.id == event.order_id))
        rows.append({"event_id": event.id, "kind": item.kind, "service_date": item.service_date,
                     "order_number": order_number, "voucher_id": voucher.id, "unit": voucher.unit,
                     "quantity": item.quantity, "voucher_cents": item.voucher_cents,
                     "client_share_cents": item.client_share_cents,
                     "corrects_event_id": event.corrects_id})
    return rows


# -- the client's yearly summary ----------------------------------------------------

def client_year_summary(client_id: int, year: int) -> dict:
    """What the client's vouchers paid and the client's own share in a year: for the
    tax return, voucher-funded work gets no household deduction."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    row = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(ServiceEvent.voucher_cents), 0),
        sa.func.coalesce(sa.func.sum(ServiceEvent.client_share_cents), 0), sa.func.count(ServiceEvent.id))
        .join(ServiceVoucher, ServiceVoucher.id == ServiceEvent.voucher_id)
        .where(ServiceVoucher.client_id == client_id, ServiceEvent.status.in_(COUNTING_STATUSES),
               ServiceEvent.id.not_in(_superseded()), ServiceEvent.date >= start, ServiceEvent.date <= end)).one()
    return {"year": year, "voucher_cents": int(row[0]), "client_share_cents": int(row[1]), "events": int(row[2]),
            "household_deduction_cents": 0}


def voucher_choices(client_id: int) -> list[tuple[str, str]]:
    """The client's vouchers that can fund an order, as (id, label) for a form."""
    rows = db.session.scalars(sa.select(ServiceVoucher).options(sa.orm.joinedload(ServiceVoucher.service_type))
                              .where(ServiceVoucher.client_id == client_id,
                                     ServiceVoucher.status != VoucherStatus.CLOSED)
                              .order_by(ServiceVoucher.id)).all()
    return [(str(v.id), _("Voucher %(id)s: %(service)s, %(amount)s a month", id=v.id, service=v.service_type.name(),
                          amount=quantity_text(v.unit, v.monthly_amount))) for v in rows]


def settle_month(actor, month: date) -> VoucherSettlement:
    """An administrator settles a month at once from the settlement page (the same
    run as the job's; a month settled already is shown as it is)."""
    policy.require_admin(actor)
    if month >= month_start(local_today()):
        raise ValidationFailed(_("Only a month that has ended can be settled."), code="month_not_over",
                               fields={"month": [_("Choose a month that has ended.")]})
    settlement, _created = settlement_for_month(month, actor)
    return run_settlement(settlement.id)


def voucher_orders(voucher_id: int) -> list[ServiceOrder]:
    return db.session.scalars(sa.select(ServiceOrder).where(ServiceOrder.voucher_id == voucher_id)
                              .order_by(ServiceOrder.id.desc())).all()


def provider_voucher_orders(actor) -> list[ServiceOrder]:
    """The voucher-funded orders the provider's organisation serves."""
    policy.require_provider(actor)
    return db.session.scalars(sa.select(ServiceOrder).where(
        ServiceOrder.provider_id == actor.provider_id, ServiceOrder.voucher_id.isnot(None),
        ServiceOrder.status.in_(ORDER_STATES_FOR_EVENTS)).order_by(ServiceOrder.id.desc()).limit(100)).all()
