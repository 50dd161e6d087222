"""The front door's part of the guidance staff's dashboard (registered in
``frontdoor.init_app``): how many help requests wait for a callback, how many are
overdue, and the worker's own claimed requests."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from frontdoor.models import HelpRequest, HelpStatus


def staff_section(user) -> dict:
    now = utcnow()
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(HelpRequest)
                                .where(HelpRequest.status == HelpStatus.OPEN))
    overdue = db.session.scalar(sa.select(sa.func.count()).select_from(HelpRequest).where(
        HelpRequest.status.in_((HelpStatus.OPEN, HelpStatus.CLAIMED)), HelpRequest.called_back_at.is_(None),
        HelpRequest.callback_due < now))
    mine = db.session.scalars(sa.select(HelpRequest).where(HelpRequest.status == HelpStatus.CLAIMED,
                                                           HelpRequest.claimed_by_id == user.id)
                              .order_by(HelpRequest.callback_due).limit(10)).all()
    return {"frontdoor": {"waiting": waiting, "overdue": overdue, "mine": mine}}
