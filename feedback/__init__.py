"""Feedback: one-time feedback links, ratings, provider responses, moderation and
the figures that steer choices (provider averages, managers' needs-met rates)."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)


def init_app(app) -> None:
    from feedback import api, views  # noqa: F401  (routes)
    from feedback.cli import feedback_cli
    from flask_babel import lazy_gettext as _l

    from core.registry import register_dashboard, register_navigation
    from core.roles import Role
    from feedback.sections import provider_section
    from feedback.templating import template_globals

    app.register_blueprint(bp)
    register_navigation(Role.ADMIN, "feedback.moderation", _l("Feedback"), 40)
    register_navigation(Role.MANAGER, "feedback.needs_met", _l("Needs met"), 20)
    register_navigation(Role.PROVIDER, "feedback.provider_feedback", _l("Feedback"), 50)
    register_dashboard(Role.PROVIDER, provider_section)
    app.cli.add_command(feedback_cli)
    for name, func in template_globals().items():
        app.add_template_global(func, name)
