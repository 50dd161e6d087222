"""Client jobs: the periodic sweeps (segment check-ups, retention) and the e-mails
about handovers, access, messages and erasure. Each takes ids, reloads its rows,
does nothing when the state has moved on, and sends each e-mail at most once
(``dedupe_key``). No e-mail names the client or holds their address or phone:
they say what happened and link to the page behind the login."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
from clients import erasure, follow_ups, relatives
from clients.models import Client, ClientEvent, ClientEventAction, ClientRepresentative, MandateScope, Message
from clients.scopes import mandate_in_force
from core.extensions import db
from core.mail import language_of, send_templated
from core.urls import absolute_url
from providers.models import Provider


def sweep_segment_checks() -> int:
    """Periodic: open the check-up follow-ups that clients' segments call for."""
    return follow_ups.sweep_segment_checks()


def sweep_retention() -> int:
    """Periodic: flag records past the retention period for an erasure decision."""
    return erasure.sweep_retention()


def _client_side_addresses(client: Client, scope: str = MandateScope.SERVICES) -> list[tuple[str, str, bool]]:
    """(e-mail, language, own) of everyone on the client's side: the client's own
    active logins (``own``) and the logins of relatives whose mandate is in force and
    covers ``scope`` (not ``own``: the e-mail speaks to them about "a person you act
    for"); the record's e-mail when nobody has a login."""
    users = db.session.scalars(sa.select(User).where(User.active.is_(True), sa.or_(
        User.client_id == client.id,
        User.id.in_(sa.select(ClientRepresentative.user_id).where(
            ClientRepresentative.client_id == client.id, *mandate_in_force(scope))))
    ).order_by(User.id)).all()
    addresses = {}
    for u in users:
        addresses.setdefault((u.email, u.language), u.client_id == client.id)
    if not addresses and client.email:
        addresses[(client.email, language_of(client.languages))] = True
    return [(email, language, own) for (email, language), own in addresses.items()]


def send_handover_notifications(event_id: int) -> str:
    """To the client (if they have e-mail): your responsible worker changed, with
    the new worker's name; to the new worker: a client was handed over to you."""
    event = db.session.get(ClientEvent, event_id)
    if event is None or event.action != ClientEventAction.HANDOVER:
        return "skipped"
    client = db.session.get(Client, event.client_id)
    if client is None or client.erased_at is not None or client.responsible_worker_id is None:
        return "skipped"
    worker = db.session.get(User, client.responsible_worker_id)
    for address, language, own in _client_side_addresses(client):
        send_templated(address, "clients/email/handover_client.txt", language, f"handover:{event.id}:{address}",
                       worker=worker, own=own, url=absolute_url("clients.my_network", client=client.id))
    send_templated(worker.email, "clients/email/handover_worker.txt", worker.language,
                   f"handover-worker:{event.id}", url=absolute_url("clients.detail", client_id=client.id))
    return "sent"


def send_access_notification(user_id: int, client_id: int, new_login: bool) -> str:
    """To a client or relative given access: a link to choose a password (a new
    login) or a note that they can now act for the client (an existing login)."""
    user = db.session.get(User, user_id)
    client = db.session.get(Client, client_id)
    if user is None or not user.active or user.role != Role.CLIENT or client is None or client.erased_at is not None:
        return "skipped"
    own = user.client_id == client.id
    if new_login:
        url = absolute_url("clients.accept_invitation", token=relatives.invitation_token(user))
        send_templated(user.email, "clients/email/invitation.txt", user.language,
                       f"client-invitation:{user.id}:{client.id}:{user.session_version}", url=url, own=own)
    else:
        send_templated(user.email, "clients/email/access_given.txt", user.language,
                       f"client-access:{user.id}:{client.id}", url=absolute_url("core.dashboard", client=client.id))
    return "sent"


def send_message_notifications(message_id: int) -> str:
    """Tell the recipients of a message that they have one, with a link; never
    the message itself."""
    message = db.session.get(Message, message_id)
    if message is None:
        return "skipped"
    client = db.session.get(Client, message.client_id)
    if client is None or client.erased_at is not None:
        return "skipped"
    sender = db.session.get(User, message.sender_id)
    if sender is not None and sender.role == Role.CLIENT:
        if message.to_provider_id:
            provider = db.session.get(Provider, message.to_provider_id)
            from orders.models import ServiceOrder

            order = db.session.get(ServiceOrder, message.order_id) if message.order_id else None
            send_templated(provider.email, "clients/email/message_provider.txt", language_of(provider.languages),
                           f"message:{message.id}:provider", number=order.number if order else "",
                           url=absolute_url("orders.detail", order_id=message.order_id) if order else
                           absolute_url("core.dashboard"))
        elif message.to_user_id:
            worker = db.session.get(User, message.to_user_id)
            send_templated(worker.email, "clients/email/message_staff.txt", worker.language, f"message:{message.id}:staff",
                           url=absolute_url("clients.detail", client_id=client.id, _anchor="messages-h"))
        return "sent"
    url = (absolute_url("orders.detail", order_id=message.order_id, _anchor="messages-h") if message.order_id
           else absolute_url("clients.my_messages", client=client.id))
    for address, language, own in _client_side_addresses(client, MandateScope.MESSAGES):
        send_templated(address, "clients/email/message_client.txt", language, f"message:{message.id}:{address}",
                       url=url, own=own)
    return "sent"


