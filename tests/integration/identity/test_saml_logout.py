"""SAML 2.0 single logout against the pysaml2 IdP of saml_idp.py, both ways:
logging out here sends a signed LogoutRequest to the IdP and takes its answer; the
IdP's signed LogoutRequest (HTTP-Redirect or HTTP-POST) ends the matching sessions
here and is answered with a signed LogoutResponse. Forged requests end nothing."""

from __future__ import annotations

import pytest
from saml2 import BINDING_HTTP_POST
from saml2.samlp import STATUS_RESPONDER, STATUS_SUCCESS, STATUS_UNKNOWN_PRINCIPAL

from tests.integration.identity.conftest import CLIENT_CODE, local_path
from tests.integration.identity.saml_idp import ENTITY_ID, keypair
from tests.integration.identity.test_saml_login import logged_in, post_back, start

pytestmark = pytest.mark.smoke


@pytest.fixture
def app(saml_app):
    return saml_app

SP_SLO = "http://kotiapu.test/saml/slo"
IDP_SLO = ENTITY_ID + "/slo"


def log_in(client, idp) -> dict:
    response = post_back(client, idp.answer(start(client), CLIENT_CODE))
    assert response.status_code == 302 and logged_in(client)
    return idp.sessions[-1]


def test_our_metadata_advertises_single_logout(client):
    text = client.get("/saml/metadata").get_data(as_text=True)
    assert "SingleLogoutService" in text and f'Location="{SP_SLO}"' in text
    assert "HTTP-Redirect" in text and "HTTP-POST" in text


def test_logging_out_here_logs_out_at_the_idp(client, aino, idp):
    session = log_in(client, idp)
    page = client.get("/dashboard")
    assert "form-action 'self' http://127.0.0.1" in page.headers["Content-Security-Policy"]
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"].startswith(IDP_SLO + "?SAMLRequest=")
    assert not logged_in(client)  # logged out here at once, whatever the IdP says
    request = idp.read_logout_request(response.headers["Location"])  # raises unless our signature checks out
    assert request.name_id.text == session["name_id"].text
    assert [index.text for index in request.session_index] == [session["session_index"]]
    back = client.get(local_path(idp.logout_response(request)))
    assert back.status_code == 302 and local_path(back.headers["Location"]) == "/login"
    assert "You have logged out" in client.get("/login").get_data(as_text=True)
    # The answer works once: the same response again is refused.
    assert client.get(local_path(idp.logout_response(request))).status_code == 400


def test_a_password_session_logs_out_locally(client, make_user, app):
    user = make_user("staff")
    client.post("/login", data={"email": user.email, "password": "correct horse battery staple"})
    response = client.post("/logout")
    assert response.status_code == 302 and local_path(response.headers["Location"]) == "/login"


def test_the_idp_ends_one_session_by_its_session_index(client, aino, idp, app):
    first = log_in(client, idp)
    other_browser = app.test_client()
    log_in(other_browser, idp)
    answer = app.test_client().get(local_path(idp.logout_request(SP_SLO, first)))
    assert answer.status_code == 302 and answer.headers["Location"].startswith(IDP_SLO + "?SAMLResponse=")
    codes, _in_response_to = idp.read_logout_response(answer.headers["Location"])
    assert codes == [STATUS_SUCCESS]
    assert not logged_in(client)
    assert logged_in(other_browser)  # another SessionIndex: still logged in


def test_the_idp_ends_every_session_of_the_name_id_when_it_names_no_index(client, aino, idp, app):
    session = log_in(client, idp)
    answer = client.get(local_path(idp.logout_request(SP_SLO, session, session_index=False)))
    assert answer.status_code == 302
    assert idp.read_logout_response(answer.headers["Location"])[0] == [STATUS_SUCCESS]
    assert not logged_in(client)


def test_the_idp_logs_out_over_http_post(client, aino, idp, app):
    session = log_in(client, idp)
    answer = app.test_client().post("/saml/slo", data=idp.logout_request(SP_SLO, session, binding=BINDING_HTTP_POST))
    assert answer.status_code == 302
    assert idp.read_logout_response(answer.headers["Location"])[0] == [STATUS_SUCCESS]
    assert not logged_in(client)


@pytest.mark.parametrize("binding", ["redirect", BINDING_HTTP_POST])
def test_an_unsigned_logout_request_is_refused(client, aino, idp, app, binding):
    session = log_in(client, idp)
    stranger = app.test_client()
    if binding == "redirect":  # no Signature/SigAlg in the query
        answer = stranger.get(local_path(idp.logout_request(SP_SLO, session, sign=False)))
    else:  # no XML signature in the posted request
        answer = stranger.post("/saml/slo", data=idp.logout_request(SP_SLO, session, binding=binding, sign=False))
    assert answer.status_code == 400 and "Strong identification did not succeed" in answer.get_data(as_text=True)
    assert logged_in(client)


@pytest.mark.parametrize("binding", ["redirect", BINDING_HTTP_POST])
def test_a_logout_request_signed_with_another_key_is_refused(client, aino, idp, app, tmp_path, binding):
    session = log_in(client, idp)
    (tmp_path / "other").mkdir()
    idp.signing_key = keypair(tmp_path / "other", "idp")  # a key the IdP's metadata does not name
    if binding == "redirect":
        answer = app.test_client().get(local_path(idp.logout_request(SP_SLO, session)))
    else:
        answer = app.test_client().post("/saml/slo", data=idp.logout_request(SP_SLO, session, binding=binding))
    assert answer.status_code == 400
    assert logged_in(client)


def test_an_unknown_session_is_answered_unknown_principal(client, aino, idp, app):
    session = log_in(client, idp)
    client.post("/logout")  # ended here already
    answer = app.test_client().get(local_path(idp.logout_request(SP_SLO, session)))
    assert answer.status_code == 302 and answer.headers["Location"].startswith(IDP_SLO + "?SAMLResponse=")
    codes, _ = idp.read_logout_response(answer.headers["Location"])
    assert codes == [STATUS_RESPONDER, STATUS_UNKNOWN_PRINCIPAL]


def test_a_logout_response_nobody_asked_for_is_refused(client, aino, idp):
    session = log_in(client, idp)
    from identity import saml

    # A request made with our SP's key but never sent (so no logout of ours is outstanding).
    _id, unasked = saml.sp().create_logout_request(IDP_SLO, ENTITY_ID, name_id=session["name_id"], sign=False)
    answer = client.get(local_path(idp.logout_response(unasked)))
    assert answer.status_code == 400
    assert logged_in(client)
