"""A relative acting for a client is addressed as themselves, never as the client
(issue 20 point 7): the portal pages, the feedback page and the e-mails name the
client they act for and speak of "the client", in Finnish and in Swedish; the
client's own pages keep speaking to the client in the second person."""

import re
import pytest

from tests import factories as f

pytestmark = pytest.mark.smoke


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    return " ".join(title.split()) + " | " + " ".join(re.sub(r"<[^>]+>", " ", html).split())


# Texts that speak to the client as "you" about their own services and data: a relative
# acting for the client must never read them. {page: {lang: [texts]}}
CLIENT_SECOND_PERSON = {
    "/dashboard": {"fi": ["Omat palvelut", "Vastuutyöntekijäsi"], "sv": ["Mina tjänster", "Din ansvariga arbetstagare"]},
    "/clients/me/network": {"fi": ["Kuka auttaa minua", "kanssasi", "Vastuutyöntekijäsi", "palvelusi"],
                            "sv": ["Vem hjälper mig", "arbetar med dig", "Din ansvariga arbetstagare", "dina tjänster"]},
    "/clients/me/access-log": {"fi": ["Kuka on katsonut tietojani", "tietojasi", "palvelusi", "puolestasi"],
                               "sv": ["Vem har sett mina uppgifter", "dina uppgifter", "dina tjänster", "för dig"]},
    "/clients/me/data": {"fi": ["Tiedot minusta", "tietosi", "palvelujesi", "vastuutyöntekijällesi"],
                         "sv": ["Uppgifter om mig", "dina uppgifter", "dina tjänster", "din ansvariga"]},
    "/clients/me/messages": {"fi": ["Vastuutyöntekijäni"], "sv": ["Min ansvariga arbetstagare"]},
    "/vouchers/mine": {"fi": ["Palvelusetelisi", "Omavastuusi", "Maksat itse", "palveluseteleilläsi", "alueellasi"],
                       "sv": ["Dina servicesedlar", "Din självriskandel", "Du betalar själv", "dina servicesedlar",
                              "ditt område"]},
    "/my/purchases": {"fi": ["Omat ostot", "Et ole vielä ostanut"], "sv": ["Mina köp", "Du har inte köpt"]},
}

# What the relative reads instead: the client named, or spoken of as "the client".
RELATIVE_READS = {
    "/dashboard": {"fi": ["Asioit henkilön Aino Asiakas puolesta.", "Henkilön Aino Asiakas palvelut", "Vastuutyöntekijä"],
                   "sv": ["Du sköter ärenden för Aino Asiakas.", "Tjänster för Aino Asiakas", "Ansvarig arbetstagare"]},
    "/clients/me/network": {"fi": ["Henkilön Aino Asiakas auttajat", "työskentelevät nyt asiakkaan kanssa",
                                   "Lähetä viesti vastuutyöntekijälle"],
                            "sv": ["De som hjälper Aino Asiakas", "arbetar med klienten nu",
                                   "Skicka ett meddelande till den ansvariga arbetstagaren"]},
    "/clients/me/access-log": {"fi": ["Kuka on katsonut henkilön Aino Asiakas tietoja", "muuttaa asiakkaan tietoja",
                                      "Katsoit: asiakkaan palvelut.", "Miksi: asioit asiakkaan puolesta",
                                      "teki asiakkaalle palvelutilauksen."],
                               "sv": ["Vem har sett uppgifterna om Aino Asiakas", "ändrar klientens uppgifter",
                                      "Du tittade på: klientens tjänster.", "Varför: du skötte ärenden för klienten",
                                      "gjorde en tjänstebeställning åt klienten."]},
    "/clients/me/data": {"fi": ["Henkilön Aino Asiakas tiedot", "että tiedot annetaan palvelujen palveluntuottajille",
                                "kerro siitä vastuutyöntekijälle"],
                         "sv": ["Uppgifter om Aino Asiakas", "uppgifterna delas med producenterna av tjänsterna",
                                "säg det till den ansvariga arbetstagaren"]},
    "/clients/me/messages": {"fi": ["Vastuutyöntekijä Sanna Ohjaaja"],
                             "sv": ["Den ansvariga arbetstagaren, Sanna Ohjaaja"]},
    "/vouchers/mine": {"fi": ["Palvelusetelit", "Aino Asiakas", "Asiakkaan omavastuu",
                              "ei tarjoa tätä palvelua asiakkaan alueella"],
                       "sv": ["Servicesedlar", "Aino Asiakas", "Klientens självriskandel",
                              "erbjuder den här tjänsten i klientens område"]},
    "/my/purchases": {"fi": ["Ostot", "Ostoja ei ole vielä."], "sv": ["Köp", "Inga köp ännu."]},
}


