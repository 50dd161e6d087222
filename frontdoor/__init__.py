"""The front door: the public "Ask for help at home" page, the guidance staff's
callback queue (claim, call back, close with advice or turn into a client record),
the needs self-assessment with suggestions from rules an administrator keeps, the
escalation of overdue callbacks and the front-door report. Web pages, the
``/api/v1/help-requests`` routes and the jobs."""

from flask import Blueprint

bp = Blueprint("frontdoor", __name__)

# The periodic safety net escalating overdue callbacks whose scheduled job was lost.
SWEEP_SECONDS = 300


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from core.registry import register_dashboard_figures, register_navigation, register_status_labels
    from core.roles import Role
    from core.templating import labeller
    from core.worker import register_periodic
    from frontdoor import api, views  # noqa: F401  (routes)
    from frontdoor.sections import staff_figures
    from frontdoor.services import (
        ANSWER_LABELS, CHANNEL_LABELS, CONTACT_CHANNEL_LABELS, EVENT_LABELS, FOR_WHOM_LABELS, QUESTION_LABELS,
        SEGMENT_LABELS, STATUS_LABELS, TOPIC_LABELS,
    )

    app.register_blueprint(bp)
    register_navigation(Role.STAFF, "frontdoor.queue", _l("Help requests"), 5)
    register_navigation(Role.ADMIN, "frontdoor.rules", _l("Suggestion rules"), 60)
    register_navigation(Role.MANAGER, "frontdoor.report", _l("Front door"), 60)
    register_dashboard_figures(Role.STAFF, staff_figures)
    register_status_labels({"claimed": _l("Claimed"), "converted": _l("Became a client")})

    for labels, name in ((TOPIC_LABELS, "help_topic_label"), (CHANNEL_LABELS, "help_channel_label"),
                         (FOR_WHOM_LABELS, "help_for_whom_label"), (SEGMENT_LABELS, "help_segment_label"),
                         (STATUS_LABELS, "help_status_label"), (QUESTION_LABELS, "help_question_label"),
                         (EVENT_LABELS, "help_event_label"), (CONTACT_CHANNEL_LABELS, "help_contact_channel_label")):
        app.add_template_global(labeller(labels, name), name)
    def help_number(value) -> str:
        from flask_babel import format_decimal

        return "–" if value is None else format_decimal(value, format="#,##0.0")

    app.add_template_global(help_number, "help_number")
    app.add_template_global(lambda topics: ", ".join(str(TOPIC_LABELS.get(t, t)) for t in topics or []),
                            "help_topics_text")
    app.add_template_global(lambda q, a: str(ANSWER_LABELS.get(q, {}).get(a, a)), "help_answer_label")
    register_periodic("frontdoor.jobs.sweep_overdue", "default", SWEEP_SECONDS)
