"""Clients: records, consent, coordination and the client's own portfolio."""

from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")


def init_app(app) -> None:
    from clients import api, views  # noqa: F401  (routes)
    from clients.queries import order_thread_for_viewer, sender_label
    from core.worker import register_periodic

    app.register_blueprint(bp)
    # The order page includes templates/clients/_order_messages.html, which asks for its thread.
    app.add_template_global(order_thread_for_viewer, "order_messages")
    app.add_template_global(sender_label, "message_sender_label")
    register_periodic("clients.jobs.sweep_segment_checks", "default", 3600)
    register_periodic("clients.jobs.sweep_retention", "default", 6 * 3600)
