"""Template helpers: the role-fitted navigation, and the one set of filters for
dates, times, money and numbers (``|d``, ``|dt``, ``|t``, ``|month``, ``|money``,
``|euros``, ``|number``, ``|dates_in_text``); see docs/translations.md."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import jinja2
from flask import request, url_for
from flask_babel import format_currency, format_decimal, format_percent
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from core.current import request_user
from core.i18n import LANGUAGE_NAMES, current_language, install_template_gettext, text_of
from core.messages import init_messages
from core.registry import STATUS_LABELS, register_navigation, register_status_labels
from core.roles import Role
from core.shell import init_shell
from core.tables import header_label, stack_labels
from core.time import local_date, to_local

ROLE_LABELS = {"admin": _l("Administrator"), "staff": _l("Guidance staff"), "manager": _l("Manager"),
               "provider": _l("Provider"), "client": _l("Client")}


def labeller(labels: dict, name: str):
    """A function ``name(value)`` giving the value's label in ``labels`` as text, or
    the value itself when it has none (``name`` is also its Jinja global's name)."""

    def label(value) -> str:
        return text_of(labels.get(value, value))

    label.__name__ = label.__qualname__ = name
    return label


def role_label(role: str) -> str:
    return text_of(ROLE_LABELS.get(role, role))


def status_label(status: str) -> str:
    return text_of(STATUS_LABELS.get(status, status))


def navigation():
    """The menu of the user's role: what the domains registered (core.registry)."""
    from core.shell import _menu, navigation_items

    return navigation_items(_menu(request_user(), request.endpoint))


def _dev_mail_enabled() -> bool:
    from core.views import dev_mail_allowed

    return dev_mail_allowed()


# --------------------------------------------------------------------------- formats
# One set of formats for pages, e-mails, receipts and downloads, in the page's (or the
# e-mail's, under force_locale) language. Numbers and money through Babel: decimal
# comma and space-grouped thousands in Finnish and Swedish ("1 234,50 €"), English its
# own ("€1,234.50"). Dates as in Finland in both national languages ("12.12.2026",
# CLDR fi and sv_FI); times of day "1.30" (fi, sv_FI), "01:30" (en). Dates are written
# out instead of asking Babel for every cell: a list page formats hundreds of them.
_DATE_FORMATS = {"fi": "{d.day}.{d.month}.{d.year}", "sv": "{d.day}.{d.month}.{d.year}",
                 "en": "{d.day} {month} {d.year}"}
_TIME_FORMATS = {"fi": "{t.hour}.{t.minute:02d}", "sv": "{t.hour}.{t.minute:02d}", "en": "{t.hour:02d}:{t.minute:02d}"}
_MONTH_FORMATS = {"fi": "{d.month}/{d.year}", "sv": "{d.month}/{d.year}", "en": "{month} {d.year}"}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _lang() -> str:
    lang = current_language()
    return lang if lang in _DATE_FORMATS else "fi"


def _date_text(d: date, lang: str) -> str:
    return _DATE_FORMATS[lang].format(d=d, month=_EN_MONTHS[d.month - 1])


# _date_text of a date, and fmt_dt's date and time of a local datetime, in each language as
# one call (fmt_date's and fmt_dt's short ways; a unit test compares them with the long ones).
# (f-strings: str.format's attribute fields took four times as long.)
_DAY_TEXTS = {"fi": lambda d: f"{d.day}.{d.month}.{d.year}", "sv": lambda d: f"{d.day}.{d.month}.{d.year}",
              "en": lambda d: f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"}
_MOMENT_TEXTS = {"fi": lambda t: f"{t.day}.{t.month}.{t.year} {t.hour}.{t.minute:02d}",
                 "sv": lambda t: f"{t.day}.{t.month}.{t.year} {t.hour}.{t.minute:02d}",
                 "en": lambda t: f"{t.day} {_EN_MONTHS[t.month - 1]} {t.year} {t.hour:02d}:{t.minute:02d}"}


def money(cents: int | None) -> str:
    """Cents as euros: "1 234,50 €" (fi, sv), "€1,234.50" (en); "–" for nothing.
    Whole cents are formatted here, exactly as Babel's patterns for the three
    languages do (a unit test compares them), at a tenth of Babel's cost: a price
    list shows dozens of amounts."""
    if cents is None:
        return "–"
    lang = current_language()
    if lang in _MONEY_FAST:
        cents = int(cents)
        sign, whole, fraction = "-" if cents < 0 else "", *divmod(abs(cents), 100)
        return _MONEY_FAST[lang](sign, f"{whole:,}", f"{fraction:02d}")
    return format_currency(Decimal(int(cents)) / 100, "EUR")


_MONEY_FAST = {
    "fi": lambda sign, whole, cents: f"{sign}{whole.replace(',', NBSP)},{cents}{NBSP}€",
    "sv": lambda sign, whole, cents: f"{sign}{whole.replace(',', NBSP)},{cents}{NBSP}€",
    "en": lambda sign, whole, cents: f"{sign}€{whole}.{cents}",
}
NBSP = "\u00a0"


def euros(amount) -> str:
    """An amount already in euros (a Decimal or a number), formatted like ``money``."""
    if amount is None:
        return "–"
    return format_currency(Decimal(str(amount)), "EUR")


def number(value, digits: int | None = None) -> str:
    """A number with the language's decimal mark and grouping ("12 345,5");
    ``digits`` fixes the decimals shown."""
    if value is None:
        return "–"
    lang = current_language()
    if lang in _MONEY_FAST and type(value) in (int, float, Decimal):
        fast = _fast_number(value, digits)
        if fast is not None:
            return fast.replace(",", NBSP).replace(".", ",") if lang != "en" else fast
    if digits is None:
        return format_decimal(value)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def _fast_number(value, digits: int | None) -> str | None:
    """``value`` as Babel's English pattern "#,##0.###" (or "#,##0.00…" with
    ``digits``) writes it, rounded half to even as Babel does; None for what is not
    a finite number. A unit test compares it with Babel."""
    if type(value) is int and digits is None:
        return f"{value:,}"  # a count: grouping only
    exact = Decimal(str(value)) if type(value) is float else Decimal(value)
    if not exact.is_finite():
        return None
    shown = 3 if digits is None else digits
    rounded = exact.quantize(Decimal(1).scaleb(-shown), rounding=ROUND_HALF_EVEN)
    text = f"{rounded:,.{shown}f}"
    if digits is None and shown:
        text = text.rstrip("0").rstrip(".")
    return text


def percent(fraction, digits: int = 0) -> str:
    """A share (0.833) as a percentage in the language's format ("83 %"; en "83%")."""
    if fraction is None:
        return "–"
    sign = "%" if _lang() == "en" else "\u00a0%"
    return format_percent(fraction, format="#,##0" + ("." + "0" * digits if digits else "") + sign)


def fmt_time(value) -> str:
    """A time of day (or the local time of a stored instant): "1.30" (fi, sv), "01:30" (en)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = to_local(value)
    return _TIME_FORMATS[_lang()].format(t=value)


def fmt_dt(value) -> str:
    """A stored instant as local date and time, short, in the page's language."""
    if type(value) is datetime:  # a timestamp column, once per row of a list: the short way
        moment_text = _MOMENT_TEXTS.get(current_language())
        if moment_text is not None:
            return moment_text(to_local(value))
    if value is None:
        return "–"
    lang = _lang()
    if isinstance(value, datetime):
        local = to_local(value)
        return f"{_date_text(local.date(), lang)} {_TIME_FORMATS[lang].format(t=local)}"
    if isinstance(value, date):
        return _date_text(value, lang)
    return str(value)


def fmt_date(value) -> str:
    """A date ("12.12.2026"), or the local day of a stored instant; an ISO date string too."""
    if type(value) is date:  # a date column, once per row of a list: the short way
        day_text = _DAY_TEXTS.get(current_language())
        if day_text is not None:
            return day_text(value)
    if value is None or value == "":
        return "–"
    if isinstance(value, datetime):
        value = local_date(value)
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return _date_text(value, _lang())


def fmt_month(value) -> str:
    """The month of a date: "12/2026" (fi, sv), "Dec 2026" (en)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = local_date(value)
    elif isinstance(value, str):  # "2026-12", as report rows carry their months
        try:
            value = date(int(value[:4]), int(value[5:7]), 1)
        except ValueError:
            return value
    return _MONTH_FORMATS[_lang()].format(d=value, month=_EN_MONTHS[value.month - 1])


def dates_in_text(text) -> str:
    """Free text with its ISO dates ("2026-12-12 morning") written as the language's
    dates ("12.12.2026 morning"); used for times people typed, stored as text."""
    if not text:
        return text or ""
    lang = _lang()

    def one(match):
        try:
            return _date_text(date(int(match[1]), int(match[2]), int(match[3])), lang)
        except ValueError:
            return match[0]

    return _ISO_DAY.sub(one, str(text))


def select_options(choices, current, text=None) -> Markup:
    """The ``<option>`` elements of a drop-down, the one equal to ``current``
    selected. ``choices``: (value, text) pairs, or values with ``text(value)`` giving
    each one's text. Built here rather than by a template loop (the service filter
    alone has 150 options, and a loop in Jinja spends about 10 µs on each), and the
    markup of the same choices is kept (it is the same list on every request until
    the catalogue changes; the cache key is the choices themselves)."""
    if text is None and type(choices) is tuple:
        pairs = choices  # a kept choice list (orders.queries.filter_choices): pairs already, used as they are
    else:
        pairs = tuple((choice, text(choice)) for choice in choices) if text else tuple(tuple(c) for c in choices)
    try:
        html = _options_html(pairs)
    except TypeError:  # a tuple of lists
        pairs = tuple(tuple(c) for c in pairs)
        html = _options_html(pairs)
    if current is not None and current in _option_values(pairs):
        tag = f'<option value="{escape(current)}">'
        html = html.replace(tag, tag[:-1] + " selected>", 1)
    # Every value and text is escaped in _options_html.
    return Markup(html)  # nosec B704


@lru_cache(maxsize=256)
def _options_html(pairs: tuple) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(shown)}</option>' for value, shown in pairs)


@lru_cache(maxsize=256)
def _option_values(pairs: tuple) -> frozenset:
    # Equal values are equal keys, so this asks what ``any(value == current …)`` asks.
    return frozenset(value for value, _shown in pairs)


try:  # MarkupSafe's escaping of a str without wrapping the result in Markup (MarkupSafe 3)
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another MarkupSafe: the same text through escape()
    def _escape_inner(text: str) -> str:
        return str(escape(text))


def escape_text(value) -> str:
    """``value`` escaped exactly as ``|e`` escapes it, as a plain ``str``: the filter
    ``|esc`` for the cells of rows written under ``{% autoescape false %}``, where
    ``|e``'s ``Markup`` object (a Python ``Markup.__new__`` per cell) serves nothing.
    About a quarter of ``|e``'s cost for a text; the unit tests compare the two. Not
    for autoescaped output: there the plain result would be escaped a second time."""
    if type(value) is str:
        return _escape_inner(value)
    return str(escape(value))


def status_choices(statuses) -> tuple[tuple[str, str], ...]:
    """(value, label) of each of ``statuses`` (values or ``StrEnum`` members) in the
    current language, for ``select_options``: made once per language and set of
    statuses and kept (nine labels looked up on every request before)."""
    values = tuple(getattr(status, "value", status) for status in statuses)
    key = (current_language(), values)
    choices = _STATUS_CHOICES.get(key)
    if choices is None:
        choices = _STATUS_CHOICES[key] = tuple((value, status_label(value)) for value in values)
    return choices


_STATUS_CHOICES: dict[tuple, tuple] = {}


def status_badges(statuses) -> dict[str, str]:
    """The markup of ``core/_ui.html``'s ``status_badge`` for each of ``statuses``
    (values or ``StrEnum`` members) in the current language, by value: for a list
    written under ``{% autoescape false %}`` that shows a status per row and admits
    only these. Made once per language and set of statuses and kept (a macro call
    per status per request before)."""
    values = tuple(getattr(status, "value", status) for status in statuses)
    key = (current_language(), values)
    badges = _BADGES.get(key)
    if badges is None:
        badges = _BADGES[key] = {value: f'<span class="status status-{escape(value)}">{escape(status_label(value))}</span>'
                                 for value in values}
    return badges


_BADGES: dict[tuple, dict[str, str]] = {}


class RowUrl:
    """The URL of an endpoint for many rows that differ only in one integer
    argument (``url_for(endpoint, order_id=o.id)`` for every row of a list): built
    once through ``url_for``, then by inserting the number. ``url(o.id)``."""

    _MARK = 987654321  # a number no route contains by itself

    def __init__(self, endpoint: str, name: str, **values):
        url = url_for(endpoint, **{name: self._MARK}, **values)
        if url.count(str(self._MARK)) != 1:
            raise ValueError(f"{endpoint}: cannot tell where {name} goes in {url}")
        self.head, _mark, self.tail = url.partition(str(self._MARK))

    def __call__(self, number: int) -> str:
        return f"{self.head}{int(number)}{self.tail}"


class Template(jinja2.Template):
    """Jinja's template with a cheaper ``{% from … import … %}`` (the application's
    ``jinja_env.template_class``). For every import Jinja asks whether the importing
    template was rendered with globals the imported one lacks (then it renders the
    imported template afresh with them) by subtracting a ``ChainMap``'s key view from
    the set of the renderer's globals: a ``ChainMap`` lookup in Python for each of the
    75 globals, about 460 function calls per import, and a page imports two to four
    macro files. Here the same question is one set operation; when the answer is no
    (always, unless a template is rendered with globals of its own) the imported
    template's one kept module is used, as Jinja does then (a test holds both cases,
    tests/integration/core/test_template_helpers.py)."""

    def _get_default_module(self, ctx=None):
        if ctx is not None and not ctx.globals_keys.difference(*getattr(self.globals, "maps", (self.globals,))):
            ctx = None  # no global of the renderer is missing here: Jinja would take the kept module
        return super()._get_default_module(ctx)

    def new_context(self, vars=None, shared=False, locals=None):
        """The render's context as Jinja makes it, cheaper in the usual case. Jinja
        copies the template's globals (a ``ChainMap`` of the template's own over the
        environment's) into the context with ``dict(ChainMap)``: a ``ChainMap``
        lookup in Python for each of the 75 globals, about 155 function calls of
        every page. A template without globals of its own (every template Flask
        renders) has exactly the environment's, so they are copied from the
        environment's own dict, read at each render as Jinja reads them."""
        maps = getattr(self.globals, "maps", None)
        if shared or locals or maps is None or len(maps) != 2 or maps[0]:
            return super().new_context(vars, shared, locals)
        parent = dict(maps[1], **vars) if vars else dict(maps[1])
        return self.environment.context_class(self.environment, parent, self.name, self.blocks, globals=self.globals)


