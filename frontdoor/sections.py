"""The front door's part of the guidance staff's dashboard (registered in
``frontdoor.init_app``): how many help requests wait for a callback, how many are
overdue, and how many the worker has claimed."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from frontdoor.models import HelpRequest, HelpStatus


def staff_section(user) -> dict:
    """The three figures in one query over the open and claimed requests (the
    worker's own claimed requests are counted, not loaded: the dashboard shows their
    number)."""
    now = utcnow()
    waiting, overdue, mine = db.session.execute(
        sa.select(sa.func.count().filter(HelpRequest.status == HelpStatus.OPEN),
                  sa.func.count().filter(HelpRequest.called_back_at.is_(None), HelpRequest.callback_due < now),
                  sa.func.count().filter(HelpRequest.status == HelpStatus.CLAIMED,
                                         HelpRequest.claimed_by_id == user.id))
        .where(HelpRequest.status.in_((HelpStatus.OPEN, HelpStatus.CLAIMED)))).one()
    return {"frontdoor": {"waiting": waiting, "overdue": overdue, "mine": mine}}
