"""The old style of API route (kept so that routes written before ``core.api.route``
keep working while they are converted): ``json_body()`` and a ``Validator`` in the
view, and a hand-written ``core.openapi.register`` entry for the document.

To convert such a route: declare the body as a pydantic model of ``core.bounds``
types, replace ``@api_bp.post(...)`` + ``@roles(...)`` + ``openapi.register(...)``
with one ``@route("POST", ..., roles=..., body=Model, responses={201: Out})`` and
take the validated ``body`` argument instead of calling ``json_body``/``Validator``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from flask_babel import gettext, ngettext

from core.bounds import MAX_DATE, MAX_INT, MIN_DATE, has_control_characters
from core.errors import ValidationFailed

_POSTAL = re.compile(r"^\d{5}$")


class Validator:
    """Collects per-field errors so one 422 names every bad field.

    Usage: ``v = Validator(body); name = v.string("name", required=True); v.done()``.
    """

    _missing = object()

    def __init__(self, data: dict):
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def _fail(self, name: str, message: str, default):
        """Record ``message`` for ``name``; the field's value is then ``default``."""
        self.error(name, message)
        return default

    def _get(self, name: str, required: bool):
        value = self.data.get(name, self._missing)
        if value is self._missing or value is None:
            if required:
                self.error(name, gettext("This field is required."))
            return self._missing
        return value

    def string(self, name, required=False, max_len=1000, min_len=0, choices=None, default=None, strip=True):
        value = self._get(name, required)
        if value is self._missing:
            return default
        if not isinstance(value, str):
            return self._fail(name, gettext("Must be a string."), default)
        if strip:
            value = value.strip()
        if required and not value:
            return self._fail(name, gettext("This field is required."), default)
        if len(value) > max_len:
            return self._fail(name, ngettext("At most %(num)d character.", "At most %(num)d characters.", max_len), default)
        if len(value) < min_len:
            return self._fail(name, ngettext("At least %(num)d character.", "At least %(num)d characters.", min_len), default)
        if choices is not None and value not in choices:
            return self._fail(name, gettext("Must be one of: %(choices)s.", choices=", ".join(choices)), default)
        if has_control_characters(value, multiline=True):
            return self._fail(name, gettext("Must not contain control characters."), default)
        return value

    def integer(self, name, required=False, minimum=None, maximum=None, default=None):
        value = self._get(name, required)
        if value is self._missing:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            return self._fail(name, gettext("Must be an integer."), default)
        # What the database's integer columns hold, unless the caller says less.
        minimum = -MAX_INT - 1 if minimum is None else minimum
        maximum = MAX_INT if maximum is None else maximum
        if minimum is not None and value < minimum:
            return self._fail(name, gettext("Must be at least %(limit)s.", limit=minimum), default)
        if maximum is not None and value > maximum:
            return self._fail(name, gettext("Must be at most %(limit)s.", limit=maximum), default)
        return value

    def number(self, name, required=False, minimum=None, maximum=None, default=None):
        value = self._get(name, required)
        if value is self._missing:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self._fail(name, gettext("Must be a number."), default)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            return self._fail(name, gettext("Must be between %(low)s and %(high)s.", low=minimum, high=maximum), default)
        return value

    def boolean(self, name, required=False, default=None):
        value = self._get(name, required)
        if value is self._missing:
            return default
        if not isinstance(value, bool):
            return self._fail(name, gettext("Must be true or false."), default)
        return value

    def date(self, name, required=False, default=None):
        value = self._get(name, required)
        if value is self._missing:
            return default
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad()
        except ValueError:
            return self._fail(name, gettext("Must be a date, YYYY-MM-DD."), default)
        if not MIN_DATE <= parsed <= MAX_DATE:
            return self._fail(name, gettext("Must be between %(low)s and %(high)s.", low=MIN_DATE, high=MAX_DATE), default)
        return parsed

    def datetime(self, name, required=False, default=None):
        value = self._get(name, required)
        if value is self._missing:
            return default
        try:
            if not isinstance(value, str):
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                return self._fail(name, gettext("Must include a time zone, e.g. 2026-05-01T08:00:00+03:00."), default)
            return parsed.astimezone(timezone.utc)
        except ValueError:
            return self._fail(name, gettext("Must be an ISO 8601 time with a zone."), default)

    def string_list(self, name, required=False, choices=None, max_items=500, item_max_len=100, default=None, pattern=None):
        value = self._get(name, required)
        if value is self._missing:
            return default
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            return self._fail(name, gettext("Must be a list of strings."), default)
        if any(has_control_characters(i) for i in value):
            return self._fail(name, gettext("Must not contain control characters."), default)
        if len(value) > max_items:
            return self._fail(name, ngettext("At most %(num)d item.", "At most %(num)d items.", max_items), default)
        bad = [i for i in value if len(i) > item_max_len or (choices is not None and i not in choices)
               or (pattern is not None and not pattern.match(i))]
        if bad:
            return self._fail(name, gettext("Invalid items: %(items)s.", items=", ".join(sorted(set(map(str, bad)))[:10])), default)
        return list(dict.fromkeys(value))

    def postal_code(self, name, required=False, default=None):
        value = self.string(name, required=required, max_len=5, default=self._missing)
        if value is self._missing or value is None:
            return default
        if not _POSTAL.match(value):
            return self._fail(name, gettext("Must be a Finnish postal code of five digits."), default)
        return value

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(gettext("Some fields are invalid."), fields=self.errors)


def _bad():
    raise ValueError


POSTAL_CODE_RE = _POSTAL


