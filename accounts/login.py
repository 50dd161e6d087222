"""Flask-Login wiring: browser sessions for the web UI, bearer tokens for the API.
An API request never authenticates through the session cookie (it has no CSRF).

A browser login has three steps, kept apart so that a second factor can slot in
between the last two:

1. the credentials are checked (``accounts.services.authenticate``);
2. for a user with a second factor, the code (``accounts.second_factor``: the user
   is only held in the cookie, not logged in, until the code is right);
3. ``complete_login(user)`` opens the server-side session (``accounts.sessions``)
   and puts its new random id into a cleared, signed cookie.

The user loader accepts the cookie only while its session row is live.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from accounts.models import User
from accounts.services import token_for
from accounts.sessions import end_session, live_session, start_session
from core.db import utcnow
from core.api import Unauthorized
from core.extensions import login_manager


SESSION_KEY = "sid"


def complete_login(user: User) -> User:
    """Log ``user`` in after every check has passed: a new server-side session with a
    new id (the old cookie's content is dropped, so no id fixed before the login
    survives it), the Flask-Login user, and the user's language."""
    session.clear()
    session[SESSION_KEY] = start_session(user, request.user_agent.string)
    login_user(user)
    session.permanent = True
    user.last_login_at = utcnow()
    if user.language in ("fi", "sv", "en"):
        session["lang"] = user.language
    session["auth_at"] = int(utcnow().timestamp())  # accounts.second_factor.recent_auth
    return user


def end_login() -> None:
    """Log out: the server-side session ends (every copy of the cookie stops
    working) and the cookie is emptied."""
    end_session(session.get(SESSION_KEY), "logout")
    logout_user()
    session.clear()


def refresh_login(user: User) -> None:
    """Keep this browser logged in after the user's session version changed (own
    password change): the same session row, the new version in the cookie."""
    login_user(user)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def init_login(app) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        if _is_api():
            return None
        try:
            uid, version = (int(p) for p in user_id.split(":", 1))
        except ValueError:
            return None
        found = live_session(session.get(SESSION_KEY), uid)
        if found is None:
            return None
        session_id, user = found
        if user.session_version != version or not user.active:
            return None
        g.user_session_id = session_id
        return user

    @login_manager.request_loader
    def load_from_token(req):
        if not _is_api():
            return None
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        row = token_for(header[7:].strip())
        if row is None:
            return None
        g.api_token_id = row.id  # the per-token rate limit's key (core.ratelimit)
        return row.user

    @login_manager.unauthorized_handler
    def unauthorized():
        if _is_api():
            raise Unauthorized("A valid bearer token is required (POST /api/v1/tokens).")
        flash(login_manager.login_message, "info")
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
