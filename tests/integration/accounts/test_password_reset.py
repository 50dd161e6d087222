"""Password reset by a one-time e-mail link: single use, valid one hour, the same
answer for every address, throttled per client address and per account; only the
token's hash is stored; the mail goes through the outbox."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import PasswordToken, User, UserSession
from core.db import utcnow
from core.models import OutboxJob, OutgoingEmail
from tests.fixtures import PASSWORD

NEW = "uusi-salasana-2027"


def _ask(client, email, address="10.1.1.1"):
    return client.post("/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": address})


def _link(db, to) -> str:
    db.session.expire_all()
    mail = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == to)
                              .order_by(OutgoingEmail.id.desc())).first()
    assert mail is not None, "no e-mail"
    return re.search(r"http://kotiapu\.test(/password/new/[A-Za-z0-9_\-]+)", mail.body).group(1)


def _mails(db, to) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)
                             .where(OutgoingEmail.to_address == to))


@pytest.fixture
def staff(make_user, db):
    user = make_user("staff", email="sanna@example.fi", language="sv")
    db.session.commit()
    return user


@pytest.mark.smoke
def test_reset_through_the_link_once(client, app, staff, db):
    r = _ask(client, "Sanna@Example.fi ")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    link = _link(db, staff.email)
    mail = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == staff.email)).one()
    assert "lösenord" in mail.subject.lower()  # in the user's language
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob)
                             .where(OutboxJob.func.like("%send_email"))) == 1  # through the outbox
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalars(sa.select(PasswordToken.token_hash)).one()
    assert token not in stored and len(stored) == 64  # only the hash
    page = client.get(link)
    assert page.status_code == 200 and staff.email in page.get_data(as_text=True)
    r = client.post(link, data={"new": NEW, "repeat": NEW})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert client.post("/login", data={"email": staff.email, "password": NEW}).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 401
    # Single use: the link is gone, on GET and on POST.
    assert client.get(link).status_code == 410
    again = client.post(link, data={"new": "third-password-x", "repeat": "third-password-x"})
    assert again.status_code == 410
    assert client.post("/login", data={"email": staff.email, "password": "third-password-x"}).status_code == 401


def test_reset_ends_every_session(app, client, staff, db):
    browser = app.test_client()
    assert browser.post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    _ask(client, staff.email)
    client.post(_link(db, staff.email), data={"new": NEW, "repeat": NEW})
    assert browser.get("/account").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(UserSession.end_reason)) == "reset"


def test_link_expires_after_an_hour(client, staff, db, app):
    assert app.config["PASSWORD_RESET_MINUTES"] == 60
    _ask(client, staff.email)
    link = _link(db, staff.email)
    row = db.session.scalars(sa.select(PasswordToken)).one()
    assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(minutes=60)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(link).status_code == 410
    assert client.post(link, data={"new": NEW, "repeat": NEW}).status_code == 410
    assert client.post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302


def test_a_newer_link_replaces_the_older(client, staff, db):
    _ask(client, staff.email)
    first = _link(db, staff.email)
    _ask(client, staff.email)
    second = _link(db, staff.email)
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


@pytest.mark.smoke
def test_same_answer_for_unknown_and_disabled_addresses(client, staff, make_user, db):
    disabled = make_user("staff", email="pois@example.fi", active=False)
    db.session.commit()
    answers = []
    for email in (staff.email, "nobody@example.fi", disabled.email):
        r = _ask(client, email)
        follow = client.get(r.headers["Location"]).get_data(as_text=True)
        message = re.search(r'<p class="flash flash-success"[^>]*>(.*?)</p>', follow).group(1)
        answers.append((r.status_code, r.headers["Location"], message.replace(email, "EMAIL")))
    assert answers[0] == answers[1] == answers[2]
    assert _mails(db, "nobody@example.fi") == 0 and _mails(db, disabled.email) == 0
    assert _mails(db, staff.email) == 1


def test_bad_input_is_named(client):
    r = client.post("/password/forgot", data={"email": ""})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)


def test_short_or_mismatching_password_is_refused_and_link_kept(client, staff, db):
    _ask(client, staff.email)
    link = _link(db, staff.email)
    short = client.post(link, data={"new": "lyhyt", "repeat": "lyhyt"})
    assert short.status_code == 422 and 'aria-invalid="true"' in short.get_data(as_text=True)
    mismatch = client.post(link, data={"new": NEW, "repeat": NEW + "x"})
    assert mismatch.status_code == 422
    assert client.get(link).status_code == 200


def test_unknown_token_is_gone(client):
    assert client.get("/password/new/not-a-real-token").status_code == 410
    assert client.get("/password/new/" + "a" * 300).status_code == 410


def test_throttled_per_account_without_telling(client, staff, db, app):
    limit = app.config["PASSWORD_RESET_MAX_ACCOUNT"]
    for i in range(limit + 2):
        r = _ask(client, staff.email, address=f"10.2.0.{i}")  # different addresses: the account's limit
        assert r.status_code == 302
    assert _mails(db, staff.email) == limit


def test_throttled_per_address(client, staff, db, app):
    limit = app.config["PASSWORD_RESET_MAX_ADDRESS"]
    for i in range(limit):
        assert _ask(client, f"someone{i}@example.fi", address="10.3.3.3").status_code == 302
    blocked = _ask(client, staff.email, address="10.3.3.3")
    assert blocked.status_code == 429
    assert str(app.config["PASSWORD_RESET_WINDOW_MINUTES"]) in blocked.get_data(as_text=True)
    assert _mails(db, staff.email) == 0
    assert _ask(client, staff.email, address="10.4.4.4").status_code == 302  # another address is not blocked
    assert _mails(db, staff.email) == 1


def test_throttle_window_passes(client, staff, db, app):
    from accounts.models import PasswordResetRequest

    for _ in range(app.config["PASSWORD_RESET_MAX_ADDRESS"]):
        db.session.add(PasswordResetRequest(email="x@example.fi", address="10.5.5.5",
                                            at=utcnow() - timedelta(minutes=61)))
    db.session.commit()
    assert _ask(client, staff.email, address="10.5.5.5").status_code == 302


def test_login_page_links_the_reset(client):
    assert "/password/forgot" in client.get("/login").get_data(as_text=True)


def test_user_is_never_told_in_logs(client, staff, db, caplog):
    import logging

    caplog.set_level(logging.INFO)
    _ask(client, staff.email)
    link = _link(db, staff.email)
    client.post(link, data={"new": NEW, "repeat": NEW})
    text = caplog.text
    assert staff.email not in text and link.rsplit("/", 1)[1] not in text
    assert db.session.get(User, staff.id) is not None


@pytest.mark.parametrize("email", ["not-an-address", "sanna\x00@example.fi", "a@b"])
def test_text_that_is_no_address_is_named_not_a_crash(client, staff, email, db):
    r = client.post("/password/forgot", data={"email": email})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    assert _mails(db, staff.email) == 0
