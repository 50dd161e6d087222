"""Second factor for staff, managers and administrators: an authenticator app
(TOTP, RFC 6238, through pyotp) and ten one-time recovery codes.

- Enrolment: the user's secret is created when they open the set-up page (shown as a
  QR code drawn by segno and as text); it counts once they type a right code. Then
  ten recovery codes are made, shown once, stored as SHA-256 hashes.
- Login: after the password, the code (or a recovery code) is asked before
  ``accounts.login.complete_login`` opens the session. Wrong codes count as failed
  logins (``LoginFailure``), so they are throttled like passwords. A code is
  accepted once: its 30-second step is recorded and a code of that step or an
  earlier one is refused afterwards (a guarded UPDATE, so two requests with one code
  cannot both win).
- ``REQUIRE_SECOND_FACTOR``: those roles without a factor can only set one up.
- An administrator can reset a user's factor (their sessions end; they set it up
  again at the next login).
- Re-authentication: ``recent_auth`` says whether the password (and code) were given
  within ``REAUTH_MINUTES``; ``accounts.reauth`` guards the sensitive actions.

Nothing here writes a code, a secret or a personal detail to a log: the audit lines
carry user ids only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app, session
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.security import check_password_hash

from accounts.models import RecoveryCode, Role, SecondFactor, User
from accounts.services import LoginError, _record_failure, check_throttle
from accounts.sessions import end_user_sessions
from core.db import utcnow
from core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.uow import after_unit_of_work

audit = logging.getLogger("accounts.audit")

ROLES = (Role.ADMIN, Role.STAFF, Role.MANAGER)
ISSUER = "Kotiapu"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to mistake
_RECOVERY_LENGTH = 10

# Cookie-session keys: the login waiting for its code, and when the user last gave
# their password (and code).
PENDING_KEY = "second_step"
AUTH_AT_KEY = "auth_at"
PENDING_SECONDS = 300


class CodeRefused(LoginError):
    """A wrong, used or malformed code."""


def applies_to(user) -> bool:
    return user is not None and user.role in ROLES


def required_for(user) -> bool:
    return bool(current_app.config.get("REQUIRE_SECOND_FACTOR")) and applies_to(user)


def enabled_factor(user) -> SecondFactor | None:
    if user is None:
        return None
    return db.session.scalar(sa.select(SecondFactor).where(SecondFactor.user_id == user.id,
                                                           SecondFactor.enabled_at.is_not(None)))


def factor_of(user) -> SecondFactor | None:
    """The user's factor, set up or still being set up (for the administrator's view)."""
    return _factor_row(user)


def _factor_row(user) -> SecondFactor | None:
    return db.session.scalar(sa.select(SecondFactor).where(SecondFactor.user_id == user.id))


# --------------------------------------------------------------------------- enrolment

def start_enrolment(user: User) -> SecondFactor:
    """The factor being set up: the secret made on the first visit is kept until it
    is confirmed (the user may already have scanned it). ConflictError when the user
    already has a working factor."""
    if not applies_to(user):
        raise PermissionDenied(_("A second factor is for staff, managers and administrators."))
    row = _factor_row(user)
    if row is not None and row.enabled_at is not None:
        raise ConflictError(_("Your second factor is already set up."), code="second_factor_exists")
    if row is None:
        try:
            with db.session.begin_nested():  # two first visits at once: one row wins
                row = SecondFactor(user_id=user.id, secret=pyotp.random_base32())
                db.session.add(row)
        except sa.exc.IntegrityError:
            row = _factor_row(user)
    return row


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> Markup:
    """The ``otpauth://`` address as an inline SVG QR code (black on white with its
    quiet zone, whatever the page's colours)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", dark="#000", title=title,
                                                svgclass="qr-code")
    # segno escapes the title; the rest is path data drawn from the QR modules.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # nosec B704


def grouped(secret: str) -> str:
    """The secret in groups of four for typing by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _clean(code: str | None) -> str:
    return re.sub(r"[\s\-]", "", (code or "")[:100]).lower()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (previous, current or next: a phone's clock may be a little off)
    whose code ``code`` is, else None."""
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time() // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(factor: SecondFactor, step: int) -> bool:
    """Record ``step`` as used, only if no code of this step or a later one was
    accepted before (one conditional UPDATE: of two concurrent uses one wins)."""
    won = db.session.execute(
        sa.update(SecondFactor).where(SecondFactor.id == factor.id,
                                      sa.or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step))
        .values(last_step=step).execution_options(synchronize_session=False)).rowcount
    if won == 1:
        db.session.expire(factor, ["last_step"])
    return won == 1


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    now = utcnow()
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=now))
    db.session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _use_recovery_code(user: User, code: str) -> bool:
    if not re.fullmatch(f"[{_RECOVERY_ALPHABET}]{{{_RECOVERY_LENGTH}}}", code):
        return False
    return db.session.execute(
        sa.update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code),
                                      RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _wrong_code() -> ValidationFailed:
    message = _("The code is wrong or has already been used. Type the six digits your authenticator app "
                "shows now.")
    return ValidationFailed(message, fields={"code": [message]})


