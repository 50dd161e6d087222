"""The order and offer lifecycles as ``core.states.StateMachine``s, their refusals
and the order timeline.

Every state change of an order goes through ``ORDER_MACHINE`` (a conditional UPDATE
on status and version whose row count decides a race, the ``<status>_at`` stamp and
an ``OrderEvent``); every change of an offer through ``OFFER_MACHINE`` (guarded on
the offer being pending, so a concurrent decline is never overwritten). Offer
changes that carry a note (a decline's reason, an expiry, a suspension) are written
on the order's timeline, as the order page shows them.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.states import StateMachine
from core.templating import status_label
from orders.models import (
    OFFER_TRANSITIONS, ORDER_TRANSITIONS, Offer, OfferAction, OrderAction, OrderEvent, OrderStatus, ServiceOrder,
)


class OrderError(DomainError):
    """A rule of the order lifecycle refused the request (409 unless stated)."""

    status = 409
    code = "order_conflict"


class IllegalTransition(OrderError):
    code = "illegal_transition"


class AlreadyTaken(OrderError):
    code = "already_taken"


# One whole sentence per action, so that each language can phrase it naturally;
# %(status)s is the order's (or offer's) status label in the reader's language.
_REFUSALS = {
    OrderAction.ACCEPT: _l("The order cannot be accepted now: its status is “%(status)s”."),
    OrderAction.ESCALATE: _l("The order cannot be escalated now: its status is “%(status)s”."),
    OrderAction.REOFFER: _l("The order cannot be offered again now: its status is “%(status)s”."),
    OrderAction.START: _l("The order cannot be started now: its status is “%(status)s”."),
    OrderAction.COMPLETE: _l("The order cannot be completed now: its status is “%(status)s”."),
    OrderAction.CLOSE: _l("The order cannot be closed now: its status is “%(status)s”."),
    OrderAction.CANCEL: _l("The order cannot be cancelled now: its status is “%(status)s”."),
}
_OFFER_REFUSALS = {
    OfferAction.ACCEPT: _l("Your organisation's offer can no longer be accepted: its status is “%(status)s”."),
    OfferAction.DECLINE: _l("Your organisation's offer can no longer be declined: its status is “%(status)s”."),
    OfferAction.EXPIRE: _l("Your organisation's offer can no longer expire: its status is “%(status)s”."),
    OfferAction.WITHDRAW: _l("Your organisation's offer can no longer be withdrawn: its status is “%(status)s”."),
}


def refusal_message(current: str, action: str) -> str:
    return str(_REFUSALS[OrderAction(action)]) % {"status": status_label(str(current))}


def _order_refusal(current: str, action: str) -> DomainError:
    return IllegalTransition(refusal_message(current, action))


def _order_lost(order: ServiceOrder, action: str) -> DomainError:
    if action == OrderAction.ACCEPT:
        return AlreadyTaken(_("Another provider has already accepted this order."))
    return _order_refusal(order.status, action)


def _offer_refusal(current: str, action: str) -> DomainError:
    return OrderError(str(_OFFER_REFUSALS[OfferAction(action)]) % {"status": status_label(str(current))},
                      code="offer_not_pending")


def _offer_lost(offer: Offer, action: str) -> DomainError:
    if action == OfferAction.ACCEPT:
        return OrderError(_("Your organisation's offer is no longer open."), code="offer_not_pending")
    return _offer_refusal(offer.status, action)


_EVENT_COLUMNS = ("order_id", "at", "actor_id", "provider_id", "action", "from_status", "to_status", "note", "code",
                  "params")
_statements: dict[str, object] = {}


def insert_order_event(**values) -> None:
    """Write one timeline row at once as a Core ``INSERT`` on the session's connection
    (every column given, ``at`` defaulting to now) and note the webhook events it
    raises (``interop.events.note_order_event``), as a flushed ``OrderEvent`` would:
    nothing reads the row back as an object in the request, and the unit of work of
    one more object (its state, the flush's ordering, the identity map) cost more
    than the statement. The order's row must be written already (a state change's
    ``UPDATE``, a new order's flush)."""
    from interop.events import note_order_event

    stmt = _statements.get("event")
    if stmt is None:
        stmt = _statements["event"] = sa.insert(OrderEvent.__table__)
    row = dict.fromkeys(_EVENT_COLUMNS)
    row.update(values)
    if row["at"] is None:
        row["at"] = utcnow()
    session = db.session()
    session.connection().execute(stmt, row)
    note_order_event(session, row["action"], row["order_id"])


def _order_event(order_id, action, from_state, to_state, actor, note, params) -> None:
    insert_order_event(order_id=order_id, actor_id=getattr(actor, "id", None), provider_id=params.get("provider_id"),
                       action=action, from_status=from_state, to_status=to_state, note=note, code=params.get("code"),
                       params=params.get("code_params") if params.get("code") else None)


def _offer_event(offer_id, action, from_state, to_state, actor, note, params) -> None:
    """An offer's change on its order's timeline, when it carries a note (an
    acceptance is the order's own event; withdrawing the others after it, or on
    cancelling, is not listed)."""
    if note is None and params.get("code") is None:
        return
    order_id, provider_id = db.session.execute(
        sa.select(Offer.order_id, Offer.provider_id).where(Offer.id == offer_id)).one()
    status = db.session.scalar(sa.select(ServiceOrder.status).where(ServiceOrder.id == order_id))
    db.session.add(OrderEvent(order_id=order_id, actor_id=getattr(actor, "id", None), provider_id=provider_id,
                              action=action, from_status=status, to_status=status, note=note,
                              code=params.get("code"), params=params.get("code_params") if params.get("code") else None))


ORDER_MACHINE = StateMachine(ServiceOrder, ORDER_TRANSITIONS, event=_order_event, version_column="version",
                             refusal=_order_refusal, lost=_order_lost)

OFFER_MACHINE = StateMachine(Offer, OFFER_TRANSITIONS, event=_offer_event,
                             stamps={"accepted": "answered_at", "declined": "answered_at",
                                     "expired": "answered_at", "withdrawn": None},
                             refusal=_offer_refusal, lost=_offer_lost)


def transition(order: ServiceOrder, action: str, actor, note: str | None = None,
               event_provider_id: int | None = None, code: str | None = None, code_params: dict | None = None,
               **values) -> OrderStatus:
    """Apply ``action`` to ``order`` (``values``: further columns of the same UPDATE).
    ``note`` is what a person wrote; ``code`` and ``code_params`` what the system
    says about the step (``orders.texts``). The loser of a race gets
    IllegalTransition, or AlreadyTaken for a lost accept."""
    return OrderStatus(ORDER_MACHINE.apply(order, action, actor, note=note, values=values,
                                           params={"provider_id": event_provider_id, "code": code,
                                                   "code_params": code_params or {}}))


def timeline_event(order: ServiceOrder, action: str, actor, code: str, code_params: dict | None = None,
                   provider_id: int | None = None) -> None:
    """A timeline entry that does not change the order's status (visits, rounds),
    written by the system as a message code (``orders.texts``)."""
    db.session.add(OrderEvent(order_id=order.id, actor_id=getattr(actor, "id", None), provider_id=provider_id,
                              action=action, from_status=order.status, to_status=order.status, code=code,
                              params=code_params or {}))
