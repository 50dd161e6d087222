"""The platform's clock: stored times are UTC; "today" and every displayed time are
in Finnish local time."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from core.db import utcnow

LOCAL_ZONE = ZoneInfo("Europe/Helsinki")


def local_today() -> date:
    return utcnow().astimezone(LOCAL_ZONE).date()
