"""Strong identification in the demo: Leena Mäkinen's own identity code (she is a
relative, with no client record) linked to her login as a keyed hash, and the
persons the local OpenID provider's "bank" screen offers (``flask serve`` starts
it; docs/identity.md)."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from clients.models import Client
from core.extensions import db
from demo.base import DOMAIN, Demo
from identity.services import link_identity_code

# Fictional, checksum-valid codes (born 8.5.1962 and 15.3.1990).
RELATIVE_CODE = "080562-2464"
UNKNOWN_CODE = "150390-357U"


def build_identity_links(d: Demo) -> None:
    link_identity_code(d.relative, RELATIVE_CODE)
    d.count("identity_links")


def provider_persons() -> list[dict]:
    """The demo persons of the local provider's picker: the two clients with their
    own logins, the relative, and a person the platform does not know."""
    persons = []
    for email in (f"asiakas@{DOMAIN}", f"asiakas2@{DOMAIN}"):
        row = db.session.execute(sa.select(Client.personal_identity_code, Client.first_name, Client.last_name)
                                 .join(User, User.client_id == Client.id).where(User.email == email)).first()
        if row is not None and row[0]:
            persons.append({"identity_code": row[0], "given_name": row[1], "family_name": row[2]})
    persons.append({"identity_code": RELATIVE_CODE, "given_name": "Leena", "family_name": "Mäkinen"})
    persons.append({"identity_code": UNKNOWN_CODE, "given_name": "Matti", "family_name": "Tuntematon"})
    return persons
