"""Staffing rules that need no database: what a request must meet, how offers are
sorted by price and fit, candidates, number parsing and the admin page's masking."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.admin_jobs import redact
from staffing.forms import parse_decimal
from staffing.models import StaffingOffer, StaffingRequest
from staffing.services import check_request, clean_candidates, hours_text, rank_offers

pytestmark = pytest.mark.smoke

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
START = NOW + timedelta(days=2)


def _check(**overrides):
    values = dict(unit="Kotihoito Keskusta", qualification="practical_nurse", postal_code="33100",
                  shifts=[(START, START + timedelta(hours=8))], headcount=2, respond_by=NOW + timedelta(hours=6),
                  note=None, now=NOW)
    values.update(overrides)
    return check_request(**values)


def test_a_good_request_passes():
    assert _check() == {}
    assert _check(respond_by=START) == {}  # answering exactly when the first shift starts is allowed


@pytest.mark.parametrize("overrides,field", [
    ({"shifts": [(START, START - timedelta(hours=1))]}, "shifts"),          # ends before it starts
    ({"shifts": [(START, START)]}, "shifts"),                                # ends when it starts
    ({"shifts": [(NOW - timedelta(hours=1), NOW + timedelta(hours=7))]}, "shifts"),  # in the past
    ({"shifts": [(START, START + timedelta(hours=25))]}, "shifts"),          # longer than a day
    ({"shifts": [(START, None)]}, "shifts"),
    ({"shifts": []}, "shifts"),
    ({"headcount": 0}, "headcount"),
    ({"headcount": None}, "headcount"),
    ({"headcount": 51}, "headcount"),
    ({"respond_by": START + timedelta(minutes=1)}, "respond_by"),           # after the first shift
    ({"respond_by": NOW}, "respond_by"),                                    # not in the future
    ({"respond_by": None}, "respond_by"),
    ({"qualification": "surgeon"}, "qualification"),
    ({"postal_code": "3310"}, "postal_code"),
    ({"unit": " "}, "unit"),
    ({"note": "x" * 2001}, "note"),
])
def test_bad_requests_are_refused_naming_the_field(overrides, field):
    errors = _check(**overrides)
    assert list(errors) == [field] and errors[field][0]


def test_the_first_shift_counts_for_the_answer_time_whatever_the_order():
    later = START + timedelta(days=1)
    assert "respond_by" in _check(shifts=[(later, later + timedelta(hours=8)), (START, START + timedelta(hours=8))],
                                  respond_by=START + timedelta(hours=1))


def _offer(i, rate, people, status="offered", candidates=()):
    return StaffingOffer(id=i, provider_id=i, headcount=people, hourly_rate_cents=rate, status=status,
                         candidates=list(candidates), created_at=NOW + timedelta(minutes=i))


def test_offers_sorted_by_price_then_fit():
    req = StaffingRequest(headcount=3, qualification="practical_nurse")  # 1 selected: 2 still needed
    nurse = {"name": "Laura", "qualification": "practical_nurse", "description": None}
    offers = [
        _offer(1, 4200, 2),
        _offer(2, 3900, 1),
        _offer(3, 3900, 2),                                   # same price, covers the need: first
        _offer(4, 3900, 2, candidates=[nurse]),               # ... and names a qualified candidate: before 3
        _offer(5, 3000, 2, status="withdrawn"),               # withdrawn offers go last whatever the price
        _offer(6, 5000, 1, status="selected"),                # selected first
    ]
    assert [r.offer.id for r in rank_offers(req, offers)] == [6, 4, 3, 2, 1, 5]


def test_candidates_are_cleaned_and_checked():
    cleaned, problems = clean_candidates(
        [{"name": " Laura ", "qualification": "practical_nurse"}, {"qualification": "registered_nurse",
                                                                   "description": "10 v"}], 2)
    assert problems == []
    assert cleaned == [{"name": "Laura", "qualification": "practical_nurse", "description": None},
                       {"name": None, "qualification": "registered_nurse", "description": "10 v"}]
    assert clean_candidates([{"name": "X"}], 1)[1]
    assert clean_candidates([{"qualification": "practical_nurse"}] * 2, 1)[1]  # more candidates than people
    assert clean_candidates("Laura", 1)[1]


@pytest.mark.parametrize("text,value", [("38,90", "38.90"), ("38.9", "38.9"), (" 40 € ", "40"), ("1 234,5", "1234.5"),
                                        ("abc", None), ("-5", None), ("", None)])
def test_decimal_comma_is_understood(text, value):
    parsed = parse_decimal(text)
    assert (str(parsed) if parsed is not None else None) == value


def test_hours_text():
    assert hours_text(480) == "8" and hours_text(450) == "7:30"


def test_redact_keeps_the_error_and_masks_personal_identifiers():
    text = "Traceback...\n  File x\nSMTPRecipientsRefused: {'maija@example.fi': (550, b'no')} 131052-308T"
    shown = redact(text)
    assert shown.startswith("SMTPRecipientsRefused") and "maija@example.fi" not in shown and "131052-308T" not in shown
    assert len(redact("E: " + "x" * 1000)) == 300
