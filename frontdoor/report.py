"""The front-door report: help requests received in a period by channel, topic and
area (postal code), the time from a request to its first callback (median and 90th
percentile) and the share that became clients.

Small groups follow the rules of the reports package (``reports.privacy``): a
row counting fewer than ``SMALL_GROUP`` requests (each request is one person
asking) shows no figures, and complementary suppression hides one more row where
the total would reveal a lone suppressed row. Times to callback and the converted
share are shown only when at least ``SMALL_GROUP`` requests are behind them."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext

from core.errors import ValidationFailed
from core.extensions import db
from core.time import local_zone
from frontdoor import policy
from frontdoor.models import HelpRequest, HelpStatus
from reports.privacy import SMALL_GROUP, suppress_table  # the reports package's small-group rules

MAX_DAYS = 366 * 2


def percentile(values: list[float], p: float) -> float | None:
    """Continuous percentile (as PostgreSQL's ``percentile_cont``)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _table(counts: dict[str, int], total: int) -> tuple[list[dict], bool]:
    # One column of groups beside the shown total of requests (with topics, one
    # request may count in several groups, so the total is given, not summed).
    hidden = suppress_table({(k, "all"): n for k, n in counts.items()}, column_totals={"all": total}).cells
    out = [{"key": k, "requests": None if (k, "all") in hidden else n, "suppressed": (k, "all") in hidden}
           for k, n in counts.items()]
    out.sort(key=lambda r: (r["suppressed"], -(r["requests"] or 0), r["key"]))
    return out, any(r["suppressed"] for r in out)


def front_door_report(actor, since: date, until: date) -> dict:
    if not policy.may_see_report(actor):
        from core.errors import PermissionDenied

        raise PermissionDenied(gettext("Only staff and managers see the front-door report."))
    if until < since or (until - since).days > MAX_DAYS:
        raise ValidationFailed(gettext("Invalid period."),
                               fields={"until": [gettext("The end must be after the start, within two years.")]})
    start = datetime.combine(since, time(0), local_zone())
    stop = datetime.combine(until + timedelta(days=1), time(0), local_zone())
    rows = db.session.execute(sa.select(HelpRequest.channel, HelpRequest.topics, HelpRequest.postal_code,
                                        HelpRequest.created_at, HelpRequest.called_back_at, HelpRequest.status)
                              .where(HelpRequest.created_at >= start, HelpRequest.created_at < stop)).all()
    total = len(rows)
    by_channel: dict[str, int] = {}
    by_topic: dict[str, int] = {}
    by_area: dict[str, int] = {}
    hours: list[float] = []
    converted = 0
    for channel, topics, postal, created, called, status in rows:
        by_channel[channel] = by_channel.get(channel, 0) + 1
        for t in topics or []:
            by_topic[t] = by_topic.get(t, 0) + 1
        by_area[postal] = by_area.get(postal, 0) + 1
        if called is not None:
            hours.append(max((called - created).total_seconds(), 0) / 3600)
        converted += status == HelpStatus.CONVERTED
    enough = total >= SMALL_GROUP
    timed = len(hours) >= SMALL_GROUP
    # A share of 1-4 converted requests would reveal a small group through the total.
    shown_converted = enough and (converted == 0 or converted >= SMALL_GROUP)
    channel_rows, _s1 = _table(by_channel, total)
    topic_rows, _s2 = _table(by_topic, total)
    area_rows, _s3 = _table(by_area, total)
    return {
        "since": since, "until": until, "total": total if enough else None, "small_group_limit": SMALL_GROUP,
        "by_channel": channel_rows, "by_topic": topic_rows, "by_area": area_rows,
        "called_back": len(hours) if timed else None,
        "median_hours": round(percentile(hours, 0.5), 1) if timed else None,
        "p90_hours": round(percentile(hours, 0.9), 1) if timed else None,
        "converted": converted if shown_converted else None,
        "converted_share": round(100 * converted / total, 1) if shown_converted else None,
    }
