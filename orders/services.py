"""Service orders: placing, offering, accepting, declining, expiring, escalating,
visit reports, completion, closing the loop and cancelling.

Every state change of an order is one call of ``_transition``: one conditional
UPDATE on the order's status and version (whose row count decides a race), the
timestamp ``<status>_at`` stamped, and an ``OrderEvent`` written, all in the caller's
transaction. The web views and the JSON API call these functions; they flush and
never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from accounts.models import Role, User
from clients.models import Client, FollowUp, FollowUpKind
from core.access import Purpose, record_access
from core.db import assign_number, pending_number, utcnow
from core.errors import DomainError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from marketplace.models import Offering, OfferingArea
from orders.models import (
    ORDER_TRANSITIONS, Funding, Offer, OfferMode, OfferStatus, OrderAction, OrderEvent, OrderStatus, Outcome,
    ServiceOrder, VisitReport,
)
from providers.models import AutoAcceptRule, Provider, ProviderCapacity, ProviderRanking, ProviderStatus


class OrderError(DomainError):
    """A rule of the order lifecycle refused the request (409 unless stated)."""

    status = 409
    code = "order_conflict"


class IllegalTransition(OrderError):
    code = "illegal_transition"


class AlreadyTaken(OrderError):
    code = "already_taken"


# -- eligibility ---------------------------------------------------------------

@dataclass
class Eligible:
    provider: Provider
    offering: Offering
    rank: int | None = None

    @property
    def rating(self) -> float | None:
        return self.provider.rating_average


def _week_start():
    return utcnow() - timedelta(days=7)


def eligible_providers(client: Client, service_type_id: int, exclude: set[int] | None = None) -> list[Eligible]:
    """Providers that may get this client's order: approved, offering the service
    type at the client's postal code, in a language the client speaks, and with
    capacity left this week. Ranked providers first (by procured rank), then by
    rating and price."""
    rows = db.session.execute(
        sa.select(Offering, Provider)
        .join(OfferingArea, sa.and_(OfferingArea.offering_id == Offering.id, OfferingArea.postal_code == client.postal_code))
        .join(Provider, Provider.id == Offering.provider_id)
        .where(Offering.service_type_id == service_type_id, Offering.active.is_(True),
               Provider.status == ProviderStatus.APPROVED)
        .order_by(Offering.price_cents.asc().nulls_last(), Offering.id)
    ).all()
    speaks = set(client.languages or [])
    best: dict[int, Eligible] = {}
    for offering, provider in rows:
        if exclude and provider.id in exclude:
            continue
        offered_languages = set(offering.languages or provider.languages or [])
        if speaks and offered_languages and not (speaks & offered_languages):
            continue
        best.setdefault(provider.id, Eligible(provider, offering))
    if not best:
        return []
    full = _providers_at_capacity(list(best), service_type_id)
    ranks = dict(db.session.execute(
        sa.select(ProviderRanking.provider_id, ProviderRanking.rank)
        .where(ProviderRanking.service_type_id == service_type_id, ProviderRanking.postal_code == client.postal_code,
               ProviderRanking.provider_id.in_(list(best)))).all())
    result = []
    for pid, item in best.items():
        if pid in full:
            continue
        item.rank = ranks.get(pid)
        result.append(item)
    result.sort(key=lambda e: (e.rank is None, e.rank or 0, -(e.rating or 0), e.offering.price_cents or 0, e.provider.name))
    return result


def _providers_at_capacity(provider_ids: list[int], service_type_id: int) -> set[int]:
    caps = dict(db.session.execute(
        sa.select(ProviderCapacity.provider_id, ProviderCapacity.orders_per_week)
        .where(ProviderCapacity.service_type_id == service_type_id, ProviderCapacity.provider_id.in_(provider_ids))).all())
    if not caps:
        return set()
    taken = dict(db.session.execute(
        sa.select(ServiceOrder.provider_id, sa.func.count())
        .where(ServiceOrder.provider_id.in_(list(caps)), ServiceOrder.service_type_id == service_type_id,
               ServiceOrder.accepted_at >= _week_start())
        .group_by(ServiceOrder.provider_id)).all())
    return {pid for pid, cap in caps.items() if taken.get(pid, 0) >= cap}


# -- the transition function ---------------------------------------------------

def _transition(order: ServiceOrder, action: OrderAction, actor: User | None, note: str | None = None,
                event_provider_id: int | None = None, **values) -> OrderStatus:
    """Apply ``action`` to ``order`` if the table allows it from its current state.

    One conditional UPDATE (status and version must be unchanged) decides races: the
    loser gets IllegalTransition (or AlreadyTaken for a lost accept)."""
    current = OrderStatus(order.status)
    target = ORDER_TRANSITIONS.get((current, action))
    if target is None:
        raise IllegalTransition(_refusal(current, action))
    now = utcnow()
    stamp = {f"{target.value}_at": now} if hasattr(ServiceOrder, f"{target.value}_at") else {}
    result = db.session.execute(
        sa.update(ServiceOrder)
        .where(ServiceOrder.id == order.id, ServiceOrder.status == current, ServiceOrder.version == order.version)
        .values(status=target, version=ServiceOrder.version + 1, **stamp, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(order)
        if action == OrderAction.ACCEPT:
            raise AlreadyTaken("Another provider has already accepted this order.")
        raise IllegalTransition(_refusal(OrderStatus(order.status), action))
    db.session.add(OrderEvent(order_id=order.id, at=now, actor_id=getattr(actor, "id", None),
                              provider_id=event_provider_id, action=action, from_status=current, to_status=target,
                              note=note))
    db.session.flush()
    db.session.refresh(order)
    return target


_ACTION_WORDS = {
    OrderAction.ACCEPT: "accepted", OrderAction.ESCALATE: "escalated", OrderAction.REOFFER: "offered again",
    OrderAction.START: "started", OrderAction.COMPLETE: "completed", OrderAction.CLOSE: "closed",
    OrderAction.CANCEL: "cancelled",
}


def _refusal(current: OrderStatus, action: OrderAction) -> str:
    return f"An order that is {current.value.replace('_', ' ')} cannot be {_ACTION_WORDS[action]}."


def _event(order: ServiceOrder, action: str, actor, note: str | None = None, provider_id: int | None = None) -> None:
    """A timeline entry that does not change the order's status (offers, visits)."""
    db.session.add(OrderEvent(order_id=order.id, actor_id=getattr(actor, "id", None), provider_id=provider_id,
                              action=action, from_status=order.status, to_status=order.status, note=note))


