"""A browser journey through the front door in Chromium: a relative asks for help on
a phone-sized screen (320 px), forgets the contact details and the consent, finds
everything she wrote still there, sends it and gets a receipt; a guidance worker
finds the request in the callback queue, claims it, logs the callback, goes through
the self-assessment and confirms the suggestion, and turns the request into a
client record without retyping. The public page and the request page pass an
axe-core check (no critical or serious violations)."""

from __future__ import annotations

import re

import pytest

from demo import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

MESSAGE = "Äitini Helmi (88 v.) ei enää jaksa siivota eikä käydä kaupassa.\nHän asuu yksin Pispalassa."


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("critical", "serious")]


def test_from_the_public_form_to_a_converted_client(browser, live_server, screenshot_dir):
    phone = browser.new_context(base_url=live_server, locale="fi-FI", viewport={"width": 320, "height": 720})
    public = phone.new_page()
    public.set_default_timeout(15000)
    try:
        public.goto("/")
        public.get_by_role("link", name="Pyydä apua kotiin").first.click()
        assert public.locator("h1").inner_text() == "Pyydä apua kotiin"
        # Nothing wider than the screen.
        assert public.evaluate("document.documentElement.scrollWidth") <= 320
        assert not _serious_violations(public)
        public.get_by_label("Läheiseni", exact=True).check()
        public.get_by_label("Siivous", exact=True).check()
        public.get_by_label("Kaupassa käynti", exact=True).check()
        public.get_by_label("Kerro lisää omin sanoin (vapaaehtoinen)", exact=True).fill(MESSAGE)
        public.get_by_label("Sen henkilön nimi, jonka kanssa puhumme", exact=True).fill("Helena Koskinen")
        public.get_by_label("Tarvitsen vähän apua", exact=True).check()
        public.get_by_role("button", name="Lähetä pyyntö").click()
        # Refused: the summary names the problems, and nothing typed is lost.
        summary = public.locator(".error-summary")
        assert summary.is_visible()
        assert "Anna puhelinnumero tai sähköpostiosoite" in summary.inner_text()
        assert public.get_by_label("Kerro lisää omin sanoin (vapaaehtoinen)", exact=True).input_value() == MESSAGE
        assert public.get_by_label("Sen henkilön nimi, jonka kanssa puhumme", exact=True).input_value() == "Helena Koskinen"
        assert public.get_by_label("Siivous", exact=True).is_checked() and public.get_by_label("Läheiseni", exact=True).is_checked()
        assert public.get_by_label("Tarvitsen vähän apua", exact=True).is_checked()
        public.screenshot(path=str(screenshot_dir / "front-door-errors-320.png"), full_page=True)
        public.get_by_label("Puhelinnumero", exact=True).fill("040 765 4321")
        public.get_by_label("Sen kodin postinumero, johon apua tarvitaan", exact=True).fill("33250")
        public.get_by_label("Neuvonta saa ottaa minuun yhteyttä tämän pyynnön vuoksi", exact=True).check()
        public.get_by_role("button", name="Lähetä pyyntö").click()
        assert public.locator("h1").inner_text() == "Kiitos, saimme pyyntösi"
        reference = public.locator("#reference").inner_text()
        assert re.fullmatch(r"AP-[A-Z0-9]{6}", reference)
        assert "Ohjaaja soittaa sinulle viimeistään" in public.locator("main").inner_text()
        public.screenshot(path=str(screenshot_dir / "front-door-receipt-320.png"), full_page=True)
    finally:
        phone.close()

    desk = browser.new_context(base_url=live_server, locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    page.set_default_timeout(15000)
    try:
        staff_email = next(email for role, email, _ in DEMO_LOGINS if role == "staff")
        page.goto("/login")
        page.locator("main input[name=email]").fill(staff_email)
        page.locator("main input[name=password]").fill(DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.get_by_role("link", name=re.compile("Takaisinsoittoa odottavia avunpyyntöjä")).click()
        card = page.locator("li.panel", has_text=reference)
        assert card.is_visible()
        page.screenshot(path=str(screenshot_dir / "front-door-queue.png"), full_page=True)
        card.get_by_role("button", name=f"Ota {reference} hoitoon").click()
        assert page.locator("h1").inner_text() == f"Avunpyyntö {reference}"
        assert page.locator("#status").inner_text() == "Otettu hoitoon"
        assert MESSAGE.split("\n")[0] in page.locator("main").inner_text()
        # The callback.
        page.get_by_label("Mitä keskusteltiin", exact=True).fill("Soitin Helenalle. Äidille sopisi siivous ja kauppa-apu.")
        page.get_by_label("Minuutit (ei pakollinen)", exact=True).fill("25")
        page.get_by_role("button", name="Kirjaa yhteydenotto").click()
        assert "Yhteydenotto kirjattu." in page.locator(".flashes").inner_text()
        # The self-assessment with staff's own view, then the suggestion confirmed.
        page.get_by_label("Monimutkainen: paljon tarpeita tai mukana olevia ihmisiä", exact=True).check()
        page.get_by_label("Ei kukaan", exact=True).check()
        page.get_by_role("button", name="Tallenna vastaukset").click()
        suggestion = page.locator("#suggestion")
        assert "Tarvitsee tiivistä ohjausta" in suggestion.inner_text()  # staff's view "complex" (rule)
        assert not _serious_violations(page)
        page.get_by_role("button", name="Vahvista").click()
        assert page.locator("#confirmed").is_visible()
        page.screenshot(path=str(screenshot_dir / "front-door-request.png"), full_page=True)
        # Into a client record: what she typed is already there.
        page.get_by_role("link", name="Tee asiakastieto").click()
        assert page.get_by_label("Etunimi", exact=True).input_value() == "Helena"
        assert page.get_by_label("Sukunimi", exact=True).input_value() == "Koskinen"
        assert page.get_by_label("Postinumero", exact=True).input_value() == "33250"
        assert page.get_by_label("Puhelin", exact=True).input_value() == "0407654321"
        page.get_by_label("Katuosoite", exact=True).fill("Pispalan valtatie 12 B 4")
        page.get_by_label("Kunta", exact=True).fill("Tampere")
        page.get_by_role("button", name="Luo asiakastieto").click()
        assert re.search(r"/clients/\d+$", page.url), page.url
        assert "Koskinen" in page.locator("h1").inner_text()
        page.screenshot(path=str(screenshot_dir / "front-door-client.png"), full_page=True)
    finally:
        desk.close()
