"""Offers: sending them, the providers' answers, deadlines, ranked rounds and the
suspension of a provider.

Every offer change goes through ``OFFER_MACHINE``: one guarded UPDATE per offer (or
per set of offers, ``apply_where``) that only moves a pending offer, so of an accept
and a concurrent decline each keeps its own answer and the accept's "withdraw the
others" never overwrites a decline. On an accept the order row is claimed first
(its versioned UPDATE serialises concurrent accepts).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext
from flask_babel import gettext as _

from clients.models import Client, FollowUp, FollowUpKind
from clients.signals import DECLINE, note_signal
from core.db import utcnow
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from interop.webhooks import any_active_endpoint_column, note_any_active_endpoint
from orders import policy
from orders.eligibility import auto_accept_applies
from orders.models import Offer, OfferAction, OfferStatus, OrderAction, OrderStatus, ServiceOrder
from orders.states import (
    OFFER_MACHINE, AlreadyTaken, IllegalTransition, refusal_message, timeline_event, transition,
)
from providers.models import Provider, ProviderStatus


def deadline():
    return utcnow() + timedelta(hours=current_app.config["OFFER_DEADLINE_HOURS"])


def after_offers_sent(order: ServiceOrder, offers: list[Offer], rule_holders: set[int] | None = None) -> None:
    """Notify the providers of new offers, schedule their deadline checks, and let
    automatic-acceptance rules take the order at once. ``rule_holders``: the
    providers known to have an active rule (read with their eligibility, so that
    the others need no query); None: each provider's rules are looked up."""
    for offer in offers:
        enqueue("orders.jobs.send_offer_notification", offer.id, queue="mail")
        enqueue("orders.jobs.check_offer_deadline", offer.id, at=offer.deadline_at)
    for offer in offers:
        if rule_holders is not None and offer.provider_id not in rule_holders:
            continue
        if auto_accept_applies(order, offer.provider_id):
            accept_offer(None, order.id, provider_id=offer.provider_id, auto=True)
            break


def _sent_offer(order_id: int, provider_id: int) -> Offer:
    offer = db.session.scalar(sa.select(Offer).where(Offer.order_id == order_id, Offer.provider_id == provider_id,
                                                     Offer.sent_at.is_not(None)))
    if offer is None:
        raise NotFoundError(_("Order not found."))
    return offer


_statements: dict[str, object] = {}


def _offer_and_order_statement() -> sa.Select:
    """A sent offer of bound ``provider_id`` with its order (bound ``order_id``), in
    one query, with whether any webhook endpoint is active (the commit's check of
    the acceptance's webhook events, asked here instead of in a query of its own);
    built at first use and reused."""
    stmt = _statements.get("offer_and_order")
    if stmt is None:
        stmt = _statements["offer_and_order"] = (
            sa.select(Offer, ServiceOrder, any_active_endpoint_column())
            .join(ServiceOrder, ServiceOrder.id == Offer.order_id)
            .where(Offer.order_id == sa.bindparam("order_id", type_=sa.Integer),
                   Offer.provider_id == sa.bindparam("provider_id", type_=sa.Integer),
                   Offer.sent_at.is_not(None)))
    return stmt


def _other_offers() -> tuple:
    """The offers of bound ``b_order_id`` but ``b_offer_id`` (those an accept
    withdraws), as conditions built once for ``OFFER_MACHINE.apply_where``."""
    conditions = _statements.get("other_offers")
    if conditions is None:
        conditions = _statements["other_offers"] = (
            Offer.order_id == sa.bindparam("b_order_id", type_=sa.Integer),
            Offer.id != sa.bindparam("b_offer_id", type_=sa.Integer))
    return conditions


def accept_offer(actor, order_id: int, provider_id: int | None = None, auto: bool = False) -> ServiceOrder:
    """A provider accepts an order offered to its organisation; the first accept
    wins. Raises NotFoundError if the order was never offered to the org,
    AlreadyTaken (409 ``already_taken``) if another org won, OrderError (409
    ``offer_not_pending``) if this org's offer was declined or has expired."""
    if not auto:
        policy.require_provider(actor)
        provider_id = actor.provider_id
    # The offer and its order in one query.
    found = db.session.execute(_offer_and_order_statement(),
                               {"order_id": order_id, "provider_id": provider_id}).first()
    if found is None:
        raise NotFoundError(_("Order not found."))
    offer, order, any_endpoint = found
    note_any_active_endpoint(any_endpoint)
    taken = order.provider_id is not None and order.provider_id != provider_id
    if offer.status != OfferStatus.PENDING:
        if taken:
            raise AlreadyTaken(_("Another provider has already accepted this order."))
        raise OFFER_MACHINE.refusal(offer.status, OfferAction.ACCEPT)
    if order.status != OrderStatus.OFFERED:
        if taken:
            raise AlreadyTaken(_("Another provider has already accepted this order."))
        raise IllegalTransition(refusal_message(order.status, OrderAction.ACCEPT))
    # The order row is claimed first: its conditional UPDATE serialises concurrent
    # accepts, and the loser's offer is never touched.
    transition(order, OrderAction.ACCEPT, actor, event_provider_id=provider_id, provider_id=provider_id,
               code="offer.auto_accepted" if auto else None)
    OFFER_MACHINE.apply(offer, OfferAction.ACCEPT, actor,
                        values={"answered_by_id": getattr(actor, "id", None), "auto_accepted": auto})
    # Guarded: an offer declined meanwhile stays declined.
    withdrawn = OFFER_MACHINE.apply_where(OfferAction.WITHDRAW, *_other_offers(), actor=actor, within=order,
                                          key="other_offers", binds={"b_order_id": order.id, "b_offer_id": offer.id})
    enqueue("orders.jobs.send_acceptance_notifications", order.id, queue="mail")
    for offer_id in withdrawn:
        enqueue("orders.jobs.send_offer_withdrawn_notification", offer_id, queue="mail")
    return order


