"""Template helpers: the role-fitted navigation, money and time formatting."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.i18n import LANGUAGE_NAMES

# (endpoint, label) per role. An entry shows only once its endpoint exists, so a
# domain adds its pages here and the menu grows with the features.
NAVIGATION = {
    "admin": [("core.dashboard", _l("Dashboard")), ("providers.admin_list", _l("Providers")),
              ("marketplace.admin_catalogue", _l("Service catalogue")), ("accounts.admin_users", _l("Users")),
              ("feedback.moderation", _l("Feedback")), ("core.admin_jobs", _l("Jobs"))],
    "staff": [("core.dashboard", _l("Dashboard")), ("clients.search", _l("Clients")),
              ("orders.staff_list", _l("Orders")), ("staffing.staff_list", _l("Staffing requests")),
              ("clients.guidance_contacts", _l("Guidance contacts"))],
    "manager": [("core.dashboard", _l("Dashboard")), ("reports.index", _l("Reports")),
                ("feedback.needs_met", _l("Needs met"))],
    "provider": [("core.dashboard", _l("Dashboard")), ("orders.provider_inbox", _l("Order inbox")),
                 ("marketplace.provider_purchases", _l("Purchases")), ("staffing.agency_inbox", _l("Staffing requests")),
                 ("providers.organisation", _l("Organisation")), ("feedback.provider_feedback", _l("Feedback"))],
    "client": [("core.dashboard", _l("My services")), ("clients.my_network", _l("Who helps me")),
               ("clients.my_access_log", _l("Who has seen my data")), ("marketplace.catalogue", _l("Buy services"))],
}


ROLE_LABELS = {"admin": _l("Administrator"), "staff": _l("Guidance staff"), "manager": _l("Manager"),
               "provider": _l("Provider"), "client": _l("Client")}

STATUS_LABELS = {
    "offered": _l("Offered"), "accepted": _l("Accepted"), "in_progress": _l("In progress"),
    "completed": _l("Completed"), "closed": _l("Closed"), "cancelled": _l("Cancelled"),
    "escalated": _l("Escalated"), "pending": _l("Waiting for answer"), "declined": _l("Declined"),
    "expired": _l("Expired"), "withdrawn": _l("Withdrawn"), "pending_payment": _l("Waiting for payment"),
    "paid": _l("Paid"), "fulfilled": _l("Delivered"), "refunded": _l("Refunded"), "open": _l("Open"),
    "filled": _l("Filled"), "queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"),
    "failed": _l("Failed"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "suspended": _l("Suspended"), "info_requested": _l("More information requested"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def navigation():
    if not current_user.is_authenticated:
        return []
    items = []
    for endpoint, label in NAVIGATION.get(current_user.role, []):
        if endpoint in current_app.view_functions:
            items.append({"url": url_for(endpoint), "label": label,
                          "current": request.endpoint == endpoint})
    return items


def money(cents: int | None) -> str:
    if cents is None:
        return "–"
    euros, rest = divmod(abs(int(cents)), 100)
    sign = "-" if cents < 0 else ""
    lang = str(get_locale() or "fi")
    grouped = f"{euros:,}".replace(",", "\u00a0")
    if lang == "en":
        return f"{sign}€{euros:,}.{rest:02d}"
    return f"{sign}{grouped},{rest:02d}\u00a0€"


_HELSINKI = ZoneInfo("Europe/Helsinki")
# Short date and time formats per language, written out instead of asking Babel for
# every cell: a list page formats hundreds of dates.
_DATE_FORMATS = {"fi": "{d.day}.{d.month}.{d.year}", "sv": "{d.year}-{d.month:02d}-{d.day:02d}",
                 "en": "{d.day} {month} {d.year}"}
_TIME_FORMATS = {"fi": "{t.hour}.{t.minute:02d}", "sv": "{t.hour:02d}:{t.minute:02d}", "en": "{t.hour:02d}:{t.minute:02d}"}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _lang() -> str:
    lang = str(get_locale() or "fi")
    return lang if lang in _DATE_FORMATS else "fi"


def _date_text(d: date, lang: str) -> str:
    return _DATE_FORMATS[lang].format(d=d, month=_EN_MONTHS[d.month - 1])


def fmt_dt(value) -> str:
    """A date and time in Helsinki time, short, in the page's language."""
    if value is None:
        return "–"
    lang = _lang()
    if isinstance(value, datetime):
        local = value.astimezone(_HELSINKI) if value.tzinfo else value
        return f"{_date_text(local.date(), lang)} {_TIME_FORMATS[lang].format(t=local)}"
    if isinstance(value, date):
        return _date_text(value, lang)
    return str(value)


def fmt_date(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(_HELSINKI).date() if value.tzinfo else value.date()
    return _date_text(value, _lang())


def init_templating(app) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = fmt_dt
    app.jinja_env.filters["d"] = fmt_date

    @app.context_processor
    def globals_():
        return {
            "navigation": navigation,
            "role_label": role_label,
            "has_endpoint": lambda name: name in app.view_functions,
            "status_label": status_label,
            "current_language": str(get_locale() or "fi"),
            "language_names": LANGUAGE_NAMES,
            "dev_mail_enabled": not app.config["PRODUCTION"] and not app.config.get("MAIL_URL"),
        }


def render_then_commit(template: str, **context) -> str:
    """Render, then commit (the access-log rows a page writes). Committing first
    would expire the loaded rows and the template would reload them one by one."""
    from flask import render_template

    from core.extensions import db

    html = render_template(template, **context)
    db.session.commit()
    return html
