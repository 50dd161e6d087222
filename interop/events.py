"""Where webhook events come from: the rows the other domains already write.

Session hooks (installed once by ``install_event_hooks``) note, at each flush, the
new order events (accept, cancel, complete), offers sent to an organisation, shop
orders becoming paid, and staffing requests sent to an agency. When the transaction
commits, the organisations concerned that have an endpoint subscribed to the event
type each get a ``WebhookEvent`` and its fan-out job, in the same commit: a rolled
back change raises nothing, and no other domain has to call this package.
"""

from __future__ import annotations

from itertools import chain

import sqlalchemy as sa

from core.extensions import db
from interop import webhooks
from interop.models import WebhookEndpoint
from marketplace.models import ShopOrder, ShopOrderEvent
from orders.models import Offer, OfferStatus, OrderEvent, ServiceOrder
from staffing.models import StaffingRecipient

_KEY = "interop_webhook_events"
_BUSY = "interop_webhook_busy"
_ORDER_ACTIONS = {"accept": ("order.accepted", "order.taken"), "cancel": ("order.cancelled",),
                  "complete": ("order.completed",)}


def _note(session, type_: str, subject_id, provider_id=None) -> None:
    session.info.setdefault(_KEY, []).append((type_, subject_id, provider_id))


def note_order_event(session, action: str, order_id: int) -> None:
    """An order event written without the ORM (``orders.states.insert_order_event``):
    the webhook events it raises, noted as ``_after_flush`` notes a flushed one."""
    for type_ in _ORDER_ACTIONS.get(action, ()):
        _note(session, type_, order_id)


def _after_flush(session, flush_context) -> None:
    if session.info.get(webhooks.ENDPOINT_HINT) is not None and any(
            isinstance(obj, WebhookEndpoint) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info.pop(webhooks.ENDPOINT_HINT, None)  # an endpoint changed: ask again
    for obj in session.new:
        if isinstance(obj, OrderEvent):
            for type_ in _ORDER_ACTIONS.get(obj.action, ()):
                _note(session, type_, obj.order_id)
        elif isinstance(obj, Offer) and obj.sent_at is not None:
            _note(session, "order.offered", obj.order_id, obj.provider_id)
        elif isinstance(obj, ShopOrderEvent) and obj.to_status == "paid" and obj.from_status != "paid":
            _note(session, "shop_order.paid", obj.shop_order_id)
        elif isinstance(obj, StaffingRecipient):
            _note(session, "staffing_request.opened", obj.request_id, obj.provider_id)
    for obj in session.dirty:
        if isinstance(obj, Offer):
            history = sa.inspect(obj).attrs.sent_at.history
            if history.added and history.added[0] is not None and not any(history.deleted):
                _note(session, "order.offered", obj.order_id, obj.provider_id)


def _on_execute(state) -> None:
    """Bulk inserts of staffing recipients (the staffing fan-out writes them so);
    a bulk write of endpoints drops the transaction's answer of whether any is
    active."""
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table == "webhook_endpoints":
            state.session.info.pop(webhooks.ENDPOINT_HINT, None)
    if not state.is_insert or getattr(getattr(state.statement, "table", None), "name", None) != "staffing_recipients":
        return
    params = state.parameters
    for row in (params if isinstance(params, list) else [params or {}]):
        if row.get("request_id") and row.get("provider_id"):
            _note(state.session, "staffing_request.opened", row["request_id"], row["provider_id"])


def _targets(type_: str, subject_id: int, hint) -> set[int]:
    """The organisations an event concerns."""
    if hint is not None:
        return {hint}
    if type_ == "shop_order.paid":
        return {db.session.scalar(sa.select(ShopOrder.provider_id).where(ShopOrder.id == subject_id))}
    winner = db.session.scalar(sa.select(ServiceOrder.provider_id).where(ServiceOrder.id == subject_id))
    if type_ in ("order.accepted", "order.completed"):
        return {winner}
    sent = sa.select(Offer.provider_id).where(Offer.order_id == subject_id, Offer.sent_at.is_not(None))
    if type_ == "order.taken":
        return set(db.session.scalars(sent.where(Offer.provider_id != winner))) if winner else set()
    if type_ == "order.cancelled":
        if winner:
            return {winner}
        return set(db.session.scalars(sent.where(Offer.status.in_([OfferStatus.PENDING, OfferStatus.WITHDRAWN]))))
    return set()


def _before_commit(session) -> None:
    if session.info.get(_BUSY):
        return
    session.info[_BUSY] = True
    try:
        session.flush()
        found = session.info.pop(_KEY, None)
        if not found or not webhooks.any_active_endpoint(session):
            return
        for type_, subject_id, hint in dict.fromkeys(found):
            targets = webhooks.subscribed_providers(type_, _targets(type_, subject_id, hint))
            for provider_id in sorted(targets):
                webhooks.new_event(type_, provider_id, subject_id)
    finally:
        session.info.pop(_BUSY, None)


def _after_rollback(session) -> None:
    session.info.pop(_KEY, None)


def _transaction_end(session, transaction) -> None:
    if transaction.parent is None:  # the answer read in the transaction is for it only
        session.info.pop(webhooks.ENDPOINT_HINT, None)


def install_event_hooks() -> None:
    session_class = db.session.session_factory.class_
    for name, hook in (("after_flush", _after_flush), ("before_commit", _before_commit),
                       ("do_orm_execute", _on_execute), ("after_transaction_end", _transaction_end)):
        if not sa.event.contains(session_class, name, hook):
            sa.event.listen(session_class, name, hook)
    if not sa.event.contains(session_class, "after_soft_rollback", _soft_rollback):
        sa.event.listen(session_class, "after_soft_rollback", _soft_rollback)


def _soft_rollback(session, previous_transaction) -> None:
    _after_rollback(session)
