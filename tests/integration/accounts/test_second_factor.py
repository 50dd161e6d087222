"""Second factor for staff, managers and administrators, through the real pages:
setting up an authenticator app (the codes are made with pyotp from the key the
page shows, as a phone would), logging in with a code or a recovery code, replayed
and wrong codes, REQUIRE_SECOND_FACTOR, the administrator's reset, and
re-authentication before sensitive actions."""

from __future__ import annotations

import html
import logging
import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from accounts.models import LoginFailure, RecoveryCode, SecondFactor, User, UserSession
from core.config import load_config
from core.db import utcnow
from tests import factories as f
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.smoke


def code_at(secret: str, offset_steps: int = 0) -> str:
    """The code the phone shows ``offset_steps`` 30-second steps from now (a phone's
    clock may run a little ahead or behind: one step either way is accepted)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(client) -> tuple[str, list[str]]:
    """Set up the authenticator app of the logged-in user through the pages; returns
    the key shown for manual entry and the recovery codes shown once."""
    page = client.get("/account/second-factor")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<svg" in text and 'role="img"' in text  # the QR code, inline
    secret = re.search(r'<code class="secret" lang="en">([A-Z2-7 ]+)</code>', text).group(1).replace(" ", "")
    done = client.post("/account/second-factor", data={"code": code_at(secret, -1)})
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    shown = client.get(done.headers["Location"])
    assert shown.status_code == 200
    codes = re.findall(r'<li><code lang="en">([a-z0-9]{5}-[a-z0-9]{5})</code></li>', shown.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(client, user, next_url: str | None = None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": user.email, "password": PASSWORD})


@pytest.fixture
def staff(make_user, db):
    user = make_user("staff", name="Sanna Ohjaaja")
    db.session.commit()
    return user


@pytest.fixture
def enrolled(staff, login_as, client):
    login_as(staff)
    secret, codes = enrol(client)
    client.post("/logout")
    return staff, secret, codes


def test_set_up_and_log_in_with_a_code(enrolled, client, db):
    staff, secret, codes = enrolled
    # The recovery codes were shown once: the same page again shows nothing.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == staff.id)) == 10
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == staff.id)).all()
    assert not set(stored) & {c.replace("-", "") for c in codes}  # only hashes are stored

    after_password = password_step(client, staff, next_url="/account")
    assert after_password.status_code == 302 and after_password.headers["Location"].endswith("/login/code")
    # The password alone opened no session.
    assert client.get("/dashboard").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.user_id == staff.id, UserSession.ended_at.is_(None))) == 0
    page = client.get("/login/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)

    wrong = client.post("/login/code", data={"code": "000000" if code_at(secret) != "000000" else "111111"})
    assert wrong.status_code == 401
    assert "wrong or has already been used" in wrong.get_data(as_text=True) or \
        "väärä tai jo käytetty" in wrong.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302

    ok = client.post("/login/code", data={"code": code_at(secret)})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/account")  # where the user was going
    assert "Sanna Ohjaaja" in client.get("/dashboard").get_data(as_text=True)


def test_a_used_code_is_not_accepted_again(enrolled, client):
    staff, secret, _ = enrolled
    code = code_at(secret)
    password_step(client, staff)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    password_step(client, staff)
    replay = client.post("/login/code", data={"code": code})
    assert replay.status_code == 401
    assert client.get("/dashboard").status_code == 302
    # An earlier step's code is refused too, a later one (the next 30 s) works.
    assert client.post("/login/code", data={"code": code_at(secret, -1)}).status_code == 401
    assert client.post("/login/code", data={"code": code_at(secret, 1)}).status_code == 302


def test_recovery_code_works_once(enrolled, client):
    staff, secret, codes = enrolled
    password_step(client, staff)
    ok = client.post("/login/code", data={"code": codes[3].upper().replace("-", " ")}, follow_redirects=True)
    assert ok.status_code == 200
    assert re.search(r"\b9\b", ok.get_data(as_text=True))  # "9 recovery codes are left"
    client.post("/logout")
    password_step(client, staff)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 401


def test_wrong_codes_are_throttled_like_passwords(enrolled, client, app, db):
    staff, secret, _ = enrolled
    password_step(client, staff)
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert client.post("/login/code", data={"code": "12345x"}).status_code == 401
    blocked = client.post("/login/code", data={"code": code_at(secret)})
    assert blocked.status_code == 429
    assert client.get("/dashboard").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)
                             .where(LoginFailure.email == staff.email)) == app.config["LOGIN_MAX_FAILURES_ACCOUNT"]


def test_code_page_without_a_password_step_goes_back_to_login(client):
    r = client.get("/login/code")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    r = client.post("/login/code", data={"code": "123456"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")


def test_bad_input_is_a_message_not_an_error(enrolled, client):
    staff, _, _ = enrolled
    password_step(client, staff)
    for bad in ("", "x" * 500, "١٢٣٤٥٦", "12 34 56 78"):
        r = client.post("/login/code", data={"code": bad})
        assert r.status_code in (401, 422)


def test_roles_without_a_second_factor(make_user, login_as, client, db):
    user = make_user("client")
    db.session.commit()
    login_as(user)
    page = client.get("/account/second-factor")
    assert page.status_code == 200 and "<svg" not in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecondFactor)) == 0


def test_required_second_factor_sends_staff_to_set_it_up(staff, make_user, client, app, db, api_token):
    app.config["REQUIRE_SECOND_FACTOR"] = True
    provider = make_user("provider", provider_id=f.ProviderFactory().id)
    db.session.commit()
    headers = api_token(staff)
    r = password_step(client, staff)
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/second-factor")
    for path in ("/dashboard", "/clients/", "/account"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/second-factor"), path
    assert client.get("/api/v1/me", headers=headers).status_code == 403
    secret, _ = enrol(client)
    assert client.get("/dashboard").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    client.post("/logout")
    # Other roles are not asked.
    r = password_step(client, provider)
    assert r.status_code == 302 and r.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200


def test_setting_defaults(tmp_path):
    assert load_config(str(tmp_path), {})["REQUIRE_SECOND_FACTOR"] is False
    assert load_config(str(tmp_path), {"REQUIRE_SECOND_FACTOR": "1"})["REQUIRE_SECOND_FACTOR"] is True
    production = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://",
                  "REDIS_URL": "redis://127.0.0.1:1/0"}
    assert load_config(str(tmp_path), production)["REQUIRE_SECOND_FACTOR"] is True
    assert load_config(str(tmp_path), {**production, "REQUIRE_SECOND_FACTOR": "0"})["REQUIRE_SECOND_FACTOR"] is False
    assert load_config(str(tmp_path), {})["REAUTH_MINUTES"] == 15


def test_administrator_resets_a_second_factor(enrolled, make_user, client, app, db, caplog):
    staff, secret, _ = enrolled
    admin = make_user("admin", name="Tiina Ylläpitäjä")
    db.session.commit()
    staff_browser = app.test_client()  # a second browser: the staff member's own
    password_step(staff_browser, staff)
    assert staff_browser.post("/login/code", data={"code": code_at(secret)}).status_code == 302

    password_step(client, admin)
    page = client.get(f"/admin/users/{staff.id}").get_data(as_text=True)
    assert "Reset the second factor" in page or "Nollaa kaksivaiheinen tunnistautuminen" in page
    first = client.post(f"/admin/users/{staff.id}/second-factor/reset")
    assert first.status_code == 200 and 'name="confirmed"' in first.get_data(as_text=True)
    with caplog.at_level(logging.INFO, logger="accounts.audit"):
        done = client.post(f"/admin/users/{staff.id}/second-factor/reset", data={"confirmed": "yes"})
    assert done.status_code == 302
    assert any(f"reset the second factor of user {staff.id}" in r.getMessage() for r in caplog.records)
    assert not any(staff.email in r.getMessage() or "Sanna" in r.getMessage() for r in caplog.records)
    # The staff member's session ended at once; the next login asks for no code.
    assert staff_browser.get("/dashboard").status_code == 302
    r = password_step(staff_browser, staff)
    assert r.status_code == 302 and r.headers["Location"].endswith("/dashboard")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == staff.id)) == 0
    # The administrator cannot reset their own.
    client.get("/account/second-factor")
    r = client.post(f"/admin/users/{admin.id}/second-factor/reset", data={"confirmed": "yes"})
    assert r.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecondFactor)
                             .where(SecondFactor.user_id == admin.id)) == 1


def _age_login(client, minutes: int = 16) -> None:
    """Let time pass since the last authentication (the signed cookie's time)."""
    with client.session_transaction() as s:
        s["auth_at"] = s["auth_at"] - minutes * 60


def test_erasure_asks_for_password_and_code_again_then_continues(enrolled, client, db):
    staff, secret, _ = enrolled
    person = f.ClientFactory(retention_flagged_at=utcnow())
    db.session.commit()
    password_step(client, staff)
    client.post("/login/code", data={"code": code_at(secret)})
    _age_login(client)

    asked = client.post(f"/clients/{person.id}/erase")
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="reauth-password"' in text and 'name="reauth-code"' in text
    wrong = client.post(f"/clients/{person.id}/erase", data={"reauth-password": "not-my-password",
                                                             "reauth-code": code_at(secret, 1)})
    assert wrong.status_code == 401
    confirm = client.post(f"/clients/{person.id}/erase", data={"reauth-password": PASSWORD,
                                                               "reauth-code": code_at(secret, 1)})
    text = confirm.get_data(as_text=True)
    # The action continues: its own confirmation step, which carries no password.
    assert confirm.status_code == 200 and 'name="confirmed"' in text
    assert PASSWORD not in text and "reauth-" not in text
    done = client.post(f"/clients/{person.id}/erase", data={"confirmed": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(person), person.id).erased_at is not None


def test_export_asks_again_and_comes_back(enrolled, client, db):
    staff, secret, _ = enrolled
    person = f.ClientFactory()
    db.session.commit()
    password_step(client, staff)
    client.post("/login/code", data={"code": code_at(secret)})
    assert client.get(f"/clients/{person.id}/export.json").status_code == 200  # fresh login: no question
    _age_login(client)
    r = client.get(f"/clients/{person.id}/export.json")
    assert r.status_code == 302 and "/account/confirm" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    assert page.status_code == 200 and 'name="reauth-code"' in page.get_data(as_text=True)
    back = client.post(r.headers["Location"], data={"reauth-password": PASSWORD, "reauth-code": code_at(secret, 1)})
    assert back.status_code == 303 and back.headers["Location"].endswith(f"/clients/{person.id}/export.json")
    assert client.get(back.headers["Location"]).status_code == 200


def test_role_change_and_disabling_ask_for_the_password_again(make_user, login_as, client, db):
    admin = make_user("admin")
    target = make_user("staff")
    other = make_user("staff")
    db.session.commit()
    login_as(admin)
    _age_login(client)
    asked = client.post(f"/admin/users/{target.id}/role", data={"role": "manager"})
    text = asked.get_data(as_text=True)
    # No second factor set up: the password only; the chosen role is carried on.
    assert asked.status_code == 200 and 'name="reauth-password"' in text and 'name="reauth-code"' not in text
    assert re.search(r'name="role" value="manager"', text)
    done = client.post(f"/admin/users/{target.id}/role", data={"role": "manager", "reauth-password": PASSWORD})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).role == "manager"
    # Now fresh: disabling goes straight through.
    assert client.post(f"/admin/users/{other.id}/disable").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, other.id).active is False