def _client_home_label(user):
    """A client's own services; a relative without a record of their own acts for
    others, and is not addressed as the client."""
    return _l("My services") if user.client_id is not None else _l("Services")


def init_templating(app) -> None:
    app.jinja_env.template_class = Template
    for role in Role:
        register_navigation(role, "core.dashboard", _client_home_label if role == Role.CLIENT else _l("Dashboard"), 0)
    register_navigation(Role.ADMIN, "core.admin_jobs", _l("Jobs"), 90)
    register_status_labels({"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"),
                            "failed": _l("Failed")})
    app.jinja_env.filters.update(money=money, euros=euros, number=number, percent=percent, dt=fmt_dt, d=fmt_date, t=fmt_time,
                                 month=fmt_month, dates_in_text=dates_in_text,
                                 stack_labels=stack_labels, header_label=header_label,
                                 select_options=select_options, esc=escape_text)
    # Globals (unlike context-processor values) are seen by imported macros too.
    app.jinja_env.globals.update(has_endpoint=lambda name: name in app.view_functions, status_label=status_label,
                                 row_url=RowUrl, status_badges=status_badges,
                                 status_choices=status_choices)
    init_messages(app)  # message_text(code, params): what the system wrote, in the reader's language
    install_template_gettext(app)  # one catalogue lookup per request, not per text
    init_shell(app)  # the header, menu and footer rendered once per key and kept

    @app.context_processor
    def globals_():
        return {
            "navigation": navigation,
            "role_label": role_label,
            "has_endpoint": lambda name: name in app.view_functions,
            "status_label": status_label,
            "current_language": current_language(),
            "language_names": LANGUAGE_NAMES,
            "dev_mail_enabled": _dev_mail_enabled,
        }
