"""The callback due time: working days skip weekends and Finnish public holidays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from frontdoor.services import callback_due, normalise_phone

HKI = ZoneInfo("Europe/Helsinki")


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=HKI)


@pytest.mark.smoke
@pytest.mark.parametrize("received, urgent, expected", [
    (_local(2026, 12, 1, 10, 0), False, _local(2026, 12, 2, 16, 0)),   # Tuesday morning: Wednesday
    (_local(2026, 12, 1, 17, 0), False, _local(2026, 12, 3, 16, 0)),   # after hours: counts from Wednesday
    (_local(2026, 12, 4, 12, 0), False, _local(2026, 12, 7, 16, 0)),   # Friday: the next Monday
    (_local(2027, 1, 5, 10, 0), False, _local(2027, 1, 7, 16, 0)),     # Epiphany on Wednesday is skipped
    (_local(2026, 12, 23, 9, 0), False, _local(2026, 12, 28, 16, 0)),  # Christmas Eve, Christmas, weekend
    (_local(2026, 6, 18, 12, 0), False, _local(2026, 6, 22, 16, 0)),   # Midsummer Eve and Day
    (_local(2026, 4, 2, 15, 0), False, _local(2026, 4, 7, 16, 0)),     # Easter: Good Friday to Monday
    (_local(2026, 12, 1, 10, 0), True, _local(2026, 12, 1, 16, 0)),    # urgent: the same working day
    (_local(2026, 12, 5, 10, 0), True, _local(2026, 12, 7, 16, 0)),    # urgent on Saturday: Monday
])
def test_callback_due(app, received, urgent, expected):
    assert callback_due(received, urgent=urgent) == expected


def test_the_service_level_is_a_setting(app):
    app.config["FRONTDOOR_CALLBACK_WORKING_DAYS"] = 3
    app.config["FRONTDOOR_CALLBACK_HOUR"] = 15
    assert callback_due(_local(2026, 12, 22, 9, 0)) == _local(2026, 12, 29, 15, 0)


@pytest.mark.parametrize("typed, stored", [
    ("040 123 4567", "0401234567"), ("+358 40 123 4567", "0401234567"), ("00358401234567", "0401234567"),
    ("(09) 123-456", "09123456"), ("+46 70 123 45 67", "+46701234567"), ("soita", None), ("12", None),
])
def test_phone_numbers_are_compared_in_one_form(typed, stored):
    assert normalise_phone(typed) == stored