# -- lookups -------------------------------------------------------------------

def visible_order(actor, order_id: int, lock: bool = False) -> ServiceOrder:
    """The order if ``actor`` may see it (staff all; a provider offered to or won by
    its org; a client their own), else NotFoundError."""
    from orders.scopes import scope_orders

    stmt = scope_orders(sa.select(ServiceOrder).where(ServiceOrder.id == order_id), actor)
    if lock:
        stmt = stmt.with_for_update()
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFoundError("Order not found.")
    return order


def _require_staff(actor) -> None:
    if actor is None or actor.role != Role.STAFF:
        raise PermissionDenied("Only guidance staff can do this.")


def _require_provider(actor) -> None:
    if actor is None or actor.role != Role.PROVIDER:
        raise PermissionDenied("Only provider members can do this.")


def _require_winner(actor, order: ServiceOrder) -> None:
    _require_provider(actor)
    if order.provider_id != actor.provider_id:
        raise NotFoundError("Order not found.")


# -- placing and offering ------------------------------------------------------

def _deadline():
    return utcnow() + timedelta(hours=current_app.config["OFFER_DEADLINE_HOURS"])


def place_order(actor, *, client_id: int, service_type_id: int, start_date: date, end_date: date | None = None,
                visits_per_week: int | None = None, minutes_per_visit: int | None = None,
                instructions: str = "", funding: str = Funding.MUNICIPALITY, provider_ids: list[int] | None = None,
                mode: str | None = None) -> ServiceOrder:
    """Staff place an order and offer it.

    ``mode``: ``single`` (exactly one provider in ``provider_ids``), ``broadcast`` (the
    given providers, or every eligible one, at once: first accept wins) or ``ranked``
    (down the area's procured ranking, or the given order, one at a time). Raises
    ValidationFailed: ``no_consent``, ``no_eligible_provider``, ``ineligible_provider``
    (naming them) or field errors."""
    from marketplace.models import ServiceType

    _require_staff(actor)
    client = db.session.get(Client, client_id)
    errors: dict[str, list[str]] = {}
    if client is None or client.erased_at is not None:
        errors["client_id"] = ["No such client."]
    service_type = db.session.get(ServiceType, service_type_id)
    if service_type is None or not service_type.active:
        errors["service_type_id"] = ["No such service type."]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = ["The end date is before the start date."]
    if start_date < date.today() - timedelta(days=1):
        errors["start_date"] = ["The start date is in the past."]
    if funding not in set(Funding):
        errors["funding"] = ["Must be one of: " + ", ".join(Funding) + "."]
    if funding == Funding.SELF_PAID and service_type is not None and not service_type.self_paid_allowed:
        errors["funding"] = ["This service cannot be self-paid."]
    if mode is not None and mode not in set(OfferMode):
        errors["mode"] = ["Must be one of: " + ", ".join(OfferMode) + "."]
    if mode == OfferMode.SINGLE and len(provider_ids or []) != 1:
        errors["provider_ids"] = ["Choose exactly one provider to offer the order to."]
    if errors:
        raise ValidationFailed("The order could not be placed.", fields=errors)
    if not client.consent_to_share:
        raise ValidationFailed("The client has not consented to sharing their details with providers; "
                               "record the consent first.", code="no_consent",
                               fields={"client_id": ["No consent to share data with providers."]})
    eligible = eligible_providers(client, service_type_id)
    by_id = {e.provider.id: e for e in eligible}
    if provider_ids:
        provider_ids = list(dict.fromkeys(provider_ids))
        wrong = [pid for pid in provider_ids if pid not in by_id]
        if wrong:
            raise ValidationFailed(
                "Not eligible for this order: " + ", ".join(map(str, wrong)) + ".", code="ineligible_provider",
                fields={"provider_ids": [f"Provider {pid} is not eligible for this order." for pid in wrong]})
        chosen = [by_id[pid] for pid in provider_ids]
    else:
        chosen = eligible
    if not chosen:
        raise ValidationFailed("No provider can take this order: nobody approved offers this service at the "
                               "client's postal code in a language the client speaks, with capacity left.",
                               code="no_eligible_provider", fields={"service_type_id": ["No eligible provider."]})
    if mode is None:
        mode = OfferMode.SINGLE if len(chosen) == 1 else OfferMode.BROADCAST
    if mode == OfferMode.RANKED and not provider_ids:
        ranked = [e for e in chosen if e.rank is not None]
        chosen = ranked or chosen  # without a procured ranking, fall back to the sorted list
    now = utcnow()
    order = ServiceOrder(
        number=pending_number(), client_id=client.id, service_type_id=service_type_id, ordered_by_id=actor.id,
        status=OrderStatus.OFFERED, funding=funding, offer_mode=mode, instructions=(instructions or "").strip(),
        start_date=start_date, end_date=end_date, visits_per_week=visits_per_week,
        minutes_per_visit=minutes_per_visit, offered_at=now)
    db.session.add(order)
    assign_number(order, "SO")
    deadline = _deadline()
    for position, item in enumerate(chosen, start=1):
        send_now = mode != OfferMode.RANKED or position == 1
        db.session.add(Offer(order_id=order.id, provider_id=item.provider.id, rank=position,
                             sent_at=now if send_now else None, deadline_at=deadline if send_now else None))
    db.session.add(OrderEvent(order_id=order.id, actor_id=actor.id, action="create", from_status=None,
                              to_status=OrderStatus.OFFERED,
                              note=f"{mode}: offered to {1 if mode == OfferMode.RANKED else len(chosen)} provider(s)"))
    client.last_activity_at = now
    db.session.flush()
    record_access(client.id, "order", Purpose.ORDERING, what="service order", actor=actor)
    _after_offers_sent(order, [o for o in order.offers if o.sent_at is not None])
    return order


