"""Clients: 60 older people in the Tampere region with their networks, the client
and relative logins, logged guidance contacts, follow-ups, messages and the access
log of who has read the demo client's record.

Logins go through ``accounts.services.create_user``. The rest are rows: each
``clients.services`` call (``create_client``, ``add_network_member``,
``log_guidance_contact``, ``send_message``, ...) writes an access-log row stamped
with the moment the demo is loaded, and the access log is append-only, so nothing
can move those rows back to the story's dates; the demo client's "who has seen my
data" page would list a dozen reads from the loading instead of the few below.
``log_guidance_contact`` would also mark every contacted client as checked today.
The rows are what those services write, with the story's timestamps."""

from __future__ import annotations

from datetime import date, timedelta

from accounts.models import Role
from clients.models import (
    Client,
    ClientRepresentative,
    FollowUp,
    FollowUpKind,
    GuidanceContact,
    Message,
    NetworkMember,
    Segment,
)
from core.access import Purpose
from core.models import AccessLogEntry
from demo.base import (
    DOMAIN,
    HEALTH_CENTRES,
    HOME_CARE_TEAMS,
    MUNICIPALITY_GENITIVE,
    POSTAL_AREAS,
    Demo,
    ascii_name,
    identity_code,
    phone,
)
from orders.models import OrderStatus

WOMEN = ("Aili", "Aino", "Anna-Liisa", "Anneli", "Eeva", "Eila", "Elli", "Helmi", "Helvi", "Hilkka", "Irja",
         "Kaarina", "Leena", "Liisa", "Maija", "Marjatta", "Pirkko", "Pirjo", "Raili", "Ritva", "Seija",
         "Sinikka", "Sirkka", "Terttu", "Toini", "Tuula", "Vieno", "Anja", "Kerttu", "Orvokki")
MEN = ("Arvo", "Eino", "Erkki", "Esko", "Heikki", "Jorma", "Kalevi", "Kari", "Lauri", "Markku", "Martti",
       "Matti", "Olavi", "Pekka", "Pentti", "Raimo", "Reijo", "Seppo", "Tapio", "Timo", "Unto", "Veikko",
       "Väinö", "Aarne", "Toivo")
SURNAMES = ("Virtanen", "Korhonen", "Nieminen", "Mäkinen", "Hämäläinen", "Laine", "Heikkinen", "Koskinen",
            "Järvinen", "Lehtonen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Kinnunen", "Salonen",
            "Turunen", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Lahtinen",
            "Ahonen", "Hiltunen", "Aaltonen", "Mäkelä", "Peltonen", "Leino", "Kallio", "Ojala", "Vainio",
            "Manninen", "Suominen", "Lindholm", "Heiskanen", "Kivelä", "Pitkänen", "Toivonen")
SV_WOMEN = ("Gunnel", "Birgitta", "Ulla", "Margareta", "Ingrid", "Karin")
SV_MEN = ("Bengt", "Göran", "Lars", "Rolf", "Stig")
SV_SURNAMES = ("Lindqvist", "Holmström", "Sjöberg", "Nyström", "Ekholm", "Wikström", "Lindberg", "Grönroos")
STAFF_NAMES = ("Kaisa Rinne", "Outi Kallio", "Minna Hakala", "Jaana Ketola", "Tarja Mäkelä", "Sari Lahti",
               "Petri Kangas", "Heli Saarela")
DOCTOR_NAMES = ("Anna Kivimäki", "Juha Peltola", "Marja Honkanen", "Ville Lehto", "Katja Rautio")

# Three fixed clients behind the client and relative logins; the rest are drawn.
FIXED_CLIENTS = [  # (first, last, birth date, sex, street address, postal code, languages, segment)
    ("Aino", "Virtanen", date(1941, 3, 14), "F", "Kalevan puistotie 24 B 12", "33500", ["fi"], Segment.GUIDANCE),
    ("Gunnel", "Lindqvist", date(1944, 9, 2), "F", "Pyynikintie 9 A 3", "33230", ["sv", "fi"],
     Segment.INDEPENDENT),
    ("Helvi", "Mäkinen", date(1933, 11, 27), "F", "Satakunnankatu 18 C 40", "33210", ["fi"], Segment.INTENSIVE),
]
CLIENT_COUNT = 60
NO_CONSENT = {7, 19, 33, 47, 58}       # indexes of clients who have not consented to sharing
NON_DISCLOSURE = {11, 26, 41}          # turvakielto

