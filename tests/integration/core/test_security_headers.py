"""The security headers on every kind of response (core.security): each header with
its exact value, in the same order, whatever made the response; a view's own value
is kept; Cache-Control no-store everywhere but the static files."""

import pytest

from core.security import CSP

EVERY = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
NO_STORE = ("Cache-Control", "no-store")
NAMES = {name.lower() for name, _ in EVERY + [HSTS, NO_STORE]}


def _security_headers(response) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers if name.lower() in NAMES]


@pytest.mark.parametrize("production", [False, True])
def test_every_kind_of_response_has_every_header_once(app, client, make_user, login_as, production):
    app.config["PRODUCTION"] = production
    expected = EVERY + ([HSTS] if production else [])
    answers = {
        "page": client.get("/accessibility"),
        "login form": client.get("/login"),
        "redirect": client.get("/dashboard"),
        "404 page": client.get("/no-such-page"),
        "405 page": client.get("/logout"),
        "API JSON 401": client.get("/api/v1/orders"),
        "API 404": client.get("/api/v1/no-such-thing"),
        "API reference": client.get("/api/docs"),
    }
    login_as(make_user("staff"))
    answers["logged-in page"] = client.get("/account")
    for kind, response in answers.items():
        assert _security_headers(response) == expected + [NO_STORE], kind
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    # Flask's own Cache-Control for static files (send_file's), not no-store.
    assert [item for item in _security_headers(static) if item[0] != "Cache-Control"] == expected
    assert static.headers.getlist("Cache-Control") != ["no-store"], "static files may be cached"
    static.close()


def test_a_views_own_values_are_kept_and_the_rest_added(app, client):
    def own_headers():
        return "logo", 200, {"Cache-Control": "public, max-age=3600", "x-frame-options": "SAMEORIGIN"}

    app.add_url_rule("/test-own-headers", "test_own_headers", own_headers)
    response = client.get("/test-own-headers")
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    rest = [item for item in EVERY if item[0] != "X-Frame-Options"]
    assert [item for item in _security_headers(response) if item[0] in dict(rest)] == rest


def test_a_page_answers_without_rate_limit_headers_and_the_api_with_them(client):
    # Flask-Limiter exempts everything outside /api/ before looking for limits
    # (core.ratelimit): the API's budget still counts and is announced.
    page = client.get("/accessibility")
    assert page.status_code == 200 and "X-RateLimit-Limit" not in page.headers
    api = client.get("/api/v1/orders")
    assert api.status_code == 401 and api.headers["X-RateLimit-Limit"]
    again = client.get("/api/v1/orders")
    assert int(again.headers["X-RateLimit-Remaining"]) == int(api.headers["X-RateLimit-Remaining"]) - 1
