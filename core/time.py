"""The platform's clock: stored times are UTC; "today" and every displayed time are
in Finnish local time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from core.db import utcnow

LOCAL_ZONE = ZoneInfo("Europe/Helsinki")


def local_today() -> date:
    return utcnow().astimezone(LOCAL_ZONE).date()


# The working day for deadlines counted in working hours: Monday to Friday, 8–16
# Helsinki time, Finnish public holidays (the ``holidays`` package) excluded.
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
    at = start.astimezone(LOCAL_ZONE)
    for _ in range(3700):  # ten years of days: a bound, never reached
        day = at.date()
        opens = datetime.combine(day, time(WORKDAY_START_HOUR), LOCAL_ZONE)
        closes = datetime.combine(day, time(WORKDAY_END_HOUR), LOCAL_ZONE)
        if is_working_day(day) and at < closes:
            begin = max(at, opens)
            if begin + remaining <= closes:
                return (begin + remaining).astimezone(timezone.utc)
            remaining -= closes - begin
        at = datetime.combine(day + timedelta(days=1), time(0), LOCAL_ZONE)
    raise ValueError("no working hours found")
