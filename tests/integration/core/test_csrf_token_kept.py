"""The signed CSRF token kept per session token (core.security.csrf_token, used by
the header's logout form): the header and the page's own forms carry one token, a
kept token is accepted, a new login gets a new one, a token of another session is
refused, and with a time limit each request signs afresh."""

import re

import pytest

from tests.fixtures import PASSWORD

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _tokens(client, path="/account") -> list[str]:
    answer = client.get(path)
    assert answer.status_code == 200
    return TOKEN.findall(answer.get_data(as_text=True))


def _login(client, user) -> None:
    from core.extensions import db

    db.session.commit()  # the request reads the user in its own session
    page = client.get("/login").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    answer = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _ticking_clock(monkeypatch) -> None:
    """Ten seconds pass between two signatures."""
    import time

    import itsdangerous.timed

    now = int(time.time())
    clock = iter(range(now, now + 1000, 10))
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: next(clock))


def test_one_token_per_page_kept_across_requests_and_accepted(csrf_on, client, make_user, monkeypatch):
    _login(client, make_user("staff"))
    _ticking_clock(monkeypatch)
    on_page = _tokens(client)
    assert len(on_page) >= 2 and len(set(on_page)) == 1  # the header's logout form and the page's forms
    # A page whose only form is the header's: the token is kept, not signed again.
    first = _tokens(client, "/accessibility")
    assert len(first) == 1 and _tokens(client, "/accessibility") == first
    assert client.post("/logout", data={"csrf_token": first[0]}).status_code == 302
    assert client.get("/account").status_code == 302  # logged out


def test_a_new_login_gets_a_new_token_and_another_sessions_token_is_refused(csrf_on, app, make_user):
    staff = make_user("staff")
    one, two = app.test_client(), app.test_client()
    _login(one, staff)
    _login(two, staff)
    token_one, token_two = _tokens(one)[0], _tokens(two)[0]
    assert token_one != token_two
    assert two.post("/logout", data={"csrf_token": token_one}).status_code == 400
    assert two.get("/account").status_code == 200  # still logged in
    assert two.post("/logout", data={"csrf_token": token_two}).status_code == 302


def test_with_a_time_limit_every_request_signs_afresh(csrf_on, app, client, make_user, monkeypatch):
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    _login(client, make_user("staff"))
    _ticking_clock(monkeypatch)
    assert _tokens(client)[0] != _tokens(client)[0]  # a new signing time each request
