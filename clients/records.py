"""Client records: validation, registering, reading, searching and editing
clients, consent, and the responsible worker (handovers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import ngettext

from accounts.models import Role, User
from clients.scopes import scope_clients
from accounts.services import normalise_email
from clients import jobs, policy
from clients.base import LANGUAGES, _, live_client, record_event, staff_client
from clients.models import Client, ClientEventAction, FollowUp, MandateScope, Segment
from clients.policy import require_staff
from core.access import Purpose, record_access, record_access_many
from core.db import utcnow
from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.validators import normalise_personal_identity_code, parse_personal_identity_code, valid_postal_code
from core.time import local_today


# -- validation ----------------------------------------------------------------

def validate_client_fields(data: dict) -> tuple[dict, dict]:
    """Check client fields given as plain values; returns (clean values, errors).
    Shared by the web form and the API so both refuse the same input."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name, limit in (("first_name", 100), ("last_name", 100)):
        value = (data.get(name) or "").strip() if isinstance(data.get(name), (str, type(None))) else None
        if not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", limit)]
        clean[name] = value
    for name, limit in (("address", 300), ("municipality", 100), ("phone", 40), ("email", 254)):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = [_("Must be text.")]
            continue
        value = (value or "").strip()
        if len(value) > limit:
            errors[name] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", limit)]
        clean[name] = value or None
    if clean.get("email"):
        try:
            clean["email"] = normalise_email(clean["email"])
        except ValidationFailed:
            errors["email"] = [_("Invalid e-mail address.")]
    if not clean.get("address"):
        errors["address"] = [_("This field is required.")]
    if not clean.get("municipality"):
        errors["municipality"] = [_("This field is required.")]
    postal = data.get("postal_code")
    if not valid_postal_code(postal if isinstance(postal, str) else ""):
        errors["postal_code"] = [_("Must be a Finnish postal code of five digits.")]
    clean["postal_code"] = postal
    code = data.get("personal_identity_code")
    if code not in (None, ""):
        normalised = normalise_personal_identity_code(code) if isinstance(code, str) else None
        if normalised is None:
            errors["personal_identity_code"] = [_("Not a valid personal identity code (check the date, the century sign "
                                                 "and the check character).")]
        clean["personal_identity_code"] = normalised
        born = parse_personal_identity_code(normalised) if normalised else None
        birth = data.get("birth_date")
        if born and birth and birth != born:
            errors["birth_date"] = [_("Does not match the personal identity code.")]
        clean["birth_date"] = birth or born
    else:
        clean["personal_identity_code"] = None
        clean["birth_date"] = data.get("birth_date")
    if clean["birth_date"] is not None and not isinstance(clean["birth_date"], date):
        errors["birth_date"] = [_("Must be a date.")]
    elif clean["birth_date"] is not None and clean["birth_date"] > local_today():
        errors["birth_date"] = [_("Cannot be in the future.")]
    languages = data.get("languages") or ["fi"]
    if not isinstance(languages, list) or not languages or any(lang not in LANGUAGES for lang in languages):
        errors["languages"] = [_("Choose languages from: %(values)s.", values=", ".join(LANGUAGES))]
    clean["languages"] = list(dict.fromkeys(languages)) if isinstance(languages, list) else ["fi"]
    consent = data.get("consent_to_share", False)
    if not isinstance(consent, bool):
        errors["consent_to_share"] = [_("Must be true or false.")]
    clean["consent_to_share"] = bool(consent)
    segment = data.get("segment") or Segment.GUIDANCE
    if segment not in set(Segment):
        errors["segment"] = [_("Must be one of: %(values)s.", values=", ".join(Segment))]
    clean["segment"] = segment
    clean["non_disclosure"] = bool(data.get("non_disclosure", False))
    return clean, errors


def _raise_client_errors(errors: dict) -> None:
    if errors:
        code = "invalid_personal_identity_code" if set(errors) == {"personal_identity_code"} else "validation_failed"
        raise ValidationFailed(_("Some client details are invalid."), code=code, fields=errors)


def _check_code_unique(code: str | None, client_id: int | None = None) -> None:
    if not code:
        return
    stmt = sa.select(Client.id).where(Client.personal_identity_code == code)
    if client_id is not None:
        stmt = stmt.where(Client.id != client_id)
    if db.session.scalar(stmt):
        raise ConflictError(_("A client with this personal identity code is already registered; "
                              "search for them instead."), code="duplicate_client")


# -- registering, reading, editing ---------------------------------------------

def create_client(actor, data: dict) -> Client:
    """Register a client (staff). The creator becomes the responsible worker. Raises
    ValidationFailed (``invalid_personal_identity_code`` when only the code is wrong)
    and ConflictError when the identity code is already registered."""
    require_staff(actor)
    clean, errors = validate_client_fields(data)
    _raise_client_errors(errors)
    _check_code_unique(clean["personal_identity_code"])
    now = utcnow()
    client = Client(**clean, responsible_worker_id=actor.id, last_activity_at=now)
    if clean["consent_to_share"]:
        client.consent_recorded_at = now
        client.consent_recorded_by_id = actor.id
    db.session.add(client)
    db.session.flush()
    record_event(client.id, ClientEventAction.CREATED, actor, at=now)
    if clean["consent_to_share"]:
        record_event(client.id, ClientEventAction.CONSENT_GIVEN, actor, at=now)
    if clean["non_disclosure"]:
        record_event(client.id, ClientEventAction.NON_DISCLOSURE_SET, actor, at=now)
    record_access(client.id, "create", Purpose.GUIDANCE, what="client record", actor=actor)
    return client


