"""The NUL guard (core.inputs.refuse_nul_bytes) reads every header, cookie and query
value of every request: a NUL anywhere is a 400, a request without one passes."""

import pytest


@pytest.mark.parametrize("environ", [
    {"HTTP_X_ANYTHING": "a\x00b"},
    {"HTTP_USER_AGENT": "Mozilla\x00"},
    {"CONTENT_TYPE": "text/plain\x00"},
    {"QUERY_STRING": "q=a%00b"},
])
def test_a_nul_in_any_header_or_query_is_refused(client, environ):
    answer = client.get("/accessibility", environ_overrides=environ)
    assert answer.status_code == 400


def test_a_nul_in_a_cookie_is_refused(client):
    # The test client writes its own Cookie header from its jar (the tests' SERVER_NAME).
    client.set_cookie("other", "a\x00b", domain="kotiapu.test")
    assert client.get("/accessibility").status_code == 400


def test_a_request_without_a_nul_passes(client):
    client.set_cookie("other", "a\x01b", domain="kotiapu.test")
    answer = client.get("/accessibility?q=abc", environ_overrides={"HTTP_X_ANYTHING": "a-b"})
    assert answer.status_code == 200
