"""Reflow at 320 CSS px (WCAG 2.1 success criterion 1.4.10) and touch-target sizes.

Chromium opens the public pages and, for every demo login (every role: admin, guidance
workers, manager, provider organisation admins and workers, the staffing agency, a
client and a relative), the dashboard, every page of the main menu and the pages those
link to (one page per kind of address, bounded per login), all in a 320 × 640 viewport.
On every page:

* the document does not scroll sideways (``document.scrollingElement.scrollWidth``
  is at most 320), and no element reaches past the right edge of the viewport unless it
  sits inside a scroll container that holds a data table (``.table-scroll``);
* the data tables people work in on a phone (the provider's inbox, order lists,
  purchases) are stacked rows: they fit without a scroll bar of their own;
* every visible form control (inputs, checkboxes, radio buttons, selects, buttons) is
  at least 24 × 24 CSS px (WCAG 2.2 success criterion 2.5.8);
* the footer links to the accessibility statement.

A full-page screenshot of every page is saved in the screenshot folder
(``BROWSER_SCREENSHOTS``, or a temporary folder whose path pytest prints at the end)
under ``reflow-320/<login>/``. docs/accessibility.md says how to run it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from demo import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 320, 640
MIN_TARGET = 24
MAX_PAGES_PER_LOGIN = 32
PUBLIC_PAGES = ["/", "/login", "/accessibility", "/accessibility?lang=sv", "/accessibility?lang=en"]
# Addresses that are not pages to look at: downloads, the API, sign-out and such.
SKIP = re.compile(r"(\.(csv|xlsx|pdf|json|svg|png|ics)$)|^/(api|static|healthz|logout|dev/mail)|/download|/export"
                  r"|/feed\b|^/f/")
# The pages whose tables must be stacked rows on a phone (the provider's inbox, the
# order lists, purchases). A pattern of the normalised address.
STACKED = re.compile(r"^/(orders|orders/inbox|my/purchases|provider/purchases|staffing/inbox)/?$")

_CHECK = """
(minTarget) => {
  const vw = document.documentElement.clientWidth;
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + [...el.classList].join('.');
    const text = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  // How far right the element can be seen: a table's own scroll container lets it
  // scroll (allowed: null), another clipping ancestor cuts it off at its edge.
  const visibleRight = (el, right) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'visible') continue;
      if ((ox === 'auto' || ox === 'scroll') && a.querySelector('table')) return null;
      right = Math.min(right, a.getBoundingClientRect().right);
    }
    return right;
  };
  const visible = (el) => {
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right <= vw + 0.5) continue;
    const right = visibleRight(el, r.right);
    if (right !== null && right > vw + 0.5) wide.push(`${describe(el)} right=${Math.round(r.right)}`);
  }
  const small = [];
  const controls = document.querySelectorAll(
    'main input:not([type=hidden]), main select, main textarea, main button, header button, header input');
  for (const el of controls) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width < minTarget - 0.01 || r.height < minTarget - 0.01)
      small.push(`${describe(el)}[${el.type || ''}] ${r.width.toFixed(1)}x${r.height.toFixed(1)}`);
  }
  const scrolling = [...document.querySelectorAll('main .table-scroll, main table')]
    .filter((el) => visible(el) && el.scrollWidth > el.clientWidth + 1).map(describe);
  return {scrollWidth: document.scrollingElement.scrollWidth, wide: wide.slice(0, 12),
          small: small.slice(0, 12), scrollingTables: scrolling,
          statement: !!document.querySelector('footer a[href$="/accessibility"]')};
}
"""

_LINKS = """
() => [...document.querySelectorAll('main a[href], nav.main-nav a[href]')]
  .filter((a) => !a.hasAttribute('download')).map((a) => a.getAttribute('href'))
