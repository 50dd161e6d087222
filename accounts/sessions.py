"""Server-side browser sessions.

The signed session cookie carries a random session id; the ``user_sessions`` row
with its SHA-256 says whether it still counts. A session ends on the server, at
once and for every copy of the cookie, when the user logs out, changes or resets
the password (the other sessions), ends it on the sessions list, or is disabled by
an administrator; and by itself after ``SESSION_IDLE_MINUTES`` without a request or
``SESSION_MAX_HOURS`` after login. A new login always gets a new id (no fixation).

The API's bearer tokens are separate (``accounts.services``' tokens).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from accounts.models import User, UserSession
from core.db import utcnow
from core.errors import NotFoundError
from core.extensions import db

# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _absolute() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def device_summary(user_agent: str | None) -> str:
    """A short description of the browser and system ("Firefox on Windows"): enough
    to recognise one's own devices, without storing the whole header."""
    ua = (user_agent or "")[:500]
    browser = next((name for key, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                           ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
                                           ("Safari/", "Safari")) if key in ua), "")
    system = next((name for key, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                          ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
                                          ("Linux", "Linux")) if key in ua), "")
    if browser and system:
        return f"{browser} / {system}"
    return browser or system or ua[:60]


def start_session(user: User, user_agent: str | None) -> str:
    """Open a new session for ``user``; returns its id for the signed cookie."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(sid_hash=_hash(sid), user_id=user.id, created_at=now, last_seen_at=now,
                               user_agent=device_summary(user_agent)[:120]))
    db.session.flush()
    return sid


_statements: dict[str, sa.Select] = {}


def _live_session_statement() -> sa.Select:
    """The user of a bound ``sid_hash``'s session row, when the row belongs to the
    bound ``user_id`` and has not ended, with the row's times that say whether it
    has timed out; built at first use and reused (every page asks:
    building it and its cache key took about 0.07 ms of each request, a third of the
    query's CPU). Not at import: that would configure the mappers before the forking
    worker means to (core.worker.prepare_to_fork). The row comes as plain columns,
    not as a second ORM object: loading it as one cost about 35 function calls of
    every request, for a row the request rarely changes (``_touch``). The owner and
    the end are conditions of the query rather than columns of its row: each column
    of the row cost about a dozen function calls of every request (the driver's
    description of it, the result's processing)."""
    stmt = _statements.get("live")
    if stmt is None:
        stmt = _statements["live"] = (
            sa.select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.sid_hash == sa.bindparam("sid_hash", type_=UserSession.sid_hash.type),
                   UserSession.user_id == sa.bindparam("user_id", type_=UserSession.user_id.type),
                   UserSession.ended_at.is_(None)))
    return stmt


def live_session(sid: str | None, user_id: int) -> tuple[int, User] | None:
    """The id of the live session row of the cookie's ``sid`` for ``user_id`` and its
    user, in one query (every page asks), the row's last-seen time brought up to
    date; None when it has ended or timed out (a time-out is recorded on the row)."""
    if not sid or len(sid) > 100:
        return None
    found = db.session.execute(_live_session_statement(), {"sid_hash": _hash(sid), "user_id": user_id}).first()
    if found is None:  # no such session, another user's, or ended
        return None
    user, session_id, created_at, last_seen_at = found
    now = utcnow()
    if now - created_at >= _absolute():
        _touch(session_id, ended_at=now, end_reason="expired")
        return None
    if now - last_seen_at >= _idle():
        _touch(session_id, ended_at=now, end_reason="idle")
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        _touch(session_id, last_seen_at=now)
    return session_id, user


def _touch(session_id: int, **values) -> None:
    """Change the live session's row in the request's transaction (committed with
    the request, rolled back with it, as the ORM object's change was)."""
    db.session.execute(sa.update(UserSession).where(UserSession.id == session_id).values(**values))


def current_session_id(sid: str | None) -> int | None:
    """The row id of the cookie's session (to mark "this session" in the list)."""
    if not sid or len(sid) > 100:
        return None
    return db.session.scalar(sa.select(UserSession.id).where(UserSession.sid_hash == _hash(sid)))


def _end(row: UserSession, reason: str, now=None) -> None:
    row.ended_at = now or utcnow()
    row.end_reason = reason


def end_session(sid: str | None, reason: str = "logout") -> None:
    """End the cookie's session (logout)."""
    if not sid or len(sid) > 100:
        return
    row = db.session.scalar(sa.select(UserSession).where(UserSession.sid_hash == _hash(sid),
                                                         UserSession.ended_at.is_(None)))
    if row is not None:
        _end(row, reason)


def end_user_sessions(user: User, reason: str, keep_sid: str | None = None) -> int:
    """End every live session of ``user`` (except the one of ``keep_sid``); returns
    how many were ended."""
    stmt = (sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason))
    if keep_sid:
        stmt = stmt.where(UserSession.sid_hash != _hash(keep_sid))
    result = db.session.execute(stmt, execution_options={"synchronize_session": False})
    return result.rowcount or 0


def active_sessions(user: User) -> list[UserSession]:
    """The user's sessions that still count, newest first."""
    now = utcnow()
    rows = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
                                     UserSession.created_at > now - _absolute(),
                                     UserSession.last_seen_at > now - _idle())
        .order_by(UserSession.last_seen_at.desc())).all()
    return list(rows)


def end_own_session(user: User, session_id: int) -> UserSession:
    """The user ends one of their own sessions from the sessions list. Raises
    NotFoundError for an id that is not one of the user's live sessions."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise NotFoundError(gettext("No such session."))
    _end(row, "ended")
    return row
