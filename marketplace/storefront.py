"""The shop's public pages beyond the catalogue: a provider's published feedback."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from feedback.models import Feedback


def published_feedback(provider_id: int, limit: int = 20) -> list:
    """Feedback on the provider that no admin has hidden, newest first."""
    return list(db.session.scalars(
        sa.select(Feedback).where(Feedback.provider_id == provider_id, Feedback.hidden_at.is_(None))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)))
