"""Feedback: one-time feedback links, ratings, provider responses, moderation and
the figures that steer choices (provider averages, managers' needs-met rates)."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)


def init_app(app) -> None:
    from feedback import api, views  # noqa: F401  (routes)
    from feedback.cli import feedback_cli
    from feedback.templating import template_globals

    app.register_blueprint(bp)
    app.cli.add_command(feedback_cli)
    for name, func in template_globals().items():
        app.add_template_global(func, name)
