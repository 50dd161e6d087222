"""Accounts: creating users, logging in with throttling, API tokens.

Services flush, never commit: the request's, job's or CLI command's unit of work
commits. The one exception is a failed login, written in its own short transaction
so that it counts towards throttling although the request that saw it is refused.

Accounts imports only ``core``: a new user's link to an organisation or a client
record is checked through the foreign key of ``users`` (the row it points at must
exist), not by importing the providers' or clients' models.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext, ngettext
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ApiToken, LoginFailure, ProviderRole, Role, User
from core.db import utcnow
from core.errors import ConflictError, RateLimited, ValidationFailed
from core.extensions import db
from core.uow import after_unit_of_work

MIN_PASSWORD_LENGTH = 10
# scrypt (werkzeug's default KDF): memory-hard, no extra dependency.
PASSWORD_METHOD = "scrypt"


class LoginError(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


def normalise_email(email: str) -> str:
    """Validate the shape of an e-mail address and return it lower-cased.
    Raises ValidationFailed naming the ``email`` field."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except (EmailNotValidError, AttributeError):
        raise ValidationFailed(gettext("Invalid e-mail address."), fields={"email": [gettext("Invalid e-mail address.")]}) from None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def create_user(email: str, password: str, role: str, name: str = "", provider_id: int | None = None,
                provider_role: str | None = None, client_id: int | None = None, language: str = "fi") -> User:
    """Create a login. Admin and CLI only. Raises ValidationFailed for a bad e-mail,
    short password, unknown role or a missing/unknown organisation or client link, and
    ConflictError when the e-mail is taken."""
    errors: dict[str, list[str]] = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"At least {MIN_PASSWORD_LENGTH} characters."]
    if role not in set(Role):
        errors["role"] = ["Must be one of: " + ", ".join(Role) + "."]
    if role == Role.PROVIDER:
        if provider_id is None:
            errors["provider"] = ["A provider member needs --provider (the organisation id)."]
        elif not _linked_row_exists(User.provider_id, provider_id):
            errors["provider"] = [f"No provider organisation with id {provider_id}."]
    elif provider_id is not None:
        errors["provider"] = ["Only provider users belong to an organisation."]
    if client_id is not None:
        if role != Role.CLIENT:
            errors["client"] = ["Only client users are linked to a client record."]
        elif not _linked_row_exists(User.client_id, client_id):
            errors["client"] = [f"No client with id {client_id}."]
    if errors:
        raise ValidationFailed(gettext("The user could not be created."), fields=errors)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ConflictError(f"A user with e-mail {email} already exists.", code="email_taken")
    user = User(
        email=email, name=name.strip(), password_hash=hash_password(password), role=role,
        provider_id=provider_id, client_id=client_id, language=language,
        provider_role=(provider_role or ProviderRole.ADMIN) if role == Role.PROVIDER else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def _linked_row_exists(column, row_id: int) -> bool:
    """Whether the row a foreign key column of ``users`` would point at exists (the
    target table is read from the key, so no domain model is imported)."""
    (key,) = column.property.columns[0].foreign_keys
    target = key.column
    return db.session.scalar(sa.select(target).where(target == row_id)) is not None


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def check_throttle(email: str, address: str) -> None:
    """Raise RateLimited when too many recent failures for the account or address."""
    since = _window_start()
    by_account = db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure)
        .where(LoginFailure.email == email, LoginFailure.at >= since))
    by_address = db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure)
        .where(LoginFailure.address == address, LoginFailure.at >= since))
    if by_account >= current_app.config["LOGIN_MAX_FAILURES_ACCOUNT"] or \
            by_address >= current_app.config["LOGIN_MAX_FAILURES_ADDRESS"]:
        minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
        refused = RateLimited(ngettext("Too many failed logins. Wait %(num)s minute and try again, or ask your "
                                       "administrator to reset your password.",
                                       "Too many failed logins. Wait %(num)s minutes and try again, or ask your "
                                       "administrator to reset your password.", minutes))
        refused.retry_after = minutes * 60
        raise refused


