"""The administrator's users page: list with search and filters, invite by e-mail
with a one-time set-password link, change role, disable (ends the sessions at once)
and enable, re-send an invitation; the sensitive changes are logged without
personal data."""

import logging
import re

import pytest
import sqlalchemy as sa

from accounts.models import PasswordToken, User
from core.models import OutgoingEmail
from tests.fixtures import PASSWORD


@pytest.fixture
def admin(make_user, db):
    user = make_user("admin", name="Tiina Ylläpitäjä")
    db.session.commit()
    return user


@pytest.fixture
def as_admin(admin, login_as):
    return login_as(admin)


def _link(db, to) -> str:
    db.session.expire_all()
    mail = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == to)
                              .order_by(OutgoingEmail.id.desc())).first()
    return re.search(r"http://kotiapu\.test(/password/new/[A-Za-z0-9_\-]+)", mail.body).group(1)


@pytest.mark.smoke
def test_list_search_and_filter(as_admin, make_user, db):
    make_user("staff", name="Sanna Ohjaaja", email="sanna@example.fi")
    make_user("manager", name="Päivi Johtaja", email="paivi@example.fi")
    make_user("staff", name="Pekka Poissa", email="pekka@example.fi", active=False)
    db.session.commit()
    html = as_admin.get("/admin/users").get_data(as_text=True)
    assert all(n in html for n in ("Sanna Ohjaaja", "Päivi Johtaja", "Pekka Poissa", "Tiina Ylläpitäjä"))
    html = as_admin.get("/admin/users?q=sanna").get_data(as_text=True)
    assert "Sanna Ohjaaja" in html and "Päivi Johtaja" not in html
    html = as_admin.get("/admin/users?q=PAIVI@").get_data(as_text=True)
    assert "Päivi Johtaja" in html and "Sanna Ohjaaja" not in html
    html = as_admin.get("/admin/users?role=manager").get_data(as_text=True)
    assert "Päivi Johtaja" in html and "Sanna Ohjaaja" not in html
    html = as_admin.get("/admin/users?status=disabled").get_data(as_text=True)
    assert "Pekka Poissa" in html and "Sanna Ohjaaja" not in html
    # Odd input is harmless.
    assert as_admin.get("/admin/users?q=%25_%5C&role=nope&status=x&page=99999999").status_code == 200


@pytest.mark.parametrize("role", ["staff", "manager", "provider", "client"])
def test_only_administrators(make_user, login_as, db, role):
    c = login_as(make_user(role))
    target = make_user("staff")
    db.session.commit()
    assert c.get("/admin/users").status_code == 403
    assert c.post(f"/admin/users/{target.id}/disable").status_code == 403
    assert c.post("/admin/users/invite", data={"name": "X", "email": "x@example.fi", "role": "admin"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).active


def test_anonymous_is_sent_to_login(client):
    assert client.get("/admin/users").headers["Location"].startswith("/login")


@pytest.mark.smoke
def test_invite_and_join_through_the_link(as_admin, app, db):
    r = as_admin.post("/admin/users/invite", data={"name": "Uusi Ohjaaja", "email": "Uusi@Example.fi",
                                                   "role": "staff", "language": "fi"})
    assert r.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.email == "uusi@example.fi")).one()
    assert user.role == "staff" and user.last_login_at is None
    html = as_admin.get("/admin/users?status=invited").get_data(as_text=True)
    assert "Uusi Ohjaaja" in html
    link = _link(db, user.email)
    newcomer = app.test_client()
    page = newcomer.get(link).get_data(as_text=True)
    assert "uusi@example.fi" in page
    assert newcomer.post(link, data={"new": "oma-salasana-123", "repeat": "oma-salasana-123"}).status_code == 302
    assert newcomer.post("/login", data={"email": user.email, "password": "oma-salasana-123"}).status_code == 302
    assert newcomer.get(link).status_code == 410


def test_invite_refuses_bad_input_and_taken_address(as_admin, make_user, db):
    make_user("staff", email="varattu@example.fi")
    db.session.commit()
    r = as_admin.post("/admin/users/invite", data={"name": "", "email": "not-an-address", "role": "staff"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = as_admin.post("/admin/users/invite", data={"name": "X", "email": "varattu@example.fi", "role": "staff"})
    assert r.status_code == 409
    r = as_admin.post("/admin/users/invite", data={"name": "X", "email": "x@example.fi", "role": "client"})
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)) == 0


