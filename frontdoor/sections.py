"""The front door's part of the guidance staff's dashboard (registered in
``frontdoor.init_app``): how many help requests wait for a callback, how many are
overdue, and how many the worker has claimed."""

from __future__ import annotations

import sqlalchemy as sa

from frontdoor.models import HelpRequest, HelpStatus


def staff_figures():
    """The three figures (registered with core.registry.register_dashboard_figures,
    read in the dashboard's one statement of figures) for a bound ``user_id`` and
    ``now``: waiting for a callback, overdue, claimed by the worker (counted over the
    open and claimed requests, not loaded: the dashboard shows their number)."""
    now = sa.bindparam("now", type_=HelpRequest.callback_due.type)
    return (sa.select(sa.func.count().filter(HelpRequest.status == HelpStatus.OPEN).label("frontdoor_waiting"),
                      sa.func.count().filter(HelpRequest.called_back_at.is_(None), HelpRequest.callback_due < now)
                      .label("frontdoor_overdue"),
                      sa.func.count().filter(HelpRequest.status == HelpStatus.CLAIMED,
                                             HelpRequest.claimed_by_id == sa.bindparam("user_id", type_=sa.Integer))
                      .label("frontdoor_mine"))
            .where(HelpRequest.status.in_((HelpStatus.OPEN, HelpStatus.CLAIMED))))
