"""Who may see and do what with service vouchers, their service events and the
monthly settlements, in one place: the pages, the API, the templates and the
exports ask here.

- Guidance staff grant and close vouchers, place voucher-funded orders, and review
  service events (take under review, approve one by one or in bulk, refuse with a
  reason); they see every voucher.
- The client, and a relative acting for them with a mandate, see the client's own
  vouchers, balances and what each eligible provider would charge on top.
- A provider member sees the vouchers funding orders its organisation won, records
  service events on those orders, resubmits its refused events, corrects its
  settled ones, and downloads its own statements (its own line only).
- An administrator (the finance office) runs and pays the settlements, sets which
  services are free to the client, and sees every statement.
- Managers see the aggregated figures of the reports, never a voucher.
"""

from __future__ import annotations

from flask_babel import gettext as _

from clients import policy as client_policy
from core.access import Purpose
from core.errors import NotFoundError, PermissionDenied
from core.roles import Role
from vouchers.models import EventAction, EventStatus
from vouchers.states import EVENT_MACHINE

# What staff may do to an event; ``settle`` and ``pay`` belong to the settlement.
STAFF_EVENT_ACTIONS = {EventAction.REVIEW, EventAction.APPROVE, EventAction.REFUSE}
PROVIDER_EVENT_ACTIONS = {EventAction.RESUBMIT}
CORRECT = "correct"  # not a state move: a new event that replaces a settled one


def is_staff(user) -> bool:
    return user is not None and user.role == Role.STAFF


def is_admin(user) -> bool:
    return user is not None and user.role == Role.ADMIN


def is_provider(user) -> bool:
    return user is not None and user.role == Role.PROVIDER and user.provider_id is not None


def require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied(_("Only guidance staff can do this."), code="staff_only")


def require_admin(user) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("Only an administrator can do this."), code="admin_only")


def require_provider(user) -> None:
    if not is_provider(user):
        raise PermissionDenied(_("Only provider members can do this."), code="provider_only")


def sees_voucher(user, voucher, funded_provider_ids=()) -> bool:
    """Staff; the client or a relative acting for them; a provider whose
    organisation won an order the voucher funds (``funded_provider_ids``)."""
    if user is None:
        return False
    if is_staff(user):
        return True
    if user.role == Role.CLIENT:
        return client_policy.acts_for(user, voucher.client_id)
    if is_provider(user):
        return user.provider_id in set(funded_provider_ids)
    return False


def require_sees_voucher(user, voucher, funded_provider_ids=()) -> None:
    if not sees_voucher(user, voucher, funded_provider_ids):
        raise NotFoundError(_("Voucher not found."))


def access_purpose(user, client_id: int) -> str:
    """What is logged when ``user`` is shown the client of a voucher."""
    if is_staff(user):
        return Purpose.GUIDANCE
    if is_provider(user):
        return Purpose.SERVICE
    return client_policy.client_side_purpose(user, client_id)


def sees_event(user, event) -> bool:
    """Staff every event; a provider its own organisation's."""
    return is_staff(user) or is_admin(user) or (is_provider(user) and event.provider_id == user.provider_id)


def event_actions(user, event, correctable: bool = False) -> set[str]:
    """What ``user`` may do to ``event`` now (``correctable``: a settled event with
    no correction pending)."""
    if is_staff(user):
        actions = EVENT_MACHINE.actions(event) & {str(a) for a in STAFF_EVENT_ACTIONS}
        if correctable:
            actions.add(CORRECT)
        return actions
    if is_provider(user) and event.provider_id == user.provider_id:
        actions = EVENT_MACHINE.actions(event) & {str(a) for a in PROVIDER_EVENT_ACTIONS}
        if correctable:
            actions.add(CORRECT)
        return actions
    return set()


def may_correct(event) -> bool:
    return event.status in (EventStatus.SETTLED, EventStatus.PAID)


def sees_settlement(user) -> bool:
    """Admins every line; a provider member its own line."""
    return is_admin(user) or is_provider(user)


def sees_line(user, line) -> bool:
    return is_admin(user) or (is_provider(user) and line.provider_id == user.provider_id)


def order_voucher_link(order, user) -> str | None:
    """What an order's page links to about its voucher: ``voucher`` (staff, the
    client side), ``events`` (the winning provider records its events), or None."""
    if order.voucher_id is None or user is None:
        return None
    if is_staff(user) or (user.role == Role.CLIENT and client_policy.acts_for(user, order.client_id)):
        return "voucher"
    if is_provider(user) and order.provider_id == user.provider_id:
        return "events"
    return None
