"""What the client services share: constants, the checks that find a live
client, the record history and the cleaning of free text."""

from __future__ import annotations

from datetime import datetime

from flask_babel import ngettext

from accounts.services import normalise_email
from clients.models import Client, ClientEvent
from clients.policy import _, require_staff
from core.db import utcnow
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db

LANGUAGES = ("fi", "sv", "en", "se", "ru", "et", "so", "ar", "fa", "uk")
# Order states in which a provider is working for the client (network, messages).
ACTIVE_ORDER_STATES = ("accepted", "in_progress")
# Order states that must end before a client record can be erased.
OPEN_ORDER_STATES = ("offered", "escalated", "accepted", "in_progress", "completed")
MESSAGE_MAX = 4000
INVITATION_DAYS = 14
SWEEP_LIMIT = 500


class ClientError(ValidationFailed):
    code = "invalid_client"


# -- shared checks -------------------------------------------------------------

def live_client(client_id: int) -> Client:
    """A client that exists and is not erased (no access check, no log)."""
    client = db.session.get(Client, client_id) if isinstance(client_id, int) else None
    if client is None or client.erased_at is not None:
        raise NotFoundError(_("Client not found."))
    return client


def staff_client(actor, client_id: int) -> Client:
    require_staff(actor)
    return live_client(client_id)


def record_event(client_id: int, action: str, actor, note: str | None = None, at: datetime | None = None,
                 code: str | None = None, params: dict | None = None) -> ClientEvent:
    """A step of the record's history: ``note`` is what a person wrote, ``code`` and
    ``params`` what the system says (``clients.texts``, shown in the reader's language)."""
    event = ClientEvent(client_id=client_id, action=action, actor_id=getattr(actor, "id", None),
                        note=note, at=at or utcnow(), code=code, params=(params or {}) if code else None)
    db.session.add(event)
    return event


def clean_text(value, errors: dict, name: str, limit: int, required: bool = False) -> str | None:
    if value is not None and not isinstance(value, str):
        errors.setdefault(name, []).append(_("Must be text."))
        return None
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(name, []).append(_("This field is required."))
    elif len(value) > limit:
        errors.setdefault(name, []).append(ngettext("At most %(num)d character.", "At most %(num)d characters.", limit))
    return value or None


def required_text(value, name: str, limit: int, message: str) -> str:
    """A required piece of free text (e.g. the reason of a decision), or
    ValidationFailed with ``message`` and the field's error."""
    errors: dict[str, list[str]] = {}
    value = clean_text(value, errors, name, limit, required=True)
    if errors:
        raise ValidationFailed(message, fields=errors)
    return value


def clean_email(value, errors: dict, name: str = "email", required: bool = False) -> str | None:
    value = clean_text(value, errors, name, 254, required=required)
    if not value:
        return None
    try:
        return normalise_email(value)
    except ValidationFailed:
        errors.setdefault(name, []).append(_("Invalid e-mail address."))
        return None