RELATIONS = ("Tytär", "Poika", "Puoliso", "Sisar", "Veljenpoika")
CHILD_NAMES = {"Tytär": ("Kirsi", "Tiina", "Sari", "Anne", "Päivi"),
               "Poika": ("Jari", "Mika", "Petri", "Janne", "Juha"),
               "Veljenpoika": ("Jari", "Mika", "Petri", "Janne", "Juha")}
# Coded topics (clients.models.GUIDANCE_TOPICS), which the statistics group by.
GUIDANCE_TOPICS = (
    ("cleaning", "Kerrottu siivouspalveluista ja kotitalousvähennyksestä.", None),
    ("meals", "Ohjattu ateriapalveluun, tilaus tehty.", None),
    ("safety_phone", "Turvapuhelimen hakeminen ja hinnat käyty läpi.", None),
    ("carer_support", "Omaishoidon tuki ja vapaapäivät, ohjattu hakemaan.", "Omaishoidon tuen palveluohjaus"),
    ("service_voucher", "Palvelusetelin käyttö ja omavastuu selitetty.", None),
    ("transport", "Kerrottu sosiaalihuoltolain kuljetuspalvelusta.", "Kuljetuspalvelun hakemus"),
    ("housing", "Tukikahvat ja kynnysten poisto, ohjattu toimintaterapeutille.",
     "Apuvälinelainaamo"),
    ("loneliness", "Ohjattu ystäväpalveluun ja senioriryhmiin.", "Ystäväpalvelu"),
    ("memory", "Muistihuolet, ohjattu muistihoitajalle.", "Muistihoitajan vastaanotto"),
    ("money", "Hoitotuki ja asumistuki, autettu Kela-hakemuksessa.", "Kela"),
    ("home_care", "Kotihoidon palvelutarpeen arviointi sovittu.", "Kotihoidon palvelutarpeen arviointi"),
)


def _client_row(d: Demo, index: int, first: str, last: str, born: date, sex: str, address: str,
                postal_code: str, languages: list[str], segment: str, taken: set[str]) -> Client:
    """One client; consent, non-disclosure and the identity code depend on ``index``."""
    worker = d.staff[index % len(d.staff)]
    created = d.ago(days=d.rng.uniform(260, 900))  # before the oldest orders
    consent = index not in NO_CONSENT
    has_code = index < 3 or d.rng.random() < 0.7
    email = None
    if index < 3 or d.rng.random() < 0.35:
        email = f"{ascii_name(first)}.{ascii_name(last)}{index}@asiakas.{DOMAIN}"
    return Client(
        first_name=first, last_name=last, birth_date=born,
        personal_identity_code=identity_code(d.rng, born, sex, taken) if has_code else None,
        address=address, postal_code=postal_code, municipality=POSTAL_AREAS[postal_code][0],
        phone=phone(d.rng), email=email, languages=languages, consent_to_share=consent,
        consent_recorded_at=created + timedelta(hours=1) if consent else None,
        consent_recorded_by_id=worker.id if consent else None, segment=segment,
        non_disclosure=index in NON_DISCLOSURE, responsible_worker_id=worker.id,
        created_at=created, updated_at=created, last_activity_at=created,
        last_check_at=d.ago(days=d.rng.uniform(3, 200)))


def build_clients(d: Demo) -> None:
    """The three fixed clients behind the client logins, then drawn ones up to 60."""
    taken: set[str] = set()
    codes = list(POSTAL_AREAS)
    for index in range(CLIENT_COUNT):
        if index < len(FIXED_CLIENTS):
            first, last, born, sex, address, code, languages, segment = FIXED_CLIENTS[index]
        else:
            swedish = d.rng.random() < 0.1
            sex = d.rng.choice("FFM")  # most older clients are women
            if swedish:
                first = d.rng.choice(SV_WOMEN if sex == "F" else SV_MEN)
                last, languages = d.rng.choice(SV_SURNAMES), ["sv", "fi"]
            else:
                first = d.rng.choice(WOMEN if sex == "F" else MEN)
                last, languages = d.rng.choice(SURNAMES), ["fi"]
            born = date(1930, 1, 1) + timedelta(days=d.rng.randrange((date(1960, 12, 31) - date(1930, 1, 1)).days))
            code = d.rng.choice(codes)
            street = d.rng.choice(POSTAL_AREAS[code][1])
            address = f"{street} {d.rng.randrange(1, 60)}"
            if d.rng.random() < 0.7:
                address += f" {d.rng.choice('ABCD')} {d.rng.randrange(1, 40)}"
            segment = d.rng.choices(list(Segment), weights=(35, 45, 20))[0]
        client = _client_row(d, index, first, last, born, sex, address, code, languages, segment, taken)
        d.client_sex[client] = sex
        d.add(client)
        d.clients.append(client)
        d.count("clients")
    d.session.flush()


