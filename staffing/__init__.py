"""Staffing-agency requests (henkilöstövuokraus): home-care units ask approved
agencies for temporary staff; a job sends each request to every agency covering the
qualification and area, agencies answer with offers, RQ's scheduler closes the round
at the answer time, staff select offers until the people are covered, and agencies
report the hours worked. Web pages, the ``/api/v1/staffing-*`` routes and the jobs."""

from flask import Blueprint

bp = Blueprint("staffing", __name__)

# The periodic safety net that closes rounds whose scheduled closing job was lost.
SWEEP_SECONDS = 60


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from core.registry import register_dashboard, register_navigation, register_status_labels
    from core.roles import Role
    from core.worker import register_periodic
    from staffing.sections import provider_section
    from staffing import api, views  # noqa: F401  (routes)
    from staffing.services import (
        candidate_rows, hours_text, offer_status_label, qualification_label, request_status_label,
    )

    app.register_blueprint(bp)
    register_navigation(Role.STAFF, "staffing.staff_list", _l("Staffing requests"), 30)
    register_navigation(Role.PROVIDER, "staffing.agency_inbox", _l("Staffing requests"), 30)
    register_dashboard(Role.PROVIDER, provider_section)
    register_status_labels({"open": _l("Open"), "filled": _l("Filled")})
    app.add_template_global(qualification_label, "qualification_label")
    app.add_template_global(request_status_label, "staffing_status_label")
    app.add_template_global(offer_status_label, "staffing_offer_status_label")
    app.add_template_global(candidate_rows, "offer_candidates")
    app.add_template_global(hours_text, "staffing_hours")
    register_periodic("staffing.jobs.sweep_rounds", "default", SWEEP_SECONDS)
