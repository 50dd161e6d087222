"""Providers: organisations' applications and the administrator's decisions,
suspension, attachments, members and invitations, the public profile, capacity and
automatic-acceptance rules; the ``/api/v1/providers`` routes."""

from flask import Blueprint

bp = Blueprint("providers", __name__)

REMINDER_SWEEP_SECONDS = 3600


def init_app(app) -> None:
    from core.worker import register_periodic
    from providers import api, views  # noqa: F401  (routes)
    from providers.templating import init_templating

    app.register_blueprint(bp)
    init_templating(app)
    register_periodic("providers.jobs.remind_expiring_attachments", "default", REMINDER_SWEEP_SECONDS)