def build_client_logins(d: Demo) -> None:
    """Two clients' own logins and a daughter acting for her mother."""
    aino, gunnel, helvi = d.clients[:3]
    d.client_users.append(d.user(f"asiakas@{DOMAIN}", Role.CLIENT, aino.full_name,
                                 aino.created_at + timedelta(days=1), client_id=aino.id))
    d.client_users.append(d.user(f"asiakas2@{DOMAIN}", Role.CLIENT, gunnel.full_name,
                                 gunnel.created_at + timedelta(days=1), client_id=gunnel.id, language="sv"))
    relative = d.user(f"omainen@{DOMAIN}", Role.CLIENT, "Leena Mäkinen", helvi.created_at + timedelta(days=2))
    relative.phone = "050 412 7788"
    d.relative = relative
    d.add(ClientRepresentative(client_id=helvi.id, user_id=relative.id, relationship_="tytär",
                               consent_recorded_at=helvi.created_at + timedelta(days=2, hours=1),
                               consent_recorded_by_id=helvi.responsible_worker_id))
    d.add(NetworkMember(client_id=helvi.id, name="Leena Mäkinen", role="Tytär",
                        responsibility="Omainen, asioi äidin puolesta palvelussa", phone=relative.phone,
                        email=relative.email, user_id=relative.id, created_at=helvi.created_at))
    d.count("network_members")


def build_networks(d: Demo) -> None:
    """Home nurse, doctor and a relative for about half of the clients."""
    for client in d.clients:
        if d.rng.random() > 0.55 and client is not d.clients[0]:
            continue
        home_care = f"{MUNICIPALITY_GENITIVE[client.municipality]} kotihoito"
        team = next((name for name, codes in HOME_CARE_TEAMS.items() if client.postal_code in codes), None)
        members = [
            NetworkMember(client_id=client.id, name=d.rng.choice(STAFF_NAMES),
                          organisation=f"{home_care}, {team}" if team else home_care,
                          role="Kotisairaanhoitaja", responsibility="Lääkehoito ja voinnin seuranta",
                          phone=phone(d.rng), starts_on=client.created_at.date(),
                          ends_on=d.today + timedelta(days=d.rng.choice((90, 180, 365)))),
            NetworkMember(client_id=client.id, name=d.rng.choice(DOCTOR_NAMES),
                          organisation=d.rng.choice(HEALTH_CENTRES[client.municipality]),
                          role="Omalääkäri", responsibility="Pitkäaikaissairauksien hoito ja reseptit",
                          starts_on=client.created_at.date()),
        ]
        if client is not d.clients[2]:
            relation = d.rng.choice(RELATIONS)
            if relation == "Puoliso":
                first = d.rng.choice(MEN if d.client_sex[client] == "F" else WOMEN)
            elif relation == "Sisar":
                first = d.rng.choice(WOMEN)
            else:  # the next generation
                first = d.rng.choice(CHILD_NAMES[relation])
            members.append(NetworkMember(client_id=client.id, name=f"{first} {client.last_name}", role=relation,
                                         responsibility="Omainen, yhteyshenkilö", phone=phone(d.rng)))
        for member in members:
            member.created_at = client.created_at
            d.add(member)
            d.count("network_members")


def build_guidance_contacts(d: Demo) -> None:
    """Logged advice from the last four months; about a third from anonymous callers."""
    municipalities = sorted({town for town, _ in POSTAL_AREAS.values()})
    for _ in range(48):
        staff = d.rng.choice(d.staff)
        topic, outcome, referral = d.rng.choice(GUIDANCE_TOPICS)
        anonymous = d.rng.random() < 0.3
        client = None if anonymous else d.rng.choice(d.clients)
        day = d.today - timedelta(days=d.rng.randrange(1, 120))
        at = d.local(day, d.rng.uniform(8.5, 15.5))
        d.add(GuidanceContact(
            client_id=client.id if client else None, staff_id=staff.id, at=at,
            channel=d.rng.choices(("phone", "visit", "chat", "email"), weights=(60, 20, 10, 10))[0],
            topic=topic, outcome=outcome, referral=referral if d.rng.random() < 0.6 else None,
            municipality=client.municipality if client else d.rng.choice(municipalities),
            minutes=d.rng.choice((5, 10, 15, 20, 30, 45))))
        if client is not None:
            d.touch(client, at)
        d.count("guidance_contacts")