def test_new_recovery_codes_replace_the_old(enrolled, client, db):
    staff, secret, codes = enrolled
    password_step(client, staff)
    client.post("/login/code", data={"code": code_at(secret)})
    r = client.post("/account/second-factor/recovery-codes/new")
    assert r.status_code == 303
    new = re.findall(r'<code lang="en">([a-z0-9]{5}-[a-z0-9]{5})</code>', client.get(r.headers["Location"]).get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(codes)
    client.post("/logout")
    password_step(client, staff)
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 401
    assert client.post("/login/code", data={"code": html.unescape(new[0])}).status_code == 302


def test_api_login_needs_the_code_too(enrolled, client):
    staff, secret, _ = enrolled
    body = {"email": staff.email, "password": PASSWORD}
    missing = client.post("/api/v1/tokens", json=body)
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "code_required"
    wrong = client.post("/api/v1/tokens", json={**body, "code": "000000" if code_at(secret) != "000000" else "111111"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_code"
    bad = client.post("/api/v1/tokens", json={**body, "code": "x" * 41})
    assert bad.status_code == 422
    ok = client.post("/api/v1/tokens", json={**body, "code": code_at(secret)})
    assert ok.status_code == 201
    replay = client.post("/api/v1/tokens", json={**body, "code": code_at(secret)})
    assert replay.status_code == 401


def _hidden_inputs(text: str) -> dict[str, str]:
    return {html.unescape(n): html.unescape(v)
            for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text)}


def test_reauthentication_with_csrf_protection_on(make_user, login_as, client, app, db):
    """With CSRF checks on (as in production) the interrupted form still goes
    through: the page asking for the password renders fresh CSRF tokens."""
    admin = make_user("admin")
    target = make_user("staff")
    db.session.commit()
    login_as(admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
        token = token.group(1) or token.group(2)
        _age_login(client)
        asked = client.post(f"/admin/users/{target.id}/role", data={"csrf_token": token, "role": "manager"})
        assert asked.status_code == 200
        fields = _hidden_inputs(asked.get_data(as_text=True))
        assert fields.get("role") == "manager" and fields.get("reauth-csrf_token")
        done = client.post(f"/admin/users/{target.id}/role", data={**fields, "reauth-password": PASSWORD})
        assert done.status_code == 302, done.get_data(as_text=True)[:1000]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.expire_all()
    assert db.session.get(User, target.id).role == "manager"
