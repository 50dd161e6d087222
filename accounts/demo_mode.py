"""Whether this installation is a demo, for the banner on every page.

``DEMO=1`` says yes and ``DEMO=0`` no. Unset, it is a demo while the demo data set
is loaded, i.e. while its administrator login (``admin@demo.kotiapu.fi``, see
demo/base.py) exists; `flask demo` refuses production, so production never shows
the banner unless told to. Once seen, "yes" is kept for the life of the process
(demo data is not unloaded under a running server); "no" is asked again on each
page, with one lookup by the unique e-mail index, so a page always costs the same
number of queries.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from accounts.models import User
from core.extensions import db

DEMO_EMAIL_DOMAIN = "demo.kotiapu.fi"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_EMAIL_DOMAIN}"


def is_demo() -> bool:
    setting = current_app.config.get("DEMO", "")
    if setting in ("0", "1"):
        return setting == "1"
    if current_app.config["PRODUCTION"]:
        return False
    if current_app.extensions.get("accounts_demo"):
        return True
    try:
        found = db.session.scalar(sa.select(User.id).where(User.email == DEMO_ADMIN_EMAIL)) is not None
    except sa.exc.SQLAlchemyError:  # an error page while the database is away
        return False
    if found:
        current_app.extensions["accounts_demo"] = True
    return found
