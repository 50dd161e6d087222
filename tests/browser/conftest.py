"""Browser tests drive the real platform: a gunicorn process serving the app on a free
loopback port, with the demo data loaded, on the fresh-machine defaults (a SQLite file
and an embedded Redis in a temporary instance folder). Debian's headless Chromium is
driven through Playwright (``playwright install`` is not used: the system browser is).

The server is started once per test session and stopped at the end.

axe-core checks every page state the tests reach (``tests/browser/axe_watch.py``): a
test whose pages break a rule fails at its end with the list of violations.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser import axe_watch

axe_watch.install()  # before any browser context is made

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(instance: Path) -> dict:
    """The environment of a fresh machine: nothing configured but the instance folder."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "MAIL_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                 "STRIPE_API_BASE", "SECRET_KEY", "BASE_URL"):
        env.pop(name, None)
    env.update(INSTANCE_PATH=str(instance), APP_ENV="development", LOG_LEVEL="WARNING")
    return env


def _flask(args: list[str], env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr[-4000:]}")


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer /healthz within {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture(scope="session")
def live_server():
    """Base URL of the running platform with the demo data loaded."""
    tmp = Path(tempfile.mkdtemp(prefix="kotiapu-browser-"))
    env = _server_env(tmp / "instance")
    _flask(["db", "upgrade"], env)
    _flask(["demo"], env)
    port = _free_port()
    log = tmp / "gunicorn.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "app:create_app()"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        _stop(process)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium): the browser tests cannot run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, opened on the platform."""
    context = browser.new_context(base_url=live_server, locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(autouse=True)
def axe_every_page_state():
    """Fail the test at its end when axe-core found a violation on a page state it
    reached (each state is checked once per session, see axe_watch)."""
    axe_watch.WATCH.take_found()
    yield axe_watch.WATCH
    axe_watch.WATCH.check_open()
    found = axe_watch.WATCH.take_found()
    if found:
        pytest.fail(f"axe-core found {len(found)} violation(s):\n" + "\n".join(found), pytrace=False)


_screenshots: dict[str, Path] = {}


@pytest.fixture(scope="session")
def screenshot_dir():
    """Where the tests save screenshots: ``BROWSER_SCREENSHOTS`` or a new temporary
    folder, kept after the run for a human to look at (its path is printed at the end)."""
    path = Path(os.environ.get("BROWSER_SCREENSHOTS") or tempfile.mkdtemp(prefix="kotiapu-screens-"))
    path.mkdir(parents=True, exist_ok=True)
    _screenshots["dir"] = path
    return path


def pytest_terminal_summary(terminalreporter):
    if axe_watch.WATCH.runs:
        terminalreporter.write_line(f"axe-core: {axe_watch.WATCH.runs} page states checked "
                                    f"in {axe_watch.WATCH.seconds:.0f} s")
    if "dir" in _screenshots:
        terminalreporter.write_line(f"browser screenshots: {_screenshots['dir']}")
