"""Who may see what of an order and who may act on it: the one place the web
pages, the API, the templates and the serializers ask.

- ``sees_identity``: the client's name and address: staff, the client, the
  winning provider (a provider that was only offered the order sees the postal
  code and languages it needs to decide); the winner's access ends
  ``PROVIDER_IDENTITY_DAYS`` (default 30) after the order was closed or cancelled,
  after which the order shows without identity;
- ``shows_contact``: address and phone, the clients' non-disclosure rule with the
  serving provider (the winner of an accepted or running order);
- ``allowed_actions``: the buttons the user gets, from the state machines and the
  roles; the services check the same rules with ``require_*``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from clients import policy as client_policy
from accounts.models import ProviderRole
from core.access import Purpose
from core.db import utcnow
from core.errors import NotFoundError, PermissionDenied
from core.roles import Role
from core.time import local_today
from orders.models import OfferAction, OfferStatus, OrderAction, OrderStatus, ServiceOrder
from orders.states import OFFER_MACHINE, ORDER_MACHINE

SERVING_STATES = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)


def is_staff(user) -> bool:
    return user is not None and user.role == Role.STAFF


def is_winner(order: ServiceOrder, user) -> bool:
    return (user is not None and user.role == Role.PROVIDER and order.provider_id is not None
            and order.provider_id == user.provider_id)


def winner_access_ended(order: ServiceOrder, now=None) -> bool:
    """The order was closed or cancelled more than ``PROVIDER_IDENTITY_DAYS`` ago:
    its provider no longer needs to know who the client is."""
    field = {OrderStatus.CLOSED: "closed_at", OrderStatus.CANCELLED: "cancelled_at"}.get(order.status)
    ended_at = getattr(order, field, None) if field else None
    if ended_at is None:
        return False
    days = current_app.config.get("PROVIDER_IDENTITY_DAYS", 30)
    return (now or utcnow()) - ended_at > timedelta(days=days)


def sees_identity(order: ServiceOrder, user) -> bool:
    """Staff, the client (``scope_orders`` shows a client only their own orders) and
    the winning provider, until its access ends (``winner_access_ended``)."""
    if user is None:
        return False
    return user.role in (Role.STAFF, Role.CLIENT) or (is_winner(order, user) and not winner_access_ended(order))


def shows_contact(order: ServiceOrder, user) -> bool:
    return client_policy.shows_contact(order.client, user,
                                       serving_provider=is_winner(order, user) and order.status in SERVING_STATES)


def is_ongoing(order: ServiceOrder) -> bool:
    """No end date, or the end date is still ahead: visits are still planned, so
    completing it now ends the service early."""
    return order.end_date is None or order.end_date > local_today()


def may_complete(order: ServiceOrder, user) -> bool:
    """The winning organisation's administrators, or every member of it when the
    organisation allows that (``Provider.completion_by == "members"``)."""
    if not is_winner(order, user):
        return False
    if user.provider_role == ProviderRole.ADMIN:
        return True
    provider = order.provider
    return provider is not None and provider.completion_by == "members"


def sees_concerns(order: ServiceOrder, user) -> bool:
    """The text of concerns: staff, and the winning provider (the concerns its own
    members raised). The client and relatives never."""
    return is_staff(user) or is_winner(order, user)


def shows_feedback_link(order: ServiceOrder, user) -> bool:
    """Staff read the one-time feedback link out to a client without e-mail."""
    return is_staff(user) and order.status in (OrderStatus.COMPLETED, OrderStatus.CLOSED)


def access_purpose(user) -> str:
    """The purpose logged when ``user`` is shown a client on an order."""
    return {Role.STAFF: Purpose.ORDERING, Role.PROVIDER: Purpose.SERVICE}.get(user.role, Purpose.OWN_DATA)


def my_offer(order: ServiceOrder, user):
    """The offer made to the user's provider organisation, if any."""
    if user is None or user.role != Role.PROVIDER:
        return None
    return next((o for o in order.offers if o.provider_id == user.provider_id), None)


def allowed_actions(order: ServiceOrder, user, my_offer=None) -> set[str]:
    """What ``user`` may do on ``order`` now: a subset of accept, decline, visit,
    complete, close, cancel, reoffer."""
    actions: set[str] = set()
    state = order.status
    if user is None:
        return actions
    if (my_offer is not None and my_offer.sent_at is not None and my_offer.status == OfferStatus.PENDING
            and user.role == Role.PROVIDER and my_offer.provider_id == user.provider_id):
        if ORDER_MACHINE.can(state, OrderAction.ACCEPT) and OFFER_MACHINE.can(my_offer.status, OfferAction.ACCEPT):
            actions |= {"accept", "decline"}
    if is_winner(order, user):
        # A visit starts an accepted order and is reported on a running one.
        if ORDER_MACHINE.can(state, OrderAction.START) or ORDER_MACHINE.can(state, OrderAction.COMPLETE):
            actions.add("visit")
        if ORDER_MACHINE.can(state, OrderAction.COMPLETE) and may_complete(order, user):
            actions.add("complete")
    if is_staff(user):
        actions |= {a for a in ("close", "cancel", "reoffer") if ORDER_MACHINE.can(state, a)}
    return actions


# -- the same rules, enforced by the services ----------------------------------------

def require_staff(actor) -> None:
    if not is_staff(actor):
        raise PermissionDenied("Only guidance staff can do this.")


def require_provider(actor) -> None:
    if actor is None or actor.role != Role.PROVIDER:
        raise PermissionDenied("Only provider members can do this.")


def require_may_complete(actor, order: ServiceOrder) -> None:
    if not may_complete(order, actor):
        raise PermissionDenied(_("Only your organisation's administrators can complete orders. "
                                 "An administrator can allow every member to do it."))


def require_winner(actor, order: ServiceOrder) -> None:
    require_provider(actor)
    if order.provider_id != actor.provider_id:
        raise NotFoundError(_("Order not found."))