def test_resend_invitation_replaces_the_link(as_admin, db):
    as_admin.post("/admin/users/invite", data={"name": "Uusi", "email": "uusi@example.fi", "role": "manager"})
    user = db.session.scalars(sa.select(User).where(User.email == "uusi@example.fi")).one()
    first = _link(db, user.email)
    assert as_admin.post(f"/admin/users/{user.id}/invitation").status_code == 302
    second = _link(db, user.email)
    assert first != second
    assert as_admin.get(first).status_code == 410 and as_admin.get(second).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordToken)
                             .where(PasswordToken.used_at.is_(None))) == 1


def test_resend_refused_after_joining(as_admin, make_user, db, app):
    joined = make_user("staff")
    db.session.commit()
    assert app.test_client().post("/login", data={"email": joined.email, "password": PASSWORD}).status_code == 302
    r = as_admin.post(f"/admin/users/{joined.id}/invitation")
    assert r.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)) == 0


@pytest.mark.smoke
def test_change_role_is_logged_without_personal_data(as_admin, admin, make_user, db, app, caplog):
    target = make_user("staff", name="Sanna Ohjaaja", email="sanna@example.fi")
    db.session.commit()
    browser = app.test_client()
    assert browser.post("/login", data={"email": target.email, "password": PASSWORD}).status_code == 302
    caplog.set_level(logging.INFO, logger="accounts.audit")
    assert as_admin.post(f"/admin/users/{target.id}/role", data={"role": "manager"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).role == "manager"
    assert browser.get("/account").status_code == 302  # the old role's session has ended
    records = [r for r in caplog.records if r.name == "accounts.audit"]
    assert len(records) == 1
    line = records[0].getMessage()
    assert f"user {admin.id}" in line and f"user {target.id}" in line and "staff" in line and "manager" in line
    assert "Sanna" not in caplog.text and "sanna@example.fi" not in caplog.text


def test_role_change_refusals(as_admin, admin, make_user, db):
    client_user = make_user("client")
    db.session.commit()
    r = as_admin.post(f"/admin/users/{admin.id}/role", data={"role": "staff"})
    assert r.status_code == 302
    r = as_admin.post(f"/admin/users/{client_user.id}/role", data={"role": "staff"})
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"
    assert db.session.get(User, client_user.id).role == "client"
    assert as_admin.post("/admin/users/99999/role", data={"role": "staff"}).status_code == 404


def test_disable_is_logged_and_refused_for_oneself(as_admin, admin, make_user, db, caplog):
    target = make_user("manager", email="johtaja@example.fi")
    db.session.commit()
    caplog.set_level(logging.INFO, logger="accounts.audit")
    assert as_admin.post(f"/admin/users/{target.id}/disable").status_code == 302
    assert as_admin.post(f"/admin/users/{admin.id}/disable").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, target.id).active and db.session.get(User, admin.id).active
    assert any(f"disabled user {target.id}" in r.getMessage() for r in caplog.records)
    assert "johtaja@example.fi" not in caplog.text
    assert as_admin.get("/admin/users").status_code == 200  # the admin is still logged in


def test_disabled_user_api_token_stops(as_admin, make_user, db, api_token, client):
    target = make_user("staff")
    db.session.commit()
    headers = api_token(target)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    as_admin.post(f"/admin/users/{target.id}/disable")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_user_page_shows_the_actions(as_admin, make_user, db):
    target = make_user("staff", name="Sanna Ohjaaja")
    db.session.commit()
    html = as_admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert f"/admin/users/{target.id}/disable" in html and f"/admin/users/{target.id}/role" in html
    assert as_admin.get("/admin/users/123456").status_code == 404


def test_reading_a_client_login_is_in_the_access_log(as_admin, admin, make_user, db):
    from core.models import AccessLogEntry

    login = make_user("client", name="Aino Asiakas")
    db.session.commit()
    assert "Aino Asiakas" in as_admin.get("/admin/users?role=client").get_data(as_text=True)
    as_admin.get(f"/admin/users/{login.id}")
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == login.client_id)).all()
    assert len(rows) == 2 and all(r.actor_id == admin.id for r in rows)


def test_control_characters_are_refused_not_a_crash(as_admin, db):
    assert as_admin.get("/admin/users?q=sa%00nna").status_code == 200
    r = as_admin.post("/admin/users/invite", data={"name": "Uusi\x00Ohjaaja", "email": "uusi@example.fi",
                                                   "role": "staff"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = as_admin.post("/admin/users/invite", data={"name": "Uusi", "email": "uu\x00si@example.fi", "role": "staff"})
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
