"""Client records and their coordination: registering and editing clients, consent,
segment, the safety non-disclosure marking, the responsible worker and handovers,
the network of professionals, relatives acting for a client, client logins,
guidance contacts, follow-ups and their periodic sweeps, messages, retention and
erasure.

Every read or change of a client's personal data writes an access-log row
(``core.access.record_access``); services flush, never commit (the view, API route
or job commits). Notes written to the record history (``ClientEvent``) never hold
the client's personal data: they survive erasure.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from accounts.models import Role, User
from clients.scopes import can_act_for_client, scope_clients
from clients.models import (
    SEGMENT_CHECK_DAYS, Client, ClientEvent, ClientEventAction, ClientRepresentative, ContactChannel, FollowUp,
    FollowUpKind, GuidanceContact, Message, NetworkMember, Segment,
)
from core.access import Purpose, record_access, record_access_many
from core.db import utcnow
from core.errors import ConflictError, GoneError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.validators import normalise_personal_identity_code, parse_personal_identity_code, valid_postal_code

LANGUAGES = ("fi", "sv", "en", "se", "ru", "et", "so", "ar", "fa", "uk")
# Purpose of a relative's reads, shown to the client in their access log.
RELATIVE_PURPOSE = "a relative acting for the client"
# Order states in which a provider is working for the client (network, messages).
ACTIVE_ORDER_STATES = ("accepted", "in_progress")
# Order states that must end before a client record can be erased.
OPEN_ORDER_STATES = ("offered", "escalated", "accepted", "in_progress", "completed")
MESSAGE_MAX = 4000
INVITATION_DAYS = 14
SWEEP_LIMIT = 500


def _(text: str, **variables) -> str:
    """gettext that also works outside a request (jobs): English there."""
    try:
        return _gettext(text, **variables)
    except RuntimeError:
        return text % variables if variables else text


class ClientError(ValidationFailed):
    code = "invalid_client"


# -- shared checks -------------------------------------------------------------

def _require_staff(actor) -> None:
    if actor is None or actor.role != Role.STAFF:
        raise PermissionDenied(_("Only guidance staff can do this."))


def _live_client(client_id: int) -> Client:
    """A client that exists and is not erased (no access check, no log)."""
    client = db.session.get(Client, client_id) if isinstance(client_id, int) else None
    if client is None or client.erased_at is not None:
        raise NotFoundError(_("Client not found."))
    return client


def _staff_client(actor, client_id: int) -> Client:
    _require_staff(actor)
    return _live_client(client_id)


def _event(client_id: int, action: str, actor, note: str | None = None, at: datetime | None = None) -> ClientEvent:
    event = ClientEvent(client_id=client_id, action=action, actor_id=getattr(actor, "id", None),
                        note=note, at=at or utcnow())
    db.session.add(event)
    return event


def client_side_purpose(user, client_id: int) -> str:
    """The purpose logged when a client-role user reads a client's data: their own
    data, or a relative acting for the client."""
    return Purpose.OWN_DATA if getattr(user, "client_id", None) == client_id else RELATIVE_PURPOSE


def is_own_record(user, client_id: int) -> bool:
    return user is not None and user.role == Role.CLIENT and user.client_id == client_id


def shows_contact(client: Client, user) -> bool:
    """Address and phone of a client under the safety non-disclosure marking are
    shown only to the responsible worker and to the client themselves (the winning
    provider sees them on the order page). Without the marking, to everyone who
    may see the client."""
    if not client.non_disclosure:
        return True
    return user is not None and (user.id == client.responsible_worker_id or is_own_record(user, client.id))


# -- validation ----------------------------------------------------------------

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


def _raise_client_errors(errors: dict) -> None:
    if errors:
        code = "invalid_personal_identity_code" if set(errors) == {"personal_identity_code"} else "validation_failed"
        raise ValidationFailed("Some client details are invalid.", code=code, fields=errors)


def _check_code_unique(code: str | None, client_id: int | None = None) -> None:
    if not code:
        return
    stmt = sa.select(Client.id).where(Client.personal_identity_code == code)
    if client_id is not None:
        stmt = stmt.where(Client.id != client_id)
    if db.session.scalar(stmt):
        raise ConflictError("A client with this personal identity code is already registered; search for them instead.",
                            code="duplicate_client")


# -- registering, reading, editing ---------------------------------------------

def create_client(actor, data: dict) -> Client:
    """Register a client (staff). The creator becomes the responsible worker. Raises
    ValidationFailed (``invalid_personal_identity_code`` when only the code is wrong)
    and ConflictError when the identity code is already registered."""
    _require_staff(actor)
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
    _event(client.id, ClientEventAction.CREATED, actor, at=now)
    if clean["consent_to_share"]:
        _event(client.id, ClientEventAction.CONSENT_GIVEN, actor, at=now)
    if clean["non_disclosure"]:
        _event(client.id, ClientEventAction.NON_DISCLOSURE_SET, actor, at=now)
    record_access(client.id, "create", Purpose.GUIDANCE, what="client record", actor=actor)
    return client


def get_client(actor, client_id: int, purpose: str, what: str = "client record") -> Client:
    """A client the actor may see, logging the read; NotFoundError otherwise."""
    client = db.session.scalar(scope_clients(sa.select(Client).where(Client.id == client_id), actor))
    if client is None or client.erased_at is not None:
        raise NotFoundError("Client not found.")
    record_access(client.id, "view", purpose, what=what, actor=actor)
    return client


def lookup_client(actor, client_id: int) -> Client:
    """A live client for staff without logging a read: for a POST whose service
    logs the change itself."""
    return _staff_client(actor, client_id)


def lookup_portal_client(actor, client_id: int) -> Client:
    """A live client a client-role user may act for, without logging a read (the
    service called next logs the change); NotFoundError otherwise."""
    if actor is None or actor.role != Role.CLIENT or not can_act_for_client(actor, client_id):
        raise NotFoundError(_("Client not found."))
    return _live_client(client_id)


def client_for_portal(actor, client_id: int, what: str) -> Client:
    """A client a client-role user may act for (own record or represented), logging
    the read with the purpose the client sees; NotFoundError otherwise (also for
    another client's id)."""
    if actor is None or actor.role != Role.CLIENT or not can_act_for_client(actor, client_id):
        raise NotFoundError(_("Client not found."))
    return get_client(actor, client_id, client_side_purpose(actor, client_id), what=what)


def search_clients(actor, query: str = "", birth_date: date | None = None, postal_code: str | None = None,
                   limit: int = 50, responsible_worker_id: int | None = None, segment: str | None = None,
                   only_flagged: bool = False) -> list[Client]:
    """Staff search by name (any word, prefix), birth date, postal code, responsible
    worker, segment, or the records waiting for an erasure decision. Each client
    shown is logged as viewed in a list. A client under the non-disclosure marking
    is not found by postal code except by their responsible worker."""
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
        stmt = stmt.where(Client.postal_code == postal_code,
                          sa.or_(Client.non_disclosure.is_(False), Client.responsible_worker_id == actor.id))
    if responsible_worker_id:
        stmt = stmt.where(Client.responsible_worker_id == responsible_worker_id)
    if segment in set(Segment):
        stmt = stmt.where(Client.segment == segment)
    if only_flagged:
        stmt = stmt.where(sa.or_(Client.retention_flagged_at.is_not(None), Client.erasure_requested_at.is_not(None)))
    clients = list(db.session.scalars(stmt.order_by(Client.last_name, Client.first_name, Client.id).limit(limit)))
    record_access_many([c.id for c in clients], "list", Purpose.GUIDANCE, what="name in search results", actor=actor)
    return clients


def client_summary(client: Client, actor) -> dict:
    """The client as JSON for the API. The identity code only masked; address and
    phone hidden under non-disclosure from everyone but the responsible worker and
    the client themselves."""
    hide_contact = not shows_contact(client, actor)
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


def update_client(actor, client_id: int, data: dict) -> Client:
    """Staff change a client's details, segment and non-disclosure marking. The
    identity code is kept unless a new one is given (``personal_identity_code``) or
    ``remove_identity_code`` is true. Consent has its own service (``set_consent``).
    Raises ValidationFailed, ConflictError (identity code of another client)."""
    client = _staff_client(actor, client_id)
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
    _event(client.id, ClientEventAction.DETAILS_CHANGED, actor)
    if old_segment != client.segment:
        _event(client.id, ClientEventAction.SEGMENT_CHANGED, actor, note=f"{old_segment} → {client.segment}")
    if old_marking != client.non_disclosure:
        _event(client.id, ClientEventAction.NON_DISCLOSURE_SET if client.non_disclosure
               else ClientEventAction.NON_DISCLOSURE_REMOVED, actor)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="client details", actor=actor)
    return client


