"""The platform's one clock.

Stored times are UTC. "Today", default dates, deadlines, counters, report months and
every displayed time are in the configured local zone (``TIME_ZONE``, default
Europe/Helsinki). Application code asks this module, never ``date.today()`` or
``datetime.now()`` (a test in tests/unit/core/test_one_clock.py refuses them):

- ``now()``: the current instant, aware UTC (``core.db.utcnow`` is the same clock);
- ``local_now()``, ``local_today()``: the same instant as a local datetime / date;
- ``to_local(at)``, ``local_date(at)``: a stored UTC instant in local time;
- ``local_midnight(day)``: the UTC instant at which a local day begins.

Tests stop the clock with the ``FROZEN_NOW`` setting (an ISO 8601 instant, e.g.
``2026-11-30T23:30:00Z``) in the app config or the environment, so the code under
test runs unchanged at the moment the test chose.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask.globals import _cv_app  # the application context's variable (see _setting)

DEFAULT_ZONE = "Europe/Helsinki"


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant as aware UTC; a value without an offset is taken as UTC.
    Raises ``ValueError`` for anything else."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc)


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """The zone called ``name``; ``ValueError`` when there is no such zone."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


@lru_cache(maxsize=16)
def _frozen(value: str) -> datetime:
    return parse_instant(value)


def _setting(name: str):
    # Flask's context variable read directly (``has_app_context`` and the
    # ``current_app`` proxy are two lookups more): a list page formats a time per row.
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.config.get(name)
    return os.environ.get(name)


def local_zone() -> ZoneInfo:
    """The county's zone: the app's ``TIME_ZONE`` (outside an app: the environment's)."""
    return zone(_setting("TIME_ZONE") or DEFAULT_ZONE)


def now() -> datetime:
    """The current instant, aware UTC; the frozen instant when ``FROZEN_NOW`` is set."""
    frozen = _setting("FROZEN_NOW")
    if frozen:
        return frozen.astimezone(timezone.utc) if isinstance(frozen, datetime) else _frozen(str(frozen))
    return datetime.now(timezone.utc)


def to_local(at: datetime) -> datetime:
    """A stored instant in local time (a naive value is taken as UTC, as SQLite gives it)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(local_zone())


def local_date(at: datetime) -> date:
    """The local calendar day of a stored instant."""
    return to_local(at).date()


def local_now() -> datetime:
    return now().astimezone(local_zone())


def local_today() -> date:
    """Today in the county: after midnight Helsinki time it is already tomorrow in UTC terms."""
    return local_now().date()


def local_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in the local zone."""
    return datetime.combine(day, time(0), local_zone()).astimezone(timezone.utc)


def month_start(day: date) -> date:
    return day.replace(day=1)


# The working day for deadlines counted in working hours: Monday to Friday, 8–16
# local time, Finnish public holidays (the ``holidays`` package) excluded.
WORKDAY_START_HOUR = 8
WORKDAY_END_HOUR = 16


def is_working_day(day: date) -> bool:
    import holidays

    return day.weekday() < 5 and day not in holidays.Finland(years=day.year)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` working hours after ``start`` (an aware datetime; the
    answer is in UTC). Time outside working hours does not count: 4 working hours
    from Friday 15:00 end on Monday at 11:00."""
    remaining = timedelta(hours=hours)
    tz = local_zone()
    at = start.astimezone(tz)
    for _ in range(3700):  # ten years of days: a bound, never reached
        day = at.date()
        opens = datetime.combine(day, time(WORKDAY_START_HOUR), tz)
        closes = datetime.combine(day, time(WORKDAY_END_HOUR), tz)
        if is_working_day(day) and at < closes:
            begin = max(at, opens)
            if begin + remaining <= closes:
                return (begin + remaining).astimezone(timezone.utc)
            remaining -= closes - begin
        at = datetime.combine(day + timedelta(days=1), time(0), tz)
    raise ValueError("no working hours found")
