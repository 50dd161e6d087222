"""Issue 13, points 1 and 2, through the real pages in Chromium on the demo data.

Concerns: a provider cannot raise a concern without its text and urgency; a raised
concern shows its text, urgency and reporter to the provider and to staff, staff
acknowledge it; the relative acting for a client with a concern does not see the
text. Confirmations: completing an ongoing order in a browser with JavaScript
switched off says the order is ongoing, asks for the reason on a second page,
"Go back" changes nothing, and only "Yes, complete the order" completes it."""

from __future__ import annotations

import re

import pytest

from demo import DEMO_PASSWORD
from demo.orders import CONCERN_NOTES

pytestmark = pytest.mark.browser

PROVIDER_ADMIN = "tilaukset@hyvaarki.demo.kotiapu.fi"
STAFF = "ohjaaja1@demo.kotiapu.fi"
RELATIVE = "omainen@demo.kotiapu.fi"
LOG_OUT = re.compile(r"^(Kirjaudu ulos|Log out|Logga ut)$")


def _log_in(page, email: str) -> None:
    page.goto("/login?lang=en")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/dashboard"), page.url


def _log_out(page) -> None:
    page.get_by_role("button", name=LOG_OUT).click()
    page.wait_for_load_state("domcontentloaded")


def _running_orders(page) -> list[str]:
    """The provider's orders in progress, from the inbox: their page paths."""
    page.goto("/orders/inbox?lang=en")
    rows = page.locator("main table tr", has=page.locator(".status-in_progress"))
    return [rows.nth(i).locator("a").first.get_attribute("href") for i in range(rows.count())]


def test_a_concern_needs_its_text_reaches_staff_and_stays_hidden_from_relatives(page, screenshot_dir):
    _log_in(page, PROVIDER_ADMIN)
    orders = _running_orders(page)
    assert orders, "the demo provider has no running order"
    page.goto(orders[0] + "?lang=en")
    visit = page.locator("form", has=page.get_by_role("button", name="Save the visit report"))
    visit.get_by_label("Minutes").fill("45")
    visit.get_by_label("Yes: alert the responsible worker now").check()
    visit.get_by_role("button", name="Save the visit report").click()
    page.wait_for_load_state("domcontentloaded")
    body = page.locator("main").inner_text()
    assert "Describe what you noticed" in page.content() or "Describe what worried you" in body
    assert "Choose how soon the client should be contacted" in body

    text = "Selaintesti: asiakas oli unohtanut lääkkeensä kolmena päivänä"
    page.goto(orders[0] + "?lang=en")
    visit = page.locator("form", has=page.get_by_role("button", name="Save the visit report"))
    visit.get_by_label("Minutes").fill("45")
    visit.get_by_label("Yes: alert the responsible worker now").check()
    visit.get_by_label(re.compile("^What worried you")).fill(text)
    visit.get_by_label("Today").check()
    visit.get_by_role("button", name="Save the visit report").click()
    page.wait_for_load_state("domcontentloaded")
    concerns = page.locator("section", has=page.get_by_role("heading", name="Concerns"))
    assert text in concerns.inner_text() and "Contact today" in concerns.inner_text()
    order_path = orders[0]
    _log_out(page)

    # Any guidance worker reads it on the order page, with who reported it, and takes it on.
    _log_in(page, STAFF)
    page.goto(order_path + "?lang=en")
    concerns = page.locator("section", has=page.get_by_role("heading", name="Concerns"))
    assert text in concerns.inner_text() and "reported by" in concerns.inner_text()
    page.screenshot(path=str(screenshot_dir / "concern-staff-order.png"), full_page=True)
    concerns.locator("li", has_text=text).get_by_role("button", name="Acknowledge: I take this on").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Concern acknowledged" in page.locator("main").inner_text()
    assert "Acknowledged by" in page.locator("section", has=page.get_by_role("heading", name="Concerns")).inner_text()
    _log_out(page)

    # The relative of a client with a concern sees the services, never the concern's text.
    _log_in(page, RELATIVE)
    links = page.locator("main a[href*='/orders/']")
    paths = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert paths, "the relative sees no orders"
    for path in paths:
        page.goto(path.split("?")[0] + "?lang=en")
        shown = page.content()
        assert not any(note in shown for note in CONCERN_NOTES), path
        assert "Concerns" not in page.locator("main h2").all_inner_texts()


