"""Accounts through the real pages in Chromium: an administrator invites a user
(the set-password link read from the development mail page, as an administrator
under APP_ENV=development), the user forgets the password and resets it through
the e-mailed one-time link; an administrator disables a user whose open browser
session then ends at once."""

from __future__ import annotations

import re
import uuid

import pytest

from demo import DEMO_LOGINS, DEMO_PASSWORD
from tests.browser.test_login_roles import _serious_violations

pytestmark = pytest.mark.browser

ADMIN = next(email for role, email, _ in DEMO_LOGINS if role == "admin")
LINK = re.compile(r"https?://[^/\s]+(/password/new/[A-Za-z0-9_\-]+)")


def _context_page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def _newest_link(admin_page, email: str) -> str:
    """The newest set-password link e-mailed to ``email``, from the dev mail page."""
    admin_page.goto("/dev/mail")
    body = admin_page.locator("article.mail", has_text=email).first.locator("pre").inner_text()
    return LINK.search(body).group(1)


def _invite(admin_page, name: str, email: str, role: str = "staff") -> None:
    admin_page.goto("/admin/users")
    admin_page.locator("main a[href$='/admin/users/invite']").click()
    admin_page.locator("main input[name=name]").fill(name)
    admin_page.locator("main input[name=email]").fill(email)
    admin_page.locator("main select[name=role]").select_option(role)
    admin_page.locator("main form button[type=submit]").click()
    admin_page.wait_for_load_state("domcontentloaded")
    assert re.search(r"/admin/users/\d+$", admin_page.url), admin_page.url


def _choose_password(page, link: str, password: str) -> None:
    page.goto(link)
    page.locator("main input[name=new]").fill(password)
    page.locator("main input[name=repeat]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/login"), page.url


@pytest.fixture
def admin_page(browser, live_server):
    context, page = _context_page(browser, live_server)
    _log_in(page, ADMIN, DEMO_PASSWORD)
    assert page.url.endswith("/dashboard")
    try:
        yield page
    finally:
        context.close()


def test_invited_user_forgets_and_resets_the_password(page, admin_page, screenshot_dir):
    email = f"uusi-{uuid.uuid4().hex[:8]}@example.fi"
    _invite(admin_page, "Uusi Ohjaaja", email)
    first_password = "ensimmainen-salasana-1"
    _choose_password(page, _newest_link(admin_page, email), first_password)
    _log_in(page, email, first_password)
    assert page.url.endswith("/dashboard")
    page.locator("form[action$='/logout'] button").click()
    page.wait_for_load_state("domcontentloaded")

    # Forgotten: the link on the login page, the address, the same answer as always.
    page.goto("/login")
    page.locator("main a[href$='/password/forgot']").click()
    assert page.url.endswith("/password/forgot")
    assert not _serious_violations(page)
    page.locator("main input[name=email]").fill(email)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/login")
    assert email in page.locator(".flash").first.inner_text()
    page.screenshot(path=str(screenshot_dir / "password-reset-asked.png"), full_page=True)

    reset_link = _newest_link(admin_page, email)
    page.goto(reset_link)
    assert email in page.locator("main").inner_text()
    assert not _serious_violations(page)
    page.screenshot(path=str(screenshot_dir / "password-reset-form.png"), full_page=True)
    new_password = "toinen-salasana-2027"
    _choose_password(page, reset_link, new_password)

    _log_in(page, email, first_password)
    assert not page.url.endswith("/dashboard")  # the old password no longer works
    _log_in(page, email, new_password)
    assert page.url.endswith("/dashboard")

    # The link worked once.
    response = page.goto(reset_link)
    assert response.status == 410
    assert page.locator("main a[href$='/password/forgot']").is_visible()


def test_admin_disables_a_user_whose_open_session_ends(page, admin_page, screenshot_dir):
    email = f"poistuva-{uuid.uuid4().hex[:8]}@example.fi"
    _invite(admin_page, "Poistuva Ohjaaja", email)
    password = "poistuvan-salasana-1"
    _choose_password(page, _newest_link(admin_page, email), password)
    _log_in(page, email, password)
    assert page.url.endswith("/dashboard")
    page.goto("/account")
    assert page.locator("#sessions-h").is_visible()
    assert page.locator("#sessions-h ~ .table-scroll table tr[aria-current]").count() == 1  # this session is marked
    assert not _serious_violations(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scrolling
    page.screenshot(path=str(screenshot_dir / "account-sessions-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    admin_page.goto(f"/admin/users?q={email}")
    assert not _serious_violations(admin_page)
    admin_page.set_viewport_size({"width": 320, "height": 800})
    assert admin_page.evaluate("document.documentElement.scrollWidth") <= 320
    admin_page.screenshot(path=str(screenshot_dir / "admin-users-320.png"), full_page=True)
    admin_page.set_viewport_size({"width": 1280, "height": 900})
    admin_page.screenshot(path=str(screenshot_dir / "admin-users.png"), full_page=True)
    admin_page.locator("main table a", has_text="Poistuva Ohjaaja").click()
    assert not _serious_violations(admin_page)
    admin_page.locator("form[action$='/disable'] button").click()
    admin_page.wait_for_load_state("domcontentloaded")
    assert admin_page.locator("form[action$='/enable']").count() == 1
    admin_page.screenshot(path=str(screenshot_dir / "admin-user-disabled.png"), full_page=True)

    # The user's open page: the next step finds the session ended.
    page.reload()
    assert "/login" in page.url, page.url
    page.goto("/dashboard")
    assert "/login" in page.url
    _log_in(page, email, password)
    assert not page.url.endswith("/dashboard")  # and no new login either


def test_dev_mail_page_is_not_for_visitors(page):
    response = page.goto("/dev/mail")
    assert response.status == 404
    page.goto("/")
    assert page.locator("a[href$='/dev/mail']").count() == 0
    assert page.locator(".demo-banner").is_visible()