def _after_offers_sent(order: ServiceOrder, offers: list[Offer]) -> None:
    """Notify the providers of new offers, schedule their deadline checks, and let
    automatic-acceptance rules take the order at once."""
    from orders import jobs

    for offer in offers:
        enqueue(jobs.send_offer_notification, offer.id, queue="mail")
        enqueue(jobs.check_offer_deadline, offer.id, at=offer.deadline_at)
    for offer in offers:
        if _auto_accept_applies(order, offer.provider_id):
            accept_offer(None, order.id, provider_id=offer.provider_id, auto=True)
            break


def _auto_accept_applies(order: ServiceOrder, provider_id: int) -> bool:
    rules = db.session.scalars(sa.select(AutoAcceptRule).where(
        AutoAcceptRule.provider_id == provider_id, AutoAcceptRule.active.is_(True))).all()
    client = db.session.get(Client, order.client_id)
    for rule in rules:
        if rule.service_type_ids and order.service_type_id not in rule.service_type_ids:
            continue
        if rule.postal_codes and client.postal_code not in rule.postal_codes:
            continue
        if rule.weekdays and order.start_date.weekday() not in rule.weekdays:
            continue
        if rule.capacity_per_week is not None:
            taken = db.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(
                Offer.provider_id == provider_id, Offer.auto_accepted.is_(True), Offer.answered_at >= _week_start()))
            if taken >= rule.capacity_per_week:
                continue
        return True
    return False


