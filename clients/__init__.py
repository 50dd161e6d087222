"""Clients: records, consent, coordination and the client's own portfolio."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core.registry import register_dashboard, register_dashboard_figures, register_navigation
from core.roles import Role
from core.worker import register_periodic

bp = Blueprint("clients", __name__, url_prefix="/clients")


def init_app(app) -> None:
    # The route and section modules import ``bp`` from this package: imported here.
    from clients import api, views  # noqa: F401  (routes)
    from clients.policy import shows_postal_code_in_lists, staff_actions
    from clients.queries import order_thread_for_viewer, sender_label
    from clients.sections import client_section, staff_figures, staff_section

    app.register_blueprint(bp)
    register_navigation(Role.STAFF, "clients.search", _l("Clients"), 10)
    register_navigation(Role.STAFF, "clients.guidance_contacts", _l("Guidance contacts"), 40)
    # A relative (no record of their own) is addressed as themselves, not as the client.
    register_navigation(Role.CLIENT, "clients.my_network",
                        lambda user: _l("Who helps me") if user.client_id else _l("People who help"), 10)
    register_navigation(Role.CLIENT, "clients.my_access_log",
                        lambda user: _l("Who has seen my data") if user.client_id else _l("Who has seen the data"), 20)
    register_navigation(Role.CLIENT, "clients.my_mandates",
                        lambda user: _l("Who may act for me") if user.client_id else _l("My mandates"), 25)
    register_dashboard(Role.STAFF, staff_section)
    register_dashboard_figures(Role.STAFF, staff_figures)
    register_dashboard(Role.CLIENT, client_section)
    # The order page includes templates/clients/_order_messages.html, which asks for its thread.
    app.add_template_global(order_thread_for_viewer, "order_messages")
    app.add_template_global(sender_label, "message_sender_label")
    # Lists of clients ask the policy row by row (templates/clients/search.html).
    app.add_template_global(shows_postal_code_in_lists, "client_postal_code_shown")
    app.add_template_global(staff_actions, "client_staff_actions")
    register_periodic("clients.jobs.sweep_segment_checks", "default", 3600)
    register_periodic("clients.jobs.sweep_retention", "default", 6 * 3600)
    register_periodic("clients.jobs.escalate_overdue_concerns", "default", 5 * 60)
    from clients import texts
    from clients.concerns import ack_hours

    app.add_template_global(texts.follow_up_title, "follow_up_title")
    app.add_template_global(texts.priority_reason, "follow_up_priority_reason")
    app.add_template_global(texts.urgency_label, "urgency_text")
    app.add_template_global(texts.signal_label, "signal_text")
    app.add_template_global(lambda: f"{ack_hours():g}", "ack_hours_text")
    app.add_template_global(follow_up_urls, "follow_up_urls")
    for label in (texts.segment_label, texts.event_label, texts.contact_channel_label, texts.scope_label,
                  texts.mandate_state_label):
        app.add_template_global(label, label.__name__)


def follow_up_urls() -> dict:
    """The links of a list of follow-ups (templates/clients/_macros.html
    follow_up_item), each made once by ``url_for`` and then for each row by
    inserting its number (``core.templating.RowUrl``)."""
    from core.templating import RowUrl

    return {"order": RowUrl("orders.detail", "order_id"), "client": RowUrl("clients.detail", "client_id"),
            "acknowledge": RowUrl("clients.concern_acknowledge", "concern_id"),
            "done": RowUrl("clients.follow_up_done", "follow_up_id")}
