"""Client records: registering, finding and showing clients.

Every read of a client's personal data writes an access-log row
(``core.access.record_access``); services flush, never commit.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from accounts.models import Role
from accounts.permissions import scope_clients
from clients.models import Client, Segment
from core.access import Purpose, record_access, record_access_many
from core.db import utcnow
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from core.validators import normalise_personal_identity_code, parse_personal_identity_code, valid_postal_code

LANGUAGES = ("fi", "sv", "en", "se", "ru", "et", "so", "ar", "fa", "uk")


class ClientError(ValidationFailed):
    code = "invalid_client"


def validate_client_fields(data: dict) -> tuple[dict, dict]:
    """Check client fields given as plain values; returns (clean values, errors).
    Shared by the web form and the API so both refuse the same input."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name, limit in (("first_name", 100), ("last_name", 100)):
        value = (data.get(name) or "").strip() if isinstance(data.get(name), (str, type(None))) else None
        if not value:
            errors[name] = ["This field is required."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
        clean[name] = value
    for name, limit in (("address", 300), ("municipality", 100), ("phone", 40), ("email", 254)):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = ["Must be text."]
            continue
        value = (value or "").strip()
        if len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
        clean[name] = value or None
    if clean.get("email"):
        from accounts.services import normalise_email

        try:
            clean["email"] = normalise_email(clean["email"])
        except ValidationFailed:
            errors["email"] = ["Invalid e-mail address."]
    if not clean.get("address"):
        errors["address"] = ["This field is required."]
    if not clean.get("municipality"):
        errors["municipality"] = ["This field is required."]
    postal = data.get("postal_code")
    if not valid_postal_code(postal if isinstance(postal, str) else ""):
        errors["postal_code"] = ["Must be a Finnish postal code of five digits."]
    clean["postal_code"] = postal
    code = data.get("personal_identity_code")
    if code not in (None, ""):
        normalised = normalise_personal_identity_code(code) if isinstance(code, str) else None
        if normalised is None:
            errors["personal_identity_code"] = ["Not a valid personal identity code (check the date, the century sign and the check character)."]
        clean["personal_identity_code"] = normalised
        born = parse_personal_identity_code(normalised) if normalised else None
        birth = data.get("birth_date")
        if born and birth and birth != born:
            errors["birth_date"] = ["Does not match the personal identity code."]
        clean["birth_date"] = birth or born
    else:
        clean["personal_identity_code"] = None
        clean["birth_date"] = data.get("birth_date")
    if clean["birth_date"] is not None and not isinstance(clean["birth_date"], date):
        errors["birth_date"] = ["Must be a date."]
    elif clean["birth_date"] is not None and clean["birth_date"] > date.today():
        errors["birth_date"] = ["Cannot be in the future."]
    languages = data.get("languages") or ["fi"]
    if not isinstance(languages, list) or not languages or any(lang not in LANGUAGES for lang in languages):
        errors["languages"] = ["Choose languages from: " + ", ".join(LANGUAGES) + "."]
    clean["languages"] = list(dict.fromkeys(languages)) if isinstance(languages, list) else ["fi"]
    consent = data.get("consent_to_share", False)
    if not isinstance(consent, bool):
        errors["consent_to_share"] = ["Must be true or false."]
    clean["consent_to_share"] = bool(consent)
    segment = data.get("segment") or Segment.GUIDANCE
    if segment not in set(Segment):
        errors["segment"] = ["Must be one of: " + ", ".join(Segment) + "."]
    clean["segment"] = segment
    clean["non_disclosure"] = bool(data.get("non_disclosure", False))
    return clean, errors


def create_client(actor, data: dict) -> Client:
    """Register a client (staff). The creator becomes the responsible worker. Raises
    ValidationFailed (``invalid_personal_identity_code`` when only the code is wrong)
    and ConflictError when the identity code is already registered."""
    clean, errors = validate_client_fields(data)
    if errors:
        code = "invalid_personal_identity_code" if set(errors) == {"personal_identity_code"} else "validation_failed"
        raise ValidationFailed("Some client details are invalid.", code=code, fields=errors)
    if clean["personal_identity_code"] and db.session.scalar(
            sa.select(Client.id).where(Client.personal_identity_code == clean["personal_identity_code"])):
        from core.errors import ConflictError

        raise ConflictError("A client with this personal identity code is already registered; search for them instead.",
                            code="duplicate_client")
    now = utcnow()
    client = Client(**clean, responsible_worker_id=actor.id, last_activity_at=now)
    if clean["consent_to_share"]:
        client.consent_recorded_at = now
        client.consent_recorded_by_id = actor.id
    db.session.add(client)
    db.session.flush()
    record_access(client.id, "create", Purpose.GUIDANCE, what="client record", actor=actor)
    return client


def get_client(actor, client_id: int, purpose: str, what: str = "client record") -> Client:
    """A client the actor may see, logging the read; NotFoundError otherwise."""
    client = db.session.scalar(scope_clients(sa.select(Client).where(Client.id == client_id), actor))
    if client is None or client.erased_at is not None:
        raise NotFoundError("Client not found.")
    record_access(client.id, "view", purpose, what=what, actor=actor)
    return client


def search_clients(actor, query: str = "", birth_date: date | None = None, postal_code: str | None = None,
                   limit: int = 50) -> list[Client]:
    """Staff search by name (any word, prefix), birth date and postal code. Each
    client shown is logged as viewed in a list."""
    if actor.role != Role.STAFF:
        return []
    stmt = scope_clients(sa.select(Client), actor).where(Client.erased_at.is_(None))
    for word in (query or "").split()[:4]:
        like = word.replace("%", r"\%").replace("_", r"\_").lower() + "%"
        stmt = stmt.where(sa.or_(sa.func.lower(Client.first_name).like(like, escape="\\"),
                                 sa.func.lower(Client.last_name).like(like, escape="\\")))
    if birth_date:
        stmt = stmt.where(Client.birth_date == birth_date)
    if postal_code:
        stmt = stmt.where(Client.postal_code == postal_code)
    clients = list(db.session.scalars(stmt.order_by(Client.last_name, Client.first_name, Client.id).limit(limit)))
    record_access_many([c.id for c in clients], "list", Purpose.GUIDANCE, what="name in search results", actor=actor)
    return clients


def client_summary(client: Client, actor) -> dict:
    """The client as JSON for the API. The identity code only masked; address and
    phone hidden under non-disclosure from everyone but the responsible worker."""
    hide_contact = client.non_disclosure and actor.id != client.responsible_worker_id
    return {
        "id": client.id, "first_name": client.first_name, "last_name": client.last_name,
        "birth_date": client.birth_date.isoformat() if client.birth_date else None,
        "personal_identity_code": client.masked_identity_code,
        "address": None if hide_contact else client.address,
        "postal_code": client.postal_code, "municipality": client.municipality,
        "phone": None if hide_contact else client.phone, "email": client.email,
        "languages": client.languages, "consent_to_share": client.consent_to_share,
        "segment": client.segment, "non_disclosure": client.non_disclosure,
        "responsible_worker_id": client.responsible_worker_id,
    }