# -- provider answers ----------------------------------------------------------

def accept_offer(actor, order_id: int, provider_id: int | None = None, auto: bool = False) -> ServiceOrder:
    """A provider accepts an order offered to its organisation; the first accept
    wins. Raises NotFoundError if the order was never offered to the org,
    AlreadyTaken (409 ``already_taken``) if another org won, OrderError (409
    ``offer_not_pending``) if this org's offer was declined or has expired."""
    if not auto:
        _require_provider(actor)
        provider_id = actor.provider_id
    offer = db.session.scalar(sa.select(Offer).where(Offer.order_id == order_id, Offer.provider_id == provider_id,
                                                     Offer.sent_at.is_not(None)))
    if offer is None:
        raise NotFoundError("Order not found.")
    order = db.session.get(ServiceOrder, order_id)
    if offer.status != OfferStatus.PENDING:
        if order.provider_id is not None and order.provider_id != provider_id:
            raise AlreadyTaken("Another provider has already accepted this order.")
        raise OrderError(f"Your organisation's offer is {offer.status}; it can no longer be accepted.",
                         code="offer_not_pending")
    if order.status != OrderStatus.OFFERED:
        if order.provider_id is not None and order.provider_id != provider_id:
            raise AlreadyTaken("Another provider has already accepted this order.")
        raise IllegalTransition(_refusal(OrderStatus(order.status), OrderAction.ACCEPT))
    now = utcnow()
    # The order row is claimed first: its conditional UPDATE serialises concurrent
    # accepts, and the loser's offer is never touched.
    _transition(order, OrderAction.ACCEPT, actor, event_provider_id=provider_id, provider_id=provider_id,
                note="accepted automatically by the provider's rule" if auto else None)
    claimed = db.session.execute(
        sa.update(Offer).where(Offer.id == offer.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.ACCEPTED, answered_at=now, answered_by_id=getattr(actor, "id", None),
                auto_accepted=auto)).rowcount
    if claimed != 1:
        raise OrderError("Your organisation's offer is no longer open.", code="offer_not_pending")
    withdrawn = db.session.scalars(sa.select(Offer.id).where(
        Offer.order_id == order.id, Offer.id != offer.id, Offer.status == OfferStatus.PENDING)).all()
    db.session.execute(sa.update(Offer).where(Offer.id.in_(withdrawn)).values(status=OfferStatus.WITHDRAWN))
    db.session.flush()
    db.session.refresh(order)
    db.session.expire(offer)
    from orders import jobs

    enqueue(jobs.send_acceptance_notifications, order.id, queue="mail")
    for offer_id in withdrawn:
        enqueue(jobs.send_offer_withdrawn_notification, offer_id, queue="mail")
    return order


