"""The shop's part of the provider dashboard (registered in ``marketplace.init_app``)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.scopes import scope_shop_orders
from core.extensions import db
from marketplace.models import ShopOrder, ShopOrderStatus


def provider_section(user) -> dict:
    """Purchases waiting for the provider: paid, or ordered on invoice."""
    open_purchases = scope_shop_orders(sa.select(ShopOrder), user).where(sa.or_(
        ShopOrder.status == ShopOrderStatus.PAID,
        sa.and_(ShopOrder.status == ShopOrderStatus.PENDING_PAYMENT, ShopOrder.payment_method == "invoice")))
    return {"purchases": db.session.scalars(open_purchases.order_by(ShopOrder.created_at).limit(10)).all()}
