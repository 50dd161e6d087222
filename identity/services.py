"""Finding the person a strong identification names, and linking a relative's
identity code to their login.

The personal identity code never leaves this module in clear: it is compared with
the client record (``clients.personal_identity_code``) and, for relatives, with
the keyed hash of ``identity_links``. Nothing here logs it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from accounts.models import Role, User
from clients.models import Client, ClientRepresentative
from core.db import utcnow
from core.errors import DomainError, ValidationFailed
from core.extensions import db
from core.validators import normalise_personal_identity_code
from identity.models import IdentityLink


def code_hash(code: str) -> str:
    """HMAC-SHA256 of the normalised identity code with the app's secret key."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


@dataclass
class Match:
    """Who an identity code is: ``user`` to log in, or ``None`` with ``has_record``
    telling whether a client record exists without a login."""

    user: User | None
    has_record: bool = False
    via_link: bool = False


def _active_client_user(client_id: int) -> User | None:
    return db.session.scalars(
        sa.select(User).where(User.client_id == client_id, User.role == Role.CLIENT, User.active.is_(True))
        .order_by(User.id)).first()


def _acts_for_someone(user_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ClientRepresentative).where(
        ClientRepresentative.user_id == user_id, ClientRepresentative.ended_at.is_(None))) > 0


def match_identity_code(raw_code: str | None) -> Match:
    """The login for a verified identity code: the client's own login when the code
    is on a client record, otherwise a relative's login linked to the code (with at
    least one client they may act for). An invalid code matches nobody."""
    code = normalise_personal_identity_code(raw_code) if isinstance(raw_code, str) else None
    if not code:
        return Match(None)
    client = db.session.scalars(sa.select(Client).where(
        Client.personal_identity_code == code, Client.erased_at.is_(None))).first()
    if client is not None:
        user = _active_client_user(client.id)
        if user is not None:
            return Match(user)
    link = db.session.scalars(sa.select(IdentityLink).where(IdentityLink.code_hash == code_hash(code))).first()
    if link is not None:
        user = link.user
        if user.active and user.role == Role.CLIENT and (user.client_id is not None or _acts_for_someone(user.id)):
            link.last_used_at = utcnow()
            return Match(user, via_link=True)
    return Match(None, has_record=client is not None)


def link_identity_code(user: User, raw_code: str, actor: User | None = None) -> IdentityLink:
    """Store the keyed hash of ``raw_code`` as ``user``'s identity code (a relative's
    own code; clients are found through their record). Replaces an earlier link."""
    code = normalise_personal_identity_code(raw_code) if isinstance(raw_code, str) else None
    if not code:
        raise ValidationFailed(_("Not a valid personal identity code (check the date, the century sign and the check "
                                 "character)."), fields={"identity_code": [_("Not a valid personal identity code.")]})
    if user.role != Role.CLIENT:
        raise DomainError(_("Only clients and relatives log in with strong identification."), code="not_a_client")
    digest = code_hash(code)
    other = db.session.scalars(sa.select(IdentityLink).where(IdentityLink.code_hash == digest,
                                                              IdentityLink.user_id != user.id)).first()
    if other is not None:
        raise DomainError(_("This personal identity code is already linked to another login."), code="code_taken")
    link = db.session.scalars(sa.select(IdentityLink).where(IdentityLink.user_id == user.id)).first()
    if link is None:
        link = IdentityLink(user_id=user.id, code_hash=digest, created_by_id=actor.id if actor else None)
        db.session.add(link)
    else:
        link.code_hash, link.created_at = digest, utcnow()
        link.created_by_id = actor.id if actor else None
    db.session.flush()
    return link


def unlink_identity_code(user: User) -> bool:
    link = db.session.scalars(sa.select(IdentityLink).where(IdentityLink.user_id == user.id)).first()
    if link is None:
        return False
    db.session.delete(link)
    db.session.flush()
    return True


def has_link(user_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(IdentityLink)
                             .where(IdentityLink.user_id == user_id)) > 0
