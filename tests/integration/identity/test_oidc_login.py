"""Clients and relatives log in through strong identification (OpenID Connect,
authorization code + PKCE, state and nonce) against a real local provider; every
way the answer can be wrong ends on a clear page without a session."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa

from identity.local_provider import new_key
from tests import factories
from tests.integration.identity.conftest import (
    AFTER_LOGOUT, CLIENT_CODE, CLIENT_ID, RELATIVE_CODE, UNKNOWN_CODE, local_path, with_params,
)

pytestmark = pytest.mark.smoke

FAILED = "Strong identification did not succeed"


@pytest.fixture
def aino(db, make_user):
    """A client whose record has the identity code, with a login of her own."""
    client = factories.ClientFactory(first_name="Aino", last_name="Asiakas", personal_identity_code=CLIENT_CODE)
    db.session.flush()
    user = make_user("client", client=client, name="Aino Asiakas", email="aino@example.fi", language="en")
    db.session.commit()
    return user


@pytest.fixture
def leena(db, make_user):
    """A relative acting for Helvi, with her own identity code linked to her login."""
    from identity.services import link_identity_code

    helvi = factories.ClientFactory(first_name="Helvi", last_name="Äiti")
    db.session.flush()
    user = make_user("client", client_id=None, name="Leena Omainen", email="leena@example.fi", language="en")
    factories.ClientRepresentativeFactory(client_id=helvi.id, user_id=user.id)
    link_identity_code(user, RELATIVE_CODE)
    db.session.commit()
    return user


def logged_in(client) -> bool:
    return client.get("/dashboard", follow_redirects=False).status_code == 200


def test_client_logs_in_with_pkce_state_and_nonce(browser, aino, provider):
    authorize = browser.start()
    assert authorize.startswith(provider.issuer + "/authorize?")
    for param in ("state=", "nonce=", "code_challenge=", "code_challenge_method=S256", f"client_id={CLIENT_ID}"):
        assert param in authorize
    response = browser.back(browser.identify(authorize, CLIENT_CODE))
    assert response.status_code == 302
    assert local_path(response.headers["Location"]) == "/dashboard"
    page = browser.client.get("/dashboard")
    assert page.status_code == 200
    assert "Aino Asiakas" in page.get_data(as_text=True)


def test_relative_logs_in_by_the_hash_of_their_own_code(browser, leena, db):
    from identity.models import IdentityLink

    response = browser.log_in(RELATIVE_CODE)
    assert response.status_code == 302
    page = browser.client.get("/dashboard")
    assert page.status_code == 200 and "Leena Omainen" in page.get_data(as_text=True)
    # Only a keyed hash is stored: not the code, not its plain SHA-256.
    import hashlib

    stored = db.session.scalars(sa.select(IdentityLink.code_hash)).all()
    assert len(stored) == 1 and RELATIVE_CODE not in stored[0]
    assert stored[0] != hashlib.sha256(RELATIVE_CODE.encode()).hexdigest()


def test_login_returns_to_the_page_asked_for(browser, aino):
    response = browser.log_in(CLIENT_CODE, next_url="/account")
    assert local_path(response.headers["Location"]) == "/account"


def test_an_unknown_person_gets_a_page_saying_whom_to_contact(browser, aino):
    response = browser.log_in(UNKNOWN_CODE)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "No services found for you" in text and "guidance" in text
    assert not logged_in(browser.client)


def test_a_client_record_without_a_login_is_told_to_ask_for_one(browser, db):
    factories.ClientFactory(personal_identity_code=UNKNOWN_CODE)
    db.session.commit()
    response = browser.log_in(UNKNOWN_CODE)
    assert response.status_code == 200
    assert "Your client record has no login yet" in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_a_wrong_state_is_refused(browser, aino):
    callback = browser.identify(browser.start(), CLIENT_CODE)
    response = browser.back(with_params(callback, state="forged-state-value"))
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_an_answer_nobody_asked_for_is_refused(browser, aino, client):
    """A callback arriving in a browser that never started an identification."""
    callback = browser.identify(browser.start(), CLIENT_CODE)
    other = type(browser)(client.application.test_client())
    response = other.back(callback)
    assert response.status_code == 400
    assert not logged_in(other.client)


def test_a_wrong_nonce_is_refused(browser, aino):
    """The ID token must carry the nonce this browser's login started with."""
    authorize = with_params(browser.start(), nonce="nonce-injected-by-an-attacker")
    response = browser.back(browser.identify(authorize, CLIENT_CODE))
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_a_replayed_code_is_refused(browser, aino, client):
    first = browser.identify(browser.start(), CLIENT_CODE)
    assert browser.back(first).status_code == 302
    assert client.post("/logout").status_code == 302
    # The same callback again: its state is spent.
    assert browser.back(first).status_code == 400
    # The old code under a fresh state: the provider refuses the spent code.
    fresh = browser.start()
    state = dict(p.split("=", 1) for p in fresh.split("?", 1)[1].split("&"))["state"]
    code = dict(p.split("=", 1) for p in first.split("?", 1)[1].split("&"))["code"]
    response = browser.client.get(f"/login/strong/callback?code={code}&state={state}")
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_an_expired_id_token_is_refused(browser, aino, provider):
    provider.id_token_lifetime = -600
    response = browser.log_in(CLIENT_CODE)
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_an_id_token_signed_with_another_key_is_refused(browser, aino, provider):
    provider.signing_key = new_key(provider.key.kid)  # same key id, other key: the JWKS does not match
    response = browser.log_in(CLIENT_CODE)
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_cancelling_at_the_provider_logs_nobody_in(browser, aino):
    authorize = browser.start()
    browser.bank.get(authorize, timeout=10)
    answer = browser.bank.post(authorize, data={"cancel": "1"}, allow_redirects=False, timeout=10)
    response = browser.back(answer.headers["Location"])
    assert response.status_code == 400
    assert "The identification was cancelled" in response.get_data(as_text=True)
    assert not logged_in(browser.client)


