"""Accounts: users and roles, login and logout, API tokens, the `users` CLI."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)


def init_app(app) -> None:
    from accounts import api, views  # noqa: F401  (routes)

    app.register_blueprint(bp)