def decline_offer(actor, order_id: int, reason: str) -> ServiceOrder:
    """A provider declines an order offered to its organisation, with a reason. In a
    ranked round the next provider gets the offer; when nobody is left the order
    escalates to the ordering staff member."""
    _require_provider(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason for declining.", fields={"reason": ["This field is required."]})
    if len(reason) > 1000:
        raise ValidationFailed("The reason is too long.", fields={"reason": ["At most 1000 characters."]})
    offer = db.session.scalar(sa.select(Offer).where(Offer.order_id == order_id, Offer.provider_id == actor.provider_id,
                                                     Offer.sent_at.is_not(None)))
    if offer is None:
        raise NotFoundError("Order not found.")
    claimed = db.session.execute(
        sa.update(Offer).where(Offer.id == offer.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.DECLINED, answered_at=utcnow(), answered_by_id=actor.id, decline_reason=reason)
    ).rowcount
    if claimed != 1:
        db.session.refresh(offer)
        raise OrderError(f"Your organisation's offer is {offer.status}; it can no longer be declined.",
                         code="offer_not_pending")
    order = db.session.get(ServiceOrder, order_id)
    _event(order, "decline", actor, note=reason, provider_id=actor.provider_id)
    from orders import jobs

    enqueue(jobs.send_decline_notification, offer.id, queue="mail")
    _advance_round(order)
    return order


def expire_offer(offer_id: int) -> bool:
    """The system expires an unanswered offer after its deadline; idempotent.
    Returns True if this call expired it."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.deadline_at is None or offer.deadline_at > utcnow():
        return False
    claimed = db.session.execute(
        sa.update(Offer).where(Offer.id == offer_id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.EXPIRED, answered_at=utcnow())).rowcount
    if claimed != 1:
        return False
    order = db.session.get(ServiceOrder, offer.order_id)
    _event(order, "expire", None, note="no answer by the deadline", provider_id=offer.provider_id)
    _advance_round(order)
    return True


def expire_overdue_offers(limit: int = 500) -> int:
    """Periodic sweep: expire every pending offer past its deadline (a safety net
    for the per-offer scheduled checks)."""
    ids = db.session.scalars(sa.select(Offer.id).where(
        Offer.status == OfferStatus.PENDING, Offer.deadline_at < utcnow()).order_by(Offer.deadline_at).limit(limit)).all()
    return sum(1 for offer_id in ids if expire_offer(offer_id))


def _advance_round(order: ServiceOrder) -> None:
    """After a decline or expiry: send the next ranked offer, or escalate when no
    offer is pending and none is waiting."""
    db.session.flush()
    if order.status != OrderStatus.OFFERED:
        return
    pending = db.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(
        Offer.order_id == order.id, Offer.status == OfferStatus.PENDING, Offer.sent_at.is_not(None)))
    if pending:
        return
    waiting = db.session.scalars(sa.select(Offer).where(
        Offer.order_id == order.id, Offer.status == OfferStatus.PENDING, Offer.sent_at.is_(None))
        .order_by(Offer.rank, Offer.id)).all()
    for candidate in waiting:
        provider = db.session.get(Provider, candidate.provider_id)
        if provider.status != ProviderStatus.APPROVED:
            candidate.status = OfferStatus.WITHDRAWN
            continue
        now = utcnow()
        candidate.sent_at = now
        candidate.deadline_at = _deadline()
        _event(order, "offer", None, note="offered to the next provider on the ranked list",
               provider_id=candidate.provider_id)
        db.session.flush()
        _after_offers_sent(order, [candidate])
        return
    escalate_order(order, note="every provider declined or did not answer in time")


def escalate_order(order: ServiceOrder, note: str) -> None:
    """Back to the ordering staff member: re-offer or cancel."""
    _transition(order, OrderAction.ESCALATE, None, note=note)
    from orders import jobs

    enqueue(jobs.send_escalation_notification, order.id, queue="mail")


def reoffer_order(actor, order_id: int, provider_ids: list[int] | None = None, mode: str | None = None) -> ServiceOrder:
    """Staff offer an escalated order again, to providers it was not offered to yet
    (the given ones, or every such eligible provider)."""
    _require_staff(actor)
    order = visible_order(actor, order_id)
    if order.status != OrderStatus.ESCALATED:
        raise IllegalTransition(_refusal(OrderStatus(order.status), OrderAction.REOFFER))
    already = set(db.session.scalars(sa.select(Offer.provider_id).where(Offer.order_id == order.id)))
    client = db.session.get(Client, order.client_id)
    if not client.consent_to_share:
        raise ValidationFailed("The client has withdrawn consent to share data with providers.", code="no_consent",
                               fields={"client_id": ["No consent to share data with providers."]})
    eligible = eligible_providers(client, order.service_type_id, exclude=already)
    by_id = {e.provider.id: e for e in eligible}
    if provider_ids:
        wrong = [pid for pid in dict.fromkeys(provider_ids) if pid not in by_id]
        if wrong:
            raise ValidationFailed("Not eligible (or already offered): " + ", ".join(map(str, wrong)) + ".",
                                   code="ineligible_provider",
                                   fields={"provider_ids": [f"Provider {pid} cannot get this order." for pid in wrong]})
        chosen = [by_id[pid] for pid in dict.fromkeys(provider_ids)]
    else:
        chosen = eligible
    if not chosen:
        raise ValidationFailed("No other eligible provider is left; cancel the order or widen the search.",
                               code="no_eligible_provider", fields={"provider_ids": ["No eligible provider left."]})
    mode = mode or (OfferMode.SINGLE if len(chosen) == 1 else OfferMode.BROADCAST)
    if mode not in set(OfferMode):
        raise ValidationFailed("Unknown offer mode.", fields={"mode": ["Must be one of: " + ", ".join(OfferMode) + "."]})
    _transition(order, OrderAction.REOFFER, actor, note=f"{mode}: offered to {len(chosen)} provider(s)",
                offer_mode=mode)
    now = utcnow()
    deadline = _deadline()
    next_rank = (db.session.scalar(sa.select(sa.func.max(Offer.rank)).where(Offer.order_id == order.id)) or 0) + 1
    sent = []
    for position, item in enumerate(chosen):
        send_now = mode != OfferMode.RANKED or position == 0
        offer = Offer(order_id=order.id, provider_id=item.provider.id, rank=next_rank + position,
                      sent_at=now if send_now else None, deadline_at=deadline if send_now else None)
        db.session.add(offer)
        if send_now:
            sent.append(offer)
    db.session.flush()
    _after_offers_sent(order, sent)
    return order


# -- after acceptance ----------------------------------------------------------

MAX_TASKS = 30


def record_visit(actor, order_id: int, *, visit_date: date, minutes: int, tasks: list[str], note: str | None = None,
                 concern: bool = False) -> VisitReport:
    """The winning provider reports a visit. The first report starts the order. A
    concern alerts the client's responsible worker at once (follow-up + e-mail)."""
    _require_provider(actor)
    order = visible_order(actor, order_id)
    _require_winner(actor, order)
    errors: dict[str, list[str]] = {}
    if visit_date > date.today():
        errors["date"] = ["A visit cannot be reported in advance."]
    if visit_date < order.start_date - timedelta(days=1):
        errors["date"] = ["The visit is before the order's start date."]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        errors["minutes"] = ["Must be between 1 and 1440 minutes."]
    tasks = [t.strip() for t in tasks or [] if isinstance(t, str) and t.strip()]
    if len(tasks) > MAX_TASKS or any(len(t) > 200 for t in tasks):
        errors["tasks"] = [f"At most {MAX_TASKS} tasks of 200 characters."]
    if note and len(note) > 4000:
        errors["note"] = ["At most 4000 characters."]
    if errors:
        raise ValidationFailed("The visit report is invalid.", fields=errors)
    if order.status == OrderStatus.ACCEPTED:
        _transition(order, OrderAction.START, actor, event_provider_id=actor.provider_id, note="first visit reported")
    elif order.status != OrderStatus.IN_PROGRESS:
        raise IllegalTransition(f"Visits cannot be reported on an order that is {order.status.replace('_', ' ')}.")
    visit = VisitReport(order_id=order.id, provider_id=actor.provider_id, reported_by_id=actor.id, date=visit_date,
                        minutes=minutes, tasks=tasks, note=(note or "").strip() or None, concern=bool(concern))
    db.session.add(visit)
    db.session.flush()
    _event(order, "visit", actor, note="visit reported" + (" with a concern" if concern else ""),
           provider_id=actor.provider_id)
    client = db.session.get(Client, order.client_id)
    client.last_activity_at = utcnow()
    if concern:
        db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(has_concern=True))
        db.session.add(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id or order.ordered_by_id,
                                kind=FollowUpKind.CONCERN, order_id=order.id, due_at=utcnow(),
                                title=f"Concern in a visit report on order {order.number}"))
        from orders import jobs

        enqueue(jobs.send_concern_alert, visit.id, queue="mail")
    db.session.flush()
    return visit


