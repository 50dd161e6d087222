"""Service orders: placing and re-offering, visit reports, completion, closing the
loop and cancelling. Offers and their answers are in ``orders.offers``, who may
get an order in ``orders.eligibility``, the lifecycles in ``orders.states`` and who
may do what in ``orders.policy``; the names other packages and the tests use are
re-exported here.

Every state change goes through ``orders.states`` (``core.states.StateMachine``):
one conditional UPDATE whose row count decides a race, the ``<status>_at`` stamp and
an ``OrderEvent``, all in the caller's transaction. Services flush and never commit:
the request's (or job's) unit of work does.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from flask_babel import ngettext
from flask_babel import gettext as _, lazy_gettext as _l

from orders.scopes import scope_orders
from clients.concerns import raise_concern
from clients.models import Client, FollowUp, FollowUpKind, Urgency
from clients.signals import MISSED_VISIT, note_signal
from core.access import Purpose, record_access
from core.db import assign_number, next_id_column, number_for, pending_number, utcnow
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from core.templating import status_label
from core.jobs import enqueue
from core.mail import language_of
from core.time import local_today
from feedback.services import issue_feedback_link
from interop.webhooks import any_active_endpoint_column, note_any_active_endpoint
from catalogue.models import ServiceType
from orders import policy
from orders.eligibility import Eligible, eligible_providers
from orders.models import (
    Funding, Offer, OfferMode, OrderAction, OrderStatus, Outcome, ServiceOrder, VisitReport,
)
from orders.offers import (
    accept_offer, after_offers_sent, decline_offer, deadline, escalate_order, expire_offer, expire_overdue_offers,
    handle_provider_suspension, withdraw_open_offers,
)
from orders.states import (
    AlreadyTaken, IllegalTransition, OrderError, insert_order_event, refusal_message, timeline_event, transition,
)

# The transition function under its former name (the lifecycle tests call it).
_transition = transition

# What other packages and the tests import from here (some of it lives in the
# modules split off: offers, eligibility, states).
__all__ = [
    "AlreadyTaken", "Eligible", "IllegalTransition", "MAX_TASKS", "OrderError", "accept_offer", "cancel_order",
    "close_order", "complete_order", "decline_offer", "eligible_providers", "escalate_order", "expire_offer",
    "expire_overdue_offers", "handle_provider_suspension", "place_order", "record_visit", "reoffer_order",
    "visible_order",
]


# -- lookups -------------------------------------------------------------------

def visible_order(actor, order_id: int, lock: bool = False) -> ServiceOrder:
    """The order if ``actor`` may see it (staff all; a provider offered to or won by
    its org; a client their own), else NotFoundError."""
    stmt = scope_orders(sa.select(ServiceOrder).where(ServiceOrder.id == order_id), actor)
    if lock:
        stmt = stmt.with_for_update()
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFoundError(_("Order not found."))
    return order


def _choose(eligible: list[Eligible], provider_ids: list[int] | None, wrong_message: str, wrong_field: str,
            none_message: str, none_fields: dict) -> list[Eligible]:
    """The eligible providers to offer to: the given ones (each must be eligible),
    or all of them; ValidationFailed when none is left."""
    by_id = {e.provider.id: e for e in eligible}
    if provider_ids:
        provider_ids = list(dict.fromkeys(provider_ids))
        wrong = [pid for pid in provider_ids if pid not in by_id]
        if wrong:
            raise ValidationFailed(str(wrong_message) % {"ids": ", ".join(map(str, wrong))}, code="ineligible_provider",
                                   fields={"provider_ids": [str(wrong_field) % {"pid": pid} for pid in wrong]})
        chosen = [by_id[pid] for pid in provider_ids]
    else:
        chosen = eligible
    if not chosen:
        # The texts may be lazy: translated only when refused (placing an order
        # looked up three texts on every request that only a refusal shows).
        raise ValidationFailed(str(none_message), code="no_eligible_provider",
                               fields={k: [str(v) for v in texts] for k, texts in none_fields.items()})
    return chosen


def _add_offers(order: ServiceOrder, chosen: list[Eligible], mode: str, first_rank: int = 1,
                created: list[Offer] | None = None) -> list[Offer]:
    """One offer per chosen provider; in a ranked round only the first is sent now.
    Returns the offers sent (``created``: gets every offer made)."""
    now, until = utcnow(), deadline()
    sent = []
    for position, item in enumerate(chosen):
        send_now = mode != OfferMode.RANKED or position == 0
        offer = Offer(order_id=order.id, provider_id=item.provider.id, rank=first_rank + position,
                      sent_at=now if send_now else None, deadline_at=until if send_now else None)
        db.session.add(offer)
        if created is not None:
            created.append(offer)
        if send_now:
            sent.append(offer)
    db.session.flush()
    return sent


def _require_consent(client: Client, message: str) -> None:
    if not client.consent_to_share:
        raise ValidationFailed(str(message), code="no_consent",
                               fields={"client_id": [_("No consent to share data with providers.")]})


# -- placing and offering ------------------------------------------------------

_statements: dict[str, object] = {}


def _client_and_type_statement() -> tuple:
    """The client and the service type of a new order in one query, for bound
    ``client_id`` and ``service_type_id``, with whether any webhook endpoint is
    active (the commit's check of the offer's webhook event, asked here instead of
    in a query of its own) and, on PostgreSQL, the order's id to be
    (``next_id_column``); and whether it takes that id. Built at first use per
    dialect and reused."""
    dialect = db.session.get_bind().dialect.name
    found = _statements.get(dialect)
    if found is None:
        next_id = next_id_column(ServiceOrder)
        stmt = (sa.select(Client, ServiceType, any_active_endpoint_column(),
                          *([next_id] if next_id is not None else []))
                .join(ServiceType, ServiceType.id == sa.bindparam("service_type_id", type_=sa.Integer))
                .where(Client.id == sa.bindparam("client_id", type_=sa.Integer)))
        found = _statements[dialect] = (stmt, next_id is not None)
    return found


def _touch_client(client: Client, now) -> None:
    """``client.last_activity_at = now`` (and ``updated_at``, as the flush's
    ``onupdate`` stamps it) as one Core ``UPDATE``, the loaded client's values set
    as committed: no dirty object left for the commit's flush."""
    stmt = _statements.get("touch_client")
    if stmt is None:
        table = Client.__table__
        stmt = _statements["touch_client"] = (
            sa.update(table).where(table.c.id == sa.bindparam("b_id", type_=sa.Integer))
            .values(last_activity_at=sa.bindparam("b_now", type_=table.c.last_activity_at.type),
                    updated_at=sa.bindparam("b_now", type_=table.c.updated_at.type)))
    db.session.connection().execute(stmt, {"b_id": client.id, "b_now": now})
    set_committed_value(client, "last_activity_at", now)
    set_committed_value(client, "updated_at", now)


