"""CLIENT_PASSWORD_LOGIN: password login of clients is a fallback that can be
turned off; staff and providers always keep their passwords."""

from __future__ import annotations

import pytest

from tests.factories import valid_identity_code
from tests.integration.identity.conftest import oidc_app

PASSWORD = "correct-horse-battery"


@pytest.fixture
def app(database_url, redis_url, provider):
    yield from oidc_app(database_url, redis_url, provider, CLIENT_PASSWORD_LOGIN="0")


def test_client_password_login_is_refused_when_the_fallback_is_off(client, make_user, db):
    user = make_user("client")
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "log in with strong identification" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # not logged in


def test_staff_and_providers_keep_passwords(client, make_user, db):
    for role in ("staff", "provider"):
        user = make_user(role)
        db.session.commit()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, role
        assert client.get("/dashboard").status_code == 200
        client.post("/logout")


def test_a_client_still_logs_in_with_strong_identification(browser, make_user, db):
    from tests import factories

    code = valid_identity_code(404)
    record = factories.ClientFactory(personal_identity_code=code)
    db.session.flush()
    make_user("client", client=record)
    db.session.commit()
    # the provider's person list does not hold this one: typed as "another identity code"
    authorize = browser.start()
    browser.bank.get(authorize, timeout=10)
    answer = browser.bank.post(authorize, data={"identity_code_other": code}, allow_redirects=False, timeout=10)
    assert browser.back(answer.headers["Location"]).status_code == 302
    assert browser.client.get("/dashboard").status_code == 200
