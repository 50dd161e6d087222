"""axe-core on every page state the browser tests reach (issue 20 point 5).

Every page opened in a browser context of the tests (the ``page`` fixture's and the
contexts tests make themselves with ``browser.new_context``) is watched. Before the
test acts on a page again (``goto``, ``reload``, ``go_back``, a click, a fill, a key
press, ``close``, the context's ``close``) and when the test ends, the document the
page shows is checked with axe-core once: when the page has loaded and the test has
looked at it, before anything else changes it. So a page reached by a link, the page
after a form was sent, and the page a refused form came back on (with its error
summary) are all checked, at the moment the test itself sees them.

A page state is checked once per test session: its key is the address with the
numbers taken out (``/orders/N``), the page's language, phone or desktop width, and
the page's structure (its headings, forms, tables, charts, error summary and alerts by
their ids), so the same page for another role or with errors shown is a new state,
while another client's copy of the same page is not. The violations are collected
and the test fails at its end, naming the address, the rule and the elements.

Contexts without JavaScript are skipped (axe-core is a script), and so are pages
that are not served over HTTP (``about:blank``). ``AXE_WATCH=0`` turns the watch off
(to time the suite without it).
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Error, Keyboard, Locator, Page

AXE_JS = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js").read_text(encoding="utf-8")
# What axe checks: WCAG 2.0 and 2.1 A and AA, and the best practices axe runs by default.
OPTIONS = {"resultTypes": ["violations"]}
PHONE_WIDTH = 640
ENABLED = os.environ.get("AXE_WATCH", "1") != "0"  # AXE_WATCH=0: to time the suite without it  # below 40rem the layout is the phone's (menu button, stacked rows)

_STATE_JS = """() => {
  if (window.__axeState) return null;
  const width = window.innerWidth < %d ? "phone" : "desktop";
  const parts = [...document.querySelectorAll(
      "h1, h2, form, table, svg.chart, .error-summary, [role=alert], [role=status], dialog, details")]
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
         + (e.tagName === "FORM" ? "@" + (e.getAttribute("action") || "").replace(/[0-9]+/g, "N") : ""));
  window.__axeState = [location.pathname.replace(/[0-9]+/g, "N"),
                       [...new URLSearchParams(location.search).keys()].filter(k => k !== "lang").sort().join("&"),
                       document.documentElement.lang, width, parts.join(",")].join(" | ");
  return {state: window.__axeState, url: location.href};
}""" % PHONE_WIDTH


class AxeWatch:
    """The session's record: page states checked, violations found per test."""

    def __init__(self) -> None:
        self.checked: set[str] = set()
        self.found: list[str] = []
        self.runs = 0
        self.seconds = 0.0  # the time axe took, all runs together
        self.contexts: list[BrowserContext] = []
        self._busy = False

    def check(self, page: Page) -> None:
        """Check the document ``page`` shows now, if its state is new."""
        if not ENABLED or self._busy or page.is_closed() or getattr(page.context, "_axe_off", False):
            return
        self._busy = True
        try:
            try:
                state = page.evaluate(_STATE_JS)
            except Error:
                return  # the page is between two documents: the next one is checked later
            if not state or not state["url"].startswith("http") or state["state"] in self.checked:
                return
            started = time.monotonic()
            try:
                page.evaluate(AXE_JS)
                result = page.evaluate("options => axe.run(document, options)", OPTIONS)
            except Error:
                return
            finally:
                self.seconds += time.monotonic() - started
            self.checked.add(state["state"])
            self.runs += 1
            for v in result["violations"]:
                nodes = "; ".join(_target(n) + " " + " ".join(n["html"].split())[:160] for n in v["nodes"][:5])
                self.found.append(f"{state['url']}: {v['id']} ({v.get('impact')}): {v['help']} -- {nodes}")
        finally:
            self._busy = False

    def check_context(self, context: BrowserContext) -> None:
        for page in list(context.pages):
            self.check(page)

    def check_open(self) -> None:
        for context in list(self.contexts):
            try:
                self.check_context(context)
            except Error:
                pass
        self.contexts = [c for c in self.contexts if c.pages]

    def take_found(self) -> list[str]:
        found, self.found = self.found, []
        return found


def _target(node: dict) -> str:
    return " > ".join(t if isinstance(t, str) else " ".join(t) for t in node["target"])


WATCH = AxeWatch()

# The methods after which a page may show another state: axe checks the page before them.
_PAGE_METHODS = ("goto", "reload", "go_back", "go_forward", "close", "click", "fill", "press", "check",
                 "select_option", "set_content")
_LOCATOR_METHODS = ("click", "dblclick", "fill", "press", "press_sequentially", "type", "check", "uncheck",
                    "set_checked", "select_option", "set_input_files", "tap", "clear", "submit")
_KEYBOARD_METHODS = ("press", "type", "insert_text")


def _before(method, page_of):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        page = page_of(self)
        if page is not None:
            WATCH.check(page)
        return method(self, *args, **kwargs)

    wrapper.__axe_wrapped__ = True
    return wrapper


def _keyboard_page(keyboard: Keyboard):
    return getattr(keyboard, "_axe_page", None)


def install() -> None:
    """Wrap the Playwright methods once (idempotent)."""
    if getattr(Page.goto, "__axe_wrapped__", False):
        return
    for name in _PAGE_METHODS:
        if hasattr(Page, name):
            setattr(Page, name, _before(getattr(Page, name), lambda p: p))
    for name in _LOCATOR_METHODS:
        if hasattr(Locator, name):
            setattr(Locator, name, _before(getattr(Locator, name), lambda loc: loc.page))
    for name in _KEYBOARD_METHODS:
        setattr(Keyboard, name, _before(getattr(Keyboard, name), _keyboard_page))

    original_keyboard = Page.keyboard

    def keyboard(self):
        kb = original_keyboard.fget(self)
        kb._axe_page = self
        return kb

    Page.keyboard = property(keyboard)

    close = BrowserContext.close

    @functools.wraps(close)
    def close_context(self, *args, **kwargs):
        try:
            WATCH.check_context(self)
        except Error:
            pass
        return close(self, *args, **kwargs)

    BrowserContext.close = close_context

    new_context = Browser.new_context

    @functools.wraps(new_context)
    def new_watched_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        context._axe_off = kwargs.get("java_script_enabled") is False
        WATCH.contexts.append(context)
        return context

    Browser.new_context = new_watched_context
