"""The session cookie checked once and kept (core.security.ApiAwareSessionInterface):
a kept cookie still expires, still stops working when the secret key changes, and
a request's changes to its session never reach the kept content."""

from datetime import timedelta

from flask import session

DOMAIN = "kotiapu.test"  # the tests' SERVER_NAME


def _cookie(client) -> str:
    cookie = client.get_cookie("session", domain=DOMAIN)
    assert cookie is not None
    return cookie.value


def _with_cookie(app, value: str, path: str = "/account"):
    """A request from a fresh browser that holds only this session cookie."""
    browser = app.test_client()
    browser.set_cookie("session", value, domain=DOMAIN)
    return browser.get(path)


def test_a_kept_cookie_works_and_a_forged_one_does_not(app, client, make_user, login_as):
    login_as(make_user("staff", name="Kept Cookie"))
    value = _cookie(client)
    for _ in range(3):  # the first request checks the signature, the others use the kept content
        answer = _with_cookie(app, value)
        assert answer.status_code == 200 and "Kept Cookie" in answer.get_data(as_text=True)
    payload, signature = value.rsplit(".", 1)
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _with_cookie(app, forged).status_code == 302


def test_a_kept_cookie_expires_with_the_sessions_lifetime(app, client, make_user, login_as):
    login_as(make_user("staff"))
    value = _cookie(client)
    assert _with_cookie(app, value).status_code == 200
    app.permanent_session_lifetime = timedelta(seconds=-1)  # every cookie is now older than its lifetime
    answer = _with_cookie(app, value)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_kept_cookie_stops_working_when_the_secret_key_changes(app, client, make_user, login_as):
    login_as(make_user("staff"))
    value = _cookie(client)
    assert _with_cookie(app, value).status_code == 200
    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-0123456789-0123456789"
    assert _with_cookie(app, value).status_code == 302


def test_a_requests_changes_do_not_reach_the_kept_content(app, client, make_user, login_as):
    def change_session():
        session["lang"] = "en"
        session["extra"] = "changed"
        return "changed"

    def show_extra():
        return session.get("extra", "none")

    app.add_url_rule("/test-change-session", "test_change_session", change_session)
    app.add_url_rule("/test-show-extra", "test_show_extra", show_extra)
    login_as(make_user("staff", language="fi"))
    before = _cookie(client)
    assert '<html lang="fi">' in _with_cookie(app, before).get_data(as_text=True)
    changed = _with_cookie(app, before, "/test-change-session")
    assert changed.status_code == 200 and "session=" in changed.headers["Set-Cookie"]
    # The old cookie still carries its own content: Finnish, no extra key.
    assert '<html lang="fi">' in _with_cookie(app, before).get_data(as_text=True)
    assert _with_cookie(app, before, "/test-show-extra").get_data(as_text=True) == "none"


def test_a_page_that_only_reads_the_session_sets_no_cookie_but_varies_on_it(app, client, make_user, login_as):
    login_as(make_user("staff"))
    client.get("/account")  # the first page puts the form token into the session
    answer = _with_cookie(app, _cookie(client))
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert answer.headers.getlist("Vary") == ["Cookie"]
