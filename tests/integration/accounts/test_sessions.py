"""Browser sessions end on the server: a copy of the session cookie stops working
after logout, a password change, disabling the user, and the idle and absolute
time-outs. The clock is driven through the session row's timestamps."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import UserSession
from core.db import utcnow
from tests.fixtures import PASSWORD

COOKIE = "session"
DOMAIN = "kotiapu.test"  # the tests' SERVER_NAME


def _login(app, user, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"):
    c = app.test_client()
    r = c.post("/login", data={"email": user.email, "password": PASSWORD}, headers={"User-Agent": user_agent})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


def _copy(app, source):
    """A second browser holding a copy of ``source``'s session cookie."""
    thief = app.test_client()
    cookie = source.get_cookie(COOKIE, domain=DOMAIN)
    assert cookie is not None
    thief.set_cookie(COOKIE, cookie.value, domain=DOMAIN)
    return thief


def _logged_in(c) -> bool:
    return c.get("/account").status_code == 200


@pytest.fixture
def staff(make_user, db):
    user = make_user("staff")
    db.session.commit()
    return user


@pytest.mark.smoke
def test_copied_cookie_stops_working_after_logout(app, staff):
    c = _login(app, staff)
    copy = _copy(app, c)
    assert _logged_in(copy)  # the copy works while the session lives
    assert c.post("/logout").status_code == 302
    assert not _logged_in(copy)
    assert copy.get("/account").headers["Location"].startswith("/login")


@pytest.mark.smoke
def test_password_change_ends_the_other_sessions_but_not_this_one(app, staff, db):
    mine, other = _login(app, staff), _login(app, staff)
    copy_of_mine_before = _copy(app, mine)
    r = mine.post("/account", data={"form": "password", "pw-current": PASSWORD,
                                    "pw-new": "a-brand-new-password", "pw-repeat": "a-brand-new-password"})
    assert r.status_code == 302
    assert _logged_in(mine)
    assert not _logged_in(other)
    # The copy holds the old session version: it is logged out too.
    assert not _logged_in(copy_of_mine_before)
    reasons = db.session.scalars(sa.select(UserSession.end_reason).where(UserSession.user_id == staff.id)).all()
    assert sorted(r for r in reasons if r) == ["password"]


@pytest.mark.smoke
def test_disabling_a_user_ends_their_sessions_at_once(app, staff, make_user, db):
    admin = make_user("admin")
    db.session.commit()
    victim = _login(app, staff)
    copy = _copy(app, victim)
    admin_browser = _login(app, admin)
    assert admin_browser.post(f"/admin/users/{staff.id}/disable").status_code == 302
    assert not _logged_in(victim) and not _logged_in(copy)
    # Enabling again does not bring the old sessions back.
    assert admin_browser.post(f"/admin/users/{staff.id}/enable").status_code == 302
    assert not _logged_in(victim)
    assert _logged_in(_login(app, staff))


def test_idle_time_out(app, staff, db):
    c = _login(app, staff)
    copy = _copy(app, c)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == staff.id))
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    db.session.commit()
    assert _logged_in(c)  # 29 minutes idle: still valid, and the request counts as use
    db.session.expire_all()
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    db.session.commit()
    assert not _logged_in(c) and not _logged_in(copy)
    db.session.expire_all()
    assert row.ended_at is not None and row.end_reason == "idle"


def test_absolute_time_out_however_active(app, staff, db):
    c = _login(app, staff)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == staff.id))
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"]) + timedelta(minutes=1)
    db.session.commit()
    assert _logged_in(c)
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], seconds=1)
    row.last_seen_at = utcnow()  # used a moment ago
    db.session.commit()
    assert not _logged_in(c)
    db.session.expire_all()
    assert row.end_reason == "expired"


def test_time_outs_are_settings(make_user, db, app):
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_MAX_HOURS"] == 8
    app.config["SESSION_IDLE_MINUTES"] = 5
    user = make_user("staff")
    db.session.commit()
    c = _login(app, user)
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    assert not _logged_in(c)