def set_consent(actor, client_id: int, consent: bool, note: str | None = None) -> Client:
    """Staff record that the client gave or withdrew consent to share their data
    with providers (who, when). Without consent no new order can be placed;
    orders already running continue. Raises ValidationFailed, NotFoundError."""
    client = _staff_client(actor, client_id)
    if not isinstance(consent, bool):
        raise ValidationFailed(_("Choose whether the client consents."), fields={"consent": ["Must be true or false."]})
    note = (note or "").strip() or None
    if note and len(note) > 500:
        raise ValidationFailed(_("The note is too long."), fields={"note": [_("At most 500 characters.")]})
    if client.consent_to_share == consent:
        raise ConflictError(_("The consent is already recorded that way."), code="consent_unchanged")
    now = utcnow()
    client.consent_to_share = consent
    client.consent_recorded_at = now
    client.consent_recorded_by_id = actor.id
    _event(client.id, ClientEventAction.CONSENT_GIVEN if consent else ClientEventAction.CONSENT_WITHDRAWN, actor,
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
    client = _staff_client(actor, client_id)
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
    note = (f"{previous.name or previous.email if previous else '–'} → {worker.name or worker.email}; "
            f"{moved} open follow-up(s) moved")
    event = _event(client.id, ClientEventAction.HANDOVER, actor, note=note)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="responsible worker", actor=actor)
    from clients import jobs

    enqueue(jobs.send_handover_notifications, event.id, queue="mail")
    return client


def staff_choices() -> list[tuple[int, str]]:
    """Active guidance workers as (id, name) for a handover form."""
    return [(uid, name or email) for uid, name, email in db.session.execute(
        sa.select(User.id, User.name, User.email).where(User.role == Role.STAFF, User.active.is_(True))
        .order_by(User.name, User.id))]


