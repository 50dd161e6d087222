"""Logging in and out of the web UI, throttling, cookies and CSRF."""

import pytest
import sqlalchemy as sa

from accounts.models import LoginFailure
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.smoke


def test_login_and_logout(client, make_user, db):
    user = make_user("staff", name="Sanna Ohjaaja")
    db.session.commit()
    page = client.get("/login")
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Sanna Ohjaaja" in dashboard.get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302  # back to login


def test_wrong_password_says_so_without_telling_which(client, make_user, db):
    user = make_user("staff")
    db.session.commit()
    wrong_password = client.post("/login", data={"email": user.email, "password": "nope-nope-nope"})
    unknown_user = client.post("/login", data={"email": "nobody@example.fi", "password": "nope-nope-nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    for r in (wrong_password, unknown_user):
        assert "Väärä sähköpostiosoite tai salasana" in r.get_data(as_text=True) or \
               "Wrong e-mail address or password" in r.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_empty_form_names_the_missing_fields(client):
    response = client.post("/login", data={})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_login_is_throttled_per_account_with_a_clear_message(client, make_user, db, app):
    user = make_user("staff")
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert client.post("/login", data={"email": user.email, "password": "wrong-password"}).status_code == 401
    # Now even the right password is refused until the window passes.
    blocked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    text = blocked.get_data(as_text=True)
    assert "15" in text  # says how long to wait
    assert client.get("/dashboard").status_code == 302


def test_throttle_window_passes(client, make_user, db, app):
    from datetime import timedelta

    from core.db import utcnow

    user = make_user("staff")
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        db.session.add(LoginFailure(email=user.email, address="10.0.0.1", at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_successful_logins_are_not_throttled(client, make_user, db):
    user = make_user("staff")
    db.session.commit()
    for _ in range(25):
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        client.post("/logout")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_inactive_user_cannot_log_in(client, make_user, db):
    user = make_user("staff", active=False)
    db.session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401


def test_password_change_ends_other_sessions(app, make_user, db):
    user = make_user("staff")
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        assert c.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    r = first.post("/account", data={"form": "password", "pw-current": PASSWORD,
                                     "pw-new": "a-brand-new-password", "pw-repeat": "a-brand-new-password"})
    assert r.status_code == 302
    assert first.get("/dashboard").status_code == 200
    assert second.get("/dashboard").status_code == 302


def test_open_redirect_after_login_is_refused(client, make_user, db):
    user = make_user("staff")
    db.session.commit()
    r = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"].endswith("/dashboard")
    r = client.post("/logout")
    r = client.post("/login?next=/account", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"].endswith("/account")


def test_session_cookie_flags(client, make_user, db):
    user = make_user("staff")
    db.session.commit()
    r = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_need_a_csrf_token(app, make_user, db):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("staff")
    db.session.commit()
    c = app.test_client()
    r = c.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 400
    assert "lomake" in r.get_data(as_text=True).lower() or "form" in r.get_data(as_text=True).lower()
    # With the token from the page, it works.
    page = c.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302


def test_passwords_are_hashed_with_scrypt(make_user, db):
    user = make_user("staff")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
