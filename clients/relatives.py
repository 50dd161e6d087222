"""The people around a client: the network of professionals, relatives
acting for the client (with the client's consent) and logins with their
e-mail invitations."""

from __future__ import annotations

import secrets
from datetime import date

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from flask_babel import ngettext

from accounts.models import Role, User
from accounts.services import MIN_PASSWORD_LENGTH, create_user, hash_password
from clients import jobs
from clients.base import INVITATION_DAYS, _, clean_email, clean_text, live_client, record_event, staff_client
from clients.models import ClientEventAction, ClientRepresentative, MandateScope, NetworkMember
from clients.policy import is_own_record, require_client_side, require_staff
from core.access import Purpose, record_access
from core.db import utcnow
from core.errors import ConflictError, GoneError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.mail import language_of
from core.time import local_today


# -- network -------------------------------------------------------------------
def add_network_member(actor, client_id: int, data: dict) -> NetworkMember:
    """Staff add a professional, organisation or close person to the client's
    network (name, organisation, role, responsibility, contact, from/until).
    Raises ValidationFailed, NotFoundError."""
    client = staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    values = {
        "name": clean_text(data.get("name"), errors, "name", 200, required=True),
        "organisation": clean_text(data.get("organisation"), errors, "organisation", 200) or "",
        "role": clean_text(data.get("role"), errors, "role", 120) or "",
        "responsibility": clean_text(data.get("responsibility"), errors, "responsibility", 300) or "",
        "phone": clean_text(data.get("phone"), errors, "phone", 40),
        "email": clean_email(data.get("email"), errors),
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
    require_staff(actor)
    member = db.session.get(NetworkMember, member_id) if isinstance(member_id, int) else None
    if member is None:
        raise NotFoundError(_("Not found."))
    client = live_client(member.client_id)
    today = local_today()
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
    user = user_for_invitation(token)
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_("The password is too short."),
                               fields={"password": [ngettext("At least %(num)d character.", "At least %(num)d characters.", MIN_PASSWORD_LENGTH)]})
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


ALL_SCOPES = tuple(MandateScope)


def _mandate_values(scopes, valid_from, valid_until, errors: dict) -> dict:
    """The columns of a mandate from its scopes and validity period."""
    if scopes is None:
        scopes = ALL_SCOPES
    if not isinstance(scopes, (list, tuple, set)) or any(s not in set(MandateScope) for s in scopes):
        errors.setdefault("scopes", []).append(_("Unknown scope."))
        scopes = ()
    elif not scopes:
        errors.setdefault("scopes", []).append(_("Choose at least one thing the relative may do."))
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if value is not None and not isinstance(value, date):
            errors.setdefault(name, []).append(_("Must be a date."))
    if isinstance(valid_from, date) and isinstance(valid_until, date) and valid_until < valid_from:
        errors.setdefault("valid_until", []).append(_("The end is before the start."))
    values = {column: scope in scopes for scope, column in ClientRepresentative.SCOPE_COLUMNS.items()}
    values.update(valid_from=valid_from if isinstance(valid_from, date) else None,
                  valid_until=valid_until if isinstance(valid_until, date) else None)
    return values


def _mandate_note(name: str, values: dict) -> str:
    """The client event's note: who, the scopes and the period (codes and ISO dates)."""
    scopes = ",".join(s for s, c in ClientRepresentative.SCOPE_COLUMNS.items() if values[c])
    period = f"{values['valid_from'] or ''}..{values['valid_until'] or ''}"
    return f"{name}: {scopes} {period}"


def add_representative(actor, client_id: int, *, email: str, name: str, relationship: str = "",
                       client_consents: bool = False, scopes=None, valid_from: date | None = None,
                       valid_until: date | None = None) -> ClientRepresentative:
    """Staff record a relative's mandate to act for the client with the client's
    consent (who recorded it, when): its scopes (``MandateScope``; all when None)
    and validity period (open when None). The relative's client-role login is
    created if needed (an e-mail invitation lets them choose a password) or an
    existing one is linked. Raises ValidationFailed (no consent, bad input),
    ConflictError (already representing; e-mail used by another kind of login)."""
    client = staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    email = clean_email(email, errors, required=True)
    name = clean_text(name, errors, "name", 200, required=True)
    relationship = clean_text(relationship, errors, "relationship", 60) or ""
    mandate = _mandate_values(scopes, valid_from, valid_until, errors)
    if client_consents is not True:
        errors["client_consents"] = [_("A relative can act for the client only with the client's consent.")]
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
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
        existing.ended_at = existing.ended_by_id = None
        existing.consent_recorded_at, existing.consent_recorded_by_id = now, actor.id
        existing.relationship_ = relationship
        for column, value in mandate.items():
            setattr(existing, column, value)
        rep = existing
    else:
        rep = ClientRepresentative(client_id=client.id, user_id=user.id, relationship_=relationship,
                                   consent_recorded_at=now, consent_recorded_by_id=actor.id, **mandate)
        db.session.add(rep)
    record_event(client.id, ClientEventAction.REPRESENTATIVE_ADDED, actor,
                 note=_mandate_note(f"{name} ({relationship})" if relationship else name, mandate), at=now)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="relatives acting for the client", actor=actor)
    enqueue(jobs.send_access_notification, user.id, client.id, created, queue="mail")
    return rep


