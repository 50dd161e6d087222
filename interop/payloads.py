"""The ``data`` of a webhook event: the object as the receiving organisation sees it
through the API, built with the API's own scopes, policy and serializers. A provider
organisation that has not won an order sees no client identity, exactly as in
``GET /orders/{id}``."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from core.errors import NotFoundError
from core.extensions import db
from core.roles import Role
from marketplace.models import ShopOrder
from marketplace.scopes import scope_shop_orders
from marketplace.serializers import purchase_json
from orders import policy as order_policy
from orders import services as order_services
from orders.serializers import order_json
from staffing.models import StaffingRecipient, StaffingRequest
from staffing.serializers import request_json


@dataclass(frozen=True)
class Organisation:
    """The receiving organisation in the place of a user: a provider member who is
    nobody in particular (no personal grants, no administrator rights)."""

    provider_id: int
    role: str = Role.PROVIDER
    id: None = None
    client_id: None = None
    provider_role: None = None
    name: str = ""
    is_authenticated: bool = True


def event_data(event) -> tuple[dict, int | None] | None:
    """``(data, client id shown or None)``, or None when the organisation may no
    longer see the subject."""
    viewer = Organisation(provider_id=event.provider_id)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        if event.type.startswith("order."):
            try:
                order = order_services.visible_order(viewer, event.subject_id)
            except NotFoundError:
                return None
            identity = order_policy.sees_identity(order, viewer)
            return {"order": order_json(order, viewer, identity)}, (order.client_id if identity else None)
        if event.type == "shop_order.paid":
            shop = db.session.scalar(scope_shop_orders(sa.select(ShopOrder).where(ShopOrder.id == event.subject_id),
                                                       viewer))
            if shop is None:
                return None
            return {"shop_order": purchase_json(shop, viewer)}, shop.client_id
        if event.type == "staffing_request.opened":
            sent = db.session.scalar(sa.select(StaffingRecipient.id).where(
                StaffingRecipient.request_id == event.subject_id, StaffingRecipient.provider_id == event.provider_id))
            req = db.session.get(StaffingRequest, event.subject_id) if sent else None
            if req is None:
                return None
            return {"staffing_request": request_json(req, viewer, with_offers=False)}, None
    return None
