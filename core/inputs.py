"""Bounded input: the one place where untrusted numbers and text are checked before
they can reach the database.

- ``BoundedIntConverter`` is the app's ``int`` URL converter: every ``<int:id>`` route
  answers 404 for an id outside 1..2^31-1 (PostgreSQL's ``integer``) instead of
  sending it to the database.
- ``Form`` (and ``SubForm`` for ``FormField`` rows) is the base of every web form: each
  field refuses NUL and other control characters, and any whole number outside the
  database's integer range, with a message next to the field, before the field's own
  validators (which may query the database) run.
- ``query_int``, ``query_str`` and ``query_choice`` read query-string parameters with
  bounds; a bad value counts as not given.
- ``refuse_nul_bytes`` (a ``before_request`` hook) is the last line of defence: a NUL
  byte anywhere in the path, query, form, JSON body, cookies or headers is a 400 with
  a clear message, never a database error.
"""

from __future__ import annotations

import decimal
import re

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from markupsafe import Markup, escape
from wtforms import Form as _WtForm
from wtforms.validators import StopValidation
from wtforms.widgets import EmailInput, HiddenInput, Select, TextArea, TextInput
from wtforms.widgets.core import clean_key

from core.errors import DomainError

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
ID_MAX = INT_MAX
# Money and other decimals: what a NUMERIC(12, 2) column holds, with room to spare.
DECIMAL_MAX = decimal.Decimal(10) ** 10

# C0 and C1 control characters except tab, line feed and carriage return (a text
# area keeps its line breaks), and the Unicode non-characters a browser never sends.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


CONTROL_MESSAGE = _l("Remove the control characters (such as NUL) from this field.")


class BadInput(DomainError, status=400, code="bad_request"):
    """The request carries something no field accepts (a NUL byte)."""


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text))


def clean_text(text: str | None, max_length: int = 200) -> str:
    """``text`` stripped, without control characters and cut to ``max_length``."""
    if not text:
        return ""
    return _CONTROL.sub("", text).strip()[:max_length]


# --------------------------------------------------------------------------- URL converter


class BoundedIntConverter(IntegerConverter):
    """``<int:...>``: a positive id that fits PostgreSQL's ``integer``; any other
    value does not match the route (404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=ID_MAX, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# --------------------------------------------------------------------------- forms


def _values(data):
    if isinstance(data, (list, tuple, set)):
        for item in data:
            yield from _values(item)
    elif isinstance(data, dict):
        for item in data.values():
            yield from _values(item)
    else:
        yield data


def field_problem(field) -> str | None:
    """Why a field's submitted value can never be accepted, or None."""
    for raw in field.raw_data or ():
        if isinstance(raw, str) and has_control_characters(raw):
            return CONTROL_MESSAGE
    for value in _values(field.data):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            return _l("Give a whole number between %(min)s and %(max)s.", min=INT_MIN, max=INT_MAX)
        if isinstance(value, decimal.Decimal) and (not value.is_finite() or abs(value) >= DECIMAL_MAX):
            return _l("Give a smaller number.")
        if isinstance(value, float) and not (abs(value) < float(DECIMAL_MAX)):
            return _l("Give a smaller number.")
    return None


def _guard(field) -> None:
    original = field.pre_validate

    def pre_validate(form):
        problem = field_problem(field)
        if problem:
            raise StopValidation(str(problem))
        original(form)

    field.pre_validate = pre_validate


class _BoundedMeta:
    def bind_field(self, form, unbound_field, options):
        field = unbound_field.bind(form=form, **options)
        _guard(field)
        return field


class FastSelect(Select):
    """WTForms' drop-down, writing each plain option with one f-string instead of
    ``html_params`` and ``Markup.format`` (the same markup, attributes in the same
    order; a unit test compares them): a filter form has dozens of options."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        option = f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>'
        return Markup(option)  # nosec B704 (value and label escaped above)


def fast_html_params(**kwargs) -> Markup:
    """WTForms' ``html_params``: the same attributes in the same order, escaped the
    same way (a unit test compares them), each written by an f-string instead of
    ``Markup.format``, which goes through ``string.Formatter`` for every attribute
    (about ten times the cost; a page with four small forms rendered a dozen)."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            # escape() leaves a Markup value as it is: its quotes are escaped as WTForms does.
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))  # nosec B704 (every key and value escaped above)


class _FastParams:
    html_params = staticmethod(fast_html_params)


class FastTextInput(_FastParams, TextInput):
    """WTForms' text input with ``fast_html_params``."""


class FastEmailInput(_FastParams, EmailInput):
    """WTForms' e-mail input with ``fast_html_params``."""


class FastHiddenInput(_FastParams, HiddenInput):
    """WTForms' hidden input (the CSRF token of every form) with ``fast_html_params``."""


