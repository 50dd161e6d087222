"""The front door's part of the guidance staff's dashboard (registered in
``frontdoor.init_app``): how many help requests wait for a callback, how many are
overdue, and how many the worker has claimed."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from frontdoor.models import HelpRequest, HelpStatus


def _staff_statement():
    """The three figures for a bound ``user_id`` and ``now``: built once (building the
    expression cost as much as running it), at first use: an expression built at
    import would configure the mappers before the forking worker means to
    (core.worker.prepare_to_fork)."""
    now = sa.bindparam("now", type_=HelpRequest.callback_due.type)
    return (sa.select(sa.func.count().filter(HelpRequest.status == HelpStatus.OPEN),
                      sa.func.count().filter(HelpRequest.called_back_at.is_(None), HelpRequest.callback_due < now),
                      sa.func.count().filter(HelpRequest.status == HelpStatus.CLAIMED,
                                             HelpRequest.claimed_by_id == sa.bindparam("user_id", type_=sa.Integer)))
            .where(HelpRequest.status.in_((HelpStatus.OPEN, HelpStatus.CLAIMED))))


_statement: list = []  # _staff_statement(), once built


def staff_section(user) -> dict:
    """The three figures in one query over the open and claimed requests (the
    worker's own claimed requests are counted, not loaded: the dashboard shows their
    number)."""
    if not _statement:
        _statement.append(_staff_statement())
    waiting, overdue, mine = db.session.execute(_statement[0], {"now": utcnow(), "user_id": user.id}).one()
    return {"frontdoor": {"waiting": waiting, "overdue": overdue, "mine": mine}}
