"""What the system writes is stored as a code with parameters and shown in the
reader's language (core.messages): the order timeline, follow-up titles, the
record's history, network rows, the staff access log and the errors services raise.
Each kind is read by a staff member whose language is Finnish, then Swedish."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from clients.models import ClientEvent, FollowUp, NetworkMember
from core.db import utcnow
from orders.models import OrderEvent

# The English sentences the old code stored; none may reach a Finnish or Swedish page.
ENGLISH = ("provider(s)", "visit reported", "Offered to", "Check-up of", "Service provider", "independent →",
           "open follow-up", "name in order list", ">web<", "client guidance")

TEXTS = {
    "fi": {
        "timeline": ["Tarjottu 3 palveluntuottajalle (kaikille kerralla).", "Ensimmäinen käynti raportoitiin.",
                     "Käynti raportoitiin, ja siinä kerrottiin huolesta."],
        "record": ["Itsenäisesti pärjäävän asiakkaan tilannekatsaus (180 päivän välein)",
                   "Pärjää itsenäisesti → Tarvitsee tiivistä ohjausta", "Palveluntuottaja",
                   "2 käyntiä viikossa"],
        "log": ["nimi tilausluettelossa", "asiakasohjaus", "verkkosivu"],
        "error": "Tilausta ei voi nyt perua: sen tila on ”Peruttu”.",
    },
    "sv": {
        "timeline": ["Erbjuden till 3 tjänsteproducenter (till alla på en gång).", "Det första besöket rapporterades.",
                     "Ett besök rapporterades med en oro."],
        "record": ["Kontroll av en klient som klarar sig självständigt (var 180:e dag)",
                   "Klarar sig självständigt → Behöver intensiv handledning", "Tjänsteproducent", "2 besök i veckan"],
        "log": ["namn i beställningslistan", "klienthandledning", "webbsida"],
        "error": "Beställningen kan inte avbokas nu: dess status är ”Annullerad”.",
    },
}


def _reader(db, market, lang):
    market.staff.language = lang
    db.session.commit()
    return market.staff


def _no_english(page: str) -> None:
    for text in ENGLISH:
        assert text not in page, text


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_order_timeline_is_shown_in_the_readers_language(client, db, market, place, login_as, lang):
    from orders.services import accept_offer, record_visit

    order = place(mode="broadcast", start_date=date.today())
    accept_offer(market.members[0], order.id)
    record_visit(market.members[0], order.id, visit_date=date.today(), minutes=45, tasks=[], concern=True,
                 concern_text="Asiakas vaikutti sekavalta.", urgency="week")
    db.session.commit()
    codes = db.session.scalars(sa.select(OrderEvent.code).where(OrderEvent.order_id == order.id)
                               .order_by(OrderEvent.id)).all()
    assert codes == ["order.offered", None, "order.first_visit", "order.visit_reported_concern"]
    login_as(_reader(db, market, lang))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    for text in TEXTS[lang]["timeline"]:
        assert text in page
    _no_english(page)


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_follow_ups_history_and_network_rows_are_shown_in_the_readers_language(client, db, market, login_as, lang):
    from clients.follow_ups import sweep_segment_checks
    from clients.records import update_client

    aino = market.client
    aino.segment, aino.last_check_at = "independent", utcnow() - timedelta(days=200)
    db.session.add(NetworkMember(client_id=aino.id, name="Palvelu 0 Oy", organisation="Palvelu 0 Oy",
                                 provider_id=market.providers[0].id, code="network.provider",
                                 params={"service": market.service_type.id, "num": 2}))
    db.session.commit()
    assert sweep_segment_checks() == 1
    fields = {name: getattr(aino, name) for name in ("first_name", "last_name", "address", "postal_code",
                                                      "municipality", "phone", "email", "languages")}
    update_client(market.staff, aino.id, dict(fields, segment="intensive"))
    db.session.commit()
    follow = db.session.scalar(sa.select(FollowUp).where(FollowUp.client_id == aino.id))
    assert follow.code == "segment_check_independent"
    event = db.session.scalar(sa.select(ClientEvent).where(ClientEvent.action == "segment_changed"))
    assert (event.code, event.params, event.note) == ("client.segment_changed",
                                                     {"from": "independent", "to": "intensive"}, None)
    login_as(_reader(db, market, lang))
    page = client.get(f"/clients/{aino.id}").get_data(as_text=True)
    for text in TEXTS[lang]["record"]:
        assert text in page, text
    _no_english(page)


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_staff_access_log_is_shown_in_the_readers_language(client, db, market, login_as, lang):
    from core.access import Purpose, record_access

    record_access(market.client.id, "list", Purpose.GUIDANCE, what="name in order list", actor=market.staff)
    db.session.commit()
    login_as(_reader(db, market, lang))
    page = client.get(f"/clients/access-log?client_id={market.client.id}").get_data(as_text=True)
    for text in TEXTS[lang]["log"]:
        assert text in page, text
    _no_english(page)


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_a_services_refusal_is_in_the_callers_language(client, db, market, place, api_token, lang):
    order = place(mode="broadcast")
    headers = dict(api_token(market.staff), **{"Accept-Language": lang})
    r = client.post(f"/api/v1/orders/{order.id}/cancel", json={"reason": "Asiakas muutti."}, headers=headers)
    assert r.status_code == 200
    r = client.post(f"/api/v1/orders/{order.id}/cancel", json={"reason": "Asiakas muutti."}, headers=headers)
    assert r.status_code == 409
    assert TEXTS[lang]["error"] in r.get_json()["error"]["message"]
    r = client.get("/api/v1/orders/999999", headers=headers)
    assert r.status_code == 404
    assert {"fi": "Tilausta ei löytynyt.", "sv": "Beställningen hittades inte."}[lang] == r.get_json()["error"]["message"]


def test_the_api_timeline_carries_the_code_its_parameters_and_the_text(client, db, market, place, api_token):
    order = place(mode="ranked")
    headers = dict(api_token(market.staff), **{"Accept-Language": "sv"})
    events = client.get(f"/api/v1/orders/{order.id}/events", headers=headers).get_json()["items"]
    assert (events[0]["code"], events[0]["params"]) == ("order.offered", {"mode": "ranked", "num": 1})
    assert events[0]["note"] == "Erbjuden till 1 tjänsteproducent (en i taget, i rangordning)."


def test_an_unknown_code_or_a_legacy_sentence_shows_what_was_stored(app):
    from flask_babel import force_locale

    from core.messages import LEGACY, render

    with app.test_request_context(), force_locale("fi"):
        assert render(LEGACY, {"text": "visit reported"}) == "visit reported"
        assert render("no.such.code", {}, "fallback") == "fallback"
        assert render("order.offered", {"mode": "single"}, "fallback") == "fallback"  # no count: not a 500