@pytest.fixture
def with_voucher_and_order_row(world, db):
    """A service voucher for Aino, and the access-log row of her order being placed."""
    from core.access import Purpose, record_access

    f.ServiceVoucherFactory(client_id=world.aino.id, service_type_id=world.service_type.id, status="open",
                            granted_by_id=world.worker.id)
    record_access(world.aino.id, "order", Purpose.ORDERING, what="service order", actor=world.worker)
    db.session.commit()
    return world


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_a_relative_reads_about_the_client_and_is_never_spoken_to_as_the_client(client, with_voucher_and_order_row,
                                                                                   login_as, lang):
    world = with_voucher_and_order_row
    login_as(world.relative)
    client.get(f"/dashboard?lang={lang}")
    for path in RELATIVE_READS:
        client.get(path)  # every page once: the access log then has a row of each
    for path in RELATIVE_READS:
        page = _text(client.get(path))
        for text in RELATIVE_READS[path][lang]:
            assert text in page, (lang, path, text)
        for text in CLIENT_SECOND_PERSON[path][lang]:
            assert text not in page, (lang, path, text)
    # The menu and the badge: the relative's own words.
    menu = _text(client.get("/dashboard"))
    assert ("Omainen" if lang == "fi" else "Anhörig") in menu
    assert ("Kuka on katsonut tietoja" if lang == "fi" else "Vem har sett uppgifterna") in menu


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_client_is_still_spoken_to_in_the_second_person(client, with_voucher_and_order_row, login_as, lang):
    world = with_voucher_and_order_row
    login_as(world.aino_user)
    client.get(f"/dashboard?lang={lang}")
    for path in CLIENT_SECOND_PERSON:
        client.get(path)
    for path in CLIENT_SECOND_PERSON:
        page = _text(client.get(path))
        if path == "/my/purchases":
            assert ("Omat ostot" if lang == "fi" else "Mina köp") in page
            continue
        if path == "/clients/me/messages":
            assert CLIENT_SECOND_PERSON[path][lang][0] in page
            continue
        for text in CLIENT_SECOND_PERSON[path][lang][:2]:
            assert text in page, (lang, path, text)
        assert "Asioit henkilön" not in page and "Du sköter ärenden för" not in page
    log = _text(client.get("/clients/me/access-log"))
    assert ("teki sinulle palvelutilauksen." if lang == "fi" else "gjorde en tjänstebeställning åt dig.") in log


@pytest.mark.parametrize("lang,reads,not_reads", [
    ("fi", "Leena Tytär (Omainen) katsoi: palvelusi.", "(Asiakas) katsoi: palvelusi"),
    ("sv", "Leena Tytär (Anhörig) tittade på: dina tjänster.", "(Klient) tittade på: dina tjänster"),
])
def test_the_client_sees_the_relative_named_as_a_relative_in_their_access_log(client, world, db, login_as, lang, reads,
                                                                               not_reads):
    from clients.policy import RELATIVE_PURPOSE
    from core.access import record_access

    record_access(world.aino.id, "view", RELATIVE_PURPOSE, what="my services", actor=world.relative)
    db.session.commit()
    login_as(world.aino_user)
    page = _text(client.get(f"/clients/me/access-log?lang={lang}"))
    assert reads in page
    assert not_reads not in page


READS = {"fi": ["Asioit henkilön Aino Asiakas puolesta.", "Kuinka tyytyväinen asiakas oli palveluun?",
                "Saiko asiakas sen, mitä tarvitsi?", "asiakkaan asiakasohjaajalle"],
         "sv": ["Du sköter ärenden för Aino Asiakas.", "Hur nöjd var klienten med tjänsten?",
                "Fick klienten det hen behövde?", "klientens klienthandledare"]}
