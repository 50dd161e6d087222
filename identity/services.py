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
from clients.models import Client, ClientEventAction, ClientRepresentative, MandateScope
from core.db import utcnow
from core.errors import DomainError, ValidationFailed
from core.extensions import db
from core.time import local_today
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


def acts_for_someone(user_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ClientRepresentative).where(
        ClientRepresentative.user_id == user_id, ClientRepresentative.ended_at.is_(None))) > 0


def match_identity_code(raw_code: str | None, with_mandate_claims: bool = False) -> Match:
    """The login for a verified identity code: the client's own login when the code
    is on a client record, otherwise a relative's login linked to the code (with at
    least one client they may act for, unless ``with_mandate_claims``: the ID token
    lists mandates still to be applied, and the caller checks again after). An
    invalid code matches nobody."""
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
        if user.active and user.role == Role.CLIENT and (user.client_id is not None or with_mandate_claims
                                                         or acts_for_someone(user.id)):
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


# -- mandate claims --------------------------------------------------------------------

MAX_MANDATE_CLAIMS = 50


def apply_mandate_claims(user: User, claimed) -> dict:
    """Create or refresh the mandates an ID token's mandate claim lists for ``user``
    (the person who just identified): a list of ``{"identity_code": ..., "scopes":
    [...]}``, scopes as ``MandateScope`` values. For each client found (not erased)
    by identity code: no mandate yet, or one that ended by running out of time ->
    a new one (consent as the provider vouches for it: ``consent_recorded_by`` is
    empty); a mandate in force with other scopes -> its scopes follow the claim.
    A mandate ended in Kotiapu (revoked by the client, ended by staff) is not
    brought back. Every change is in the client's history. Entries that are not
    understood are skipped. Returns counts (created, changed, skipped); never names
    a person or a code."""
    from clients.base import record_event
    from clients.relatives import _mandate_note, _mandate_values

    counts = {"created": 0, "changed": 0, "skipped": 0}
    if user.role != Role.CLIENT or not isinstance(claimed, list):
        if claimed is not None:
            counts["skipped"] += 1
        return counts
    for entry in claimed[:MAX_MANDATE_CLAIMS]:
        code = entry.get("identity_code") if isinstance(entry, dict) else None
        code = normalise_personal_identity_code(code) if isinstance(code, str) else None
        scopes = entry.get("scopes") if isinstance(entry, dict) else None
        scopes = [s for s in scopes if s in set(MandateScope)] if isinstance(scopes, list) else []
        client = db.session.scalars(sa.select(Client).where(
            Client.personal_identity_code == code, Client.erased_at.is_(None))).first() if code else None
        if client is None or not scopes or client.id == user.client_id:
            counts["skipped"] += 1
            continue
        errors: dict = {}
        values = _mandate_values(scopes, None, None, errors)
        name = user.name or user.email
        rep = db.session.scalars(sa.select(ClientRepresentative).where(
            ClientRepresentative.client_id == client.id, ClientRepresentative.user_id == user.id)).first()
        now = utcnow()
        if rep is not None and rep.ended_at is not None:
            counts["skipped"] += 1  # ended here on purpose: the claim does not undo that
            continue
        if rep is None:
            db.session.add(ClientRepresentative(client_id=client.id, user_id=user.id, consent_recorded_at=now,
                                                consent_recorded_by_id=None, **values))
            record_event(client.id, ClientEventAction.REPRESENTATIVE_ADDED, user,
                         note=_mandate_note(name, values) + " (identity provider)", at=now)
            counts["created"] += 1
            continue
        changed = {column: value for column, value in values.items()
                   if column in ClientRepresentative.SCOPE_COLUMNS.values() and getattr(rep, column) != value}
        if rep.valid_until is not None and rep.valid_until < local_today():
            changed.update(valid_from=None, valid_until=None)  # expired: the provider says it is in force today
        if not changed:
            continue
        for column, value in changed.items():
            setattr(rep, column, value)
        record_event(client.id, ClientEventAction.MANDATE_CHANGED, user,
                     note=_mandate_note(name, {**values, "valid_from": rep.valid_from, "valid_until": rep.valid_until})
                     + " (identity provider)", at=now)
        counts["changed"] += 1
    db.session.flush()
    return counts