def authenticate(email: str, password: str, address: str) -> User:
    """Check a login. Raises RateLimited when throttled and LoginError when the e-mail
    or password is wrong (the failure is written at once in its own transaction: it
    counts towards throttling even though the caller's request is refused and rolled
    back)."""
    email = (email or "").strip().lower()[:254]
    address = (address or "unknown")[:64]
    check_throttle(email, address)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    # Hash even for unknown users so timing does not reveal which e-mails exist.
    stored = user.password_hash if user else _DUMMY_HASH
    ok = check_password_hash(stored, password or "")
    if not ok or user is None or not user.active:
        after_unit_of_work(_record_failure, email, address)
        raise LoginError("Wrong e-mail address or password.")
    return user


def _record_failure(email: str, address: str) -> None:
    """A failed login, committed in a transaction of its own (not the request's unit
    of work, which a refused login rolls back), after the request's transaction has
    ended (``core.uow.after_unit_of_work``)."""
    with db.engine.begin() as connection:
        connection.execute(sa.insert(LoginFailure).values(email=email, address=address, at=utcnow()))


_DUMMY_HASH = generate_password_hash("not-a-real-password-xx", method=PASSWORD_METHOD)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str = "", kind: str = "session", created_by: User | None = None,
                lifetime: timedelta | None = None) -> tuple[str, ApiToken]:
    """Create an API bearer token for ``user``; returns the token (shown once) and its row."""
    token = secrets.token_urlsafe(32)
    lifetime = lifetime or timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token), name=name, kind=kind,
                   created_by_id=created_by.id if created_by else None, expires_at=utcnow() + lifetime)
    db.session.add(row)
    db.session.flush()
    return token, row


# last_used_at is written at most this often per token (not on every request).
LAST_USED_PRECISION = timedelta(minutes=1)


_statements: dict[str, sa.Select] = {}


def _token_statement() -> sa.Select:
    """The token row (and its user, joined) of a bound ``token_hash``; built at
    first use and reused."""
    stmt = _statements.get("token")
    if stmt is None:
        stmt = _statements["token"] = sa.select(ApiToken).where(
            ApiToken.token_hash == sa.bindparam("token_hash", type_=ApiToken.token_hash.type))
    return stmt


def _token_use_statement() -> sa.Select:
    """What checking a bearer token needs of its row (id, revocation, expiry, last
    use) and its user, for a bound ``token_hash``: the row's columns and the user
    object, not a token object (every API call reads it); built at first use."""
    stmt = _statements.get("token_use")
    if stmt is None:
        stmt = _statements["token_use"] = (
            sa.select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == sa.bindparam("token_hash", type_=ApiToken.token_hash.type)))
    return stmt


class TokenUse(NamedTuple):
    """A valid bearer token: its row's id and its user."""

    id: int
    user: User


def token_for(token: str) -> TokenUse | None:
    """The valid (unexpired, unrevoked) token of an active user (its id and user),
    else None. Notes when it was used."""
    if not token or len(token) > 200:
        return None
    row = db.session.execute(_token_use_statement(), {"token_hash": _token_hash(token)}).first()
    if row is None:
        return None
    token_id, revoked_at, expires_at, last_used_at, user = row
    now = utcnow()
    if revoked_at is not None or expires_at <= now or not user.active:
        return None
    if last_used_at is None or now - last_used_at >= LAST_USED_PRECISION:
        after_unit_of_work(_note_use, token_id, now)
    return TokenUse(token_id, user)