def confirm_enrolment(user: User, code: str) -> list[str]:
    """The user typed a code from the app they just set up: the factor is on, and the
    ten recovery codes are returned (shown once; only their hashes are kept)."""
    row = _factor_row(user)
    if row is None or row.enabled_at is not None:
        raise ConflictError(_("Open the set-up page again: the set-up has changed meanwhile."),
                            code="second_factor_changed")
    step = _matching_step(row.secret, _clean(code))
    if step is None or not _claim_step(row, step):
        raise _wrong_code()
    row.enabled_at = utcnow()
    audit.info("user %s set up a second factor", user.id)
    return _new_recovery_codes(user)


def regenerate_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes; the earlier ones stop working."""
    if enabled_factor(user) is None:
        raise ConflictError(_("Set up the second factor first."), code="no_second_factor")
    audit.info("user %s made new recovery codes", user.id)
    return _new_recovery_codes(user)


# --------------------------------------------------------------------------- checking

def check_code(user: User, code: str, address: str) -> str:
    """Check the second step of a login or a re-authentication: a current code from
    the app (``"app"``) or an unused recovery code (``"recovery"``). Throttled with
    the failed logins: raises RateLimited when there were too many, CodeRefused for a
    wrong code (which counts as a failure)."""
    address = (address or "unknown")[:64]
    check_throttle(user.email, address)
    factor = enabled_factor(user)
    cleaned = _clean(code)
    if factor is not None:
        step = _matching_step(factor.secret, cleaned)
        if step is not None and _claim_step(factor, step):
            return "app"
        if _use_recovery_code(user, cleaned):
            audit.info("user %s logged in with a recovery code", user.id)
            return "recovery"
    after_unit_of_work(_record_failure, user.email, address)
    raise CodeRefused("wrong code")


def check_password(user: User, password: str, address: str) -> None:
    """The password again (re-authentication), throttled like a login."""
    address = (address or "unknown")[:64]
    check_throttle(user.email, address)
    if not check_password_hash(user.password_hash, password or ""):
        after_unit_of_work(_record_failure, user.email, address)
        raise LoginError("wrong password")


def mark_authenticated() -> None:
    """The user has just given their password (and code): remembered in the signed
    session cookie for ``recent_auth``."""
    session[AUTH_AT_KEY] = int(utcnow().timestamp())


def recent_auth() -> bool:
    at = session.get(AUTH_AT_KEY)
    if not isinstance(at, int):
        return False
    return utcnow().timestamp() - at < current_app.config["REAUTH_MINUTES"] * 60


# --------------------------------------------------------------------------- the pending login

def hold_login(user: User, next_url: str | None) -> None:
    """The password was right and the user has a factor: remember who is logging in
    (not logged in yet) until the code is given, at most ``PENDING_SECONDS``."""
    session.clear()
    session[PENDING_KEY] = {"uid": user.id, "v": user.session_version, "at": int(time.time()),
                            "next": next_url or ""}


def held_login() -> tuple[User, str] | None:
    """The user waiting for the second step and where they were going, or None when
    there is none (or it is too old, or the user changed meanwhile)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        uid, version, at = int(pending["uid"]), int(pending["v"]), int(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() - at > PENDING_SECONDS:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_version != version:
        return None
    return user, str(pending.get("next") or "")


def drop_held_login() -> None:
    session.pop(PENDING_KEY, None)


# --------------------------------------------------------------------------- the administrator's reset

def reset(actor: User, user_id: int) -> User:
    """An administrator removes a user's second factor (lost phone): the factor and
    the recovery codes are deleted, the user's sessions end, and they set a new one up
    at their next login. Logged with the ids of both."""
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators manage users."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError(_("No such user."))
    if user.id == actor.id:
        raise ConflictError(_("You cannot reset your own second factor. Ask another administrator."),
                            code="reset_self")
    row = _factor_row(user)
    if row is None:
        raise ConflictError(_("The user has no second factor to reset."), code="no_second_factor")
    db.session.delete(row)
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    user.session_version += 1
    ended = end_user_sessions(user, "factor_reset")
    audit.info("user %s reset the second factor of user %s (%s sessions ended)", actor.id, user.id, ended)
    db.session.flush()
    return user
