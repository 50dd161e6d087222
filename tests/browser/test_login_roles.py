"""Every role logs in through the real login page in Chromium with a demo login, gets
its dashboard in Finnish with the main menu, passes an axe-core accessibility check
(no critical or serious violations), and logs out again. A wrong password is refused
with a message and no dashboard."""

from __future__ import annotations

import re

import pytest

from demo import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

ROLES = ["admin", "staff", "manager", "provider", "client"]
LOG_OUT = re.compile(r"^(Kirjaudu ulos|Log out|Logga ut)$")


def _login_for(role: str) -> str:
    return next(email for r, email, _ in DEMO_LOGINS if r == role)


def _log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def _serious_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("critical", "serious")]
    if serious:
        print(results.generate_report())
    return serious


@pytest.mark.parametrize("role", ROLES)
def test_role_logs_in_sees_dashboard_and_logs_out(page, role, screenshot_dir):
    email = _login_for(role)
    _log_in(page, email, DEMO_PASSWORD)

    assert page.url.endswith("/dashboard"), page.url
    assert page.locator("h1").first.is_visible()
    assert page.locator("nav.main-nav").count() == 1 and page.locator("nav.main-nav a").count() >= 1
    assert page.locator("html").get_attribute("lang") == "fi"
    page.screenshot(path=str(screenshot_dir / f"dashboard-{role}.png"), full_page=True)

    serious = _serious_violations(page)
    assert not serious, [f"{v['id']} ({v['impact']}): {v['help']}" for v in serious]

    page.get_by_role("button", name=LOG_OUT).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/login"), page.url
    assert page.locator("main input[name=password]").is_visible()
    assert page.get_by_role("button", name=LOG_OUT).count() == 0


def test_wrong_password_shows_an_error_and_no_dashboard(page, screenshot_dir):
    _log_in(page, _login_for("staff"), "not-the-demo-password")

    assert not page.url.endswith("/dashboard"), page.url
    alert = page.locator("[role=alert]").first
    assert alert.is_visible()
    assert alert.inner_text().strip()
    assert page.locator("main input[name=password]").is_visible()
    page.screenshot(path=str(screenshot_dir / "login-wrong-password.png"), full_page=True)
    page.goto("/dashboard")
    assert "/login" in page.url  # still not logged in