def test_completing_an_ongoing_order_asks_again_without_javascript(browser, live_server, screenshot_dir):
    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        _log_in(page, PROVIDER_ADMIN)
        orders = _running_orders(page)
        path = orders[-1]
        page.goto(path + "?lang=en")
        complete = page.locator("section", has=page.get_by_role("heading", name="Complete the order"))
        assert "the service is ongoing" in complete.inner_text() or "Visits are still planned" in complete.inner_text()
        complete.get_by_role("button", name="Mark the order completed").click()
        page.wait_for_load_state("domcontentloaded")
        # The second step: what will happen, and the reason asked for there.
        assert page.get_by_role("heading", name="What will happen").is_visible()
        main = page.locator("main").inner_text()
        assert "This cannot be undone." in main and "Completing it now ends the service early" in main
        page.screenshot(path=str(screenshot_dir / "confirm-complete-320.png"), full_page=True)
        # Go back: nothing changed.
        page.get_by_role("link", name="Go back: do nothing").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.locator(".status-in_progress").count() >= 1
        # Again, confirming without the reason: the same page with the error.
        page.locator("section", has=page.get_by_role("heading", name="Complete the order")) \
            .get_by_role("button", name="Mark the order completed").click()
        page.wait_for_load_state("domcontentloaded")
        page.get_by_role("button", name="Yes, complete the order").click()
        page.wait_for_load_state("domcontentloaded")
        reason = page.get_by_label("Why does the service end now?")
        assert reason.get_attribute("aria-invalid") == "true"
        reason.fill("Asiakas muutti palvelutaloon")
        page.get_by_role("button", name="Yes, complete the order").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.url.split("?")[0].endswith(path)
        assert "Order completed" in page.locator("main").inner_text()
        assert page.locator(".status-completed").count() >= 1
    finally:
        context.close()


def test_an_empty_visit_report_comes_back_with_focus_on_its_error_summary(page, screenshot_dir):
    """Issue 20, point 5: the visit report sent empty shows the order page again
    (422) with the error summary focused, its links reaching the fields, what was
    typed kept, and no axe-core violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    _log_in(page, PROVIDER_ADMIN)
    orders = _running_orders(page)
    assert orders, "the demo provider has no running order"
    page.goto(orders[0] + "?lang=en")
    visit = page.locator("form", has=page.get_by_role("button", name="Save the visit report"))
    visit.get_by_label("Date of the visit").fill("")
    visit.get_by_label(re.compile("^Tasks done")).fill("Siivous")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        visit.get_by_role("button", name="Save the visit report").click()
    assert posted.value.status == 422
    page.wait_for_load_state("domcontentloaded")
    summary = page.locator(".error-summary")
    assert summary.evaluate("el => el === document.activeElement")
    assert "Give the length of the visit in minutes." in summary.inner_text()
    for link in summary.locator("a").all():
        target = link.get_attribute("href")
        assert page.locator(target).count() == 1, target
    link = summary.get_by_role("link", name=re.compile("^Minutes"))
    link.click()
    assert page.locator("#visit-minutes").evaluate("el => el === document.activeElement")
    assert page.locator("#visit-minutes").get_attribute("aria-invalid") == "true"
    assert page.get_by_label(re.compile("^Tasks done")).input_value() == "Siivous"
    page.screenshot(path=str(screenshot_dir / "order-visit-errors.png"), full_page=True)
    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], [n["html"][:200] for n in v["nodes"]]) for v in violations]