# -- network -------------------------------------------------------------------

def _clean_text(value, errors: dict, name: str, limit: int, required: bool = False) -> str | None:
    if value is not None and not isinstance(value, str):
        errors.setdefault(name, []).append(_("Must be text."))
        return None
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(name, []).append(_("This field is required."))
    elif len(value) > limit:
        errors.setdefault(name, []).append(_("At most %(n)s characters.", n=limit))
    return value or None


def _clean_email(value, errors: dict, name: str = "email", required: bool = False) -> str | None:
    from accounts.services import normalise_email

    value = _clean_text(value, errors, name, 254, required=required)
    if not value:
        return None
    try:
        return normalise_email(value)
    except ValidationFailed:
        errors.setdefault(name, []).append(_("Invalid e-mail address."))
        return None


def add_network_member(actor, client_id: int, data: dict) -> NetworkMember:
    """Staff add a professional, organisation or close person to the client's
    network (name, organisation, role, responsibility, contact, from/until).
    Raises ValidationFailed, NotFoundError."""
    client = _staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    values = {
        "name": _clean_text(data.get("name"), errors, "name", 200, required=True),
        "organisation": _clean_text(data.get("organisation"), errors, "organisation", 200) or "",
        "role": _clean_text(data.get("role"), errors, "role", 120) or "",
        "responsibility": _clean_text(data.get("responsibility"), errors, "responsibility", 300) or "",
        "phone": _clean_text(data.get("phone"), errors, "phone", 40),
        "email": _clean_email(data.get("email"), errors),
        "starts_on": data.get("starts_on"), "ends_on": data.get("ends_on"),
    }
    for name in ("starts_on", "ends_on"):
        if values[name] is not None and not isinstance(values[name], date):
            errors.setdefault(name, []).append(_("Must be a date."))
    if isinstance(values["starts_on"], date) and isinstance(values["ends_on"], date) \
            and values["ends_on"] < values["starts_on"]:
        errors.setdefault("ends_on", []).append(_("The end is before the start."))
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    member = NetworkMember(client_id=client.id, **values)
    db.session.add(member)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="network", actor=actor)
    return member


def end_network_member(actor, member_id: int) -> NetworkMember:
    """Staff mark a network member's work with the client as ended today."""
    _require_staff(actor)
    member = db.session.get(NetworkMember, member_id) if isinstance(member_id, int) else None
    if member is None:
        raise NotFoundError(_("Not found."))
    client = _live_client(member.client_id)
    today = date.today()
    if member.ends_on is not None and member.ends_on <= today:
        raise ConflictError(_("This person's work with the client has already ended."), code="already_ended")
    member.ends_on = today
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="network", actor=actor)
    return member


# -- relatives and logins ------------------------------------------------------

def _invitation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kotiapu.clients.access-invitation")


def invitation_token(user: User) -> str:
    """A link token to choose a password; valid INVITATION_DAYS and only until the
    password is set (the user's session version is part of it)."""
    return _invitation_serializer().dumps({"u": user.id, "v": user.session_version})


