"""One JSON shape per shop object, shared by the API and any export."""

from __future__ import annotations

from catalogue.money import vat_rate_label
from catalogue.serializers import provider_summary_json
from core.api import iso


def purchase_item_json(i, user=None) -> dict:
    return {"offering_id": i.offering_id, "description": i.description, "unit": i.unit, "quantity": i.quantity,
            "unit_price_cents": i.unit_price_cents, "vat_rate": float(vat_rate_label(i.vat_rate_bp)),
            "vat_cents": i.vat_cents, "total_cents": i.total_cents,
            "household_deduction_cents": i.household_deduction_cents}


def purchase_json(order, user=None) -> dict:
    return {
        "id": order.id, "number": order.number, "status": order.status,
        "provider": provider_summary_json(order.provider),
        "items": [purchase_item_json(i) for i in order.items],
        "total_cents": order.total_cents, "vat_cents": order.vat_cents,
        "household_deduction_cents": order.household_deduction_cents, "refunded_cents": order.refunded_cents,
        "currency": order.currency, "payment": {"method": order.payment_method},
        "buyer": {"name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone,
                  "address": order.buyer_address, "postal_code": order.buyer_postal_code},
        "desired_time": order.desired_time, "confirmed_time": order.confirmed_time, "message": order.message,
        "created_at": iso(order.created_at), "paid_at": iso(order.paid_at), "fulfilled_at": iso(order.fulfilled_at),
        "cancelled_at": iso(order.cancelled_at), "refunded_at": iso(order.refunded_at),
    }


def checkout_json(order, order_url: str, checkout_url: str | None, notices: list[str]) -> dict:
    """The answer to a checkout: the purchase made and where to pay for it."""
    return {
        "shop_order_id": order.id, "number": order.number, "order_url": order_url,
        "status": order.status, "total_cents": order.total_cents, "vat_cents": order.vat_cents,
        "household_deduction_cents": order.household_deduction_cents, "currency": order.currency,
        "payment": {"method": order.payment_method, **({"checkout_url": checkout_url} if checkout_url else {})},
        "notices": notices,
    }