class FastTextArea(TextArea):
    """WTForms' text area (its ``__call__``, line for line) with ``fast_html_params``."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        params = fast_html_params(name=field.name, **kwargs)
        return Markup(f"<textarea {params}>\r\n{escape(field._value())}</textarea>")  # nosec B704 (escaped)


class Form(FlaskForm):
    """The base of every web form (CSRF from Flask-WTF, bounded fields from here)."""

    class Meta(_BoundedMeta):
        def render_field(self, field, render_kw):
            # The hidden CSRF token has no id: a page with several forms (the order
            # page has up to six) would repeat id="csrf_token" (WCAG 4.1.1), and no
            # label or script needs to reach it. ``id=False`` leaves the attribute out.
            if field.type == "CSRFTokenField":
                render_kw = {**render_kw, "id": False}
            widget_type = type(field.widget)
            if widget_type is Select:  # this bound field only (made afresh per form)
                field.widget = _FAST_SELECTS[field.widget.multiple]
            elif widget_type in _FAST_WIDGETS:  # WTForms' own widgets only, not a subclass
                fast = _FAST_WIDGETS[widget_type]
                if vars(field.widget) == vars(fast):  # no state of its own (e.g. another input_type)
                    field.widget = fast
            return super().render_field(field, render_kw)


_FAST_SELECTS = {False: FastSelect(), True: FastSelect(multiple=True)}
# The widgets of WTForms' text fields, a text area and the CSRF token, with the fast
# attributes: one instance serves every field whose widget has no state of its own.
_FAST_WIDGETS = {TextInput: FastTextInput(), EmailInput: FastEmailInput(), HiddenInput: FastHiddenInput(),
                 TextArea: FastTextArea()}


def csrf_hidden_tag() -> Markup:
    """What ``Form().hidden_tag()`` writes for a form without fields of its own on a
    GET: the CSRF token's hidden input (no id, as ``Form`` renders it), written
    directly. Building the form (WTForms' meta, the CSRF field, processing the
    request's data) for it cost more than the page's other forms together; the
    staff client page's four small forms share it. A test compares the two."""
    from flask_wtf.csrf import generate_csrf

    token = str(escape(generate_csrf())).replace(chr(34), "&quot;")
    return Markup(f'<input name="csrf_token" type="hidden" value="{token}">')  # nosec B704 (the token escaped above)


class SubForm(_WtForm):
    """The base of a form used inside ``FormField`` / ``FieldList`` rows."""

    class Meta(_BoundedMeta):
        pass


# --------------------------------------------------------------------------- query strings


def bounded_id(value) -> int | None:
    """``value`` when it is a possible row id (1..2^31-1), else None: for a form's
    id read before (or whatever) its validation."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX:
        return value
    return None


def query_int(name: str, default: int | None = None, min: int = 1, max: int = ID_MAX) -> int | None:  # noqa: A002
    """The query parameter ``name`` as a whole number in ``min..max``; ``default``
    when it is missing, not a number or out of range."""
    return parse_int(request.args.get(name, ""), default, min, max)


def parse_int(raw, default: int | None = None, min: int = 1, max: int = ID_MAX) -> int | None:  # noqa: A002
    """``raw`` (a query value, an API parameter) as a whole number in ``min..max``,
    else ``default``. For the API's own paging and filters as well as the web's."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if min <= raw <= max else default
    raw = (raw or "").strip() if isinstance(raw, str) else ""
    if not raw or len(raw) > 12 or not re.fullmatch(r"-?\d+", raw):
        return default
    value = int(raw)
    return value if min <= value <= max else default


def query_page(name: str = "page", last: int = 1000) -> int:
    """A page number, 1..``last`` (1 when missing or bad)."""
    return query_int(name, 1, 1, last)


def query_str(name: str, default: str = "", max_length: int = 100) -> str:
    """The query parameter ``name`` stripped, without control characters, cut to
    ``max_length``."""
    return clean_text(request.args.get(name), max_length) or default


def query_choice(name: str, choices, default=None):
    """The query parameter ``name`` when it is one of ``choices``, else ``default``."""
    value = request.args.get(name)
    return value if value in choices else default


# --------------------------------------------------------------------------- last line


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


# The WSGI variables that carry the request's headers besides the HTTP_* ones.
_BODY_HEADERS = frozenset(("CONTENT_TYPE", "CONTENT_LENGTH"))


def request_has_nul() -> bool:
    # Every request passes here: the request is resolved once, the headers are read
    # from the WSGI environment they come from (what ``request.headers`` iterates
    # over, without building it), and the query is parsed only when there is one.
    req = request._get_current_object()
    environ = req.environ
    query = environ.get("QUERY_STRING", "")
    path = req.path
    if "\x00" in path or "%00" in query or "\x00" in query:
        return True
    if query and any(_contains_nul(k) or _contains_nul(v) for k, v in req.args.items(multi=True)):
        return True
    for key, value in environ.items():
        if value.__class__ is str and "\x00" in value and (key.startswith("HTTP_") or key in _BODY_HEADERS):
            return True
    for key, value in req.cookies.items():
        if "\x00" in key or "\x00" in value:
            return True
    if req.method in ("POST", "PUT", "PATCH", "DELETE"):
        if path.startswith("/api/"):
            pass  # the API's declared body models refuse it with a 422 naming the field (API.md)
        elif req.mimetype == "application/json":
            if _contains_nul(req.get_json(silent=True, force=True)):
                return True
        else:
            try:
                form, files = req.form, req.files
            except RequestEntityTooLarge:
                return False  # the view answers that itself (a friendly 413 next to the field)
            if any(_contains_nul(k) or _contains_nul(v) for k, v in form.items(multi=True)):
                return True
            if any(_contains_nul(f.filename or "") for f in files.values()):
                return True
    return False


def refuse_nul_bytes():
    if request_has_nul():
        raise BadInput(str(_l("The request contains a NUL character, which no field accepts. Remove it and try again.")))


def init_inputs(app) -> None:
    """Before any route is added: the bounded ``int`` converter; and the NUL guard
    as the first ``before_request`` hook."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_bytes)
