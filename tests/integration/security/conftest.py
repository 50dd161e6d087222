"""The demo data as the world of the security tests: real organisations with an
administrator and a worker, clients, orders and purchases in every state; and one
logged-in test client per subject (anonymous, each platform role, the
administrator and the worker of one organisation, the administrator of another)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from demo import DEMO_PASSWORD, load_demo
from demo.base import DOMAIN

# subject -> the demo login (None: anonymous)
SUBJECTS = {
    "anonymous": None,
    "admin": f"admin@{DOMAIN}",
    "staff": f"ohjaaja1@{DOMAIN}",
    "manager": f"johtaja@{DOMAIN}",
    "org_admin": f"tilaukset@hyvaarki.{DOMAIN}",   # organisation A, its administrator
    "org_worker": f"tyontekija@hyvaarki.{DOMAIN}",  # organisation A, a worker
    "other_org": f"tilaukset@kirkaskoti.{DOMAIN}",  # organisation B, its administrator
    "agency": f"tilaukset@hoivarekry.{DOMAIN}",     # a staffing agency's administrator
    "client": f"asiakas@{DOMAIN}",
}


@pytest.fixture
def demo_world(app, db):
    """The demo data, committed; returns the user ids by subject."""
    from accounts.models import User

    load_demo()
    db.session.commit()
    users = {name: db.session.scalar(sa.select(User).where(User.email == email))
             for name, email in SUBJECTS.items() if email}
    return users


@pytest.fixture
def subject_clients(app, demo_world):
    """One test client per subject, logged in through the login form."""
    clients = {}
    for name, email in SUBJECTS.items():
        c = app.test_client()
        if email:
            r = c.post("/login", data={"email": email, "password": DEMO_PASSWORD})
            assert r.status_code == 302, (name, r.status_code)
        clients[name] = c
    return clients
