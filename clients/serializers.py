"""One serializer per object, shared by the API and the data export. Each applies
the rules of ``clients.policy`` (the identity code only masked; address and phone
under the non-disclosure marking only to those ``shows_contact`` allows)."""

from __future__ import annotations

from datetime import date, datetime

from clients.models import Client
from clients.policy import shows_contact
from core.api import iso
from core.models import AccessLogEntry

# The client's fields in the API (API.md "Clients"), in this order.
API_FIELDS = ("id", "first_name", "last_name", "birth_date", "personal_identity_code", "address", "postal_code",
              "municipality", "phone", "email", "languages", "consent_to_share", "segment", "non_disclosure",
              "responsible_worker_id")


def json_value(value):
    """A column value as JSON: dates and times in API.md's ISO form."""
    if isinstance(value, (datetime, date)):
        return iso(value)
    return value


def client_json(client: Client, user, *, everything: bool = False, serving_provider: bool = False) -> dict:
    """The client as ``user`` may see them: the API's fields, or with
    ``everything`` every column of the record (the data export). The identity
    code is only ever masked; address and phone are ``None`` where
    ``policy.shows_contact`` hides them."""
    if everything:
        body = {c.name: json_value(getattr(client, c.key)) for c in Client.__table__.columns}
    else:
        body = {name: getattr(client, name) for name in API_FIELDS}
        body["birth_date"] = client.birth_date.isoformat() if client.birth_date else None
    body["personal_identity_code"] = client.masked_identity_code
    if not shows_contact(client, user, serving_provider=serving_provider):
        body["address"] = body["phone"] = None
    return body


def access_entry_json(entry: AccessLogEntry) -> dict:
    """An access-log row in API.md's shape (plus ``what`` and ``channel``)."""
    actor = entry.actor
    return {"at": iso(entry.at),
            "actor": {"id": actor.id if actor else None,
                      "name": (actor.name or actor.email) if actor else "system",
                      "role": entry.actor_role},
            "action": entry.action, "purpose": entry.purpose, "what": entry.what, "channel": entry.channel}
