"""Whether this installation is a demo, for the banner on every page.

``DEMO=1`` says yes and ``DEMO=0`` no. Unset, it is a demo while the demo data set
is loaded: its logins use the reserved domain ``demo.kotiapu.fi`` (demo/base.py),
and `flask demo` refuses production, so production never shows the banner unless
told to. The answer is kept per process: "yes" for good (demo data is not unloaded
while the server runs), "no" for a minute.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import current_app

from accounts.models import User
from core.extensions import db

DEMO_EMAIL_DOMAIN = "demo.kotiapu.fi"
_RECHECK_SECONDS = 60.0


def is_demo() -> bool:
    setting = current_app.config.get("DEMO", "")
    if setting in ("0", "1"):
        return setting == "1"
    if current_app.config["PRODUCTION"]:
        return False
    cache = current_app.extensions.setdefault("accounts_demo", {"value": False, "until": 0.0})
    if cache["value"] or time.monotonic() < cache["until"]:
        return cache["value"]
    try:
        found = db.session.scalar(sa.select(User.id).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}")).limit(1))
    except sa.exc.SQLAlchemyError:  # an error page while the database is away
        return False
    cache["value"] = found is not None
    cache["until"] = time.monotonic() + _RECHECK_SECONDS
    return cache["value"]
