"""Systems that talk to each other: signed webhooks to provider organisations'
systems (``webhooks``, ``events``, ``jobs``), the public catalogue as Open Referral
HSDS 3 at ``/open/hsds/`` (``hsds``), and orders and clients' networks as FHIR R4
(``fhir``, served under ``/api/v1/fhir/``)."""

import os

from flask import Blueprint

bp = Blueprint("interop", __name__)


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from core.registry import register_dashboard, register_navigation, register_status_labels
    from core.roles import Role
    from interop import api, views  # noqa: F401  (routes)
    from interop.events import install_event_hooks
    from interop.hsds import bp as hsds_bp
    from interop.sections import provider_section
    from interop.webhooks import DEFAULTS

    for name, default in DEFAULTS.items():
        if name not in app.config:
            app.config[name] = type(default)(os.environ.get(name, default))
    app.register_blueprint(bp)
    app.register_blueprint(hsds_bp)
    register_navigation(Role.PROVIDER, "interop.webhooks_page", _l("Webhooks"), 80)
    register_dashboard(Role.PROVIDER, provider_section)
    register_status_labels({"delivered": _l("Delivered"), "failed": _l("Failed")})
    with app.app_context():
        install_event_hooks()
