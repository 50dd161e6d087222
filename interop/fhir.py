"""Orders and clients' networks as FHIR R4 resources.

- An order is a ``Task`` in the referral pattern: ``requested`` while offered,
  ``accepted``, ``in-progress``, ``completed`` (also once closed), ``cancelled``;
  for an organisation whose own offer was declined, expired or withdrawn (another
  provider won), ``rejected``. The owner is the provider organisation that accepted
  it; ``output`` lists what was delivered (the visits reported and, once staff have
  closed it, whether the client received the service): the closed loop. The client
  is named (``for``) only to those ``orders.policy.sees_identity`` allows.
- A client's network is one ``CareTeam`` in a ``searchset`` ``Bundle``.
"""

from __future__ import annotations

from flask import url_for

from core.api import iso
from orders import policy as order_policy
from orders.models import OfferStatus, OrderStatus, ServiceOrder

FHIR_JSON = "application/fhir+json"
UCUM = "http://unitsofmeasure.org"
_STATUS = {
    OrderStatus.OFFERED: "requested", OrderStatus.ESCALATED: "requested", OrderStatus.ACCEPTED: "accepted",
    OrderStatus.IN_PROGRESS: "in-progress", OrderStatus.COMPLETED: "completed", OrderStatus.CLOSED: "completed",
    OrderStatus.CANCELLED: "cancelled",
}


def _system(name: str) -> str:
    return url_for("core.index", _external=True).rstrip("/") + "/fhir/" + name


def task_status(order: ServiceOrder, user) -> str:
    """The Task's status as ``user`` sees it: an organisation that lost or turned
    down the referral sees it rejected."""
    if order_policy.is_winner(order, user) or order_policy.my_offer(order, user) is None:
        return _STATUS[OrderStatus(order.status)]
    offer = order_policy.my_offer(order, user)
    if offer.status in (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN):
        return "rejected"
    return "cancelled" if order.status == OrderStatus.CANCELLED else "requested"


def _text(text: str, code: str | None = None, system: str | None = None) -> dict:
    concept: dict = {"text": text}
    if code is not None:
        concept["coding"] = [{"system": system or _system("CodeSystem/order-detail"), "code": code,
                              "display": text}]
    return concept


def task(order: ServiceOrder, user, identity: bool) -> dict:
    """The order as a FHIR R4 ``Task`` for ``user`` (``identity``: may the client be named)."""
    status = task_status(order, user)
    resource: dict = {
        "resourceType": "Task",
        "id": str(order.id),
        "identifier": [{"system": _system("order-number"), "value": order.number}],
        "status": status,
        "businessStatus": _text(order.status.replace("_", " "), order.status, _system("CodeSystem/order-status")),
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill",
                             "display": "Fulfill the focal request"}]},
        "description": order.service_type.name(),
        "authoredOn": iso(order.created_at),
        "lastModified": iso(max(t for t in (order.created_at, order.accepted_at, order.in_progress_at,
                                            order.completed_at, order.closed_at, order.cancelled_at,
                                            order.escalated_at) if t is not None)),
        "requester": {"display": "Kotiapu service guidance"},
        "restriction": {"period": {k: v for k, v in (("start", iso(order.start_date)),
                                                     ("end", iso(order.end_date))) if v}},
    }
    if status == "rejected":
        offer = order_policy.my_offer(order, user)
        resource["statusReason"] = _text(f"offer {offer.status}", str(offer.status), _system("CodeSystem/offer-status"))
    elif order.status == OrderStatus.CANCELLED and order.cancel_reason:
        resource["statusReason"] = {"text": order.cancel_reason}
    if order.provider is not None:
        resource["owner"] = {"reference": f"Organization/{order.provider_id}", "display": order.provider.name}
    if identity:
        client = order.client
        resource["for"] = {"reference": f"Patient/{client.id}", "display": f"{client.first_name} {client.last_name}"}
    if order.accepted_at is not None:
        period = {"start": iso(order.accepted_at)}
        if order.completed_at is not None:
            period["end"] = iso(order.completed_at)
        resource["executionPeriod"] = period
    inputs = [{"type": _text("Postal code", "postal-code"), "valueString": order.client.postal_code}]
    inputs += [{"type": _text("Language", "language"), "valueCode": lang} for lang in order.client.languages or []]
    inputs.append({"type": _text("Start date", "start-date"), "valueDate": iso(order.start_date)})
    if order.visits_per_week:
        inputs.append({"type": _text("Visits per week", "visits-per-week"), "valueInteger": order.visits_per_week})
    if order.minutes_per_visit:
        inputs.append({"type": _text("Minutes per visit", "minutes-per-visit"),
                       "valueQuantity": {"value": order.minutes_per_visit, "unit": "min", "system": UCUM, "code": "min"}})
    resource["input"] = inputs
    if identity:
        outputs = [{"type": _text(f"Visit {iso(v.date)}", "visit"),
                    "valueQuantity": {"value": v.minutes, "unit": "min", "system": UCUM, "code": "min"}}
                   for v in order.visits]
        if order.visits:
            outputs.append({"type": _text("Visits delivered", "visits-delivered"), "valueInteger": len(order.visits)})
            outputs.append({"type": _text("Minutes delivered", "minutes-delivered"),
                            "valueQuantity": {"value": sum(v.minutes for v in order.visits), "unit": "min",
                                              "system": UCUM, "code": "min"}})
        if order.outcome:
            outputs.append({"type": _text("Outcome confirmed by guidance staff", "outcome"),
                            "valueCode": order.outcome.replace("_", "-")})
        if outputs:
            resource["output"] = outputs
    return resource


_ROLES = {"worker": "Responsible worker", "provider": "Service provider", "member": "Network member",
          "relative": "Relative acting for the client"}


def care_team(client, entries) -> dict:
    """The client's network (``clients.queries.network``) as one ``CareTeam``."""
    participants = []
    for e in entries:
        role = _text(e.role or _ROLES[e.kind], e.kind, _system("CodeSystem/network-role"))
        participant: dict = {"role": [role], "member": {"display": e.name}}
        if e.kind != "provider" and e.organisation:
            participant["onBehalfOf"] = {"display": e.organisation}
        period = {k: v for k, v in (("start", iso(e.starts_on)), ("end", iso(e.ends_on))) if v}
        if period:
            participant["period"] = period
        participants.append(participant)
    team = {
        "resourceType": "CareTeam",
        "id": f"network-{client.id}",
        "status": "active",
        "name": "Network",
        "subject": {"reference": f"Patient/{client.id}", "display": f"{client.first_name} {client.last_name}"},
    }
    if participants:
        team["participant"] = participants
    return team


def searchset(resources: list[dict], self_url: str) -> dict:
    base = url_for("api.fhir_care_team", _external=True).rsplit("/", 1)[0]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                  for r in resources],
    }