ADDRESSED_AS_CLIENT = {"fi": ["Kuinka tyytyväinen olit", "asiakasohjaajallesi"],
                       "sv": ["Hur nöjd var du", "din klienthandledare"]}


@pytest.fixture
def feedback_token(world, db):
    from feedback.services import issue_feedback_link

    def make(lang):
        order = f.ServiceOrderFactory(number="SO-2026-900009", client=world.aino, service_type=world.service_type,
                                      provider=world.provider, status="completed", ordered_by_id=world.worker.id)
        db.session.flush()
        _link, token = issue_feedback_link(order_id=order.id, language=lang)
        db.session.commit()
        return token

    return make


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_feedback_page_asks_a_relative_about_the_client(client, world, login_as, feedback_token, lang):
    token = feedback_token(lang)
    login_as(world.relative)
    page = _text(client.get(f"/feedback/{token}"))
    for text in READS[lang]:
        assert text in page, text
    for text in ADDRESSED_AS_CLIENT[lang]:
        assert text not in page, text


@pytest.mark.parametrize("lang", ["fi", "sv"])
@pytest.mark.parametrize("who", ["the client", "nobody logged in"])
def test_the_feedback_page_asks_the_client_in_the_second_person(client, world, login_as, feedback_token, lang, who):
    token = feedback_token(lang)
    if who == "the client":
        login_as(world.aino_user)
    page = _text(client.get(f"/feedback/{token}"))
    for text in ADDRESSED_AS_CLIENT[lang]:
        assert text in page, text
    assert not any(text in page for text in READS[lang])


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_message_and_handover_emails_tell_a_relative_about_a_person_they_act_for(world, db, emails, lang):
    from clients import jobs
    from clients.messaging import send_message
    from clients.models import ClientEvent, ClientEventAction

    world.relative.language = lang
    world.aino_user.language = lang
    message = send_message(world.worker, world.aino.id, "Hei", to="client")
    event = ClientEvent(client_id=world.aino.id, action=ClientEventAction.HANDOVER, actor_id=world.worker.id)
    db.session.add(event)
    db.session.commit()
    jobs.send_message_notifications(message.id)
    jobs.send_handover_notifications(event.id)
    db.session.commit()
    sent = emails()
    to_relative = [(s, b) for to, s, b in sent if to == world.relative.email]
    to_client = [(s, b) for to, s, b in sent if to == world.aino_user.email]
    assert len(to_relative) == 2 and len(to_client) == 2, sent
    relative_text = " ".join(s + " " + b for s, b in to_relative)
    client_text = " ".join(s + " " + b for s, b in to_client)
    if lang == "fi":
        assert "henkilölle, jonka puolesta asioit" in relative_text
        assert "Henkilöllä, jonka puolesta asioit, on uusi vastuutyöntekijä" in relative_text
        assert "Sinulle on uusi viesti" not in relative_text and "Vastuutyöntekijäsi" not in relative_text
        assert "Sinulle on uusi viesti" in client_text and "Vastuutyöntekijäsi" in client_text
    else:
        assert "en person som du sköter ärenden för" in relative_text
        assert "Du har ett nytt meddelande" not in relative_text and "Din ansvariga arbetstagare" not in relative_text
        assert "Du har ett nytt meddelande" in client_text and "Din ansvariga arbetstagare" in client_text
    assert "Aino" not in relative_text  # no client's name in an e-mail


@pytest.mark.parametrize("who,label,not_label", [("relative", "Purchases", "My purchases"),
                                                   ("aino_user", "My purchases", None)])
def test_the_menu_says_my_purchases_only_to_the_client(client, world, login_as, who, label, not_label):
    login_as(getattr(world, who))
    menu = client.get("/dashboard?lang=en").get_data(as_text=True)
    menu = menu[menu.index('<nav class="main-nav"'):]
    menu = menu[:menu.index("</nav>")]
    assert re.search(r'href="/my/purchases"[^>]*>([^<]+)<', menu).group(1) == label
    if not_label:
        assert not_label not in menu

