"""The administrator's management of users: list and search, invite, change the
role, disable and enable, re-send an invitation.

Only platform administrators may; an administrator cannot change their own role or
disable themselves (someone else must, so nobody locks the platform out by
mistake). Clients and provider members are managed where they belong (the client's
record, the organisation's members page): here their logins can be disabled and
enabled, but their role is not changed.

Role changes and disabling are written to the application log (``accounts.audit``)
with the ids of who and whom, never a name or an e-mail address; the log line's
time is when.
"""

from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import PasswordToken, Role, User
from accounts.passwords import INVITE, send_invitation
from accounts.services import create_user
from accounts.sessions import end_user_sessions
from core.access import Purpose, record_access, record_access_many
from core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db

audit = logging.getLogger("accounts.audit")

# Roles an administrator invites and moves users between on the users page.
STAFF_ROLES = (Role.ADMIN, Role.STAFF, Role.MANAGER)
PAGE_SIZE = 50


def _require_admin(actor: User) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators manage users."))


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError(_("No such user."))
    return user


def list_users(actor: User, q: str = "", role: str = "", status: str = "", page: int = 1) -> tuple[list[dict], int]:
    """Users matching the search (name or e-mail), role and status (active,
    disabled, invited); returns one page of rows and the number of matches."""
    _require_admin(actor)
    pending_invite = sa.exists().where(PasswordToken.user_id == User.id, PasswordToken.purpose == INVITE,
                                       PasswordToken.used_at.is_(None))
    stmt = sa.select(User.id, User.name, User.email, User.role, User.active, User.last_login_at, User.client_id,
                     pending_invite.label("invited"))
    text = "".join(ch for ch in (q or "") if ch.isprintable()).strip()[:100]
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.name).like(pattern, escape="\\"),
                                 User.email.like(pattern, escape="\\")))
    if role in set(Role):
        stmt = stmt.where(User.role == role)
    if status == "active":
        stmt = stmt.where(User.active.is_(True))
    elif status == "disabled":
        stmt = stmt.where(User.active.is_(False))
    elif status == "invited":
        stmt = stmt.where(User.active.is_(True), User.last_login_at.is_(None), pending_invite)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    page = max(1, min(page, 10_000))
    rows = db.session.execute(stmt.order_by(User.role, User.name, User.id)
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).mappings().all()
    result = [dict(r) for r in rows]
    # A client's login shows the client's name and e-mail: a read of client data.
    record_access_many([r["client_id"] for r in result if r["client_id"]], "view", Purpose.LOGINS,
                       "client login", actor)
    return result, total


def get_user(actor: User, user_id: int) -> User:
    _require_admin(actor)
    user = _user(user_id)
    if user.client_id:
        record_access(user.client_id, "view", Purpose.LOGINS, "client login", actor)
    return user


def invite_user(actor: User, email: str, name: str, role: str, language: str = "fi") -> User:
    """Create a staff, manager or administrator login and e-mail its new owner a
    one-time link to choose the password."""
    _require_admin(actor)
    if role not in STAFF_ROLES:
        raise ValidationFailed(_("Choose the role."), fields={"role": [_("Choose the role.")]})
    if not (name or "").strip():
        raise ValidationFailed(_("Enter the name."), fields={"name": [_("Enter the name.")]})
    if not name.isprintable():
        message = _("The name may not contain control characters.")
        raise ValidationFailed(message, fields={"name": [message]})
    try:
        # Nobody knows this password: the user chooses one through the link.
        user = create_user(email, secrets.token_urlsafe(24), role, name=name,
                           language=language if language in ("fi", "sv", "en") else "fi")
    except ValidationFailed:
        raise ValidationFailed(_("Invalid e-mail address."), fields={"email": [_("Invalid e-mail address.")]}) from None
    except ConflictError:
        raise ConflictError(_("A user with this e-mail address already exists."), code="email_taken",
                            fields={"email": [_("A user with this e-mail address already exists.")]}) from None
    send_invitation(user, actor)
    audit.info("user %s invited user %s as %s", actor.id, user.id, role)
    return user


def resend_invitation(actor: User, user_id: int) -> User:
    """A new invitation link for a user who has not logged in yet (the old link
    stops working)."""
    _require_admin(actor)
    user = _user(user_id)
    if not user.active:
        raise ConflictError(_("The user is disabled. Enable the user first."), code="user_disabled")
    if user.last_login_at is not None:
        raise ConflictError(_("The user has already logged in. They can reset their own password."),
                            code="already_joined")
    send_invitation(user, actor)
    audit.info("user %s re-sent the invitation of user %s", actor.id, user.id)
    return user


def change_role(actor: User, user_id: int, role: str) -> User:
    """Move a staff member between administrator, guidance staff and manager. The
    user's sessions end, so the new role's menus and rights apply at their next login."""
    _require_admin(actor)
    user = _user(user_id)
    if role not in STAFF_ROLES:
        raise ValidationFailed(_("Choose the role."), fields={"role": [_("Choose the role.")]})
    if user.id == actor.id:
        raise ConflictError(_("You cannot change your own role. Ask another administrator."), code="own_role")
    if user.role not in STAFF_ROLES:
        raise ConflictError(_("The role of clients and provider members is not changed here."), code="role_fixed")
    if user.role == role:
        return user
    old = user.role
    user.role = role
    user.session_version += 1
    end_user_sessions(user, "role")
    db.session.flush()
    audit.info("user %s changed the role of user %s from %s to %s", actor.id, user.id, old, role)
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Disable a user (every session of theirs ends at once; API tokens stop
    working) or enable them again."""
    _require_admin(actor)
    user = _user(user_id)
    if user.id == actor.id:
        raise ConflictError(_("You cannot disable yourself. Ask another administrator."), code="disable_self")
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.session_version += 1
        ended = end_user_sessions(user, "disabled")
        audit.info("user %s disabled user %s (%s sessions ended)", actor.id, user.id, ended)
    else:
        audit.info("user %s enabled user %s", actor.id, user.id)
    db.session.flush()
    return user