def _note_use(token_id: int, now) -> None:
    """Record when a token was used, in a short transaction of its own: the
    request's unit of work must not hold a lock on the token's row (concurrent calls
    with the same token would wait for each other), and a refused call was still a
    use. It runs after the request's transaction has ended, so that a request never
    holds two pooled connections at once."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(ApiToken).where(
            ApiToken.id == token_id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_PRECISION))
            .values(last_used_at=now))


def user_for_token(token: str) -> User | None:
    """The active user of a valid, unexpired, unrevoked token, else None."""
    row = token_for(token)
    return row.user if row is not None else None


def revoke_token(token: str) -> bool:
    row = db.session.scalar(_token_statement(), {"token_hash": _token_hash(token)})
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def _machine_users(provider_id: int):
    return sa.select(User.id).where(User.provider_id == provider_id, User.email.like("system-%@machine.invalid"))


def visible_tokens(user: User) -> list[ApiToken]:
    """The tokens ``user`` sees and may revoke: their own live tokens and, for an
    organisation's administrator, the organisation's machine tokens. Newest first."""
    now = utcnow()
    owners = sa.or_(ApiToken.user_id == user.id)
    if user.is_org_admin:
        owners = sa.or_(ApiToken.user_id == user.id,
                        sa.and_(ApiToken.kind == "machine", ApiToken.user_id.in_(_machine_users(user.provider_id))))
    return list(db.session.scalars(sa.select(ApiToken).where(
        owners, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now).order_by(ApiToken.id.desc())))


def revoke_token_by_id(user: User, token_id: int) -> ApiToken:
    """Revoke one of the tokens ``user`` sees (``visible_tokens``); it stops working
    at once. A machine token's system user is deactivated with it. 404 otherwise."""
    from core.errors import NotFoundError

    row = next((t for t in visible_tokens(user) if t.id == token_id), None)
    if row is None:
        raise NotFoundError(gettext("No such token."))
    row.revoked_at = utcnow()
    if row.kind == "machine" and row.user_id != user.id:
        row.user.active = False
        row.user.session_version += 1
    db.session.flush()
    return row


MACHINE_NAME_MAX = 100


def create_machine_token(admin: User, name: str) -> tuple[str, ApiToken]:
    """A named token for the organisation's own system (its scheduling or invoicing
    software), created by one of the organisation's administrators. The token acts as
    a worker member of the organisation named after it (least privilege: it cannot
    administer the organisation or create tokens); every change it makes is recorded
    under that name. Returns the token (shown once) and its row."""
    from core.errors import PermissionDenied

    if not admin.is_org_admin:
        raise PermissionDenied("Only an administrator of a provider organisation can create machine tokens.")
    name = (name or "").strip()
    if not name or len(name) > MACHINE_NAME_MAX:
        raise ValidationFailed(gettext("Give the token a name."), fields={"name": [
            gettext("A name of 1 to %(maximum)s characters, e.g. the system that uses it.", maximum=MACHINE_NAME_MAX)]})
    system = User(email=f"system-{secrets.token_hex(8)}@machine.invalid", name=name[:200],
                  password_hash=hash_password(secrets.token_urlsafe(32)), role=Role.PROVIDER,
                  provider_id=admin.provider_id, provider_role=ProviderRole.WORKER, language=admin.language)
    db.session.add(system)
    db.session.flush()
    return issue_token(system, name=name, kind="machine", created_by=admin,
                       lifetime=timedelta(days=current_app.config["API_MACHINE_TOKEN_DAYS"]))


def set_language(user: User, language: str) -> None:
    user.language = language


def set_password(user: User, password: str, keep_sid: str | None = None) -> None:
    """Change a password; ends every session of the user but the one of ``keep_sid``
    (the browser that changed it)."""
    from accounts.sessions import end_user_sessions

    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(gettext("Password too short."), fields={"password": [
            ngettext("At least %(num)d character.", "At least %(num)d characters.", MIN_PASSWORD_LENGTH)]})
    user.password_hash = hash_password(password)
    user.session_version += 1
    end_user_sessions(user, "password", keep_sid=keep_sid)
