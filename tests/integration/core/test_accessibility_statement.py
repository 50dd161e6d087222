"""The accessibility statement (Act 306/2019): public, at a fixed address, in Finnish,
Swedish and English, honest about what does not conform, with the feedback address
and the supervisory authority; every page's footer links to it."""

import re

import pytest

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("lang,title,gap,authority,site,fixed", [
    ("fi", "Saavutettavuusseloste", "Palveluntuottajien lataamat asiakirjat", "Etelä-Suomen aluehallintovirastolle",
     "https://www.saavutettavuusvaatimukset.fi", "vähintään kontrastisuhteella 3:1"),
    ("sv", "Tillgänglighetsutlåtande", "Dokument som tjänsteproducenterna laddar upp", "Regionförvaltningsverket i Södra Finland",
     "https://www.tillganglighetskrav.fi", "med en kontrast på minst 3:1"),
    ("en", "Accessibility statement", "Documents that providers upload",
     "Regional State Administrative Agency for Southern Finland", "https://www.webaccessibility.fi",
     "at a contrast of 3:1 at least"),
])
def test_statement_in_each_language_without_logging_in(client, lang, title, gap, authority, site, fixed):
    r = client.get(f"/accessibility?lang={lang}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert re.search(rf"<h1>\s*{re.escape(title)}\s*</h1>", html)
    assert "306/2019" in html and "WCAG 2.1" in html
    assert gap in html  # the known gaps are listed, in the page's language
    gaps = html[html.index('class="gaps"'):]
    gaps = gaps[:gaps.index("</ul>")]
    assert "WCAG 1.4.11" not in gaps  # the charts' contrast is fixed: listed under what works
    assert "WCAG 3.1.2" not in gaps  # system texts and API errors are translated now
    assert fixed in html[:html.index('class="gaps"')]
    assert authority in html and f'href="{site}"' in html
    assert 'href="mailto:saavutettavuus@kotiapu.invalid"' in html
    assert "6.12.2026" in html or "2026-12-06" in html or "6 Dec 2026" in html


def test_feedback_address_comes_from_the_setting(app, client):
    app.config["ACCESSIBILITY_FEEDBACK_EMAIL"] = "palaute@hyvinvointialue.example"
    html = client.get("/accessibility").get_data(as_text=True)
    assert 'href="mailto:palaute@hyvinvointialue.example"' in html


def test_every_page_footer_links_to_the_statement(client, make_user, login_as):
    for path in ("/", "/login", "/accessibility", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        footer = html[html.index("<footer"):]
        assert 'href="/accessibility"' in footer, path
    for role in ("staff", "provider", "client", "manager", "admin"):
        c = login_as(make_user(role))
        html = c.get("/dashboard").get_data(as_text=True)
        assert 'href="/accessibility"' in html[html.index("<footer"):], role
        c.post("/logout")
