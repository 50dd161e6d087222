"""Organisation self-service: invitations by e-mail (used once, expiring), members'
roles, removing members."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import User
from core.db import utcnow
from providers.models import ProviderInvitation
from tests import factories as f
from tests.fixtures import PASSWORD
from tests.integration.providers.conftest import emails, link_in

pytestmark = pytest.mark.smoke


@pytest.fixture
def org(db):
    return f.ProviderFactory(name="Hoiva Oy")


@pytest.fixture
def org_admin(make_user, org):
    return make_user("provider", provider=org, language="en", name="Anna Admin")


def _invite(client, email="uusi@example.fi", role="worker"):
    return client.post("/organisation/invitations?lang=en", data={"inv-email": email, "inv-provider_role": role})


def _accept(client, link, password="uusi-salasana-123"):
    return client.post(link + "?lang=en", data={"name": "Uusi Jäsen", "password": password, "repeat": password})


def test_invitation_link_creates_a_login_once(client, db, login_as, org_admin, org):
    login_as(org_admin)
    r = _invite(client)
    assert r.status_code == 302
    (mail,) = emails(db, "uusi@example.fi")
    assert "Hoiva Oy" in mail.subject
    link = link_in(mail.body, "/invitations/")
    assert "uusi@example.fi" in client.get("/organisation?lang=en").get_data(as_text=True)  # listed as open
    client.post("/logout")
    r = _accept(client, link)
    assert r.status_code == 302 and r.headers["Location"].endswith("/organisation")
    user = db.session.scalar(sa.select(User).where(User.email == "uusi@example.fi"))
    assert user.provider_id == org.id and user.provider_role == "worker" and user.role == "provider"
    client.post("/logout")
    # The link works once: a second use is refused with a clear message.
    r = client.get(link + "?lang=en")
    assert r.status_code == 410 and "already been used" in r.get_data(as_text=True)
    r = _accept(client, link)
    assert r.status_code == 410
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "uusi@example.fi")) == 1
    # The new member logs in with the password they chose.
    r = client.post("/login", data={"email": "uusi@example.fi", "password": "uusi-salasana-123"})
    assert r.status_code == 302


def test_expired_and_unknown_links(client, db, org):
    from providers.services import _token_hash

    f.ProviderInvitationFactory(provider_id=org.id, token_hash=_token_hash("expired-token"),
                                expires_at=utcnow() - timedelta(minutes=1))
    db.session.commit()
    r = client.get("/invitations/expired-token?lang=en")
    assert r.status_code == 410 and "expired" in r.get_data(as_text=True)
    r = client.post("/invitations/expired-token", data={"name": "X", "password": "x" * 12, "repeat": "x" * 12})
    assert r.status_code == 410
    r = client.get("/invitations/no-such-token?lang=en")
    assert r.status_code == 404 and "not valid" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_accepting_checks_the_password(client, db, org):
    from providers.services import _token_hash

    f.ProviderInvitationFactory(provider_id=org.id, token_hash=_token_hash("good-token"))
    db.session.commit()
    r = client.post("/invitations/good-token?lang=en", data={"name": "", "password": "short", "repeat": "other"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "At least 10 characters" in html and "Enter your name" in html
    assert db.session.scalar(sa.select(ProviderInvitation.used_at)) is None


def test_a_new_invitation_replaces_the_open_one(client, db, login_as, org_admin):
    login_as(org_admin)
    _invite(client)
    _invite(client, role="admin")
    first, second = emails(db, "uusi@example.fi")
    client.post("/logout")
    assert client.get(link_in(first.body, "/invitations/")).status_code == 410
    assert _accept(client, link_in(second.body, "/invitations/")).status_code == 302
    assert db.session.scalar(sa.select(User.provider_role).where(User.email == "uusi@example.fi")) == "admin"


def test_invitation_refusals(client, db, login_as, org_admin, make_user):
    make_user("staff", email="staff@example.fi")
    login_as(org_admin)
    r = _invite(client, email="staff@example.fi")
    assert r.status_code == 409 and "already has a Kotiapu login" in r.get_data(as_text=True)
    r = _invite(client, email=org_admin.email)
    assert r.status_code == 409 and "already a member" in r.get_data(as_text=True)
    r = _invite(client, email="no-at-sign")
    assert r.status_code == 422
    assert emails(db) == []


def test_roles_and_removal(client, db, login_as, org_admin, org, make_user):
    worker = make_user("provider", provider=org, provider_role="worker", name="Ville Työntekijä")
    login_as(org_admin)
    # The only administrator cannot demote themselves (the page offers no control) nor be demoted.
    r = client.post(f"/organisation/members/{org_admin.id}/role?lang=en", data={"provider_role": "worker"},
                    follow_redirects=True)
    assert "only administrator" in r.get_data(as_text=True)
    assert client.post(f"/organisation/members/{worker.id}/role", data={"provider_role": "admin"}).status_code == 302
    db.session.expire_all()
    assert worker.provider_role == "admin"
    r = client.post(f"/organisation/members/{org_admin.id}/remove?lang=en", follow_redirects=True)
    assert "cannot remove yourself" in r.get_data(as_text=True)
    assert client.post(f"/organisation/members/{worker.id}/remove").status_code == 302
    db.session.expire_all()
    assert worker.active is False
    client.post("/logout")
    r = client.post("/login", data={"email": worker.email, "password": PASSWORD})
    assert r.status_code == 401


def test_removed_member_can_be_invited_back(client, db, login_as, org_admin, org, make_user):
    worker = make_user("provider", provider=org, provider_role="worker", email="palaaja@example.fi")
    login_as(org_admin)
    client.post(f"/organisation/members/{worker.id}/remove")
    assert _invite(client, email="palaaja@example.fi").status_code == 302
    (mail,) = emails(db, "palaaja@example.fi")
    client.post("/logout")
    assert _accept(client, link_in(mail.body, "/invitations/"), password="uusi-salasana-456").status_code == 302
    db.session.expire_all()
    assert worker.active is True and worker.provider_id == org.id


def test_members_of_other_organisations_are_out_of_reach(client, db, login_as, org_admin, make_user):
    stranger = make_user("provider")  # another organisation's administrator
    login_as(org_admin)
    assert client.post(f"/organisation/members/{stranger.id}/remove").status_code == 404
    assert client.post(f"/organisation/members/{stranger.id}/role", data={"provider_role": "worker"}).status_code == 404
    db.session.expire_all()
    assert stranger.active is True and stranger.provider_role == "admin"


def test_workers_cannot_manage_members(client, db, login_as, org, make_user):
    worker = make_user("provider", provider=org, provider_role="worker")
    login_as(worker)
    assert _invite(client).status_code == 403
    html = client.get("/organisation?lang=en").get_data(as_text=True)
    assert "Invite a member" not in html and "Members" in html
    assert emails(db) == []