def send_erasure_request_notification(client_id: int) -> str:
    """To the responsible worker: a client asked for erasure; decide."""
    client = db.session.get(Client, client_id)
    if client is None or client.erasure_requested_at is None or client.responsible_worker_id is None:
        return "skipped"
    worker = db.session.get(User, client.responsible_worker_id)
    send_templated(worker.email, "clients/email/erasure_requested.txt", worker.language,
                   f"erasure-request:{client.id}:{client.erasure_requested_at.isoformat()}",
                   url=absolute_url("clients.detail", client_id=client.id))
    return "sent"


def send_erasure_declined_notification(event_id: int) -> str:
    """To the client: the erasure request was answered; read the answer in Kotiapu."""
    event = db.session.get(ClientEvent, event_id)
    if event is None or event.action != ClientEventAction.ERASURE_DECLINED:
        return "skipped"
    client = db.session.get(Client, event.client_id)
    if client is None or client.erased_at is not None:
        return "skipped"
    own = db.session.scalars(sa.select(User).where(User.client_id == client.id, User.active.is_(True))).all()
    addresses = [(u.email, u.language) for u in own] or (
        [(client.email, language_of(client.languages))] if client.email else [])
    for address, language in addresses:
        send_templated(address, "clients/email/erasure_declined.txt", language, f"erasure-declined:{event.id}:{address}",
                       url=absolute_url("clients.my_data", client=client.id))
    return "sent"


# -- concerns ------------------------------------------------------------------

def _concern_mail_context(concern_id: int):
    from clients.models import Concern
    from orders.models import ServiceOrder

    concern = db.session.get(Concern, concern_id)
    if concern is None:
        return None
    order = db.session.get(ServiceOrder, concern.order_id) if concern.order_id else None
    provider = db.session.get(Provider, concern.provider_id) if concern.provider_id else None
    reporter = db.session.get(User, concern.reported_by_id) if concern.reported_by_id else None
    url = absolute_url("orders.detail", order_id=order.id) if order else absolute_url("core.dashboard")
    return {"concern": concern, "order": order, "provider": provider, "reporter": reporter, "url": url}


def send_concern_alert(concern_id: int) -> str:
    """To the client's responsible worker at once (else the staff member who placed
    the order): the concern's text, urgency, who raised it and when, in the
    worker's language. The client is not named."""
    context = _concern_mail_context(concern_id)
    if context is None:
        return "skipped"
    client = db.session.get(Client, context["concern"].client_id)
    worker_id = client.responsible_worker_id or (context["order"].ordered_by_id if context["order"] else None)
    worker = db.session.get(User, worker_id) if worker_id else None
    if worker is None or not worker.active:
        return "skipped"
    send_templated(worker.email, "clients/email/concern.txt", worker.language, f"concern:{concern_id}", **context)
    return "sent"


def send_concern_escalation(concern_id: int, user_id: int) -> str:
    """To one of the other staff of the client's area: an urgent concern was not
    acknowledged in time."""
    context = _concern_mail_context(concern_id)
    user = db.session.get(User, user_id)
    if context is None or user is None or not user.active or context["concern"].escalated_at is None:
        return "skipped"
    from clients.concerns import ack_hours

    send_templated(user.email, "clients/email/concern_escalated.txt", user.language,
                   f"concern-escalated:{concern_id}:{user_id}", hours=f"{ack_hours():g}", **context)
    return "sent"


def check_concern_acknowledged(concern_id: int) -> int:
    """Scheduled at an urgent concern's deadline: escalate it if still not
    acknowledged (nothing when it was, or when it is already escalated)."""
    from clients.concerns import escalate_overdue_concerns

    return escalate_overdue_concerns(concern_id=concern_id)


def escalate_overdue_concerns() -> int:
    """Periodic safety net for deadlines whose scheduled check was lost."""
    from clients.concerns import escalate_overdue_concerns as sweep

    return sweep()
