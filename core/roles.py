"""The platform's roles and the web views' role guard. They live in core so that
core's own pages (dashboard, jobs) need nothing from the layers above; accounts
re-exports them with the user model."""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import login_required

from core.current import request_user


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    MANAGER = "manager"
    PROVIDER = "provider"
    CLIENT = "client"


def role_required(*roles: str):
    """Web view guard: logged in (else redirect to login) and one of ``roles`` (else 403)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if request_user().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
