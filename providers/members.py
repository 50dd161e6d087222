"""Members of an organisation and their invitations: an organisation's administrator
invites people by e-mail (the token is stored hashed; the link works once), the
invited person creates their login, administrators change members' roles and remove
members (never the last administrator)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale, ngettext

from accounts.models import ProviderRole, Role, User
from accounts.services import MIN_PASSWORD_LENGTH, create_user, hash_password
from core.db import utcnow
from core.errors import ConflictError, GoneError, NotFoundError, ValidationFailed
from core.extensions import db
from core.mail import queue_email
from core.urls import absolute_url
from providers import policy
from providers.common import (
    INVITATION_DAYS,
    PROVIDER_ROLE_LABELS,
    _,
    _clean_email,
    _clean_string,
    _provider,
    _require,
    provider_language,
)
from providers.models import Provider, ProviderInvitation, ProviderStatus

# --------------------------------------------------------------------------- members and invitations


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_invitation(provider: Provider, email: str, role: str, actor) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(ProviderInvitation(
        provider_id=provider.id, email=email, provider_role=role, token_hash=_token_hash(token),
        invited_by_id=getattr(actor, "id", None), expires_at=utcnow() + timedelta(days=INVITATION_DAYS)))
    db.session.flush()
    return token


def invite_member(provider_id: int, email: str, provider_role: str, actor) -> ProviderInvitation:
    """An organisation's administrator invites a person by e-mail; the link works once
    and expires in INVITATION_DAYS days. A new invitation to the same address replaces
    the open one. Refuses addresses that already have an active login."""
    policy.require_manage(actor, provider_id)
    provider = _provider(provider_id)
    errors: dict = {}
    email = _clean_email(email, errors)
    if provider_role not in set(ProviderRole):
        _require(errors, "provider_role", _("Choose the role."))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    existing = db.session.scalar(sa.select(User).where(User.email == email))
    if existing is not None and existing.active:
        if existing.provider_id == provider_id:
            msg = _("%(email)s is already a member of the organisation.", email=email)
        else:
            msg = _("%(email)s already has a Kotiapu login. A login belongs to one organisation only; invite "
                    "another address.", email=email)
        raise ConflictError(msg, code="already_member", fields={"email": [msg]})
    if existing is not None and existing.role != Role.PROVIDER:
        msg = _("%(email)s cannot be invited. Invite another address.", email=email)
        raise ConflictError(msg, code="email_taken", fields={"email": [msg]})
    now = utcnow()
    db.session.execute(sa.update(ProviderInvitation).where(
        ProviderInvitation.provider_id == provider_id, ProviderInvitation.email == email,
        ProviderInvitation.used_at.is_(None), ProviderInvitation.expires_at > now).values(expires_at=now)
        .execution_options(synchronize_session=False))
    token = _new_invitation(provider, email, provider_role, actor)
    invitation = db.session.scalar(sa.select(ProviderInvitation).where(ProviderInvitation.token_hash == _token_hash(token)))
    lang = provider_language(provider)
    with force_locale(lang):
        queue_email(email, _("Invitation to join %(org)s in Kotiapu", org=provider.name),
                    ngettext("Hello,\n\n%(who)s has invited you to join %(org)s in Kotiapu, the home-care service "
                             "platform, as %(role)s.\n\nCreate your login with this link. It works once and expires "
                             "in %(num)s day.\n\n%(link)s\n",
                             "Hello,\n\n%(who)s has invited you to join %(org)s in Kotiapu, the home-care service "
                             "platform, as %(role)s.\n\nCreate your login with this link. It works once and expires "
                             "in %(num)s days.\n\n%(link)s\n", INVITATION_DAYS,
                             who=getattr(actor, "name", "") or getattr(actor, "email", ""), org=provider.name,
                             role=str(PROVIDER_ROLE_LABELS[ProviderRole(provider_role)]).lower(),
                             link=absolute_url("providers.accept_invitation", token=token)),
                    lang, dedupe_key=f"provider-invitation-{invitation.id}")
    return invitation


def revoke_invitation(provider_id: int, invitation_id: int, actor) -> None:
    """Cancel an invitation that has not been used: its link stops working."""
    policy.require_manage(actor, provider_id)
    now = utcnow()
    done = db.session.execute(sa.update(ProviderInvitation).where(
        ProviderInvitation.id == invitation_id, ProviderInvitation.provider_id == provider_id,
        ProviderInvitation.used_at.is_(None), ProviderInvitation.expires_at > now).values(expires_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise NotFoundError(_("No such open invitation."))


def invitation_for_token(token: str) -> ProviderInvitation:
    """The open invitation of a link. NotFoundError for an unknown link, GoneError
    (``invitation_used`` / ``invitation_expired``) for a used or expired one."""
    row = db.session.scalar(sa.select(ProviderInvitation).where(
        ProviderInvitation.token_hash == _token_hash(token or ""))) if token and len(token) < 200 else None
    if row is None:
        raise NotFoundError(_("This invitation link is not valid. Check that you copied the whole link."),
                            code="invitation_unknown")
    if row.used_at is not None:
        raise GoneError(_("This invitation has already been used. Log in with the e-mail address and the password "
                          "chosen then."), code="invitation_used")
    provider = db.session.get(Provider, row.provider_id)
    if row.expires_at <= utcnow() or provider.status == ProviderStatus.REJECTED:
        raise GoneError(_("This invitation has expired. Ask your organisation's administrator to send a new one."),
                        code="invitation_expired")
    return row


def accept_invitation(token: str, name: str, password: str, language: str = "fi") -> User:
    """The invited person creates their login. The invitation is claimed with one
    conditional UPDATE, so a link used twice at once creates one login. A removed
    member's old (inactive) login is reused. Raises NotFoundError, GoneError,
    ValidationFailed."""
    invitation = invitation_for_token(token)
    errors: dict = {}
    name = _clean_string(name, errors, "name", 200, required=True, missing=_("Enter your name."))
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        _require(errors, "password", ngettext("At least %(num)d character.", "At least %(num)d characters.", MIN_PASSWORD_LENGTH))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    existing = db.session.scalar(sa.select(User).where(User.email == invitation.email))
    if existing is not None and (existing.active or existing.role != Role.PROVIDER):
        raise ConflictError(_("%(email)s already has a Kotiapu login. Log in with it.", email=invitation.email),
                            code="email_taken")
    now = utcnow()
    claimed = db.session.execute(sa.update(ProviderInvitation).where(
        ProviderInvitation.id == invitation.id, ProviderInvitation.used_at.is_(None),
        ProviderInvitation.expires_at > now).values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise GoneError(_("This invitation has already been used. Log in with the e-mail address and the password "
                          "chosen then."), code="invitation_used")
    if existing is not None:
        existing.provider_id = invitation.provider_id
        existing.provider_role = invitation.provider_role
        existing.name = name
        existing.password_hash = hash_password(password)
        existing.active = True
        existing.session_version += 1
        existing.language = language if language in ("fi", "sv", "en") else existing.language
        db.session.flush()
        return existing
    return create_user(invitation.email, password, Role.PROVIDER, name=name, provider_id=invitation.provider_id,
                       provider_role=invitation.provider_role,
                       language=language if language in ("fi", "sv", "en") else "fi")


def _member(provider_id: int, user_id: int) -> User:
    user = db.session.scalar(sa.select(User).where(User.id == user_id, User.provider_id == provider_id,
                                                   User.role == Role.PROVIDER, User.active.is_(True)))
    if user is None:
        raise NotFoundError(_("No such member."))
    return user


def _other_admins(provider_id: int, user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.provider_id == provider_id, User.active.is_(True), User.provider_role == ProviderRole.ADMIN,
        User.id != user_id))


def set_member_role(provider_id: int, user_id: int, provider_role: str, actor) -> User:
    """Make a member an administrator or a worker of the organisation. The last
    administrator cannot be made a worker."""
    policy.require_manage(actor, provider_id)
    if provider_role not in set(ProviderRole):
        raise ValidationFailed(_("Choose the role."), fields={"provider_role": [_("Choose the role.")]})
    user = _member(provider_id, user_id)
    if provider_role == ProviderRole.WORKER and user.provider_role == ProviderRole.ADMIN and \
            _other_admins(provider_id, user.id) == 0:
        raise ConflictError(_("%(name)s is the organisation's only administrator. Make someone else an "
                              "administrator first.", name=user.name or user.email), code="last_admin")
    user.provider_role = provider_role
    db.session.flush()
    return user


def remove_member(provider_id: int, user_id: int, actor) -> User:
    """Remove a member: the login is deactivated and its sessions and API tokens stop
    working. Not oneself, and not the last administrator."""
    policy.require_manage(actor, provider_id)
    user = _member(provider_id, user_id)
    if actor.id == user.id:
        raise ConflictError(_("You cannot remove yourself. Ask another administrator."), code="remove_self")
    if user.provider_role == ProviderRole.ADMIN and _other_admins(provider_id, user.id) == 0:
        raise ConflictError(_("The organisation's only administrator cannot be removed."), code="last_admin")
    user.active = False
    user.session_version += 1
    db.session.flush()
    return user



COMPLETION_CHOICES = ("admins", "members")


def set_completion_by(provider_id: int, completion_by: str, actor) -> Provider:
    """Who of the organisation may mark its service orders completed: its
    administrators only (``admins``, the default) or every member (``members``).
    Only the organisation's administrators change it."""
    policy.require_manage(actor, provider_id)
    if completion_by not in COMPLETION_CHOICES:
        raise ValidationFailed(_("Choose who may complete orders."),
                               fields={"completion_by": [_("Choose who may complete orders.")]})
    provider = _provider(provider_id)
    provider.completion_by = completion_by
    db.session.flush()
    return provider
