"""Bounded input types shared by the API, the web forms and the URL converters.

Every value that reaches the database must fit it: an id beyond a 32-bit integer, a
string with a NUL byte or a lone surrogate, or a date in year 9999 would otherwise
end as a database error (a 500) instead of a clear 422. The API declares its bodies
and query parameters with these ``Annotated`` pydantic types (``core.api``); forms
and converters use the same constants and ``clean_text``.

    Id          1 .. 2^31-1 (an integer primary key)
    Count       0 .. 2^31-1
    Cents       0 .. 2^31-1 (money in integer cents)
    Text(n)     a single-line string, stripped, 1..n characters, no control characters
    OptText(n)  the same, may be empty
    LongText(n) multi-line (tabs and line breaks allowed), stripped, at most n
    PostalCode  five digits
    Language    a two-letter language code
    Email       an e-mail address (its shape; not whether it is delivered)
    IsoDate     ``YYYY-MM-DD`` between MIN_DATE and MAX_DATE
    AwareDatetime  ISO 8601 with a zone, returned in UTC
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_INT = 2**31 - 1          # PostgreSQL ``integer``
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)

# C0 controls except tab, line feed and carriage return; DEL; C1 controls; lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]")
# The same rule for the OpenAPI document (ECMA-262 syntax, which Python's re accepts too).
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """Whether ``value`` holds characters the database or a reader cannot take."""
    return bool(_CONTROL.search(value) or (not multiline and _LINE_BREAKS.search(value)))


def clean_text(value: str, multiline: bool = False) -> str:
    """``value`` if it has no control characters (``multiline`` allows tab and line
    breaks), else a pydantic error (shown as the field's message)."""
    if has_control_characters(value, multiline):
        raise PydanticCustomError("control_characters", "Must not contain control characters.")
    return value


def _single(value: str) -> str:
    return clean_text(value)


def _multi(value: str) -> str:
    return clean_text(value, multiline=True)


def Text(max_length: int = 200, min_length: int = 1):  # noqa: N802 - a type factory
    """A stripped single-line string of ``min_length``..``max_length`` characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_single), Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN})]


def OptText(max_length: int = 200):  # noqa: N802
    """A stripped single-line string that may be empty."""
    return Text(max_length, min_length=0)


def LongText(max_length: int = 4000, min_length: int = 0):  # noqa: N802
    """A stripped multi-line string (tabs and line breaks allowed)."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_multi), Field(json_schema_extra={"pattern": MULTI_LINE_PATTERN})]


Id = Annotated[int, Field(ge=1, le=MAX_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Cents = Annotated[int, Field(ge=0, le=MAX_INT)]
PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


def _email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise PydanticCustomError("email", "Invalid e-mail address.") from None
    return value


Email = Annotated[Text(254), AfterValidator(_email), Field(json_schema_extra={"format": "email"})]


def _parse_date(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    else:
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            parsed = date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_format", "Must be a date, YYYY-MM-DD.") from None
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise PydanticCustomError("date_range", "Must be between {lo} and {hi}.",
                                  {"lo": MIN_DATE.isoformat(), "hi": MAX_DATE.isoformat()})
    return parsed


def _parse_datetime(value):
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            if not isinstance(value, str) or len(value) > 40:
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise PydanticCustomError("datetime_format", "Must be an ISO 8601 time with a zone.") from None
    if parsed.tzinfo is None:
        raise PydanticCustomError("datetime_zone", "Must include a time zone, e.g. 2026-05-01T08:00:00+03:00.")
    if not MIN_DATE.year <= parsed.year <= MAX_DATE.year:
        raise PydanticCustomError("date_range", "Must be between {lo} and {hi}.",
                                  {"lo": MIN_DATE.isoformat(), "hi": MAX_DATE.isoformat()})
    return parsed.astimezone(timezone.utc)


IsoDate = Annotated[date, BeforeValidator(_parse_date),
                    WithJsonSchema({"type": "string", "format": "date"})]
AwareDatetime = Annotated[datetime, BeforeValidator(_parse_datetime),
                          WithJsonSchema({"type": "string", "format": "date-time"})]