def user_for_invitation(token: str) -> User:
    """The client-role user of a valid invitation token. Raises NotFoundError for
    a malformed token and GoneError for an expired or used one."""
    try:
        data = _invitation_serializer().loads(token, max_age=INVITATION_DAYS * 24 * 3600)
    except SignatureExpired:
        raise GoneError(_("This link has expired. Ask your guidance worker for a new one."), code="invitation_expired") from None
    except BadSignature:
        raise NotFoundError(_("Not found.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or user.role != Role.CLIENT or not user.active:
        raise NotFoundError(_("Not found."))
    if user.session_version != data.get("v"):
        raise GoneError(_("This link has already been used. Log in with your e-mail address and password."),
                        code="invitation_used")
    return user


def accept_invitation(token: str, password: str) -> User:
    """The invited person chooses their password. One conditional UPDATE on the
    session version claims the link, so it works once. Raises NotFoundError,
    GoneError, ValidationFailed."""
    from accounts.services import MIN_PASSWORD_LENGTH, hash_password

    user = user_for_invitation(token)
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_("The password is too short."),
                               fields={"password": [_("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)]})
    claimed = db.session.execute(
        sa.update(User).where(User.id == user.id, User.session_version == user.session_version)
        .values(password_hash=hash_password(password), session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise GoneError(_("This link has already been used. Log in with your e-mail address and password."),
                        code="invitation_used")
    db.session.refresh(user)
    return user


def _login_user(email: str, name: str, language: str) -> tuple[User, bool]:
    """The client-role login with this e-mail, or a new one without a usable
    password (the invitation sets it). Returns (user, created)."""
    from accounts.services import create_user

    existing = db.session.scalar(sa.select(User).where(User.email == email))
    if existing is not None:
        if existing.role != Role.CLIENT or not existing.active:
            raise ConflictError(_("%(email)s is already used by another kind of login; use another address.",
                                  email=email), code="email_taken",
                                fields={"email": [_("Already used by another kind of login.")]})
        return existing, False
    user = create_user(email, secrets.token_urlsafe(32), Role.CLIENT, name=name,
                       language=language if language in ("fi", "sv", "en") else "fi")
    return user, True


def add_representative(actor, client_id: int, *, email: str, name: str, relationship: str = "",
                       client_consents: bool = False) -> ClientRepresentative:
    """Staff give a relative access to act for the client, recording the client's
    consent (who recorded it, when). The relative's client-role login is created
    if needed (an e-mail invitation lets them choose a password) or an existing one
    is linked. Raises ValidationFailed (no consent, bad input), ConflictError
    (already representing; e-mail used by another kind of login)."""
    client = _staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    email = _clean_email(email, errors, required=True)
    name = _clean_text(name, errors, "name", 200, required=True)
    relationship = _clean_text(relationship, errors, "relationship", 60) or ""
    if client_consents is not True:
        errors["client_consents"] = [_("A relative can act for the client only with the client's consent.")]
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    from core.mail import language_of

    user, created = _login_user(email, name, language_of(client.languages))
    if user.client_id == client.id:
        raise ConflictError(_("This is the client's own login."), code="own_login",
                            fields={"email": [_("This is the client's own login.")]})
    existing = db.session.scalar(sa.select(ClientRepresentative).where(
        ClientRepresentative.client_id == client.id, ClientRepresentative.user_id == user.id))
    now = utcnow()
    if existing is not None and existing.ended_at is None:
        raise ConflictError(_("This person already acts for the client."), code="already_representative")
    if existing is not None:  # a relationship that ended earlier starts again
        existing.ended_at = None
        existing.consent_recorded_at, existing.consent_recorded_by_id = now, actor.id
        existing.relationship_ = relationship
        rep = existing
    else:
        rep = ClientRepresentative(client_id=client.id, user_id=user.id, relationship_=relationship,
                                   consent_recorded_at=now, consent_recorded_by_id=actor.id)
        db.session.add(rep)
    _event(client.id, ClientEventAction.REPRESENTATIVE_ADDED, actor,
           note=f"{name} ({relationship})" if relationship else name, at=now)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="relatives acting for the client", actor=actor)
    from clients import jobs

    enqueue(jobs.send_access_notification, user.id, client.id, created, queue="mail")
    return rep


def end_representative(actor, representative_id: int) -> ClientRepresentative:
    """Staff end a relative's right to act for the client (e.g. the client withdrew
    their consent); the relative no longer sees the client's data."""
    _require_staff(actor)
    rep = db.session.get(ClientRepresentative, representative_id) if isinstance(representative_id, int) else None
    if rep is None:
        raise NotFoundError(_("Not found."))
    client = _live_client(rep.client_id)
    claimed = db.session.execute(
        sa.update(ClientRepresentative).where(ClientRepresentative.id == rep.id, ClientRepresentative.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("This relative's access has already ended."), code="already_ended")
    db.session.refresh(rep)
    user = db.session.get(User, rep.user_id)
    _event(client.id, ClientEventAction.REPRESENTATIVE_ENDED, actor, note=user.name or user.email)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="relatives acting for the client", actor=actor)
    return rep


def give_client_login(actor, client_id: int, email: str) -> User:
    """Staff give the client their own login to Kotiapu: a client-role user linked
    to the record; an e-mail invitation lets them choose a password. Raises
    ValidationFailed, ConflictError (a login already exists or the e-mail is taken)."""
    client = _staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    email = _clean_email(email, errors, required=True)
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    if db.session.scalar(sa.select(User.id).where(User.client_id == client.id, User.active.is_(True))):
        raise ConflictError(_("The client already has a login."), code="login_exists")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise ConflictError(_("%(email)s already has a Kotiapu login; use another address.", email=email),
                            code="email_taken", fields={"email": [_("Already in use.")]})
    from accounts.services import create_user
    from core.mail import language_of

    user = create_user(email, secrets.token_urlsafe(32), Role.CLIENT, name=client.full_name, client_id=client.id,
                       language=language_of(client.languages))
    _event(client.id, ClientEventAction.LOGIN_GIVEN, actor)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="client login", actor=actor)
    from clients import jobs

    enqueue(jobs.send_access_notification, user.id, client.id, True, queue="mail")
    return user


# -- guidance contacts ---------------------------------------------------------

GUIDANCE_TOPICS = (
    "cleaning", "meals", "shopping", "safety_phone", "personal_care", "repairs", "transport", "carer_support",
    "service_voucher", "housing", "loneliness", "memory", "money", "home_care", "other",
)


def log_guidance_contact(actor, *, channel: str, topic: str, outcome: str = "", referral: str | None = None,
                         municipality: str | None = None, minutes: int | None = None,
                         client_id: int | None = None, at: datetime | None = None) -> GuidanceContact:
    """Staff log a piece of advice given (channel, topic, outcome, referral), for a
    client or an anonymous caller (``client_id`` None). A contact with a client
    counts as checking on them: it closes an open segment check-up. Raises
    ValidationFailed, NotFoundError."""
    _require_staff(actor)
    errors: dict[str, list[str]] = {}
    if channel not in set(ContactChannel):
        errors["channel"] = [_("Choose phone, visit, chat or e-mail.")]
    topic = _clean_text(topic, errors, "topic", 60, required=True)
    outcome = _clean_text(outcome, errors, "outcome", 300) or ""
    referral = _clean_text(referral, errors, "referral", 200)
    municipality = _clean_text(municipality, errors, "municipality", 100)
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 600):
        errors["minutes"] = [_("Between 1 and 600 minutes.")]
    now = utcnow()
    if at is not None and (not isinstance(at, datetime) or at.tzinfo is None or at > now + timedelta(minutes=5)):
        errors["at"] = [_("Cannot be in the future.")]
    client = None
    if client_id is not None:
        try:
            client = _live_client(client_id)
        except NotFoundError:
            errors["client_id"] = [_("No such client.")]
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    contact = GuidanceContact(client_id=client.id if client else None, staff_id=actor.id, at=at or now,
                              channel=channel, topic=topic, outcome=outcome, referral=referral,
                              municipality=municipality or (client.municipality if client else None), minutes=minutes)
    db.session.add(contact)
    if client is not None:
        client.last_activity_at = max(client.last_activity_at, now)
        client.last_check_at = now
        _close_open(client.id, FollowUpKind.SEGMENT_CHECK, actor, "guidance contact logged")
        db.session.flush()
        record_access(client.id, "change", Purpose.GUIDANCE, what="guidance contact", actor=actor)
    db.session.flush()
    return contact


def guidance_contacts(actor, *, since: date | None = None, until: date | None = None, channel: str | None = None,
                      topic: str | None = None, mine: bool = False, client_id: int | None = None,
                      limit: int = 100, logged: set[int] | None = None) -> tuple[list[GuidanceContact], dict]:
    """Logged contacts for staff, newest first, and counts by channel and by topic
    over the same filters (for reporting). Clients named in the list are logged as
    listed (except those in ``logged``: the page already logged them)."""
    _require_staff(actor)
    conditions = []
    if since:
        conditions.append(GuidanceContact.at >= datetime(since.year, since.month, since.day, tzinfo=utcnow().tzinfo))
    if until:
        end = until + timedelta(days=1)
        conditions.append(GuidanceContact.at < datetime(end.year, end.month, end.day, tzinfo=utcnow().tzinfo))
    if channel in set(ContactChannel):
        conditions.append(GuidanceContact.channel == channel)
    if topic:
        conditions.append(GuidanceContact.topic == topic)
    if mine:
        conditions.append(GuidanceContact.staff_id == actor.id)
    if client_id:
        conditions.append(GuidanceContact.client_id == client_id)
    rows = db.session.scalars(
        sa.select(GuidanceContact).where(*conditions)
        .options(sa.orm.joinedload(GuidanceContact.client), sa.orm.joinedload(GuidanceContact.staff))
        .order_by(GuidanceContact.at.desc(), GuidanceContact.id.desc()).limit(limit)).all()
    by_channel = dict(db.session.execute(sa.select(GuidanceContact.channel, sa.func.count())
                                         .where(*conditions).group_by(GuidanceContact.channel)).all())
    by_topic = db.session.execute(sa.select(GuidanceContact.topic, sa.func.count()).where(*conditions)
                                  .group_by(GuidanceContact.topic).order_by(sa.func.count().desc(),
                                                                            GuidanceContact.topic)).all()
    anonymous = db.session.scalar(sa.select(sa.func.count()).select_from(GuidanceContact)
                                  .where(*conditions, GuidanceContact.client_id.is_(None)))
    referrals = db.session.scalar(sa.select(sa.func.count()).select_from(GuidanceContact)
                                  .where(*conditions, GuidanceContact.referral.is_not(None)))
    record_access_many([r.client_id for r in rows if r.client_id and r.client and r.client.erased_at is None
                        and r.client_id not in (logged or set())],
                       "list", Purpose.GUIDANCE, what="name in guidance contacts", actor=actor)
    total = sum(by_channel.values())
    return list(rows), {"total": total, "by_channel": by_channel, "by_topic": list(by_topic),
                        "anonymous": anonymous, "referrals": referrals}


# -- follow-ups ----------------------------------------------------------------

def _close_open(client_id: int, kind: str, actor, note: str) -> int:
    """Mark the client's open follow-ups of one kind done (conditional UPDATE)."""
    return db.session.execute(
        sa.update(FollowUp).where(FollowUp.client_id == client_id, FollowUp.kind == kind, FollowUp.done_at.is_(None))
        .values(done_at=utcnow(), done_by_id=getattr(actor, "id", None), done_note=note)
        .execution_options(synchronize_session=False)).rowcount


def open_follow_up(client: Client, kind: str, title: str, due_at: datetime | None = None,
                   order_id: int | None = None) -> FollowUp | None:
    """Open a follow-up for the client's responsible worker unless one of the same
    kind is already open for the client (returns None then). For the swept kinds a
    partial unique index is the backstop when two sweeps race: the loser's insert
    is rolled back to a savepoint."""
    exists = db.session.scalar(sa.select(FollowUp.id).where(
        FollowUp.client_id == client.id, FollowUp.kind == kind, FollowUp.done_at.is_(None)).limit(1))
    if exists:
        return None
    return insert_follow_up(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id, kind=kind,
                                     title=title, due_at=due_at or utcnow(), order_id=order_id))


def insert_follow_up(follow: FollowUp) -> FollowUp | None:
    """Insert in a savepoint: when the partial unique index refuses it (another
    sweep opened the same reminder a moment ago) only the savepoint is rolled
    back, the caller's transaction goes on, and None is returned."""
    try:
        with db.session.begin_nested():
            db.session.add(follow)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None
    return follow


def complete_follow_up(actor, follow_up_id: int, note: str | None = None) -> FollowUp:
    """Staff mark a follow-up done, with a note. Done segment check-ups record the
    check (``last_check_at``), so the next one comes after the segment's interval.
    Raises NotFoundError, ConflictError (already done)."""
    _require_staff(actor)
    follow = db.session.get(FollowUp, follow_up_id) if isinstance(follow_up_id, int) else None
    if follow is None:
        raise NotFoundError(_("Not found."))
    client = _live_client(follow.client_id)
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        raise ValidationFailed(_("The note is too long."), fields={"note": [_("At most 2000 characters.")]})
    now = utcnow()
    claimed = db.session.execute(
        sa.update(FollowUp).where(FollowUp.id == follow.id, FollowUp.done_at.is_(None))
        .values(done_at=now, done_by_id=actor.id, done_note=note).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("This follow-up is already done."), code="already_done")
    if follow.kind == FollowUpKind.SEGMENT_CHECK:
        client.last_check_at = now
        _event(client.id, ClientEventAction.CHECKED, actor, at=now)
    db.session.flush()
    db.session.refresh(follow)
    record_access(client.id, "change", Purpose.GUIDANCE, what="follow-up", actor=actor)
    return follow


def sweep_segment_checks(now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Periodic: open a check-up follow-up for every client whose segment's
    interval (SEGMENT_CHECK_DAYS) has passed since the last check (or since
    registration), unless one is open. Idempotent; returns how many were opened."""
    now = now or utcnow()
    due = sa.func.coalesce(Client.last_check_at, Client.created_at)
    open_check = sa.select(FollowUp.id).where(FollowUp.client_id == Client.id, FollowUp.done_at.is_(None),
                                              FollowUp.kind == FollowUpKind.SEGMENT_CHECK).exists()
    per_segment = [sa.and_(Client.segment == segment, due <= now - timedelta(days=days))
                   for segment, days in SEGMENT_CHECK_DAYS.items()]
    clients = db.session.scalars(
        sa.select(Client).where(Client.erased_at.is_(None), sa.or_(*per_segment), ~open_check)
        .order_by(Client.id).limit(limit)).all()
    opened = 0
    for client in clients:
        base = client.last_check_at or client.created_at
        title = {Segment.INDEPENDENT: "Check-up of an independent client (every 180 days)",
                 Segment.GUIDANCE: "Check-up of a client who needs guidance (every 60 days)",
                 Segment.INTENSIVE: "Check-up of a client who needs intensive coordination (every 14 days)",
                 }[Segment(client.segment)]
        if open_follow_up(client, FollowUpKind.SEGMENT_CHECK, title,
                          due_at=base + timedelta(days=SEGMENT_CHECK_DAYS[Segment(client.segment)])):
            opened += 1
    return opened


def sweep_retention(now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Periodic: flag for erasure every client with no activity for RETENTION_DAYS
    (default two years after the last service) and no open order, with a
    follow-up for the responsible worker; unflag clients whose activity resumed.
    Idempotent; returns how many were flagged."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    from orders.models import ServiceOrder

    open_order = sa.select(ServiceOrder.id).where(ServiceOrder.client_id == Client.id,
                                                  ServiceOrder.status.in_(OPEN_ORDER_STATES)).exists()
    resumed = db.session.scalars(sa.select(Client).where(
        Client.erased_at.is_(None), Client.retention_flagged_at.is_not(None),
        sa.or_(Client.last_activity_at > cutoff, open_order)).limit(limit)).all()
    for client in resumed:
        client.retention_flagged_at = None
        _close_open(client.id, FollowUpKind.RETENTION, None, "activity resumed")
    clients = db.session.scalars(sa.select(Client).where(
        Client.erased_at.is_(None), Client.retention_flagged_at.is_(None), Client.last_activity_at <= cutoff,
        ~open_order).order_by(Client.id).limit(limit)).all()
    for client in clients:
        claimed = db.session.execute(
            sa.update(Client).where(Client.id == client.id, Client.retention_flagged_at.is_(None))
            .values(retention_flagged_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue
        _event(client.id, ClientEventAction.RETENTION_FLAGGED, None, at=now,
               note=f"no activity for {current_app.config['RETENTION_DAYS']} days")
        open_follow_up(client, FollowUpKind.RETENTION,
                       "No services for the retention period: erase the record, or keep it if still needed")
    db.session.flush()
    return len(clients)


def keep_client_record(actor, client_id: int, reason: str) -> Client:
    """Staff decide that a record flagged by the retention sweep is still needed
    (with the reason): the flag is removed and the retention period starts again.
    Raises ValidationFailed, ConflictError (not flagged)."""
    client = _staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    reason = _clean_text(reason, errors, "reason", 500, required=True)
    if errors:
        raise ValidationFailed(_("Give the reason for keeping the record."), fields=errors)
    if client.retention_flagged_at is None:
        raise ConflictError(_("The record is not flagged for erasure."), code="not_flagged")
    now = utcnow()
    client.retention_flagged_at = None
    client.last_activity_at = now
    _close_open(client.id, FollowUpKind.RETENTION, actor, reason)
    _event(client.id, ClientEventAction.RETENTION_KEPT, actor, note=reason, at=now)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="retention decision", actor=actor)
    return client


# -- erasure -------------------------------------------------------------------

def request_erasure(actor, client_id: int, reason: str | None = None) -> Client:
    """The client (their own login; not a relative) or staff on the client's
    behalf ask for the record to be erased. Staff decide: a follow-up goes to the
    responsible worker, who is also told by e-mail. Raises PermissionDenied (a
    relative), ConflictError (already asked), NotFoundError."""
    if actor is None or actor.role not in (Role.STAFF, Role.CLIENT):
        raise PermissionDenied(_("Only the client or guidance staff can ask for erasure."))
    if actor.role == Role.CLIENT:
        if not can_act_for_client(actor, client_id):
            raise NotFoundError(_("Client not found."))
        if not is_own_record(actor, client_id):
            raise PermissionDenied(_("Only the client themselves can ask for their data to be erased."),
                                   code="own_data_only")
    client = _live_client(client_id)
    errors: dict[str, list[str]] = {}
    reason = _clean_text(reason, errors, "reason", 1000)
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Client).where(Client.id == client.id, Client.erasure_requested_at.is_(None))
        .values(erasure_requested_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("Erasure has already been asked for; the guidance office will answer."),
                            code="erasure_already_requested")
    db.session.refresh(client)
    _event(client.id, ClientEventAction.ERASURE_REQUESTED, actor, note=reason, at=now)
    open_follow_up(client, FollowUpKind.ERASURE, "The client asked for their data to be erased: decide")
    record_access(client.id, "change", Purpose.ERASURE, what="erasure request", actor=actor)
    from clients import jobs

    enqueue(jobs.send_erasure_request_notification, client.id, queue="mail")
    return client


def decline_erasure(actor, client_id: int, reason: str) -> Client:
    """Staff decline an erasure request with the reason (e.g. the law requires the
    social-welfare record to be kept); the client sees the answer in their portal
    and gets an e-mail telling them to look. Raises ValidationFailed,
    ConflictError (no request)."""
    client = _staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    reason = _clean_text(reason, errors, "reason", 1000, required=True)
    if errors:
        raise ValidationFailed(_("Give the reason."), fields=errors)
    if client.erasure_requested_at is None:
        raise ConflictError(_("The client has not asked for erasure."), code="no_erasure_request")
    client.erasure_requested_at = None
    _close_open(client.id, FollowUpKind.ERASURE, actor, reason)
    event = _event(client.id, ClientEventAction.ERASURE_DECLINED, actor, note=reason)
    db.session.flush()
    record_access(client.id, "change", Purpose.ERASURE, what="erasure decision", actor=actor)
    from clients import jobs

    enqueue(jobs.send_erasure_declined_notification, event.id, queue="mail")
    return client


PSEUDONYM_FIRST = "Poistettu"


def erase_client(actor, client_id: int) -> Client:
    """Staff approve erasure (asked for by the client, or flagged by the retention
    sweep). The person is pseudonymised: names become "Poistettu asiakas <id>";
    identity code, birth date, address, phone, e-mail and notes are cleared; the
    postal code, municipality, languages and segment stay for area and service
    statistics. Orders, visits, feedback, guidance contacts and the access log stay
    (report counts do not change); free text about the person (order
    instructions and outcome notes, visit notes, message bodies) is cleared, the
    network is removed, relatives' access ends, and the client's own logins are
    deactivated and pseudonymised. Raises ConflictError (not requested nor
    flagged; orders still open)."""
    client = _staff_client(actor, client_id)
    if client.erasure_requested_at is None and client.retention_flagged_at is None:
        raise ConflictError(_("Erase a record only when the client asks for it or the retention period has passed."),
                            code="erasure_not_requested")
    from orders.models import ServiceOrder, VisitReport

    open_orders = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder).where(
        ServiceOrder.client_id == client.id, ServiceOrder.status.in_(OPEN_ORDER_STATES)))
    if open_orders:
        raise ConflictError(_("The client has %(n)s open order(s): cancel or close them first.", n=open_orders),
                            code="open_orders")
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Client).where(Client.id == client.id, Client.erased_at.is_(None)).values(
            first_name=PSEUDONYM_FIRST, last_name=f"asiakas {client.id}", birth_date=None,
            personal_identity_code=None, address="", phone=None, email=None, notes="", non_disclosure=False,
            consent_to_share=False, erased_at=now, erasure_requested_at=None, retention_flagged_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise NotFoundError(_("Client not found."))
    order_ids = sa.select(ServiceOrder.id).where(ServiceOrder.client_id == client.id).scalar_subquery()
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.client_id == client.id)
                       .values(instructions="", outcome_note=None).execution_options(synchronize_session=False))
    db.session.execute(sa.update(VisitReport).where(VisitReport.order_id.in_(order_ids))
                       .values(note=None).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Message).where(Message.client_id == client.id)
                       .values(body="").execution_options(synchronize_session=False))
    db.session.execute(sa.delete(NetworkMember).where(NetworkMember.client_id == client.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(ClientRepresentative).where(
        ClientRepresentative.client_id == client.id, ClientRepresentative.ended_at.is_(None))
        .values(ended_at=now).execution_options(synchronize_session=False))
    for user in db.session.scalars(sa.select(User).where(User.client_id == client.id)):
        user.active = False
        user.session_version += 1
        user.email = f"erased-{user.id}@erased.invalid"
        user.name = f"Poistettu asiakas {client.id}"
        user.phone = None
        user.password_hash = "!erased"
    _close_open(client.id, FollowUpKind.ERASURE, actor, "erased")
    _close_open(client.id, FollowUpKind.RETENTION, actor, "erased")
    _close_open(client.id, FollowUpKind.SEGMENT_CHECK, actor, "erased")
    _event(client.id, ClientEventAction.ERASED, actor, at=now)
    db.session.flush()
    db.session.refresh(client)
    record_access(client.id, "erase", Purpose.ERASURE, what="client record", actor=actor)
    return client


# -- messages ------------------------------------------------------------------

def _message_body(body, errors: dict) -> str:
    body = _clean_text(body, errors, "body", MESSAGE_MAX, required=True)
    return body or ""


def send_message(actor, client_id: int, body: str, *, to: str = "worker", order_id: int | None = None) -> Message:
    """Send a message in a client's thread; kept with the order when ``order_id`` is
    given. The client side (the client or a relative) writes to the responsible
    worker (``to="worker"``) or to the provider of an active order
    (``to="provider"``); staff and the winning provider write to the client
    (``to="client"``). The recipients get an e-mail that only says there is a new
    message, with a link. Raises ValidationFailed, NotFoundError, PermissionDenied."""
    from orders.models import ServiceOrder

    errors: dict[str, list[str]] = {}
    body = _message_body(body, errors)
    order = None
    if order_id is not None:
        order = db.session.get(ServiceOrder, order_id) if isinstance(order_id, int) else None
        if order is None or order.client_id != client_id:
            raise NotFoundError(_("Order not found."))
    if actor.role == Role.CLIENT:
        if not can_act_for_client(actor, client_id):
            raise NotFoundError(_("Client not found."))
        client = _live_client(client_id)
        if to == "worker":
            if client.responsible_worker_id is None:
                raise ValidationFailed(_("You have no responsible worker yet. Call the guidance office."),
                                       code="no_worker", fields={"to": [_("No responsible worker.")]})
            target = {"to_user_id": client.responsible_worker_id}
        elif to == "provider":
            if order is None or order.provider_id is None or order.status not in ACTIVE_ORDER_STATES + ("completed",):
                raise ValidationFailed(_("Choose a service whose provider you want to write to."),
                                       fields={"to": [_("This service has no provider to write to.")]})
            target = {"to_provider_id": order.provider_id}
        else:
            raise ValidationFailed(_("Choose who the message is for."), fields={"to": [_("Choose a recipient.")]})
        purpose = client_side_purpose(actor, client.id)
    elif actor.role == Role.STAFF:
        client = _live_client(client_id)
        target = {"to_user_id": _client_login_id(client.id)}
        purpose = Purpose.GUIDANCE
    elif actor.role == Role.PROVIDER:
        if order is None or order.provider_id != actor.provider_id \
                or order.status not in ACTIVE_ORDER_STATES + ("completed",):
            raise NotFoundError(_("Order not found."))
        client = _live_client(client_id)
        target = {"to_user_id": _client_login_id(client.id)}
        purpose = Purpose.SERVICE
    else:
        raise PermissionDenied(_("Your role cannot send messages to clients."))
    if errors:
        raise ValidationFailed(_("Write the message."), fields=errors)
    message = Message(client_id=client.id, order_id=order.id if order else None, sender_id=actor.id, body=body,
                      **target)
    db.session.add(message)
    db.session.flush()
    record_access(client.id, "change", purpose, what="message", actor=actor)
    from clients import jobs

    enqueue(jobs.send_message_notifications, message.id, queue="mail")
    return message


def _client_login_id(client_id: int) -> int | None:
    return db.session.scalar(sa.select(User.id).where(User.client_id == client_id, User.active.is_(True))
                             .order_by(User.id).limit(1))


def mark_messages_read(actor, client_id: int, order_id: int | None = None) -> int:
    """Stamp ``read_at`` on the messages of the client's thread addressed to the
    actor's side (the client side: from staff or providers; a staff member: to
    them). No access-log row: the page that shows them writes it."""
    from accounts.models import User as Sender

    senders_client_side = sa.select(Sender.id).where(Sender.role == Role.CLIENT)
    stmt = sa.update(Message).where(Message.client_id == client_id, Message.read_at.is_(None))
    if order_id is not None:
        stmt = stmt.where(Message.order_id == order_id)
    if actor.role == Role.CLIENT:
        stmt = stmt.where(Message.sender_id.not_in(senders_client_side))
    elif actor.role == Role.STAFF:
        stmt = stmt.where(Message.to_user_id == actor.id)
    elif actor.role == Role.PROVIDER:
        stmt = stmt.where(Message.to_provider_id == actor.provider_id)
    else:
        return 0
    return db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def unread_message_count(user) -> int:
    """Unread messages addressed to a staff member (for a dashboard badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.to_user_id == user.id, Message.read_at.is_(None))) or 0
