"""A service voucher from granting to the provider's downloaded statement, in
Chromium on the demo data: staff grant Aino Virtanen a laundry voucher and place an
order funded by it, the provider accepts and records a service event of last
month, staff approve it, the administrator settles last month, and the provider
downloads the statement as PDF and CSV with the amounts of the event."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from demo import DEMO_PASSWORD
from tests.browser.test_login_roles import _serious_violations

pytestmark = pytest.mark.browser

STAFF = "ohjaaja1@demo.kotiapu.fi"
PROVIDER = "tilaukset@kirkaskoti.demo.kotiapu.fi"
ADMIN = "admin@demo.kotiapu.fi"
LOG_OUT = re.compile(r"^(Kirjaudu ulos|Log out|Logga ut)$")


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/dashboard"), page.url


def _log_out(page) -> None:
    page.get_by_role("button", name=LOG_OUT).click()
    page.wait_for_load_state("domcontentloaded")


def _accessible(page) -> None:
    serious = _serious_violations(page)
    assert not serious, [f"{v['id']} ({v['impact']}): {v['help']}" for v in serious]


def _submit(page, form_selector: str) -> None:
    page.locator(f"{form_selector} button[type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")


def test_from_granting_to_the_downloaded_statement(page, screenshot_dir, tmp_path):
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    event_day = last_month + timedelta(days=9)

    # Staff grant the voucher from the client's page.
    _log_in(page, STAFF)
    page.goto("/clients/?q=Virtanen")
    page.locator("main a", has_text="Virtanen, Aino").first.click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("main a[href*='/vouchers/new']").click()
    page.wait_for_load_state("domcontentloaded")
    laundry = page.locator("#service_type_id option", has_text="Pyykki").get_attribute("value")
    page.select_option("#service_type_id", laundry)
    page.check("input[name=unit][value=hour]")
    page.fill("#monthly_amount", "8")
    page.fill("#value", "32,00")
    page.fill("#valid_from", last_month.isoformat())
    page.screenshot(path=str(screenshot_dir / "voucher-grant.png"), full_page=True)
    _accessible(page)
    _submit(page, "main form")
    assert re.search(r"/vouchers/\d+$", page.url), page.url
    assert "8 h" in page.locator("#remaining").inner_text()
    voucher_url = page.url

    # An order funded by the voucher, to Kirkas Koti.
    page.locator("main a[href*='voucher_id=']").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("#voucher_id").input_value() == voucher_url.rsplit("/", 1)[1]
    page.locator("main label", has_text="Kirkas Koti").click()
    _submit(page, "main form[method=post]")
    assert re.search(r"/orders/\d+$", page.url), page.url
    order_id = page.url.rsplit("/", 1)[1]
    _log_out(page)

    # The provider accepts and records two hours of last month.
    _log_in(page, PROVIDER)
    page.goto(f"/orders/{order_id}")
    page.locator(f"form[action$='/orders/{order_id}/accept'] button").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto("/vouchers/provider")
    page.fill(f"#o{order_id}-date", event_day.isoformat())
    page.fill(f"#o{order_id}-quantity", "2")
    _submit(page, f"form[action$='/vouchers/orders/{order_id}/events']")
    events = page.locator("main section:has(#events-h)")
    assert "2 h" in events.inner_text() and "64,00" in events.inner_text()
    page.screenshot(path=str(screenshot_dir / "voucher-provider.png"), full_page=True)
    _accessible(page)
    _log_out(page)

    # Staff approve it.
    _log_in(page, STAFF)
    page.goto("/vouchers/review")
    row = page.locator("main tr", has_text="Kirkas Koti").filter(has_text="2 h")
    assert row.count() == 1
    event_id = row.locator("input[name=event_ids]").get_attribute("value")
    _accessible(page)
    page.locator(f"form[action$='/vouchers/events/{event_id}/approve'] button").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto(voucher_url)
    assert page.locator("main td", has_text=re.compile(r"Hyväksytty|Approved")).count() >= 1
    _log_out(page)

    # The administrator settles last month.
    _log_in(page, ADMIN)
    page.goto("/vouchers/settlements")
    assert page.locator("#month").input_value() == f"{last_month:%Y-%m}"
    _submit(page, "main form:has(#month)")
    assert re.search(r"/vouchers/settlements/\d+$", page.url), page.url
    assert page.locator("main", has_text="Kirkas Koti").count() == 1
    page.screenshot(path=str(screenshot_dir / "voucher-settlement-admin.png"), full_page=True)
    settlement_url = page.url
    _log_out(page)

    # The provider downloads its statement.
    _log_in(page, PROVIDER)
    page.goto(settlement_url)
    assert "64,00" in page.content() and "10,00" in page.content()
    page.screenshot(path=str(screenshot_dir / "voucher-statement-provider.png"), full_page=True)
    _accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    page.screenshot(path=str(screenshot_dir / "voucher-statement-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as info:
        page.locator("main a[href$='.pdf']").first.click()
    pdf = tmp_path / "statement.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and info.value.suggested_filename.endswith(".pdf")
    with page.expect_download() as info:
        page.locator("main a[href$='.csv']").first.click()
    csv_file = tmp_path / "statement.csv"
    info.value.save_as(csv_file)
    text = csv_file.read_text(encoding="utf-8-sig")
    # The Finnish statement writes dates as Finnish Excel reads them (d.M.yyyy).
    finnish_day = f"{event_day.day}.{event_day.month}.{event_day.year}"
    assert finnish_day in text and "64,00" in text and "10,00" in text
