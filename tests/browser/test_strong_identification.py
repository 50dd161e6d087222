"""The demo's strong identification end to end, as `make run` serves it: `flask serve`
(demo data, embedded Redis, worker, gunicorn and the local OpenID provider of
identity.local_provider) on free loopback ports; Chromium presses "Log in with
strong identification" on the real login page, picks Aino Virtanen on the
provider's "bank" screen, lands on her own services, and logs out through the
provider (RP-initiated logout)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, _free_port, _server_env

pytestmark = pytest.mark.browser

LOG_OUT = "Kirjaudu ulos"


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def served():
    tmp = Path(tempfile.mkdtemp(prefix="kotiapu-serve-"))
    env = _server_env(tmp / "instance")
    port, identity_port = _free_port(), _free_port()
    log = open(tmp / "serve.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port),
                                "--workers", "1", "--identity-port", str(identity_port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url, issuer = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{identity_port}"
    try:
        deadline = time.monotonic() + 240  # migrations and the demo data come first
        while not (_up(url + "/healthz") and _up(issuer + "/.well-known/openid-configuration")):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("flask serve did not come up:\n" + log.read()[-4000:])
            time.sleep(0.5)
        yield url, issuer
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # serve stops its children (and their groups)
            process.wait(40)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_logs_in_through_the_demo_identity_provider(browser, served, screenshot_dir):
    url, issuer = served
    context = browser.new_context(base_url=url, locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto("/login")
        assert page.locator("main input[name=password]").is_visible()  # the password form stays
        from tests.browser.test_login_roles import _serious_violations

        serious = _serious_violations(page)
        assert not serious, [f"{v['id']} ({v['impact']}): {v['help']}" for v in serious]
        page.get_by_role("link", name="Kirjaudu vahvalla tunnistautumisella").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.url.startswith(issuer + "/authorize?"), page.url
        page.screenshot(path=str(screenshot_dir / "strong-identification-bank.png"), full_page=True)
        page.get_by_label("Aino Virtanen").check()
        page.get_by_role("button", name="Tunnistaudu / Identify").click()
        page.wait_for_url("**/dashboard")
        assert page.locator("html").get_attribute("lang") == "fi"
        assert "Aino Virtanen" in page.locator("body").inner_text()
        page.screenshot(path=str(screenshot_dir / "strong-identification-dashboard.png"), full_page=True)

        page.get_by_role("button", name=LOG_OUT).click()
        page.wait_for_url(lambda address: address.startswith(url + "/login"))
        assert page.url.startswith(url + "/login"), page.url  # back from the provider's end-session endpoint
        assert page.get_by_role("button", name=LOG_OUT).count() == 0
        page.goto("/dashboard")
        assert "/login" in page.url
    finally:
        context.close()


def test_an_unknown_person_gets_the_contact_page(browser, served):
    url, issuer = served
    context = browser.new_context(base_url=url, locale="fi-FI")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto("/login")
        page.get_by_role("link", name="Kirjaudu vahvalla tunnistautumisella").click()
        page.get_by_label("Matti Tuntematon").check()
        page.get_by_role("button", name="Tunnistaudu / Identify").click()
        page.wait_for_url(lambda address: address.startswith(url + "/login/strong/callback"))
        assert page.locator("h1").inner_text() == "Palveluitasi ei löytynyt"
        assert page.get_by_role("link", name="Pyydä apua kotiin").count() >= 1
    finally:
        context.close()
