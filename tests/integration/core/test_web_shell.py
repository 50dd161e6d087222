"""The web shell: friendly error pages, security headers, languages, role menus."""

import pytest

from tests.fixtures import add_failing_route

pytestmark = pytest.mark.smoke


def test_front_page_and_login_are_finnish_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="fi">' in html
    assert "Kirjaudu" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("lang,word", [("sv", "Logga in"), ("en", "Log in")])
def test_language_can_be_chosen_and_is_kept(client, lang, word):
    assert word in client.get(f"/login?lang={lang}").get_data(as_text=True)
    html = client.get("/login").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and word in html


def test_security_headers_and_csp_without_inline_script(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in r.get_data(as_text=True)  # only external scripts


def test_pages_with_no_inline_scripts_or_handlers(client, make_user, login_as):
    import re

    for role in ("staff", "provider", "client", "manager", "admin"):
        c = login_as(make_user(role))
        html = c.get("/dashboard").get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), role
        assert not re.search(r"\son[a-z]+=", html), role
        c.post("/logout")


def test_friendly_404_page(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert "<main" in html and "404" in html and "Traceback" not in html


def test_friendly_403_page(client, make_user, login_as, app):
    from accounts.permissions import role_required

    @role_required("admin")
    def admin_only():
        return "secret"

    app.add_url_rule("/test-admin-only", "test_admin_only", admin_only)
    login_as(make_user("staff"))
    r = client.get("/test-admin-only")
    assert r.status_code == 403 and "secret" not in r.get_data(as_text=True)
    assert "<main" in r.get_data(as_text=True)


def test_friendly_500_page_rolls_back(client, app):
    add_failing_route(app, "/test-broken", "test_broken", "database detail")
    r = client.get("/test-broken")
    assert r.status_code == 500
    html = r.get_data(as_text=True)
    assert "database detail" not in html and "<main" in html


def test_405_on_the_web_is_a_page_too(client):
    r = client.get("/logout")
    assert r.status_code == 405 and "<main" in r.get_data(as_text=True)


def test_oversized_request_is_refused_cleanly(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = client.post("/login", data={"email": "a" * 5000, "password": "x"})
    assert r.status_code == 413


def test_health_check(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["database"] == "ok"


def test_navigation_fits_the_role(client, make_user, login_as):
    c = login_as(make_user("client"))
    html = c.get("/dashboard").get_data(as_text=True)
    assert "Omat palvelut" in html or "My services" in html
