"""A new staff member sets up the second factor and logs in with a code, in Chromium
through the real pages: the administrator invites them, they choose a password
through the e-mailed link (read from the development mail page), open the set-up
page from their account page, add the key to "their phone" (pyotp with the key the
page shows), save the recovery codes, log out, and log in again with the password
and a code. The set-up and code pages pass an axe-core check."""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import urlsplit

import pyotp
import pytest

from demo import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

LOG_OUT = re.compile(r"^(Kirjaudu ulos|Log out|Logga ut)$")
NEW_PASSWORD = "Puhelin-ja-salasana-2026"


def _log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def _log_out(page) -> None:
    page.get_by_role("button", name=LOG_OUT).click()
    page.wait_for_load_state("domcontentloaded")


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("critical", "serious")]


def test_staff_sets_up_the_second_factor_and_logs_in_with_a_code(page, screenshot_dir):
    admin_email = next(email for role, email, _ in DEMO_LOGINS if role == "admin")
    email = f"ohjaaja.{secrets.token_hex(4)}@demo.kotiapu.fi"

    # The administrator invites a new staff member; the e-mail is on the development mail page.
    _log_in(page, admin_email, DEMO_PASSWORD)
    page.goto("/admin/users/invite")
    page.locator("main input[name=name]").fill("Outi Uusi")
    page.locator("main input[name=email]").fill(email)
    page.locator("main select[name=role]").select_option("staff")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto("/dev/mail")
    mail = page.locator("article.mail", has_text=email).first.inner_text()
    link = urlsplit(re.search(r"https?://\S+/password/new/[A-Za-z0-9_\-]+", mail).group(0)).path
    _log_out(page)

    page.goto(link)
    page.locator("main input[name=new]").fill(NEW_PASSWORD)
    page.locator("main input[name=repeat]").fill(NEW_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    _log_in(page, email, NEW_PASSWORD)
    assert page.url.endswith("/dashboard"), page.url

    # Set-up from the account page: the QR code and the key for typing by hand.
    page.goto("/account")
    page.get_by_role("link", name=re.compile("Kaksivaiheinen tunnistautuminen")).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("main svg[role=img]").is_visible()
    page.screenshot(path=str(screenshot_dir / "second-factor-setup.png"), full_page=True)
    assert not _serious_violations(page)
    # On a 320 px wide phone screen the QR code and the key fit without scrolling sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    for selector in ("main svg[role=img]", "main code.secret"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, (selector, box)
    page.screenshot(path=str(screenshot_dir / "second-factor-setup-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    secret = page.locator("main code.secret").inner_text().replace(" ", "")
    phone = pyotp.TOTP(secret)
    # The phone's clock runs half a minute behind: its code is still accepted.
    # A code one window old is accepted while the server is still in the next window:
    # near a window's end, wait for the new one (a loaded machine takes seconds to
    # submit, and the server could be two windows on).
    if time.time() % 30 > 20:
        time.sleep(30 - time.time() % 30 + 0.5)
    page.locator("main input[name=code]").fill(phone.at(time.time() - 30))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    codes = page.locator("main ul.recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c.strip()) for c in codes)
    page.screenshot(path=str(screenshot_dir / "second-factor-recovery-codes.png"), full_page=True)
    _log_out(page)

    # The next login asks for the code after the password.
    _log_in(page, email, NEW_PASSWORD)
    assert page.url.endswith("/login/code"), page.url
    assert page.locator("main input[name=code]").get_attribute("autocomplete") == "one-time-code"
    assert not _serious_violations(page)
    page.goto("/dashboard")
    assert "/login" in page.url  # the password alone did not log in
    _log_in(page, email, NEW_PASSWORD)
    page.locator("main input[name=code]").fill("000000" if phone.now() != "000000" else "111111")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("main .error").first.is_visible()
    page.locator("main input[name=code]").fill(phone.now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/dashboard"), page.url
    assert page.get_by_role("button", name=LOG_OUT).count() == 1
