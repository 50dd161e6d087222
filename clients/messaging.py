"""Messages in a client's thread (kept with an order when given) and their
read marks."""

from __future__ import annotations


import sqlalchemy as sa

from accounts.models import Role, User
from clients import jobs, policy
from clients.base import ACTIVE_ORDER_STATES, MESSAGE_MAX, _, clean_text, live_client
from clients.models import MandateScope, Message
from core.access import Purpose, record_access
from core.db import utcnow
from core.errors import NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from orders.models import ServiceOrder


def _message_body(body, errors: dict) -> str:
    body = clean_text(body, errors, "body", MESSAGE_MAX, required=True)
    return body or ""


def send_message(actor, client_id: int, body: str, *, to: str = "worker", order_id: int | None = None) -> Message:
    """Send a message in a client's thread; kept with the order when ``order_id`` is
    given. The client side (the client or a relative) writes to the responsible
    worker (``to="worker"``) or to the provider of an active order
    (``to="provider"``); staff and the winning provider write to the client
    (``to="client"``). The recipients get an e-mail that only says there is a new
    message, with a link. Raises ValidationFailed, NotFoundError, PermissionDenied."""
    errors: dict[str, list[str]] = {}
    body = _message_body(body, errors)
    order = None
    if order_id is not None:
        order = db.session.get(ServiceOrder, order_id) if isinstance(order_id, int) else None
        if order is None or order.client_id != client_id:
            raise NotFoundError(_("Order not found."))
    if actor.role == Role.CLIENT:
        policy.require_client_side(actor, client_id, MandateScope.MESSAGES)
        client = live_client(client_id)
        if to == "worker":
            if client.responsible_worker_id is None:
                raise ValidationFailed(_("You have no responsible worker yet. Call the guidance office."),
                                       code="no_worker", fields={"to": [_("No responsible worker.")]})
            target = {"to_user_id": client.responsible_worker_id}
        elif to == "provider":
            if order is None or order.provider_id is None or order.status not in ACTIVE_ORDER_STATES + ("completed",):
                raise ValidationFailed(_("Choose a service whose provider you want to write to."),
                                       fields={"to": [_("This service has no provider to write to.")]})
            target = {"to_provider_id": order.provider_id}
        else:
            raise ValidationFailed(_("Choose who the message is for."), fields={"to": [_("Choose a recipient.")]})
        purpose = policy.client_side_purpose(actor, client.id)
    elif actor.role == Role.STAFF:
        client = live_client(client_id)
        target = {"to_user_id": _client_login_id(client.id)}
        purpose = Purpose.GUIDANCE
    elif actor.role == Role.PROVIDER:
        if order is None or order.provider_id != actor.provider_id \
                or order.status not in ACTIVE_ORDER_STATES + ("completed",):
            raise NotFoundError(_("Order not found."))
        client = live_client(client_id)
        target = {"to_user_id": _client_login_id(client.id)}
        purpose = Purpose.SERVICE
    else:
        raise PermissionDenied(_("Your role cannot send messages to clients."))
    if errors:
        raise ValidationFailed(_("Write the message."), fields=errors)
    message = Message(client_id=client.id, order_id=order.id if order else None, sender_id=actor.id, body=body,
                      **target)
    db.session.add(message)
    db.session.flush()
    record_access(client.id, "change", purpose, what="message", actor=actor)
    enqueue(jobs.send_message_notifications, message.id, queue="mail")
    return message


def _client_login_id(client_id: int) -> int | None:
    return db.session.scalar(sa.select(User.id).where(User.client_id == client_id, User.active.is_(True))
                             .order_by(User.id).limit(1))


def mark_messages_read(actor, client_id: int, order_id: int | None = None) -> int:
    """Stamp ``read_at`` on the messages of the client's thread addressed to the
    actor's side (the client side: from staff or providers; a staff member: to
    them). No access-log row: the page that shows them writes it."""
    if actor.role == Role.CLIENT:
        recipient = None
    elif actor.role == Role.STAFF:
        recipient = actor.id
    elif actor.role == Role.PROVIDER:
        recipient = actor.provider_id
    else:
        return 0
    if actor.role != Role.CLIENT and recipient is None:
        return 0  # addressed to nobody: nothing is the actor's to read
    # (An UPDATE's parameters may not be named as its columns.)
    params = {"b_client_id": client_id, "b_now": utcnow(), "b_order_id": order_id, "b_recipient": recipient}
    return db.session.execute(_read_statement(actor.role, order_id is not None), params).rowcount


_read_statements: dict = {}  # (role, by order): the UPDATE, built once


def _read_statement(role: str, by_order: bool) -> sa.Update:
    """The UPDATE of ``mark_messages_read`` with bound parameters, built at first use
    (building it cost as much as running it; at import it would configure the
    mappers before the forking worker means to, core.worker.prepare_to_fork)."""
    stmt = _read_statements.get((role, by_order))
    if stmt is not None:
        return stmt
    recipient = sa.bindparam("b_recipient", type_=sa.Integer)
    stmt = sa.update(Message).where(Message.client_id == sa.bindparam("b_client_id", type_=sa.Integer),
                                    Message.read_at.is_(None))
    if by_order:
        stmt = stmt.where(Message.order_id == sa.bindparam("b_order_id", type_=sa.Integer))
    if role == Role.CLIENT:
        stmt = stmt.where(Message.sender_id.not_in(sa.select(User.id).where(User.role == Role.CLIENT)))
    elif role == Role.STAFF:
        stmt = stmt.where(Message.to_user_id == recipient)
    else:
        stmt = stmt.where(Message.to_provider_id == recipient)
    stmt = (stmt.values(read_at=sa.bindparam("b_now", type_=Message.read_at.type))
            .execution_options(synchronize_session=False))
    _read_statements[(role, by_order)] = stmt
    return stmt


def unread_message_count(user) -> int:
    """Unread messages addressed to a staff member (for a dashboard badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.to_user_id == user.id, Message.read_at.is_(None))) or 0
