"""The one JSON form of an order, its visits and its timeline, shared by the API
and any export. What each user sees of the client is decided by ``orders.policy``."""

from __future__ import annotations

from flask import url_for

from core.api import iso
from core.messages import render
from core.roles import Role
from feedback.services import feedback_url_for_order
from orders import policy
from orders.models import OrderEvent, ServiceOrder, VisitReport


def client_json(order: ServiceOrder, user, identity: bool) -> dict:
    client = order.client
    if not identity:
        # Before winning, a provider sees only what it needs to decide.
        return {"postal_code": client.postal_code, "languages": client.languages}
    contact = policy.shows_contact(order, user)
    return {"id": client.id, "first_name": client.first_name, "last_name": client.last_name,
            "address": client.address if contact else None, "postal_code": client.postal_code,
            "municipality": client.municipality, "phone": client.phone if contact else None,
            "languages": client.languages}


def order_json(order: ServiceOrder, user, identity: bool | None = None) -> dict:
    identity = policy.sees_identity(order, user) if identity is None else identity
    staff = policy.is_staff(user)
    offers = order.offers
    if user.role == Role.PROVIDER:
        offers = [o for o in offers if o.provider_id == user.provider_id]
    elif user.role == Role.CLIENT:
        offers = []
    body = {
        "id": order.id, "number": order.number, "status": order.status,
        "url": url_for("api.get_order", order_id=order.id, _external=True),
        "service_type_id": order.service_type_id, "service_type": order.service_type.name(),
        "client_id": order.client_id if identity else None,
        "client": client_json(order, user, identity),
        "provider_id": order.provider_id,
        "provider": {"id": order.provider.id, "name": order.provider.name} if order.provider else None,
        "funding": order.funding, "voucher_id": order.voucher_id, "offer_mode": order.offer_mode,
        "instructions": order.instructions,
        "start_date": iso(order.start_date), "end_date": iso(order.end_date),
        "visits_per_week": order.visits_per_week, "minutes_per_visit": order.minutes_per_visit,
        "created_at": iso(order.created_at), "accepted_at": iso(order.accepted_at),
        "completed_at": iso(order.completed_at), "closed_at": iso(order.closed_at),
        "cancelled_at": iso(order.cancelled_at), "escalated_at": iso(order.escalated_at),
        "outcome": order.outcome, "outcome_note": order.outcome_note if staff else None,
        "cancel_reason": order.cancel_reason, "has_concern": order.has_concern if staff else None,
        "offers": [{"provider_id": o.provider_id, "status": o.status, "sent_at": iso(o.sent_at),
                    "deadline_at": iso(o.deadline_at)} for o in offers if o.sent_at is not None or staff],
    }
    if policy.shows_feedback_link(order, user):
        body["feedback_url"] = feedback_url_for_order(order.id)
    return body


def visit_json(visit: VisitReport) -> dict:
    return {"id": visit.id, "order_id": visit.order_id, "date": iso(visit.date), "minutes": visit.minutes,
            "tasks": visit.tasks, "note": visit.note, "concern": visit.concern, "created_at": iso(visit.created_at)}


def event_json(event: OrderEvent, user) -> dict:
    """A timeline entry: staff see every actor's name and note, a provider its own
    notes, others the steps."""
    actor = None
    if event.actor is not None:
        name = event.actor.name if policy.is_staff(user) or event.actor.id == user.id else None
        actor = {"id": event.actor.id, "name": name, "role": event.actor.role}
    own_note = policy.is_staff(user) or (user.role == Role.PROVIDER and event.provider_id == user.provider_id)
    return {"at": iso(event.at), "actor": actor, "action": event.action, "from_status": event.from_status,
            "to_status": event.to_status,
            "note": (event.note or render(event.code, event.params) or None) if own_note else None,
            "code": event.code if own_note else None, "params": event.params if own_note and event.code else None}