def place_order(actor, *, client_id: int, service_type_id: int, start_date: date, end_date: date | None = None,
                visits_per_week: int | None = None, minutes_per_visit: int | None = None,
                instructions: str = "", funding: str = Funding.MUNICIPALITY, provider_ids: list[int] | None = None,
                mode: str | None = None, voucher_id: int | None = None) -> ServiceOrder:
    """Staff place an order and offer it.

    ``mode``: ``single`` (exactly one provider in ``provider_ids``), ``broadcast`` (the
    given providers, or every eligible one, at once: first accept wins) or ``ranked``
    (down the area's procured ranking, or the given order, one at a time). Raises
    ValidationFailed: ``no_consent``, ``no_eligible_provider``, ``ineligible_provider``
    (naming them) or field errors; with ``voucher_id`` the order is funded by that
    voucher (``vouchers.services.voucher_for_order``: 422 ``voucher_mismatch``)."""
    policy.require_staff(actor)
    # The client and the service type in one query (on PostgreSQL with the order's
    # id to be: its number goes in with its INSERT); either missing: one each, to
    # say which.
    stmt, numbered = _client_and_type_statement()
    both = db.session.execute(stmt, {"client_id": client_id, "service_type_id": service_type_id}).first()
    order_id = both[3] if both and numbered else None
    if both:
        note_any_active_endpoint(both[2])
    client, service_type = both[:2] if both else (db.session.get(Client, client_id),
                                                  db.session.get(ServiceType, service_type_id))
    errors: dict[str, list[str]] = {}
    if client is None or client.erased_at is not None:
        errors["client_id"] = [_("No such client.")]
    if service_type is None or not service_type.active:
        errors["service_type_id"] = [_("No such service type.")]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = [_("The end date is before the start date.")]
    if start_date < local_today() - timedelta(days=1):
        errors["start_date"] = [_("The start date is in the past.")]
    if funding not in set(Funding):
        errors["funding"] = [_("Must be one of: %(values)s.", values=", ".join(Funding))]
    if funding == Funding.SELF_PAID and service_type is not None and not service_type.self_paid_allowed:
        errors["funding"] = [_("This service cannot be self-paid.")]
    if mode is not None and mode not in set(OfferMode):
        errors["mode"] = [_("Must be one of: %(values)s.", values=", ".join(OfferMode))]
    if mode == OfferMode.SINGLE and len(provider_ids or []) != 1:
        errors["provider_ids"] = [_("Choose exactly one provider to offer the order to.")]
    if errors:
        raise ValidationFailed(_("The order could not be placed."), fields=errors)
    _require_consent(client, _l("The client has not consented to sharing their details with providers; "
                                "record the consent first."))
    voucher = None
    if voucher_id is not None:
        from vouchers.services import voucher_for_order
        voucher, funding = voucher_for_order(voucher_id, client.id, service_type_id, funding), Funding.VOUCHER
    # Named providers: only they need checking (the answer names those not eligible).
    chosen = _choose(eligible_providers(client, service_type_id, only=provider_ids or None), provider_ids,
                     _l("Not eligible for this order: %(ids)s."), _l("Provider %(pid)s is not eligible for this order."),
                     _l("No provider can take this order: nobody approved offers this service at the "
                        "client's postal code in a language the client speaks, with capacity left."),
                     {"service_type_id": [_l("No eligible provider.")]})
    if voucher is not None:
        from vouchers.services import providers_for_voucher
        chosen = providers_for_voucher(actor, voucher, chosen, explicit=bool(provider_ids))
    if mode is None:
        mode = OfferMode.SINGLE if len(chosen) == 1 else OfferMode.BROADCAST
    if mode == OfferMode.RANKED and not provider_ids:
        ranked = [e for e in chosen if e.rank is not None]
        chosen = ranked or chosen  # without a procured ranking, fall back to the sorted list
    now = utcnow()
    # The client and service type by their ids: as relationships they joined the
    # flush's graph of objects to visit and sort for nothing (neither changes).
    order = ServiceOrder(
        id=order_id, number=number_for("SO", order_id) if order_id else pending_number(), client_id=client.id,
        service_type_id=service_type.id, ordered_by_id=actor.id,
        status=OrderStatus.OFFERED, funding=funding, offer_mode=mode, instructions=(instructions or "").strip(),
        start_date=start_date, end_date=end_date, visits_per_week=visits_per_week,
        minutes_per_visit=minutes_per_visit, offered_at=now, voucher_id=voucher.id if voucher else None)
    db.session.add(order)
    if order_id is None:
        assign_number(order, "SO")
    offers: list[Offer] = []
    sent = _add_offers(order, chosen, mode, created=offers)
    # They are all the new order's offers: its collection is known without a query;
    # the client and the service type are the ones read above. The answer's
    # serializer reads all three from here (no second SELECT of any).
    set_committed_value(order, "offers", sorted(offers, key=lambda o: o.id))
    set_committed_value(order, "client", client)
    set_committed_value(order, "service_type", service_type)
    # The timeline's event and the client's activity as Core statements (the order
    # is written): no object of either is read again in the request.
    insert_order_event(order_id=order.id, actor_id=actor.id, action="create", from_status=None,
                       to_status=OrderStatus.OFFERED, code="order.offered",
                       params={"mode": str(mode), "num": 1 if mode == OfferMode.RANKED else len(chosen)})
    _touch_client(client, now)
    record_access(client.id, "order", Purpose.ORDERING, what="service order", actor=actor)
    after_offers_sent(order, sent, rule_holders={e.provider.id for e in chosen if e.has_auto_accept_rule is not False})
    return order


