"""The accounts' part of the administrator's dashboard (registered in ``accounts.init_app``)."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
from core.extensions import db


def admin_section(user) -> dict:
    roles = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    return {"users_by_role": [(r, roles.get(r, 0)) for r in Role]}