@pytest.mark.smoke
def test_session_id_changes_at_login_no_fixation(app, staff, db):
    """A cookie planted before the login stays anonymous after the victim logs in
    with it, and each login gets a new session id."""
    victim = app.test_client()
    victim.get("/login?lang=sv")  # an anonymous session cookie exists before the login
    planted = victim.get_cookie(COOKIE, domain=DOMAIN)
    assert planted is not None
    attacker = app.test_client()
    attacker.set_cookie(COOKIE, planted.value, domain=DOMAIN)
    victim.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert _logged_in(victim)
    assert not _logged_in(attacker)
    first = victim.get_cookie(COOKIE, domain=DOMAIN).value
    victim.post("/logout")
    victim.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert victim.get_cookie(COOKIE, domain=DOMAIN).value != first
    hashes = db.session.scalars(sa.select(UserSession.sid_hash).where(UserSession.user_id == staff.id)).all()
    assert len(set(hashes)) == 2


def test_cookie_without_a_session_row_is_refused(app, staff, db):
    """A cookie signed with the right key but whose session row is gone (e.g. one
    from before server-side sessions) is not a login."""
    c = _login(app, staff)
    db.session.execute(sa.delete(UserSession))
    db.session.commit()
    assert not _logged_in(c)


def test_cookie_flags(app, staff):
    c = app.test_client()
    r = c.post("/login", data={"email": staff.email, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookie_in_production(tmp_path):
    from core.config import load_config

    config = load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40,
                                         "DATABASE_URL": "postgresql://db/kotiapu", "REDIS_URL": "redis://r"})
    assert config["SESSION_COOKIE_SECURE"] is True and config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["PERMANENT_SESSION_LIFETIME"] == 8 * 3600


def test_user_sees_and_ends_own_sessions(app, staff, make_user, db):
    laptop = _login(app, staff, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
    phone = _login(app, staff, "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36")
    html = laptop.get("/account").get_data(as_text=True)
    assert "Chrome / Windows" in html and "Chrome / Android" in html
    assert html.count('aria-current="true"') >= 1
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == staff.id)
                              .order_by(UserSession.id)).all()
    laptop_row, phone_row = rows
    # Someone else's session cannot be ended (404), and nothing changes.
    stranger = _login(app, staff, "Other")  # a third session of the same user
    other_user = make_user("manager")
    db.session.commit()
    other = _login(app, other_user)
    assert other.post(f"/account/sessions/{phone_row.id}/end").status_code == 404
    assert _logged_in(phone)
    # The laptop ends the phone's session.
    r = laptop.post(f"/account/sessions/{phone_row.id}/end")
    assert r.status_code == 302
    assert not _logged_in(phone) and _logged_in(laptop)
    # End all the others, then this one.
    assert laptop.post("/account/sessions/end-others").status_code == 302
    assert not _logged_in(stranger)
    assert _logged_in(laptop)
    r = laptop.post(f"/account/sessions/{laptop_row.id}/end")
    assert r.headers["Location"].startswith("/login")
    assert "flash-success" in laptop.get(r.headers["Location"]).get_data(as_text=True)
    assert not _logged_in(laptop)


def test_api_tokens_are_separate(app, staff, api_token, client):
    headers = api_token(staff)
    c = _login(app, staff)
    c.post("/logout")
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_session_ended_in_another_browser_is_refused_on_the_very_next_request(app, staff, db):
    laptop, phone = _login(app, staff), _login(app, staff)
    assert phone.get("/dashboard").status_code == 200
    phone_row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == staff.id)
                                   .order_by(UserSession.id.desc())).first()
    assert laptop.post(f"/account/sessions/{phone_row.id}/end").status_code == 302
    r = phone.get("/dashboard")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert laptop.get("/dashboard").status_code == 200


def test_a_session_row_ended_on_the_server_is_refused_however_recent(app, staff, db):
    c = _login(app, staff)
    assert _logged_in(c)
    db.session.execute(sa.update(UserSession).where(UserSession.user_id == staff.id)
                       .values(ended_at=utcnow(), end_reason="ended"))
    db.session.commit()
    assert not _logged_in(c)


def test_a_cookie_naming_another_user_than_its_session_row_is_refused(app, staff, make_user, db):
    """The session row must be the cookie user's own: a session id of one user with
    another user's id (a cookie put together from two) logs in neither."""
    other = make_user("manager")
    db.session.commit()
    c = _login(app, staff)
    with c.session_transaction() as cookie:
        cookie["_user_id"] = f"{other.id}:{other.session_version}"
    r = c.get("/account")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
