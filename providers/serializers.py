"""One JSON shape per provider object, shared by the API and any export.

``provider_item_json`` is a provider in a list; ``provider_json`` the full
object (``GET /providers/{id}``, ``POST /providers``). ``user`` is whoever reads it:
the shape is the same for everyone today (only visible providers reach here, see
``providers.policy.can_view``), the argument is there so a later rule needs no new
signature."""

from __future__ import annotations

from core.api import iso
from core.urls import absolute_url
from providers.models import Provider

def provider_item_json(p: Provider, user=None) -> dict:
    return {"id": p.id, "name": p.name, "kind": p.kind, "business_id": p.business_id, "status": p.status,
            "rating": {"average": p.rating_average, "count": p.rating_count}, "languages": list(p.languages or []),
            "url": absolute_url("providers.profile", provider_id=p.id)}


def provider_json(p: Provider, user=None) -> dict:
    return {**provider_item_json(p, user), "email": p.email, "phone": p.phone, "website": p.website,
            "description": p.description, "contact_person": p.contact_person,
            "service_areas": list(p.service_areas or []),
            "service_type_ids": list(p.requested_service_type_ids or []),
            "soteri_registered": bool(p.soteri_registered), "prepayment_register": bool(p.prepayment_register),
            "created_at": iso(p.created_at), "approved_at": iso(p.approved_at)}
