"""The front door: suggestion rules that point to the demo catalogue's services, and
a handful of help requests in the guidance staff's callback queue - new ones from
the web form (one urgent), a phone call entered by staff whose callback is overdue
and escalated, one claimed and called back, and one closed with advice.

The requests are taken in through ``frontdoor.services`` as the public form and the
staff form take them (merging, due times, the escalation job); claims, contacts and
closing go through the same services as the pages. Only the timestamps are moved
back to when each step happened."""

from __future__ import annotations

from datetime import timedelta

from demo.base import DOMAIN, Demo
from frontdoor import services as fd
from frontdoor.models import HelpRequestEvent

SERVICE_RULES = [
    ("daily_tasks", "some_help", "yllapitosiivous", "Säännöllinen siivous on usein ensimmäinen tarvittava apu."),
    ("daily_tasks", "help_every_day", "ateriakuljetus", "Ateriat kotiin joka päivä."),
    ("worry", "safety", "turvapuhelin", "Turvapuhelin kaatumisten ja muiden hätätilanteiden varalle."),
    ("worry", "being_alone", "ateriaseura", "Ateriaseuraa yksin asuvalle."),
    ("helpers", "nobody", "ulkoiluapu", "Ulkoiluapu tuo säännöllisen vierailijan."),
]

# (hours ago, channel, answers, request body)
REQUESTS = [
    (2, "web", {"daily_tasks": "some_help", "helpers": "family"},
     {"for_whom": "relative", "topics": ["cleaning", "shopping"], "name": "Riikka Salonen",
      "phone": "040 718 2204", "postal_code": "33500", "language": "fi", "best_time": "arkisin klo 16 jälkeen",
      "message": "Isäni (84 v.) asuu yksin Kalevassa. Siivous ja kaupassa käynti eivät enää onnistu, "
                 "ja minä asun Oulussa."}),
    (0.5, "web", {"daily_tasks": "some_help", "worry": "safety"},
     {"for_whom": "self", "topics": ["safety", "moving_about"], "name": "Eino Laaksonen", "phone": "050 331 9087",
      "postal_code": "33720", "language": "fi", "message": "Kaaduin viime viikolla kylpyhuoneessa. Pelottaa."}),
    (170, "phone", {"helpers": "nobody", "worry": "being_alone"},
     {"for_whom": "neighbour", "topics": ["loneliness", "meals"], "name": "Marja Heinonen",
      "phone": "044 902 1177", "postal_code": "33200", "language": "fi", "best_time": "aamupäivisin",
      "message": "Soittaja on naapuri. Naapurin rouva ei ole käynyt ulkona viikkoihin eikä syö kunnolla."}),
    (26, "web", {"daily_tasks": "help_every_day", "worry": "health_or_memory"},
     {"for_whom": "relative", "topics": ["memory", "caring_for_spouse"], "name": "Kaarina Lehto",
      "email": f"kaarina.lehto@{DOMAIN}", "phone": "045 660 1254", "postal_code": "33100", "language": "fi",
      "message": "Hoidan miestäni, jolla on muistisairaus. Tarvitsisin itse välillä vapaata."}),
    (240, "web", {"daily_tasks": "on_my_own"},
     {"for_whom": "self", "topics": ["cleaning"], "name": "Ulla Björklund", "email": f"ulla.bjorklund@{DOMAIN}",
      "postal_code": "33180", "language": "sv", "message": "Jag skulle behöva hjälp med storstädning en gång."}),
]


def build_help_requests(d: Demo) -> None:
    for question, answer, slug, note in SERVICE_RULES:
        fd.save_rule(d.admin, None, {"question": question, "answer": answer, "service_type_id": d.services[slug].id,
                                     "note": note})
        d.count("suggestion_rules")
    made = []
    for hours, channel, answers, body in REQUESTS:
        data = {**body, "consent_to_contact": True, "channel": channel}
        actor = d.staff[1] if channel != "web" else None
        req, _merged = fd.submit_help_request(data, actor=actor, answers=answers)
        received = d.ago(hours=hours)
        req.created_at = received
        req.callback_due = fd.callback_due(received, urgent=req.urgency >= 2)
        made.append(req)
        d.count("help_requests")
    d.session.flush()
    phone, claimed, closed = made[2], made[3], made[4]
    # The phone call's callback is overdue: the sweep has escalated it.
    fd.escalate_overdue([phone.id], now=d.now)
    # One request is claimed and was called back this morning.
    worker = d.staff[0]
    fd.claim(worker, claimed.id)
    fd.log_contact(worker, claimed.id, channel="phone", minutes=20,
                   outcome="Kerroin omaishoidon vapaista ja muistiyhdistyksen vertaisryhmästä. Kotikäynti sovitaan.")
    # One was closed with advice days ago.
    fd.claim(d.staff[1], closed.id)
    fd.log_contact(d.staff[1], closed.id, channel="email", outcome="Skickade uppgifter om städtjänster.")
    fd.close(d.staff[1], closed.id, "Skickade en lista över städföretag i området och information om "
                                    "hushållsavdraget. Hon bokar själv.")
    d.session.flush()
    for req, hours in ((claimed, 22), (closed, 236)):
        for name in ("claimed_at", "called_back_at", "closed_at"):
            if getattr(req, name) is not None:
                setattr(req, name, d.ago(hours=hours))
        d.session.query(HelpRequestEvent).filter(HelpRequestEvent.request_id == req.id,
                                                 HelpRequestEvent.action != "received").update(
            {"at": d.ago(hours=hours)}, synchronize_session=False)
        for link in fd.contacts(req.id):
            link.at = d.ago(hours=hours)
    for req in made:
        d.session.query(HelpRequestEvent).filter(HelpRequestEvent.request_id == req.id,
                                                 HelpRequestEvent.action == "received").update(
            {"at": req.created_at}, synchronize_session=False)
    d.session.flush()
