"""Accounts: users and roles, login and logout, server-side sessions, password
reset and invitations, the second factor for staff and re-authentication before
sensitive actions, API tokens, the administrator's users page, the `users` CLI."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from accounts import api, second_factor_views, views  # noqa: F401  (routes)
    from accounts.demo_mode import is_demo
    from accounts.sections import admin_section
    from core.registry import register_dashboard, register_navigation
    from core.roles import Role

    app.register_blueprint(bp)
    app.before_request(second_factor_views.enforce_enrolment)
    register_navigation(Role.ADMIN, "accounts.admin_users", _l("Users"), 30)
    register_dashboard(Role.ADMIN, admin_section)
    app.jinja_env.globals["is_demo"] = is_demo
