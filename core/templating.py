"""Template helpers: the role-fitted navigation, money and time formatting."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.i18n import LANGUAGE_NAMES
from core.messages import init_messages
from core.registry import NAVIGATION, STATUS_LABELS, register_navigation, register_status_labels
from core.roles import Role

ROLE_LABELS = {"admin": _l("Administrator"), "staff": _l("Guidance staff"), "manager": _l("Manager"),
               "provider": _l("Provider"), "client": _l("Client")}


def labeller(labels: dict, name: str):
    """A function ``name(value)`` giving the value's label in ``labels`` as text, or
    the value itself when it has none (``name`` is also its Jinja global's name)."""

    def label(value) -> str:
        return str(labels.get(value, value))

    label.__name__ = label.__qualname__ = name
    return label


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def navigation():
    """The menu of the user's role: what the domains registered (core.registry)."""
    if not current_user.is_authenticated:
        return []
    items = []
    for _position, endpoint, label in NAVIGATION.get(current_user.role, []):
        if endpoint in current_app.view_functions:
            items.append({"url": url_for(endpoint), "label": label,
                          "current": request.endpoint == endpoint})
    return items


def _dev_mail_enabled() -> bool:
    from core.views import dev_mail_allowed

    return dev_mail_allowed()


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
    for role in Role:
        register_navigation(role, "core.dashboard", _l("My services") if role == Role.CLIENT else _l("Dashboard"), 0)
    register_navigation(Role.ADMIN, "core.admin_jobs", _l("Jobs"), 90)
    register_status_labels({"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"),
                            "failed": _l("Failed")})
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = fmt_dt
    app.jinja_env.filters["d"] = fmt_date
    # Globals (unlike context-processor values) are seen by imported macros too.
    app.jinja_env.globals.update(has_endpoint=lambda name: name in app.view_functions, status_label=status_label)
    init_messages(app)  # message_text(code, params): what the system wrote, in the reader's language

    @app.context_processor
    def globals_():
        return {
            "navigation": navigation,
            "role_label": role_label,
            "has_endpoint": lambda name: name in app.view_functions,
            "status_label": status_label,
            "current_language": str(get_locale() or "fi"),
            "language_names": LANGUAGE_NAMES,
            "dev_mail_enabled": _dev_mail_enabled,
        }
