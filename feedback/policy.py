"""Who may act on feedback: the one place for these rules. Services enforce them,
views and templates ask them (templates receive the allowed ``actions``).

- the provider organisation the item is about writes its one public response;
- administrators hide an item (with a reason) and publish it again;
- guidance staff record feedback a client gave by phone, on a completed order that
  has none yet.
"""

from __future__ import annotations

from accounts.models import Role
from orders.models import OrderStatus
from providers.models import ProviderStatus

RESPOND, HIDE, UNHIDE, RECORD_BY_PHONE = "respond", "hide", "unhide", "record_by_phone"
FEEDBACK_ORDER_STATUSES = (OrderStatus.COMPLETED, OrderStatus.CLOSED)


def _role(user):
    return getattr(user, "role", None) if getattr(user, "is_authenticated", True) else None


def is_provider_of(user, feedback) -> bool:
    """The user belongs to the provider organisation the item is about."""
    return _role(user) == Role.PROVIDER and feedback.provider_id == user.provider_id


def may_respond(user, feedback) -> bool:
    return is_provider_of(user, feedback) and feedback.response is None


def may_moderate(user) -> bool:
    return _role(user) == Role.ADMIN


def may_record_by_phone(user) -> bool:
    return _role(user) == Role.STAFF


def order_takes_feedback(order) -> bool:
    """Feedback is given on a completed (or closed) order."""
    return order.status in FEEDBACK_ORDER_STATUSES


def actions(user, feedback) -> set[str]:
    """What ``user`` may do with one feedback item now."""
    allowed = set()
    if may_respond(user, feedback):
        allowed.add(RESPOND)
    if may_moderate(user):
        allowed.add(UNHIDE if feedback.hidden_at is not None else HIDE)
    return allowed


def actions_by_item(user, items) -> dict[int, set[str]]:
    return {f.id: actions(user, f) for f in items}


def order_actions(user, order, feedback) -> set[str]:
    """What ``user`` may do about an order's feedback (staff pages)."""
    if feedback is None and may_record_by_phone(user) and order_takes_feedback(order):
        return {RECORD_BY_PHONE}
    return set()


def shows_feedback_of(provider) -> bool:
    """A provider's published feedback is public while it is (or was) approved."""
    return provider is not None and provider.status in (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED)