def build_order_network(d: Demo) -> None:
    """The winning provider of every running order joins the client's network."""
    seen = set()
    for plan in d.plans:
        if plan.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS) or plan.winner is None:
            continue
        key = (plan.client.id, plan.winner.id)
        if key in seen:
            continue
        seen.add(key)
        per_week = plan.order.visits_per_week
        d.add(NetworkMember(
            client_id=plan.client.id, name=plan.winner.contact_person or plan.winner.name,
            organisation=plan.winner.name, role="", responsibility="",
            code="network.provider", params={"service": plan.order.service_type_id, "num": per_week},
            phone=plan.winner.phone, email=plan.winner.email, provider_id=plan.winner.id,
            starts_on=plan.order.start_date, ends_on=plan.order.end_date, created_at=plan.order.accepted_at))
        d.count("network_members")


def build_segment_checks(d: Demo) -> None:
    """Intensive clients not checked for a while have an open check-up task."""
    for client in d.clients:
        if client.segment == Segment.INTENSIVE and client.last_check_at < d.ago(days=14):
            d.add(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id,
                           kind=FollowUpKind.SEGMENT_CHECK, code="segment_check_intensive", params={},
                           title="Check-up of a client who needs intensive coordination (every 14 days)",
                           due_at=client.last_check_at + timedelta(days=14),
                           created_at=client.last_check_at + timedelta(days=14)))
            d.count("follow_ups")


def build_messages(d: Demo) -> None:
    """A short exchange between the demo client and her worker, and one from the relative."""
    aino, helvi = d.clients[0], d.clients[2]
    aino_user = d.client_users[0]
    worker = d.staff_by_id[aino.responsible_worker_id]
    helvi_worker = d.staff_by_id[helvi.responsible_worker_id]
    sent = d.ago(days=3, hours=5)
    rows = [
        Message(client_id=aino.id, sender_id=aino_user.id, to_user_id=worker.id,
                body="Hei! Voisiko siivoojan käyntiä siirtää ensi viikolla torstaille? Minulla on silloin "
                     "lääkäri tiistaina.", created_at=sent, read_at=sent + timedelta(hours=2)),
        Message(client_id=aino.id, sender_id=worker.id, to_user_id=aino_user.id,
                body="Hei Aino! Välitin toiveen siivousyritykselle, he vahvistavat ajan suoraan sinulle.",
                created_at=sent + timedelta(hours=3)),
        Message(client_id=helvi.id, sender_id=d.relative.id, to_user_id=helvi_worker.id,
                body="Äiti on ollut viime päivinä väsynyt ja syönyt huonosti. Voisiko kotihoito "
                     "kiinnittää tähän huomiota?", created_at=d.ago(days=1, hours=2)),
    ]
    d.add(*rows)
    d.count("messages", len(rows))


def build_access_log(d: Demo) -> None:
    """Besides the rows written when orders were placed: the demo client's record
    was opened by her worker and by the cleaning company that won her order."""
    aino = d.clients[0]
    worker = d.staff_by_id[aino.responsible_worker_id]
    cleaning = next(p.order for p in d.plans if p.client is aino and p.spec.slug == "yllapitosiivous")
    cleaner = d.provider_admins[cleaning.provider_id]
    rows = [
        (worker, "view", "client record", Purpose.GUIDANCE, d.ago(days=21, hours=3)),
        (worker, "update", "consent", Purpose.GUIDANCE, d.ago(days=21, hours=2)),
        (cleaner, "view", "contact details", Purpose.SERVICE, cleaning.accepted_at + timedelta(minutes=20)),
        (worker, "view", f"order {cleaning.number}", Purpose.ORDERING, d.ago(days=2, hours=4)),
    ]
    for actor, action, what, purpose, at in rows:
        d.add(AccessLogEntry(at=at, actor_id=actor.id, actor_role=actor.role, client_id=aino.id,
                             action=action, what=what, purpose=purpose, channel="web"))
        d.count("access_log")


def finish_clients(d: Demo) -> None:
    """``last_activity_at`` is the latest order step or guidance contact of the client."""
    for client, at in d.last_activity.items():
        client.last_activity_at = client.updated_at = at