def get_client(actor, client_id: int, purpose: str, what: str = "client record",
               scope: str | None = MandateScope.SERVICES, options: tuple = (),
               staff_read: Callable[[int, int], Any] | None = None) -> Client:
    """A client the actor may see (a relative: under a mandate covering ``scope``),
    logging the read; NotFoundError otherwise. ``options``: loader options for what
    the page shows of the record (e.g. its responsible worker, in the same query).
    ``staff_read``: for a staff member (who sees every record), a function of the
    client's id and the actor's id that reads the record as the page needs it (a
    row with the attributes of a ``Client`` the page reads, or None), called
    instead of loading the ``Client``."""
    if staff_read is not None and actor.role == Role.STAFF:
        client = staff_read(client_id, actor.id)
    else:
        client = db.session.scalar(scope_clients(sa.select(Client).where(Client.id == client_id), actor, scope)
                                   .options(*options))
    if client is None or client.erased_at is not None:
        raise NotFoundError(_("Client not found."))
    record_access(client.id, "view", purpose, what=what, actor=actor)
    return client


def lookup_client(actor, client_id: int) -> Client:
    """A live client for staff without logging a read: for a POST whose service
    logs the change itself."""
    return staff_client(actor, client_id)


def lookup_portal_client(actor, client_id: int, scope: str | None = MandateScope.SERVICES) -> Client:
    """A live client a client-role user may act for within ``scope``, without
    logging a read (the service called next logs the change); NotFoundError or
    PermissionDenied (outside the mandate) otherwise."""
    policy.require_client_side(actor, client_id, scope)
    return live_client(client_id)


def client_for_portal(actor, client_id: int, what: str, scope: str | None = MandateScope.SERVICES,
                      options: tuple = ()) -> Client:
    """A client a client-role user may act for (own record or represented under a
    mandate covering ``scope``), logging the read with the purpose the client sees
    (a relative's read names the relative as the actor); NotFoundError otherwise
    (also for another client's id), PermissionDenied outside the mandate."""
    policy.require_client_side(actor, client_id, scope)
    return get_client(actor, client_id, policy.client_side_purpose(actor, client_id), what=what, scope=scope,
                      options=options)


def search_clients(actor, query: str = "", birth_date: date | None = None, postal_code: str | None = None,
                   limit: int = 50, responsible_worker_id: int | None = None, segment: str | None = None,
                   only_flagged: bool = False) -> list[Client]:
    """Staff search by name (any word, prefix), birth date, postal code, responsible
    worker, segment, or the records waiting for an erasure decision. Each client
    shown is logged as viewed in a list. A client under the non-disclosure marking
    is not found by postal code except by their responsible worker."""
    if not policy.is_staff(actor):
        return []
    stmt = scope_clients(sa.select(Client), actor).where(Client.erased_at.is_(None))
    for word in (query or "").split()[:4]:
        like = word.replace("%", r"\%").replace("_", r"\_").lower() + "%"
        stmt = stmt.where(sa.or_(sa.func.lower(Client.first_name).like(like, escape="\\"),
                                 sa.func.lower(Client.last_name).like(like, escape="\\")))
    if birth_date:
        stmt = stmt.where(Client.birth_date == birth_date)
    if postal_code:
        stmt = stmt.where(Client.postal_code == postal_code, policy.postal_code_searchable(actor))
    if responsible_worker_id:
        stmt = stmt.where(Client.responsible_worker_id == responsible_worker_id)
    if segment in set(Segment):
        stmt = stmt.where(Client.segment == segment)
    if only_flagged:
        stmt = stmt.where(sa.or_(Client.retention_flagged_at.is_not(None), Client.erasure_requested_at.is_not(None)))
    clients = list(db.session.scalars(stmt.order_by(Client.last_name, Client.first_name, Client.id).limit(limit)))
    record_access_many([c.id for c in clients], "list", Purpose.GUIDANCE, what="name in search results", actor=actor)
    return clients