def test_logout_ends_the_session_and_the_providers(browser, aino, provider):
    browser.log_in(CLIENT_CODE)
    assert logged_in(browser.client)
    # The logout button's form may go on to the provider (the page's CSP says so).
    csp = browser.client.get("/dashboard").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer}" in csp
    response = browser.client.post("/logout")
    assert response.status_code == 302
    end_session = response.headers["Location"]
    assert end_session.startswith(provider.issuer + "/logout?")
    back = requests.get(end_session, allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"].startswith(AFTER_LOGOUT)
    assert provider.logouts[-1]["client_id"] == CLIENT_ID
    assert not logged_in(browser.client)
    page = browser.client.get(local_path(back.headers["Location"]))
    assert page.status_code == 200 and "You have logged out." in page.get_data(as_text=True)


def test_password_logout_stays_local(client, make_user, db, provider):
    user = make_user("staff")
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    response = client.post("/logout")
    assert local_path(response.headers["Location"]).startswith("/login")
    assert provider.logouts == []


def test_login_page_offers_both_ways(client):
    text = client.get("/login").get_data(as_text=True)
    assert "Log in with strong identification" in text and 'name="password"' in text


def test_identity_codes_stay_out_of_the_log(browser, aino, leena, caplog):
    # INFO, the production level (Authlib and urllib3 log tokens and addresses at
    # DEBUG: docs/identity.md warns against LOG_LEVEL=DEBUG with strong identification).
    caplog.set_level("INFO")
    browser.log_in(CLIENT_CODE)
    browser.client.post("/logout")
    browser.log_in(UNKNOWN_CODE)
    text = caplog.text
    for code in (CLIENT_CODE, RELATIVE_CODE, UNKNOWN_CODE):
        assert code not in text


def test_the_no_record_page_speaks_finnish(browser, aino):
    authorize = browser.client.get("/login/strong?lang=fi").headers["Location"]
    assert "ui_locales=fi" in authorize
    response = browser.back(browser.identify(authorize, UNKNOWN_CODE))
    assert response.status_code == 200
    assert "Palveluitasi ei löytynyt" in response.get_data(as_text=True)