def update_mandate(actor, representative_id: int, *, scopes, valid_from: date | None = None,
                   valid_until: date | None = None) -> ClientRepresentative:
    """Staff change a mandate's scopes and validity period (with the client's
    consent). The change applies from the relative's next request. Raises
    ValidationFailed, NotFoundError, ConflictError (the mandate has ended)."""
    require_staff(actor)
    rep = db.session.get(ClientRepresentative, representative_id) if isinstance(representative_id, int) else None
    if rep is None:
        raise NotFoundError(_("Not found."))
    client = live_client(rep.client_id)
    errors: dict[str, list[str]] = {}
    mandate = _mandate_values(scopes, valid_from, valid_until, errors)
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    claimed = db.session.execute(
        sa.update(ClientRepresentative).where(ClientRepresentative.id == rep.id, ClientRepresentative.ended_at.is_(None))
        .values(**mandate).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("This relative's access has already ended."), code="already_ended")
    db.session.refresh(rep)
    user = db.session.get(User, rep.user_id)
    record_event(client.id, ClientEventAction.MANDATE_CHANGED, actor, note=_mandate_note(user.name or user.email, mandate))
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="relatives acting for the client", actor=actor)
    return rep


def _end(actor, rep: ClientRepresentative) -> None:
    claimed = db.session.execute(
        sa.update(ClientRepresentative).where(ClientRepresentative.id == rep.id, ClientRepresentative.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_by_id=actor.id).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("This relative's access has already ended."), code="already_ended")
    db.session.refresh(rep)


def end_representative(actor, representative_id: int) -> ClientRepresentative:
    """Staff end a relative's mandate to act for the client (e.g. the client
    withdrew their consent); the relative's next request no longer reaches the
    client's data, also in a session already open."""
    require_staff(actor)
    rep = db.session.get(ClientRepresentative, representative_id) if isinstance(representative_id, int) else None
    if rep is None:
        raise NotFoundError(_("Not found."))
    client = live_client(rep.client_id)
    _end(actor, rep)
    user = db.session.get(User, rep.user_id)
    record_event(client.id, ClientEventAction.REPRESENTATIVE_ENDED, actor, note=user.name or user.email)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="relatives acting for the client", actor=actor)
    return rep


def revoke_mandate(actor, representative_id: int) -> ClientRepresentative:
    """The client themselves (their own login) revoke a relative's mandate; it
    stops at once. A relative cannot revoke another's mandate: another client's
    mandate is NotFoundError, a relative's attempt PermissionDenied."""
    rep = db.session.get(ClientRepresentative, representative_id) if isinstance(representative_id, int) else None
    if rep is None or actor is None or actor.role != Role.CLIENT:
        raise NotFoundError(_("Not found."))
    require_client_side(actor, rep.client_id, None)
    if not is_own_record(actor, rep.client_id):
        raise PermissionDenied(_("Only the client themselves can revoke a mandate."), code="own_data_only")
    client = live_client(rep.client_id)
    _end(actor, rep)
    user = db.session.get(User, rep.user_id)
    record_event(client.id, ClientEventAction.MANDATE_REVOKED, actor, note=user.name or user.email)
    db.session.flush()
    record_access(client.id, "change", Purpose.OWN_DATA, what="relatives acting for the client", actor=actor)
    return rep


def give_client_login(actor, client_id: int, email: str) -> User:
    """Staff give the client their own login to Kotiapu: a client-role user linked
    to the record; an e-mail invitation lets them choose a password. Raises
    ValidationFailed, ConflictError (a login already exists or the e-mail is taken)."""
    client = staff_client(actor, client_id)
    errors: dict[str, list[str]] = {}
    email = clean_email(email, errors, required=True)
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    if db.session.scalar(sa.select(User.id).where(User.client_id == client.id, User.active.is_(True))):
        raise ConflictError(_("The client already has a login."), code="login_exists")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise ConflictError(_("%(email)s already has a Kotiapu login; use another address.", email=email),
                            code="email_taken", fields={"email": [_("Already in use.")]})
    user = create_user(email, secrets.token_urlsafe(32), Role.CLIENT, name=client.full_name, client_id=client.id,
                       language=language_of(client.languages))
    record_event(client.id, ClientEventAction.LOGIN_GIVEN, actor)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="client login", actor=actor)
    enqueue(jobs.send_access_notification, user.id, client.id, True, queue="mail")
    return user