def update_client(actor, client_id: int, data: dict) -> Client:
    """Staff change a client's details, segment and non-disclosure marking. The
    identity code is kept unless a new one is given (``personal_identity_code``) or
    ``remove_identity_code`` is true. Consent has its own service (``set_consent``).
    Raises ValidationFailed, ConflictError (identity code of another client)."""
    client = staff_client(actor, client_id)
    merged = {
        "first_name": data.get("first_name"), "last_name": data.get("last_name"),
        "address": data.get("address"), "postal_code": data.get("postal_code"),
        "municipality": data.get("municipality"), "phone": data.get("phone"), "email": data.get("email"),
        "languages": data.get("languages"), "segment": data.get("segment") or client.segment,
        "non_disclosure": bool(data.get("non_disclosure", client.non_disclosure)),
        "consent_to_share": client.consent_to_share, "birth_date": data.get("birth_date"),
    }
    new_code = data.get("personal_identity_code")
    remove = bool(data.get("remove_identity_code"))
    if new_code not in (None, ""):
        merged["personal_identity_code"] = new_code
    elif not remove and client.personal_identity_code:
        merged["personal_identity_code"] = client.personal_identity_code
        # The stored code fixes the birth date unless a new date is given.
        merged["birth_date"] = data.get("birth_date") or parse_personal_identity_code(client.personal_identity_code)
    clean, errors = validate_client_fields(merged)
    _raise_client_errors(errors)
    _check_code_unique(clean["personal_identity_code"], client.id)
    old_segment, old_marking = client.segment, client.non_disclosure
    for name in ("first_name", "last_name", "birth_date", "personal_identity_code", "address", "postal_code",
                 "municipality", "phone", "email", "languages", "segment", "non_disclosure"):
        setattr(client, name, clean[name])
    record_event(client.id, ClientEventAction.DETAILS_CHANGED, actor)
    if old_segment != client.segment:
        record_event(client.id, ClientEventAction.SEGMENT_CHANGED, actor, code="client.segment_changed",
                     params={"from": str(old_segment), "to": str(client.segment)})
    if old_marking != client.non_disclosure:
        record_event(client.id, ClientEventAction.NON_DISCLOSURE_SET if client.non_disclosure
               else ClientEventAction.NON_DISCLOSURE_REMOVED, actor)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="client details", actor=actor)
    return client


def set_consent(actor, client_id: int, consent: bool, note: str | None = None) -> Client:
    """Staff record that the client gave or withdrew consent to share their data
    with providers (who, when). Without consent no new order can be placed;
    orders already running continue. Raises ValidationFailed, NotFoundError."""
    client = staff_client(actor, client_id)
    if not isinstance(consent, bool):
        raise ValidationFailed(_("Choose whether the client consents."), fields={"consent": [_("Must be true or false.")]})
    note = (note or "").strip() or None
    if note and len(note) > 500:
        raise ValidationFailed(_("The note is too long."), fields={"note": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 500)]})
    if client.consent_to_share == consent:
        raise ConflictError(_("The consent is already recorded that way."), code="consent_unchanged")
    now = utcnow()
    client.consent_to_share = consent
    client.consent_recorded_at = now
    client.consent_recorded_by_id = actor.id
    record_event(client.id, ClientEventAction.CONSENT_GIVEN if consent else ClientEventAction.CONSENT_WITHDRAWN, actor,
           note=note, at=now)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="consent to share with providers", actor=actor)
    return client


# -- responsible worker --------------------------------------------------------

def hand_over_client(actor, client_id: int, new_worker_id: int) -> Client:
    """Staff hand a client over to another guidance worker: the responsible worker
    changes, the client's open follow-ups of the previous worker (and unassigned
    ones) move to the new worker, the history records it, and the client (if they
    have e-mail) and the new worker are told by e-mail. Raises ValidationFailed
    (not an active staff member, or the same worker), NotFoundError."""
    client = staff_client(actor, client_id)
    worker = db.session.get(User, new_worker_id) if isinstance(new_worker_id, int) else None
    if worker is None or worker.role != Role.STAFF or not worker.active:
        raise ValidationFailed(_("Choose an active guidance worker."),
                               fields={"new_worker_id": [_("Not an active guidance worker.")]})
    if worker.id == client.responsible_worker_id:
        raise ValidationFailed(_("%(name)s is already the responsible worker.", name=worker.name or worker.email),
                               fields={"new_worker_id": [_("Already the responsible worker.")]})
    previous = db.session.get(User, client.responsible_worker_id) if client.responsible_worker_id else None
    theirs = FollowUp.assigned_to_id.is_(None)
    if previous is not None:
        theirs = sa.or_(theirs, FollowUp.assigned_to_id == previous.id)
    moved = db.session.execute(
        sa.update(FollowUp).where(FollowUp.client_id == client.id, FollowUp.done_at.is_(None), theirs)
        .values(assigned_to_id=worker.id).execution_options(synchronize_session=False)).rowcount
    client.responsible_worker_id = worker.id
    event = record_event(client.id, ClientEventAction.HANDOVER, actor, code="client.handover",
                         params={"from": previous.name or previous.email if previous else "–",
                                 "to": worker.name or worker.email, "num": moved})
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="responsible worker", actor=actor)
    enqueue(jobs.send_handover_notifications, event.id, queue="mail")
    return client


def staff_choices() -> list[tuple[int, str]]:
    """Active guidance workers as (id, name) for a handover form."""
    return [(uid, name or email) for uid, name, email in db.session.execute(
        sa.select(User.id, User.name, User.email).where(User.role == Role.STAFF, User.active.is_(True))
        .order_by(User.name, User.id))]
