"""Providers: organisations' applications and the administrator's decisions,
suspension, attachments, members and invitations, the public profile, capacity and
automatic-acceptance rules; the ``/api/v1/providers`` routes."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core.registry import register_domain
from core.roles import Role
from core.worker import register_periodic
from providers.sections import admin_section, provider_section
from providers.templating import init_templating

bp = Blueprint("providers", __name__)

REMINDER_SWEEP_SECONDS = 3600


def init_app(app) -> None:
    # The route modules and what they import need ``bp`` above: imported here.
    from providers import api, views  # noqa: F401  (routes)

    register_domain(
        app, bp,
        navigation=[(Role.ADMIN, "providers.admin_list", _l("Providers"), 10),
                    (Role.PROVIDER, "providers.organisation", _l("Organisation"), 40)],
        dashboards={Role.PROVIDER: provider_section, Role.ADMIN: admin_section},
        status_labels={"approved": _l("Approved"), "rejected": _l("Rejected"), "suspended": _l("Suspended"),
                       "info_requested": _l("More information requested")})
    init_templating(app)
    register_periodic("providers.jobs.remind_expiring_attachments", "default", REMINDER_SWEEP_SECONDS)