def complete_order(actor, order_id: int) -> ServiceOrder:
    """The winning provider completes the order; the client gets a one-time
    feedback link. 409 ``no_visits`` before any visit is reported."""
    _require_provider(actor)
    order = visible_order(actor, order_id)
    _require_winner(actor, order)
    if order.status == OrderStatus.ACCEPTED:
        raise OrderError("Report at least one visit before completing the order.", code="no_visits")
    _transition(order, OrderAction.COMPLETE, actor, event_provider_id=actor.provider_id)
    from orders import jobs

    enqueue(jobs.send_completion_notifications, order.id, queue="mail")
    return order


def close_order(actor, order_id: int, outcome: str, note: str | None = None) -> ServiceOrder:
    """Staff confirm what the client actually got: received, or not received with
    the reason. Only from completed."""
    _require_staff(actor)
    order = visible_order(actor, order_id)
    note = (note or "").strip() or None
    if outcome not in set(Outcome):
        raise ValidationFailed("Choose the outcome.", fields={"outcome": ["Must be received or not_received."]})
    if outcome == Outcome.NOT_RECEIVED and not note:
        raise ValidationFailed("Say why the client did not get the service.",
                               fields={"note": ["Required when the service was not received."]})
    if note and len(note) > 2000:
        raise ValidationFailed("The note is too long.", fields={"note": ["At most 2000 characters."]})
    _transition(order, OrderAction.CLOSE, actor, note=note, outcome=outcome, outcome_note=note)
    if outcome == Outcome.NOT_RECEIVED:
        client = db.session.get(Client, order.client_id)
        db.session.add(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id or actor.id,
                                kind=FollowUpKind.OTHER, order_id=order.id, due_at=utcnow(),
                                title=f"Order {order.number}: the client did not get the service"))
    return order


