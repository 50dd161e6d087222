"""Who may act on a purchase, in one place: the buyer (by login or the link's
token), the provider organisation that sells it, and admin. Views, the API and the
templates call these; templates receive ``purchase_actions(...)`` as ``actions``."""

from __future__ import annotations

from flask_babel import gettext as _

from core.errors import NotFoundError
from core.roles import Role
from marketplace.models import ShopAction, ShopOrderStatus
from marketplace.states import PURCHASES

# What the provider's purchase page offers, and what the buyer's page offers.
MANAGER_ACTIONS = ("confirm_time", "fulfil", "mark_paid", "cancel", "refund")
BUYER_ACTIONS = ("pay", "cancel")


def can_manage(user, order) -> bool:
    """Admin, or a member of the provider organisation that sells the purchase."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.role == Role.ADMIN or (user.role == Role.PROVIDER and user.provider_id == order.provider_id)


def require_manager(user, order) -> None:
    """404 (saying nothing more) for anyone who does not manage the purchase."""
    if not can_manage(user, order):
        raise NotFoundError(_("No such purchase."))


def manager_actions(order) -> set[str]:
    """What the seller (or admin) can do with the purchase in its state now."""
    status, invoice = order.status, order.payment_method == "invoice"
    allowed = set()
    if status in (ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.PAID):
        allowed |= {"confirm_time", "cancel"}
    if PURCHASES.can(status, ShopAction.FULFIL) and (invoice or status != ShopOrderStatus.PENDING_PAYMENT):
        allowed.add("fulfil")
    if invoice and order.paid_at is None and status in (ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.FULFILLED):
        allowed.add("mark_paid")
    if PURCHASES.can(status, ShopAction.REFUND) and order.paid_at is not None \
            and order.total_cents - order.refunded_cents > 0:
        allowed.add("refund")
    return allowed


def buyer_actions(order) -> set[str]:
    """What the buyer can do: pay a card purchase or cancel while it waits for payment."""
    if order.status != ShopOrderStatus.PENDING_PAYMENT:
        return set()
    return {"cancel"} | ({"pay"} if order.payment_method == "card" else set())


def purchase_actions(user, order, *, is_buyer: bool = False) -> set[str]:
    """The actions the page shows ``user``: the buyer's, or the seller's/admin's."""
    if is_buyer:
        return buyer_actions(order)
    return manager_actions(order) if can_manage(user, order) else set()