"""


# Kinds of page opened more than once per login: an order's page differs a lot with its
# state (offers, visit reports, the feedback link, closing the loop), and the dashboard
# links to orders in different states first.
SAMPLES = {"/orders/N": 4}
# Query parameters that page through or re-sort the same page.
SAME_PAGE_ARGS = {"page", "cursor", "sort", "order"}


def _pattern(url: str) -> str:
    """One page per kind of address: numbers and tokens in the path become N, and the
    query counts by its parameter names (``/orders/new?client_id`` differs from
    ``/orders/new``; ``?lang=sv`` is a page of its own)."""
    parts = urlsplit(url)
    path = "/".join(("N" if re.fullmatch(r"\d+|[A-Za-z0-9_-]{20,}|[A-Z]{2}-[\d-]+", p) else p)
                    for p in parts.path.split("/"))
    keys = sorted({k for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in SAME_PAGE_ARGS}
                  | ({"lang=" + dict(parse_qsl(parts.query)).get("lang", "")} if "lang=" in parts.query else set()))
    return path + ("?" + "&".join(keys) if keys else "")


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:80] or "home"


def check_page(page, path: str, shots, label: str) -> list[str]:
    """Open `path` and return what is wrong with it at 320 px (empty: nothing)."""
    response = page.goto(path)
    page.wait_for_load_state("domcontentloaded")
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return []
    page.screenshot(path=str(shots / label / f"{_slug(path)}.png"), full_page=True)
    result = page.evaluate(_CHECK, MIN_TARGET)
    problems = []
    if result["scrollWidth"] > WIDTH:
        problems.append(f"the page is {result['scrollWidth']} px wide")
    problems += [f"wider than the screen: {w}" for w in result["wide"]]
    problems += [f"touch target under {MIN_TARGET} px: {s}" for s in result["small"]]
    if STACKED.match(urlsplit(path).path):
        problems += [f"a table that should be stacked rows scrolls: {t}" for t in result["scrollingTables"]]
    if not result["statement"]:
        problems.append("no link to the accessibility statement in the footer")
    return [f"{path}: {p}" for p in problems]


def crawl(page, base: str, start: list[str], limit: int, shots, label: str) -> tuple[list[str], list[str]]:
    """Visit `start` and then the same-origin pages they link to, one per kind of
    address, at most `limit` pages. Returns (visited paths, problems)."""
    queue, seen_patterns, visited, problems = list(start), {}, [], []
    (shots / label).mkdir(parents=True, exist_ok=True)
    while queue and len(visited) < limit:
        path = queue.pop(0)
        pattern = _pattern(path)
        if path in visited or seen_patterns.get(pattern, 0) >= SAMPLES.get(pattern, 1) or SKIP.search(urlsplit(path).path):
            continue
        seen_patterns[pattern] = seen_patterns.get(pattern, 0) + 1
        problems += check_page(page, path, shots, label)
        visited.append(path)
        if urlsplit(page.url).path in ("/login",) and path != "/login":
            problems.append(f"{path}: sent to the login page")
            continue
        for href in page.evaluate(_LINKS):
            url = urlsplit(urljoin(page.url, href))
            if f"{url.scheme}://{url.netloc}" != base or (url.path, url.query) == urlsplit(page.url)[2:4]:
                continue
            queue.append(url.path + ("?" + url.query if url.query else ""))
    return visited, problems


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("critical", "serious")]


def _phone(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="fi-FI", viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(20000)
    return context, page


def test_public_pages_reflow_at_320_px(browser, live_server, screenshot_dir):
    context, page = _phone(browser, live_server)
    try:
        shots = screenshot_dir / "reflow-320"
        (shots / "public").mkdir(parents=True, exist_ok=True)
        problems = []
        for path in PUBLIC_PAGES:
            problems += check_page(page, path, shots, "public")
        visited, more = crawl(page, live_server, ["/"], 12, shots, "public")
        assert len(visited) >= 2
        assert not problems + more, "\n".join(problems + more)
        for lang in ("fi", "sv", "en"):
            page.goto(f"/accessibility?lang={lang}")
            assert not _serious_violations(page), lang
    finally:
        context.close()


LOGINS = [(role, email) for role, email, _ in DEMO_LOGINS]


@pytest.mark.parametrize(("role", "email"), LOGINS, ids=[email.split("@")[0] + "-" + email.split("@")[1].split(".")[0]
                                                          for _, email in LOGINS])
def test_every_main_page_of_a_demo_login_reflows_at_320_px(browser, live_server, screenshot_dir, role, email):
    context, page = _phone(browser, live_server)
    try:
        page.goto("/login")
        page.locator("main input[name=email]").fill(email)
        page.locator("main input[name=password]").fill(DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("domcontentloaded")
        assert urlsplit(page.url).path != "/login", f"{email} could not log in"
        # The menu is there and reachable by keyboard at this width.
        menu = page.locator("nav.main-nav a")
        assert menu.count() >= 1
        start = ["/dashboard"] + [urlsplit(urljoin(page.url, h)).path for h in
                                  page.locator("nav.main-nav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")]
        label = re.sub(r"[^a-z0-9]+", "-", email.lower())
        visited, problems = crawl(page, live_server, start, MAX_PAGES_PER_LOGIN, screenshot_dir / "reflow-320", label)
        assert len(visited) >= 2, visited
        assert not problems, f"{len(problems)} problems on {len(visited)} pages:\n" + "\n".join(problems)
    finally:
        context.close()


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def _focused(page) -> str:
    return page.evaluate("(() => { const a = document.activeElement; return a.tagName.toLowerCase() + '|' + "
                         "(a.getAttribute('class') || '') + '|' + a.textContent.trim(); })()")


def test_the_menu_collapses_on_a_phone_and_works_by_keyboard(browser, live_server, screenshot_dir):
    context, page = _phone(browser, live_server)
    try:
        _log_in(page, next(email for role, email in LOGINS if role == "staff"))
        toggle = page.locator("nav.main-nav button.menu-toggle")
        links = page.locator("nav.main-nav a")
        assert toggle.is_visible() and toggle.inner_text().strip() == "Valikko"
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not links.first.is_visible()
        assert not _serious_violations(page)
        # Tab from the top of the page reaches the button before anything in the menu.
        page.locator("body").focus()
        for _ in range(15):
            page.keyboard.press("Tab")
            if "menu-toggle" in _focused(page):
                break
        assert "menu-toggle" in _focused(page), _focused(page)
        page.keyboard.press("Enter")
        assert toggle.get_attribute("aria-expanded") == "true"
        assert links.first.is_visible()
        assert not _serious_violations(page)
        page.screenshot(path=str(screenshot_dir / "reflow-320" / "menu-open.png"), full_page=False)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
        page.keyboard.press("Tab")
        first = links.first.inner_text().strip()
        assert _focused(page).startswith("a|") and _focused(page).endswith(first)
        # Escape closes the menu and gives the focus back to the button.
        page.keyboard.press("Escape")
        assert toggle.get_attribute("aria-expanded") == "false" and not links.first.is_visible()
        assert "menu-toggle" in _focused(page)
        # Space opens it again; following a link works from the keyboard.
        page.keyboard.press(" ")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_load_state("domcontentloaded")
        assert urlsplit(page.url).path == "/dashboard"
        # On a wide screen there is no button and the menu is always shown.
        page.set_viewport_size({"width": 1280, "height": 800})
        assert not toggle.is_visible() and links.first.is_visible()
    finally:
        context.close()


def test_provider_checkboxes_of_the_order_form_are_large_enough_on_a_phone(browser, live_server, screenshot_dir):
    context, page = _phone(browser, live_server)
    try:
        _log_in(page, next(email for role, email in LOGINS if role == "staff"))
        page.goto("/clients/?mine=y")
        hrefs = page.locator("main a[href^='/clients/']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        client_id = next(m.group(1) for h in hrefs if (m := re.fullmatch(r"/clients/(\d+)", h)))
        page.goto(f"/orders/new?client_id={client_id}")
        options = page.locator("#service-choice option").evaluate_all("els => els.map(e => e.value).filter(Boolean)")
        boxes = page.locator("main input[name=provider_ids]")
        for value in options:
            page.goto(f"/orders/new?client_id={client_id}&service_type_id={value}")
            if boxes.count():
                break
        assert boxes.count(), "no service of the client has eligible providers"
        page.screenshot(path=str(screenshot_dir / "reflow-320" / "new-order-providers.png"), full_page=True)
        for i in range(boxes.count()):
            box = boxes.nth(i).bounding_box()
            assert box["width"] >= MIN_TARGET and box["height"] >= MIN_TARGET, box
        assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
        result = page.evaluate(_CHECK, MIN_TARGET)
        assert not result["wide"] and not result["small"], result
    finally:
        context.close()


@pytest.mark.parametrize("lang, word", [("fi", "Saavutettavuusseloste"), ("sv", "Tillgänglighetsutlåtande")])
def test_a_long_compound_word_wraps_inside_its_box_at_320_px(browser, live_server, lang, word):
    """The statement's heading is one word longer than a phone's screen is wide: it is
    hyphenated in the page's language where the browser has a dictionary, and broken
    inside its box anyway where it has none (Chromium on Linux), never cut off."""
    context, page = _phone(browser, live_server)
    try:
        page.goto(f"/accessibility?lang={lang}")
        heading = page.locator("main h1")
        assert heading.inner_text().strip() == word
        box = heading.evaluate("""h => { const s = getComputedStyle(h), r = h.getBoundingClientRect();
            const line = parseFloat(s.lineHeight);
            return {lang: h.closest("[lang]").lang, hyphens: s.hyphens, wrap: s.overflowWrap, right: r.right,
                    lines: Math.round(r.height / line), scroll: h.scrollWidth, client: h.clientWidth}; }""")
        assert box["lang"] == lang and box["hyphens"] == "auto" and box["wrap"] == "anywhere", box
        assert box["lines"] >= 2, box  # the word did not fit on one line and wrapped
        assert box["scroll"] <= box["client"] and box["right"] <= WIDTH, box
    finally:
        context.close()