def cancel_order(actor, order_id: int, reason: str) -> ServiceOrder:
    """Staff cancel an order before it is completed, with a reason; open offers are
    withdrawn and the providers concerned are told."""
    _require_staff(actor)
    order = visible_order(actor, order_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason for cancelling.", fields={"reason": ["This field is required."]})
    if len(reason) > 2000:
        raise ValidationFailed("The reason is too long.", fields={"reason": ["At most 2000 characters."]})
    _transition(order, OrderAction.CANCEL, actor, note=reason, cancel_reason=reason)
    withdrawn = db.session.scalars(sa.select(Offer.id).where(Offer.order_id == order.id,
                                                             Offer.status == OfferStatus.PENDING)).all()
    db.session.execute(sa.update(Offer).where(Offer.id.in_(withdrawn)).values(status=OfferStatus.WITHDRAWN))
    from orders import jobs

    enqueue(jobs.send_cancellation_notifications, order.id, queue="mail")
    return order


def handle_provider_suspension(provider_id: int, actor) -> None:
    """When an admin suspends a provider: its pending offers are withdrawn (rounds
    move on) and the staff of its active orders get a follow-up to arrange care."""
    pending = db.session.scalars(sa.select(Offer).where(Offer.provider_id == provider_id,
                                                        Offer.status == OfferStatus.PENDING)).all()
    orders = []
    for offer in pending:
        offer.status = OfferStatus.WITHDRAWN
        orders.append(offer.order_id)
    db.session.flush()
    for order_id in dict.fromkeys(orders):
        order = db.session.get(ServiceOrder, order_id)
        _event(order, "withdraw", actor, note="provider suspended", provider_id=provider_id)
        _advance_round(order)
    active = db.session.scalars(sa.select(ServiceOrder).where(
        ServiceOrder.provider_id == provider_id,
        ServiceOrder.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS]))).all()
    for order in active:
        client = db.session.get(Client, order.client_id)
        db.session.add(FollowUp(client_id=order.client_id, order_id=order.id, kind=FollowUpKind.OTHER, due_at=utcnow(),
                                assigned_to_id=client.responsible_worker_id or order.ordered_by_id,
                                title=f"The provider of order {order.number} was suspended: arrange the service"))
        _event(order, "provider_suspended", actor, note="provider suspended: staff asked to arrange the service",
               provider_id=provider_id)
    db.session.flush()
