"""Reading a purchase: who may open it (the buyer by login or by the link's token,
the provider, admin), the link itself, the lists and the event history."""

from __future__ import annotations

import base64
import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from marketplace.scopes import scope_shop_orders
from clients.policy import client_side_purpose
from core.access import Purpose, record_access, record_access_many
from core.errors import NotFoundError
from core.extensions import db
from core.roles import Role
from core.urls import absolute_url
from marketplace.models import ShopOrder, ShopOrderEvent


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token(order: ShopOrder) -> str:
    """The secret of the purchase's link, derived from SECRET_KEY and the row (only its
    SHA-256 is stored), so that every e-mail about the purchase can carry the link."""
    key = current_app.config["SECRET_KEY"].encode()
    stamp = order.created_at.isoformat()
    mac = hmac.new(key, f"shop-order:{order.id}:{stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def order_url(order: ShopOrder, endpoint: str = "marketplace.order", **values) -> str | None:
    """The absolute link a buyer (also a guest) follows the purchase with; None when
    the stored hash is not one this server derives (e.g. SECRET_KEY was rotated)."""
    token = access_token(order)
    if not hmac.compare_digest(token_hash(token), order.access_token_hash):
        return None
    return absolute_url(endpoint, order_id=order.id, token=token, **values)


def get_order_with_token(order_id: int, token: str | None) -> ShopOrder:
    """A purchase for whoever holds its link's token; 404 for anything else."""
    order = db.session.get(ShopOrder, order_id)
    if order is None or not token or len(token) > 200 \
            or not hmac.compare_digest(token_hash(token), order.access_token_hash):
        raise NotFoundError(_("No such purchase."))
    return order


def get_order_for(actor, order_id: int) -> ShopOrder:
    """A purchase the logged-in user may see (the buyer, the provider, admin); 404
    otherwise. A provider's or admin's view of a client's purchase is access-logged."""
    order = db.session.scalar(scope_shop_orders(sa.select(ShopOrder).where(ShopOrder.id == order_id), actor))
    if order is None:
        raise NotFoundError(_("No such purchase."))
    if order.client_id is not None and actor.role in (Role.PROVIDER, Role.ADMIN):
        record_access(order.client_id, "view", Purpose.SERVICE if actor.role == Role.PROVIDER else Purpose.ORDERING,
                      what=f"purchase {order.number}: contact details", actor=actor)
    return order


def find_order(actor, order_id: int, token: str | None) -> tuple[ShopOrder, bool]:
    """The purchase by login or by link token; returns it and whether the viewer is
    its buyer. 404 when neither gives access."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        try:
            order = get_order_for(actor, order_id)
            return order, actor.role == Role.CLIENT
        except NotFoundError:
            if not token:
                raise
    return get_order_with_token(order_id, token), True


def list_purchases(actor, *, status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[ShopOrder], bool]:
    """Purchases the user may see, newest first (provider: its own; client: theirs)."""
    stmt = scope_shop_orders(sa.select(ShopOrder), actor).options(sa.orm.selectinload(ShopOrder.items))
    if status:
        stmt = stmt.where(ShopOrder.status == status)
    stmt = stmt.order_by(ShopOrder.created_at.desc(), ShopOrder.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    rows = list(db.session.scalars(stmt))
    rows, has_next = rows[:per_page], len(rows) > per_page
    # The list shows each buyer's name: a read of the client's data when the buyer is a client.
    if actor.role == Role.CLIENT:  # own rows and, under a mandate, the represented clients' (both persons logged)
        for client_id in sorted({o.client_id for o in rows if o.client_id is not None}):
            record_access(client_id, "list", client_side_purpose(actor, client_id),
                          what="buyer's name in the purchase list", actor=actor)
        return rows, has_next
    purpose = Purpose.SERVICE if actor.role == Role.PROVIDER else Purpose.ORDERING
    record_access_many([o.client_id for o in rows if o.client_id is not None], "list", purpose,
                       what="buyer's name in the purchase list", actor=actor)
    return rows, has_next


def record_buyer_view(actor, order: ShopOrder) -> None:
    """The buyer's own purchase page shows their name and address: logged as the
    client viewing their own data (by login, or by the link's token: the system)."""
    if order.client_id is not None:
        purpose = client_side_purpose(actor, order.client_id) \
            if actor is not None and getattr(actor, "is_authenticated", False) and actor.role == Role.CLIENT \
            else Purpose.OWN_DATA
        record_access(order.client_id, "view", purpose, what=f"purchase {order.number}: name and address", actor=actor)


def order_events(order: ShopOrder) -> list[ShopOrderEvent]:
    return list(db.session.scalars(sa.select(ShopOrderEvent).where(ShopOrderEvent.shop_order_id == order.id)
                                   .order_by(ShopOrderEvent.at, ShopOrderEvent.id)))


