"""A person's personal identity code, kept as a keyed hash, linked to a login.

Clients are found by the identity code of their client record; a relative (a
client-role user acting for someone through ``clients.ClientRepresentative``) has
no client record of their own, so strong identification finds them through this
table. Only ``HMAC-SHA256(SECRET_KEY, code)`` is stored: the code itself is never
kept, shown or logged."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class IdentityLink(db.Model):
    __tablename__ = "identity_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User", foreign_keys=[user_id])

    def __repr__(self) -> str:  # no hashes in reprs
        return f"<IdentityLink {self.id}>"