def reoffer_order(actor, order_id: int, provider_ids: list[int] | None = None, mode: str | None = None) -> ServiceOrder:
    """Staff offer an escalated order again, to providers it was not offered to yet
    (the given ones, or every such eligible provider)."""
    policy.require_staff(actor)
    order = visible_order(actor, order_id)
    if order.status != OrderStatus.ESCALATED:
        raise IllegalTransition(refusal_message(order.status, OrderAction.REOFFER))
    already = set(db.session.scalars(sa.select(Offer.provider_id).where(Offer.order_id == order.id)))
    client = db.session.get(Client, order.client_id)
    _require_consent(client, _("The client has withdrawn consent to share data with providers."))
    chosen = _choose(eligible_providers(client, order.service_type_id, exclude=already), provider_ids,
                     _l("Not eligible (or already offered): %(ids)s."), _l("Provider %(pid)s cannot get this order."),
                     _("No other eligible provider is left; cancel the order or widen the search."),
                     {"provider_ids": [_("No eligible provider left.")]})
    mode = mode or (OfferMode.SINGLE if len(chosen) == 1 else OfferMode.BROADCAST)
    if mode not in set(OfferMode):
        raise ValidationFailed(_("Unknown offer mode."), fields={"mode": [_("Must be one of: %(values)s.", values=", ".join(OfferMode))]})
    transition(order, OrderAction.REOFFER, actor, code="order.offered",
               code_params={"mode": str(mode), "num": len(chosen)}, offer_mode=mode)
    next_rank = (db.session.scalar(sa.select(sa.func.max(Offer.rank)).where(Offer.order_id == order.id)) or 0) + 1
    after_offers_sent(order, _add_offers(order, chosen, mode, first_rank=next_rank))
    return order