def decline_offer(actor, order_id: int, reason: str) -> ServiceOrder:
    """A provider declines an order offered to its organisation, with a reason. In a
    ranked round the next provider gets the offer; when nobody is left the order
    escalates to the ordering staff member."""
    policy.require_provider(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason for declining."), fields={"reason": [_("This field is required.")]})
    if len(reason) > 1000:
        raise ValidationFailed(_("The reason is too long."), fields={"reason": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 1000)]})
    offer = _sent_offer(order_id, actor.provider_id)
    OFFER_MACHINE.apply(offer, OfferAction.DECLINE, actor, note=reason,
                        values={"answered_by_id": actor.id, "decline_reason": reason})
    order = db.session.get(ServiceOrder, order_id)
    enqueue("orders.jobs.send_decline_notification", offer.id, queue="mail")
    note_signal(order.client_id, DECLINE, f"provider:{offer.provider_id}")
    advance_round(order)
    return order


def expire_offer(offer_id: int) -> bool:
    """The system expires an unanswered offer after its deadline; idempotent.
    Returns True if this call expired it."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.deadline_at is None or offer.deadline_at > utcnow():
        return False
    if not OFFER_MACHINE.apply_by_id(offer_id, OfferAction.EXPIRE, params={"code": "offer.expired"}):
        return False
    advance_round(db.session.get(ServiceOrder, offer.order_id))
    return True


def expire_overdue_offers(limit: int = 500) -> int:
    """Periodic sweep: expire every pending offer past its deadline (a safety net
    for the per-offer scheduled checks)."""
    ids = db.session.scalars(sa.select(Offer.id).where(
        Offer.status == OfferStatus.PENDING, Offer.deadline_at < utcnow()).order_by(Offer.deadline_at).limit(limit)).all()
    return sum(1 for offer_id in ids if expire_offer(offer_id))


def advance_round(order: ServiceOrder) -> None:
    """After a decline or expiry: send the next ranked offer, or escalate when no
    offer is pending and none is waiting."""
    db.session.flush()
    db.session.refresh(order)
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
            OFFER_MACHINE.apply_by_id(candidate.id, OfferAction.WITHDRAW)
            continue
        candidate.sent_at = utcnow()
        candidate.deadline_at = deadline()
        timeline_event(order, "offer", None, "offer.next_ranked",
                       provider_id=candidate.provider_id)
        db.session.flush()
        after_offers_sent(order, [candidate])
        return
    escalate_order(order, code="order.no_provider_left")


def escalate_order(order: ServiceOrder, note: str | None = None, code: str | None = None,
                   code_params: dict | None = None) -> None:
    """Back to the ordering staff member: re-offer or cancel (``note``: a person's
    words; ``code``: the system's reason, ``orders.texts``)."""
    transition(order, OrderAction.ESCALATE, None, note=note, code=code, code_params=code_params)
    enqueue("orders.jobs.send_escalation_notification", order.id, queue="mail")


def withdraw_open_offers(order: ServiceOrder, actor) -> list[int]:
    """Withdraw the order's pending offers (it was cancelled); answered ones stay."""
    return OFFER_MACHINE.apply_where(OfferAction.WITHDRAW, Offer.order_id == order.id, actor=actor, within=order)


def handle_provider_suspension(provider_id: int, actor) -> None:
    """When an admin suspends a provider: its pending offers are withdrawn (rounds
    move on) and the staff of its active orders get a follow-up to arrange care."""
    withdrawn = OFFER_MACHINE.apply_where(OfferAction.WITHDRAW, Offer.provider_id == provider_id, actor=actor,
                                          params={"code": "offer.provider_suspended"})
    order_ids = db.session.scalars(sa.select(Offer.order_id).where(Offer.id.in_(withdrawn))
                                   .order_by(Offer.id)).all() if withdrawn else []
    for order_id in dict.fromkeys(order_ids):
        advance_round(db.session.get(ServiceOrder, order_id))
    active = db.session.scalars(sa.select(ServiceOrder).where(
        ServiceOrder.provider_id == provider_id,
        ServiceOrder.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS]))).all()
    for order in active:
        client = db.session.get(Client, order.client_id)
        db.session.add(FollowUp(client_id=order.client_id, order_id=order.id, kind=FollowUpKind.OTHER, due_at=utcnow(),
                                assigned_to_id=client.responsible_worker_id or order.ordered_by_id,
                                code="provider_suspended", params={"order": order.number},
                                title=f"The provider of order {order.number} was suspended: arrange the service"))
        timeline_event(order, "provider_suspended", actor, "order.provider_suspended", provider_id=provider_id)
    db.session.flush()
