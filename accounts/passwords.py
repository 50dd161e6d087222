"""One-time set-password links: password reset asked for by the user, and the
invitation an administrator sends to a new user.

A link carries a random token; only its SHA-256 is stored. It works once, within
``PASSWORD_RESET_MINUTES`` (reset) or ``INVITATION_DAYS`` (invitation); a newer link
of the same user and kind replaces the older one. Asking for a reset answers the
same whether or not the address has an account; requests are throttled per client
address (refused with a message) and per account (further requests send nothing,
so the answer still does not tell whether the account exists). The e-mail goes
through the outbox, after commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from accounts.models import PasswordResetRequest, PasswordToken, User
from accounts.services import MIN_PASSWORD_LENGTH, hash_password, normalise_email
from accounts.sessions import end_user_sessions
from core.db import utcnow
from core.errors import GoneError, RateLimited, ValidationFailed
from core.extensions import db
from core.mail import send_templated
from core.urls import absolute_url

RESET = "reset"
INVITE = "invite"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, purpose: str, created_by: User | None = None) -> tuple[str, PasswordToken]:
    """A new one-time link token for ``user``; earlier unused links of the same kind
    stop working. Returns the token (only its hash is stored) and its row."""
    now = utcnow()
    db.session.execute(sa.update(PasswordToken).where(
        PasswordToken.user_id == user.id, PasswordToken.purpose == purpose, PasswordToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    lifetime = (timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"]) if purpose == RESET
                else timedelta(days=current_app.config["INVITATION_DAYS"]))
    token = secrets.token_urlsafe(32)
    row = PasswordToken(user_id=user.id, purpose=purpose, token_hash=_hash(token), created_at=now,
                        expires_at=now + lifetime, created_by_id=created_by.id if created_by else None)
    db.session.add(row)
    db.session.flush()
    return token, row


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["PASSWORD_RESET_WINDOW_MINUTES"])


def request_reset(email: str, address: str) -> None:
    """Someone asks for a reset link for ``email``. Raises ValidationFailed for text
    that is no e-mail address and RateLimited when the client address has asked too
    often; otherwise answers nothing, whether or not a link was sent (an unknown,
    disabled or too often asked address gets no e-mail)."""
    try:
        email = normalise_email(email or "")
    except ValidationFailed:
        message = _("Enter an e-mail address in the form name@example.fi.")
        raise ValidationFailed(message, fields={"email": [message]}) from None
    address = (address or "unknown")[:64]
    since = _window_start()
    by_address = db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetRequest).where(
        PasswordResetRequest.address == address, PasswordResetRequest.at >= since))
    if by_address >= current_app.config["PASSWORD_RESET_MAX_ADDRESS"]:
        raise RateLimited(ngettext("Too many password reset requests from your network. Wait %(num)s minute "
                                   "and try again, or ask your administrator.",
                                   "Too many password reset requests from your network. Wait %(num)s minutes "
                                   "and try again, or ask your administrator.",
                                   current_app.config["PASSWORD_RESET_WINDOW_MINUTES"]))
    db.session.add(PasswordResetRequest(email=email, address=address, at=utcnow()))
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None or not user.active:
        db.session.flush()
        return
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(PasswordToken).where(
        PasswordToken.user_id == user.id, PasswordToken.purpose == RESET, PasswordToken.created_at >= since))
    if sent >= current_app.config["PASSWORD_RESET_MAX_ACCOUNT"]:
        db.session.flush()
        return
    token, row = issue_token(user, RESET)
    send_templated(user.email, "accounts/email/password_reset.txt", user.language, f"password-token:{row.id}",
                   url=absolute_url("accounts.set_password", token=token),
                   minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def send_invitation(user: User, created_by: User) -> None:
    """E-mail ``user`` a one-time link to choose a password (a new invitation replaces
    the previous one)."""
    token, row = issue_token(user, INVITE, created_by=created_by)
    send_templated(user.email, "accounts/email/invitation.txt", user.language, f"password-token:{row.id}",
                   url=absolute_url("accounts.set_password", token=token),
                   days=current_app.config["INVITATION_DAYS"], inviter=created_by.name or "")


def token_row(token: str) -> PasswordToken:
    """The live link of ``token``. Raises GoneError for an unknown, used or expired
    link (one message: the link cannot be used)."""
    row = None
    if token and len(token) <= 100:
        row = db.session.scalar(sa.select(PasswordToken).where(PasswordToken.token_hash == _hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or not row.user.active:
        raise GoneError(_("This link has expired or has already been used. Ask for a new one."), code="link_invalid")
    return row


def use_token(token: str, password: str) -> User:
    """Set the password through a one-time link: the link is spent (exactly once,
    even under concurrent use) and every session of the user ends."""
    row = token_row(token)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        message = ngettext("At least %(num)d character.", "At least %(num)d characters.", MIN_PASSWORD_LENGTH)
        raise ValidationFailed(message, fields={"new": [message]})
    now = utcnow()
    claimed = db.session.execute(sa.update(PasswordToken).where(
        PasswordToken.id == row.id, PasswordToken.used_at.is_(None), PasswordToken.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise GoneError(_("This link has expired or has already been used. Ask for a new one."), code="link_invalid")
    user = row.user
    user.password_hash = hash_password(password)
    user.session_version += 1
    end_user_sessions(user, "reset")
    # Any other open link of the user (an older reset or invitation) is spent too.
    db.session.execute(sa.update(PasswordToken).where(PasswordToken.user_id == user.id,
                                                      PasswordToken.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    return user
