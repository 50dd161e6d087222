"""The bounded input types of ``core.bounds`` and the API's field errors made from them."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from core.api import Body, field_errors
from core.bounds import MAX_INT, AwareDatetime, Email, Id, IsoDate, LongText, PostalCode, Text

pytestmark = pytest.mark.smoke


def _ok(kind, value):
    return TypeAdapter(kind).validate_python(value)


def _bad(kind, value) -> str:
    with pytest.raises(ValidationError) as exc:
        TypeAdapter(kind).validate_python(value)
    return exc.value.errors()[0]["msg"]


@pytest.mark.parametrize("value", [0, -1, MAX_INT + 1, 10**20])
def test_ids_fit_a_database_integer(value):
    _bad(Id, value)


def test_ids_at_the_bounds_are_fine():
    assert _ok(Id, 1) == 1 and _ok(Id, MAX_INT) == MAX_INT


@pytest.mark.parametrize("value", ["a\x00b", "a\x1fb", "line\nbreak", "tab\there", "a\x85b"])
def test_single_line_text_refuses_control_characters(value):
    assert "control characters" in _bad(Text(50), value)


def test_text_is_stripped_and_bounded():
    assert _ok(Text(5), "  abc  ") == "abc"
    _bad(Text(5), "abcdef")
    _bad(Text(5), "   ")          # empty after stripping
    assert _ok(LongText(50), " two\nlines\tok ") == "two\nlines\tok"
    assert "control characters" in _bad(LongText(50), "nul\x00")


@pytest.mark.parametrize("value,message", [
    ("2026-13-01", "Must be a date, YYYY-MM-DD."), ("1.3.2026", "Must be a date, YYYY-MM-DD."),
    (20260501, "Must be a date, YYYY-MM-DD."), ("9999-12-31", "Must be between 1900-01-01 and 2100-12-31."),
])
def test_dates(value, message):
    assert _bad(IsoDate, value) == message


def test_times_need_a_zone_and_become_utc():
    assert _ok(AwareDatetime, "2026-05-01T10:00:00+03:00") == datetime(2026, 5, 1, 7, tzinfo=timezone.utc)
    assert "time zone" in _bad(AwareDatetime, "2026-05-01T10:00:00")
    assert _ok(IsoDate, "2026-05-01") == date(2026, 5, 1)


def test_postal_codes_and_emails():
    assert _ok(PostalCode, "33100") == "33100"
    _bad(PostalCode, "3310")
    assert _bad(Email, "not-an-email") == "Invalid e-mail address."


class _Sample(Body):
    name: Text(10)
    count: Id
    tags: list[Text(5)] = []


def test_field_errors_name_each_bad_field_in_api_md_shape():
    with pytest.raises(ValidationError) as exc:
        _Sample.model_validate({"count": "5", "tags": ["ok", "x\x00"]})
    assert field_errors(exc.value) == {"name": ["This field is required."], "count": ["Must be an integer."],
                                       "tags": ["Item 2: Must not contain control characters."]}


def test_a_lone_surrogate_is_refused_as_a_field_error():
    with pytest.raises(ValidationError) as exc:
        _Sample.model_validate({"name": "\ud800", "count": 1})
    assert field_errors(exc.value) == {"name": ["Must not contain control characters."]}