# -- after acceptance ----------------------------------------------------------

MAX_TASKS = 30


def record_visit(actor, order_id: int, *, visit_date: date, minutes: int, tasks: list[str], note: str | None = None,
                 concern: bool = False, urgency: str | None = None, concern_text: str | None = None,
                 missed: bool = False) -> VisitReport:
    """The winning provider reports a visit (``missed``: the provider came but the
    client was not reached). The first report starts the order. A concern needs
    what worried the reporter (``concern_text``, or the ``note`` when no separate
    text is given, as in the API) and an urgency (``today``: contact the client
    today, ``week``: within a week); it alerts the client's responsible worker at
    once (``clients.concerns.raise_concern``: follow-up, e-mail, weak signal)."""
    policy.require_provider(actor)
    order = visible_order(actor, order_id)
    policy.require_winner(actor, order)
    errors: dict[str, list[str]] = {}
    if visit_date > local_today():
        errors["date"] = [_("A visit cannot be reported in advance.")]
    if visit_date < order.start_date - timedelta(days=1):
        errors["date"] = [_("The visit is before the order's start date.")]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        errors["minutes"] = [_("Must be between 1 and 1440 minutes.")]
    tasks = [t.strip() for t in tasks or [] if isinstance(t, str) and t.strip()]
    if len(tasks) > MAX_TASKS or any(len(t) > 200 for t in tasks):
        errors["tasks"] = [ngettext("At most %(num)d task of %(chars)s characters.", "At most %(num)d tasks of %(chars)s characters.", MAX_TASKS, chars=200)]
    if note and len(note) > 4000:
        errors["note"] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", 4000)]
    description = None
    if concern:
        text_field = "note" if concern_text is None else "concern_text"
        description = ((note if concern_text is None else concern_text) or "").strip()
        if not description:
            errors[text_field] = [_("Describe what worried you: the responsible worker reads this.")]
        elif len(description) > 4000:
            errors[text_field] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", 4000)]
        if urgency not in set(Urgency):
            errors["urgency"] = [_("Choose how soon the client should be contacted: today or within a week.")]
    if errors:
        raise ValidationFailed(_("The visit report is invalid."), fields=errors)
    if order.status == OrderStatus.ACCEPTED:
        transition(order, OrderAction.START, actor, event_provider_id=actor.provider_id,
                   code="order.first_visit")
    elif order.status != OrderStatus.IN_PROGRESS:
        raise IllegalTransition(_("Visits cannot be reported on an order that is %(status)s.",
                                  status=status_label(order.status).lower()))
    visit = VisitReport(order_id=order.id, provider_id=actor.provider_id, reported_by_id=actor.id, date=visit_date,
                        minutes=minutes, tasks=tasks, note=(note or "").strip() or None, concern=bool(concern),
                        missed=bool(missed))
    db.session.add(visit)
    db.session.flush()
    timeline_event(order, "visit", actor,
                   ("order.visit_missed" if missed else "order.visit_reported") + ("_concern" if concern else ""),
                   provider_id=actor.provider_id)
    client = db.session.get(Client, order.client_id)
    client.last_activity_at = utcnow()
    if concern:
        db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(has_concern=True))
        raise_concern(actor, client=client, order=order, visit=visit, description=description, urgency=urgency)
    if missed:
        note_signal(client.id, MISSED_VISIT, f"provider:{actor.provider_id}")
    db.session.flush()
    return visit


