"""One JSON shape per catalogue object, shared by the API and any export."""

from __future__ import annotations

from catalogue.money import CURRENCY, vat_rate_label
from catalogue.quotes import price_quote


def provider_summary_json(p, user=None) -> dict:
    """The public summary of a provider shown with its offerings and purchases."""
    return {"id": p.id, "name": p.name, "kind": p.kind, "business_id": p.business_id,
            "rating": {"average": p.rating_average, "count": p.rating_count}}


def service_type_json(t, user=None) -> dict:
    return {"id": t.id, "name": t.name(), "category": t.category.name(), "category_id": t.category_id,
            "self_paid_allowed": t.self_paid_allowed}


def offering_json(o, user=None) -> dict:
    return {
        "id": o.id, "provider_id": o.provider_id, "provider": provider_summary_json(o.provider),
        "service_type_id": o.service_type_id, "service_type": o.service_type.name(),
        "postal_codes": o.postal_codes, "languages": list(o.languages or []), "unit": o.unit,
        "price_cents": o.price_cents, "currency": CURRENCY,
        "vat_rate": float(vat_rate_label(o.vat_rate_bp)), "self_paid": o.self_paid,
        "household_deduction": o.household_deduction, "labour_share_percent": o.labour_share_percent,
        "description": o.description, "active": o.active,
        "price_quote": price_quote(o) if o.self_paid else None,
    }
