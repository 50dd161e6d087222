"""Flask-Login wiring: browser sessions for the web UI, bearer tokens for the API.
An API request never authenticates through the session cookie (it has no CSRF)."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.services import token_for
from core.api import Unauthorized
from core.extensions import db, login_manager


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
        user = db.session.get(User, uid)
        if user is None or user.session_version != version or not user.active:
            return None
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
