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
            r = c.post("/api/v1/tokens", json={"email": email, "password": DEMO_PASSWORD})
            assert r.status_code == 201, (name, r.status_code)
            # The API authenticates with the bearer token, the web with the session.
            c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
        clients[name] = c
    return clients


@pytest.fixture
def org_a_ids(app, demo_world, db):
    """Ids of rows that belong to organisation A (the org_admin's and org_worker's)."""
    from catalogue.models import Offering

    provider_id = demo_world["org_admin"].provider_id
    offering = db.session.scalar(sa.select(Offering.id).where(Offering.provider_id == provider_id).limit(1))
    return {"offering_id": offering, "provider_id": provider_id}
