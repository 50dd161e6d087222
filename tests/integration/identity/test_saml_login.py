"""Strong identification over SAML 2.0 (pysaml2 on both sides): signed and
encrypted assertions, no unsolicited or replayed responses, expiry, signature."""

from __future__ import annotations

import pytest

from tests.integration.identity.conftest import CLIENT_CODE, UNKNOWN_CODE, local_path
from tests.integration.identity.saml_idp import keypair

pytestmark = pytest.mark.smoke

FAILED = "Strong identification did not succeed"


@pytest.fixture
def app(saml_app):
    """The app with SAML 2.0 pointed at the loopback IdP (conftest.py)."""
    return saml_app


def start(client) -> str:
    response = client.get("/login/saml")
    assert response.status_code == 302
    return response.headers["Location"]


def post_back(client, saml_response: str):
    """The browser posts the IdP's answer, then follows our redirect to
    /saml/complete (the same-site step that carries the session cookie)."""
    answer = client.post("/saml/acs", data={"SAMLResponse": saml_response})
    if answer.status_code != 303:
        return answer
    return client.get(local_path(answer.headers["Location"]))


def logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def test_client_logs_in_with_an_encrypted_signed_assertion(client, aino, idp):
    location = start(client)
    assert location.startswith("http://127.0.0.1/test-idp/sso?SAMLRequest=") and "Signature=" in location
    response = post_back(client, idp.answer(location, CLIENT_CODE))
    assert response.status_code == 302 and local_path(response.headers["Location"]) == "/dashboard"
    assert "Aino Asiakas" in client.get("/dashboard").get_data(as_text=True)


def test_a_replayed_response_is_refused(client, aino, idp):
    saml_response = idp.answer(start(client), CLIENT_CODE)
    assert post_back(client, saml_response).status_code == 302
    client.post("/logout")
    again = post_back(client, saml_response)
    assert again.status_code == 400 and FAILED in again.get_data(as_text=True)
    assert not logged_in(client)


def test_an_answer_posted_into_another_browser_logs_nobody_in(client, aino, idp, app):
    """Login CSRF: an attacker's own valid response, posted into a victim's browser."""
    saml_response = idp.answer(start(client), CLIENT_CODE)
    stranger = app.test_client()
    response = post_back(stranger, saml_response)
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(stranger)
    # ... and the response is spent: the browser that asked cannot use it any more either.
    assert post_back(client, saml_response).status_code == 400


def test_an_unsolicited_response_is_refused(client, aino, idp):
    saml_response = idp.answer(start(client), CLIENT_CODE)
    client.post("/logout")  # a new session: nothing outstanding in it
    from core.redis import get_redis

    get_redis().flushdb()  # and no request outstanding at all: the IdP answers unasked
    response = post_back(client, saml_response)
    assert response.status_code == 400
    assert not logged_in(client)


def test_an_expired_assertion_is_refused(client, aino, idp):
    idp.lifetime_minutes = -10
    response = post_back(client, idp.answer(start(client), CLIENT_CODE))
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(client)


def test_a_bad_signature_is_refused(client, aino, idp, tmp_path):
    (tmp_path / "other").mkdir()
    idp.signing_key = keypair(tmp_path / "other", "idp")
    response = post_back(client, idp.answer(start(client), CLIENT_CODE, encrypt=False))
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert not logged_in(client)


def test_an_unknown_person_gets_the_contact_page(client, aino, idp):
    response = post_back(client, idp.answer(start(client), UNKNOWN_CODE))
    assert response.status_code == 200 and "No services found for you" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_the_login_page_button_goes_to_saml(client):
    text = client.get("/login?next=/account").get_data(as_text=True)
    assert "Log in with strong identification" in text and "/login/saml?next=/account" in text


def test_our_metadata_names_our_certificate_and_acs(client):
    text = client.get("/saml/metadata").get_data(as_text=True)
    assert "http://kotiapu.test/saml/acs" in text and "X509Certificate" in text
    assert 'use="encryption"' in text and 'use="signing"' in text


def test_a_missing_key_gives_a_clear_answer_not_a_crash(client, app):
    app.config["SAML_SP_KEY_FILE"] = "/nonexistent/sp.key"  # an operator's mistake
    assert client.get("/saml/metadata").status_code == 503
    response = client.get("/login/saml")
    assert response.status_code == 503
    assert "cannot be reached just now" in response.get_data(as_text=True)
