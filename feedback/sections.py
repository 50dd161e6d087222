"""Feedback's part of the provider dashboard (registered in ``feedback.init_app``)."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from feedback.models import Feedback


def provider_section(user) -> dict:
    """The organisation's five latest visible feedback items."""
    return {"recent_feedback": db.session.scalars(
        sa.select(Feedback).where(Feedback.provider_id == user.provider_id, Feedback.hidden_at.is_(None))
        .order_by(Feedback.created_at.desc()).limit(5)).all()}