def complete_order(actor, order_id: int, reason: str | None = None) -> ServiceOrder:
    """The winning provider completes the order; the client gets a one-time
    feedback link. Who of the organisation may do it is its setting
    (``Provider.completion_by``: administrators only by default; 403 otherwise).
    An ongoing order (no end date, or its end date still ahead: visits are still
    planned) needs the ``reason`` it ends early (422 ``reason_required``). 409
    ``no_visits`` before any visit is reported."""
    policy.require_provider(actor)
    order = visible_order(actor, order_id)
    policy.require_winner(actor, order)
    policy.require_may_complete(actor, order)
    if order.status == OrderStatus.ACCEPTED:
        raise OrderError(_("Report at least one visit before completing the order."), code="no_visits")
    reason = (reason or "").strip() or None
    if reason and len(reason) > 2000:
        raise ValidationFailed(_("The reason is too long."), fields={"reason": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]})
    if policy.is_ongoing(order) and not reason:
        raise ValidationFailed(_("This order is ongoing: say why it ends now."), code="reason_required",
                               fields={"reason": [_("Required: the order has no end date or visits are still "
                                                    "planned.")]})
    transition(order, OrderAction.COMPLETE, actor, event_provider_id=actor.provider_id, note=reason)
    # State now, messages later: the link exists with the completion, so staff can
    # read it out at once even while Redis or the worker is down; only the e-mail
    # that carries it is a job.
    client = db.session.get(Client, order.client_id)
    issue_feedback_link(order_id=order.id, language=language_of(client.languages))
    enqueue("orders.jobs.send_completion_notifications", order.id, queue="mail")
    return order


def close_order(actor, order_id: int, outcome: str, note: str | None = None) -> ServiceOrder:
    """Staff confirm what the client actually got: received, or not received with
    the reason. Only from completed."""
    policy.require_staff(actor)
    order = visible_order(actor, order_id)
    note = (note or "").strip() or None
    if outcome not in set(Outcome):
        raise ValidationFailed(_("Choose the outcome."), fields={"outcome": [_("Must be received or not_received.")]})
    if outcome == Outcome.NOT_RECEIVED and not note:
        raise ValidationFailed(_("Say why the client did not get the service."),
                               fields={"note": [_("Required when the service was not received.")]})
    if note and len(note) > 2000:
        raise ValidationFailed(_("The note is too long."), fields={"note": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]})
    transition(order, OrderAction.CLOSE, actor, note=note, outcome=outcome, outcome_note=note)
    if outcome == Outcome.NOT_RECEIVED:
        client = db.session.get(Client, order.client_id)
        db.session.add(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id or actor.id,
                                kind=FollowUpKind.OTHER, order_id=order.id, due_at=utcnow(),
                                code="not_received", params={"order": order.number},
                                title=f"Order {order.number}: the client did not get the service"))
    return order


def cancel_order(actor, order_id: int, reason: str) -> ServiceOrder:
    """Staff cancel an order before it is completed, with a reason; open offers are
    withdrawn and the providers concerned are told."""
    policy.require_staff(actor)
    order = visible_order(actor, order_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason for cancelling."), fields={"reason": [_("This field is required.")]})
    if len(reason) > 2000:
        raise ValidationFailed(_("The reason is too long."), fields={"reason": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]})
    transition(order, OrderAction.CANCEL, actor, note=reason, cancel_reason=reason)
    withdraw_open_offers(order, actor)
    enqueue("orders.jobs.send_cancellation_notifications", order.id, queue="mail")
    return order
