"""The demo data set: a small, lifelike Tampere-region marketplace.

``load_demo()`` fills an empty database with what a pilot of a wellbeing services
county would look like after a few months of use: the platform's own users, a dozen
approved providers (NGOs, companies and two staffing agencies) with their offerings,
two provider applications waiting for a decision, a trilingual service catalogue,
60 clients with their networks, about 80 service orders in every state of the order
lifecycle with offers, events and visit reports, feedback, self-paid purchases and an
open staffing request.

Everything comes from ``random.Random(2026)``, so the set is the same on every run
(only the secret tokens differ: they come from ``secrets`` so that a demo database
never holds guessable feedback or purchase links). Timestamps are relative to now, so
the data always looks current. The function flushes and never commits: the caller
(``flask demo``, ``flask serve``, a test) commits.

The data tables come first, then one small function per part of the set.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from accounts.models import ProviderRole, Role, User
from accounts.services import create_user
from catalogue.models import Offering, OfferingArea, ServiceCategory, ServiceType
from catalogue.money import deduction_base
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
from core.db import utcnow
from core.errors import ConflictError
from core.extensions import db
from core.models import AccessLogEntry
from feedback.models import Feedback, FeedbackLink, FeedbackModerationEvent
from feedback.services import link_token
from feedback.services import token_hash as feedback_token_hash
from marketplace.models import ShopOrder, ShopOrderEvent, ShopOrderItem, ShopOrderStatus
from marketplace.purchases import access_token
from orders.models import (
    Funding,
    Offer,
    OfferMode,
    OfferStatus,
    OrderEvent,
    OrderStatus,
    Outcome,
    ServiceOrder,
    ServiceVoucher,
    VisitReport,
)
from providers.models import (
    Provider,
    ProviderCapacity,
    ProviderDecision,
    ProviderKind,
    ProviderRanking,
    ProviderStatus,
)
from staffing.models import (
    Qualification,
    StaffingCoverage,
    StaffingOffer,
    StaffingOfferStatus,
    StaffingRecipient,
    StaffingRequest,
    StaffingShift,
    StaffingStatus,
)

SEED = 2026
DEMO_PASSWORD = "demo-salasana-2026"
DOMAIN = "demo.kotiapu.fi"
HELSINKI = ZoneInfo("Europe/Helsinki")
OFFER_DEADLINE = timedelta(hours=24)
FEEDBACK_LINK_DAYS = 30
# Share of the work part of a price that the household tax deduction returns (estimate shown to buyers).

# --------------------------------------------------------------------------- logins

# (role, e-mail, what to try): the README and docs/demo.md list these.
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("admin", f"admin@{DOMAIN}",
     "Platform operator: decide the two pending provider applications, users, service catalogue, feedback moderation."),
    ("staff", f"ohjaaja1@{DOMAIN}",
     "Guidance worker Sanna Lehtinen: own clients, escalated orders, orders waiting to be closed, concerns."),
    ("staff", f"ohjaaja2@{DOMAIN}", "Guidance worker Mikko Rantanen: another caseload, guidance contacts."),
    ("manager", f"johtaja@{DOMAIN}", "Service manager Päivi Laaksonen: aggregated dashboard and reports."),
    ("provider", f"tilaukset@hyvaarki.{DOMAIN}",
     "Org admin of Kotihoito Hyvä Arki Oy: offers waiting for an answer, active orders, visit reports."),
    ("provider", f"tyontekija@hyvaarki.{DOMAIN}", "A care worker of Kotihoito Hyvä Arki Oy (provider worker)."),
    ("provider", f"tilaukset@kirkaskoti.{DOMAIN}",
     "Org admin of Siivouspalvelu Kirkas Koti Oy: cleaning orders and self-paid purchases."),
    ("provider", f"tyontekija@kirkaskoti.{DOMAIN}", "A cleaner of Siivouspalvelu Kirkas Koti Oy (provider worker)."),
    ("provider", f"tilaukset@hoivarekry.{DOMAIN}", "Staffing agency Hoivarekry Oy: an open staffing request."),
    ("client", f"asiakas@{DOMAIN}",
     "Client Aino Virtanen: own services in every state, upcoming visits, responsible worker, feedback."),
    ("client", f"asiakas2@{DOMAIN}", "Swedish-speaking client Gunnel Lindqvist: the interface opens in Swedish."),
    ("client", f"omainen@{DOMAIN}", "Leena Mäkinen, daughter acting for her mother Helvi Mäkinen (relative)."),
]

# --------------------------------------------------------------------------- area

# Postal code -> (municipality, streets in or near that area).
POSTAL_AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "33100": ("Tampere", ("Hämeenkatu", "Kuninkaankatu", "Puutarhakatu", "Hallituskatu")),
    "33180": ("Tampere", ("Mustanlahdenkatu", "Näsilinnankatu", "Paasikiventie")),
    "33200": ("Tampere", ("Pirkankatu", "Mariankatu", "Rongankatu")),
    "33210": ("Tampere", ("Satakunnankatu", "Kortelahdenkatu", "Pirkankatu")),
    "33230": ("Tampere", ("Pyynikintie", "Palomäentie", "Mäkikatu")),
    "33250": ("Tampere", ("Pispalan valtatie", "Tahmelankatu", "Tahmelan viertotie")),
    "33270": ("Tampere", ("Ristimäenkatu", "Lentävänniemenkatu", "Haukiluomankatu")),
    "33300": ("Tampere", ("Epiläntie", "Hyhkynkatu", "Rahola-aukio")),
    "33400": ("Tampere", ("Lielahdenkatu", "Enqvistinkatu", "Niemenrannantie")),
    "33470": ("Ylöjärvi", ("Kuruntie", "Mikkolantie", "Vanha Vaasantie")),
    "33500": ("Tampere", ("Kalevan puistotie", "Sammonkatu", "Kalevantie", "Liisankatu")),
    "33540": ("Tampere", ("Teiskontie", "Jankanraitti", "Messukylänkatu")),
    "33560": ("Tampere", ("Kaukajärvenkatu", "Turtolankatu", "Annalankatu")),
    "33580": ("Tampere", ("Niihamankatu", "Kaukajärvenkatu", "Leinolankatu")),
    "33610": ("Tampere", ("Hallilantie", "Aitolahdentie", "Kissanmaankatu")),
    "33700": ("Tampere", ("Alasjärvenkatu", "Kuokkamaantie", "Holvastintie")),
    "33720": ("Tampere", ("Insinöörinkatu", "Opiskelijankatu", "Hervannan valtaväylä", "Ahvenisjärventie")),
    "33800": ("Tampere", ("Viinikankatu", "Nekalantie", "Lahdesjärvenkatu")),
    "33820": ("Tampere", ("Härmälänkatu", "Rantaperkiönkatu", "Sarankulmankatu")),
    "33900": ("Tampere", ("Härmälänrannantie", "Sarankulmankatu", "Vuoreksen puistokatu")),
    "33960": ("Pirkkala", ("Suupantie", "Naistenmatkantie", "Kurikantie")),
    "36200": ("Kangasala", ("Kuohunlahdentie", "Pikonkatu", "Ruutanantie")),
    "37100": ("Nokia", ("Härkitie", "Välikatu", "Souranderintie")),
    "37500": ("Lempäälä", ("Tampereentie", "Ryynikkä", "Lindinalleentie")),
}
TAMPERE = tuple(code for code, (town, _) in POSTAL_AREAS.items() if town == "Tampere")
MUNICIPALITY_GENITIVE = {"Tampere": "Tampereen", "Ylöjärvi": "Ylöjärven", "Pirkkala": "Pirkkalan",
                         "Kangasala": "Kangasalan", "Nokia": "Nokian", "Lempäälä": "Lempäälän"}
# Tampere's home care works in four area teams.
HOME_CARE_TEAMS = {
    "keskustan tiimi": ("33100", "33180", "33200", "33210", "33230"),
    "läntinen tiimi": ("33250", "33270", "33300", "33400"),
    "itäinen tiimi": ("33500", "33540", "33560", "33580", "33610", "33700"),
    "eteläinen tiimi": ("33720", "33800", "33820", "33900"),
}
ALL_AREAS = tuple(POSTAL_AREAS)
HEALTH_CENTRES = {
    "Tampere": ("Kalevan terveysasema", "Hervannan terveysasema", "Tammelan terveysasema",
                "Lielahden terveysasema", "Koilliskeskuksen terveysasema"),
    "Ylöjärvi": ("Ylöjärven terveyskeskus",), "Pirkkala": ("Pirkkalan terveysasema",),
    "Kangasala": ("Kangasalan terveysasema",), "Nokia": ("Nokian terveyskeskus",),
    "Lempäälä": ("Lempäälän terveysasema",),
}

# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class ServiceSpec:
    """One service type with its usual price and tax treatment.

    ``labour_share`` set means the household tax deduction applies to that share of
    the price; care and health services are VAT-free social/health services (and then
    get no deduction)."""

    slug: str
    fi: str
    sv: str
    en: str
    description: str
    unit: str = "hour"
    price: int | None = 4500
    vat_bp: int = 2550
    labour_share: int | None = None
    self_paid: bool = True
    soteri: bool = False
    one_off: bool = False


S = ServiceSpec
# (slug, fi, sv, en, services, visit tasks)
CATALOGUE: list[tuple[str, str, str, str, list[ServiceSpec], tuple[str, ...]]] = [
    ("siivous", "Siivous", "Städning", "Cleaning", [
        S("yllapitosiivous", "Ylläpitosiivous", "Underhållsstädning", "Regular cleaning",
          "Säännöllinen kodin siivous: imurointi, pölyjen pyyhintä, lattioiden ja märkätilojen pesu.",
          price=4200, labour_share=100),
        S("suursiivous", "Suursiivous", "Storstädning", "Deep cleaning",
          "Perusteellinen siivous esimerkiksi keväällä, ennen juhlia tai muuton jälkeen.",
          price=4800, labour_share=100, one_off=True),
        S("ikkunanpesu", "Ikkunanpesu", "Fönstertvätt", "Window cleaning",
          "Ikkunoiden pesu sisältä ja ulkoa, myös välipuitteet.", price=5200, labour_share=100, one_off=True),
        S("pyykkihuolto", "Pyykki- ja vaatehuolto", "Tvätt- och klädvård", "Laundry and clothing care",
          "Pyykinpesu, kuivatus, silitys ja vaatteiden pienet korjaukset kotona.", price=3900, labour_share=100),
    ], ("imurointi", "pölyjen pyyhintä", "lattioiden pesu", "kylpyhuoneen siivous", "keittiön siivous")),
    ("ateriat", "Ateriapalvelu", "Måltidsservice", "Meal services", [
        S("ateriakuljetus", "Ateriakuljetus kotiin", "Måltidsleverans hem", "Meal delivery",
          "Lämmin tai jäähdytetty kotiruoka-ateria kotiin arkipäivisin.", unit="item", price=1090, vat_bp=1400),
        S("ruoanlaitto-kotona", "Ruoanlaitto kotona", "Matlagning i hemmet", "Cooking at home",
          "Ruoanlaitto asiakkaan kotona yhdessä asiakkaan kanssa, myös pakastimeen.", price=4200,
          labour_share=100),
        S("ateriaseura", "Ateriaseura", "Måltidssällskap", "Mealtime company",
          "Seuraa ja apua ruokailuun, ruokahalun ja syömisen seuranta.", price=2800),
        S("erityisruokavaliot", "Erityisruokavalioateriat", "Specialkost", "Special diet meals",
          "Ateriat erityisruokavalioihin: gluteeniton, laktoositon, pehmeä ja sosemainen ruoka.",
          unit="item", price=1290, vat_bp=1400),
    ], ("ateria toimitettu", "ruoka lämmitetty", "ruokailussa avustettu", "jääkaapin tarkistus")),
    ("asiointi", "Kauppa-asiointi", "Butiks- och ärendeservice", "Shopping and errands", [
        S("kauppakassipalvelu", "Kauppakassipalvelu", "Matkasseservice", "Grocery delivery",
          "Ostokset kerätään asiakkaan listan mukaan ja tuodaan kotiin, tavarat paikoilleen.", unit="visit",
          price=1490),
        S("kauppa-asiointi", "Kauppa-asiointi saattajan kanssa", "Handla med ledsagare", "Shopping with a companion",
          "Saattaja lähtee asiakkaan kanssa kauppaan ja auttaa ostosten kantamisessa.", price=3800),
        S("apteekkiasiointi", "Apteekkiasiointi", "Apoteksärenden", "Pharmacy errands",
          "Lääkkeiden ja apteekkituotteiden nouto valtakirjalla.", unit="visit", price=1900),
        S("pankki-ja-virastoasiointi", "Pankki- ja virastoasiointi", "Bank- och myndighetsärenden",
          "Bank and office errands", "Apua pankki-, Kela- ja virastoasioissa, myös verkkoasioinnissa.",
          price=3800),
    ], ("kauppaostokset", "kuitit ja vaihtorahat tarkistettu", "tavarat paikoilleen", "apteekissa käynti")),
    ("saattaja", "Saattaja-apu", "Ledsagning", "Escort services", [
        S("saattaja-terveydenhuoltoon", "Saattaja lääkärikäynnille", "Ledsagning till läkarbesök",
          "Escort to medical appointments", "Saattaja kotoa vastaanotolle ja takaisin, apua ilmoittautumisessa.",
          price=3600, one_off=True),
        S("ulkoiluapu", "Ulkoiluapu", "Hjälp med utevistelse", "Outdoor walks",
          "Turvallinen ulkoilu lähiympäristössä, tarvittaessa rollaattorin tai pyörätuolin kanssa.", price=3200),
        S("harrastussaattaja", "Saattaja harrastuksiin ja tapahtumiin", "Ledsagning till fritid och evenemang",
          "Escort to hobbies and events", "Saattaja konserttiin, teatteriin, kerhoon tai kirkkoon.", price=3200),
        S("asiointikuljetus", "Asiointikuljetus", "Ärendetransport", "Transport for errands",
          "Esteetön kuljetus saattajan kanssa kauppaan, pankkiin tai vastaanotolle.", unit="visit", price=2500,
          vat_bp=1400, one_off=True),
    ], ("ulkoilu", "kävelylenkki", "saattaja vastaanotolle", "kuljetus", "apua pukeutumisessa ulos")),
    ("turva", "Turvapalvelut", "Trygghetstjänster", "Safety services", [
        S("turvapuhelin", "Turvapuhelin", "Trygghetstelefon", "Safety phone",
          "Turvapuhelin ja -ranneke, hälytykset ympäri vuorokauden; hinta kuukaudelta.", unit="item",
          price=3490, one_off=True),
        S("turva-auttajakaynti", "Turva-auttajan hälytyskäynti", "Trygghetsbesök vid larm",
          "Emergency response visit", "Turva-auttaja tulee paikalle hälytyksestä, myös nostoapu kaatumisen jälkeen.",
          unit="visit", price=4900, vat_bp=0, soteri=True, one_off=True),
        S("gps-turvaranneke", "Paikantava turvaranneke", "GPS-trygghetsarmband", "GPS safety bracelet",
          "Paikantava ranneke muistisairaalle, hälytys omaiselle tai turvapalveluun; hinta kuukaudelta.",
          unit="item", price=3990, one_off=True),
        S("turvallisuuskartoitus", "Kodin turvallisuuskartoitus", "Säkerhetskartläggning av hemmet",
          "Home safety assessment", "Kotikäynti, jossa etsitään kaatumisriskit, palovaroittimet ja muut vaarat.",
          unit="visit", price=6500, one_off=True),
    ], ("laitteen asennus", "testihälytys", "käytön opastus", "kotikäynti hälytyksestä")),
    ("hygienia", "Henkilökohtainen hygienia", "Personlig hygien", "Personal hygiene", [
        S("saunotus", "Saunotus- ja peseytymisapu", "Hjälp med bastu och tvätt", "Bathing assistance",
          "Turvallinen peseytyminen tai saunotus kotona, ihon kunnon tarkistus.", price=4600, vat_bp=0,
          soteri=True),
        S("aamu-ja-iltatoimet", "Aamu- ja iltatoimissa avustaminen", "Hjälp med morgon- och kvällsrutiner",
          "Help with morning and evening routines", "Apua pukeutumisessa, pesuissa ja vuoteeseen siirtymisessä.",
          unit="visit", price=3200, vat_bp=0, soteri=True),
        S("jalkahoito", "Jalkahoito kotona", "Fotvård i hemmet", "Foot care at home",
          "Kynsien leikkaus, kovettumien hoito ja jalkojen rasvaus kotikäynnillä.", unit="visit", price=6500,
          one_off=True),
        S("kampaaja-kotiin", "Kampaaja kotiin", "Frisör i hemmet", "Hairdresser at home",
          "Hiustenleikkuu, kampaus ja parturipalvelut kotona.", unit="visit", price=5500, one_off=True),
    ], ("suihkussa avustettu", "saunotus", "ihon rasvaus", "vaatteiden vaihto", "hiusten pesu")),
    ("korjaus", "Pienet korjaustyöt", "Små reparationer", "Small repairs", [
        S("pienkorjaukset", "Kodin pienkorjaukset", "Små reparationer i hemmet", "Small home repairs",
          "Ovien ja hanojen pienet korjaukset, taulujen ja verhotankojen kiinnitys.", price=5500, labour_share=80,
          one_off=True),
        S("tukikahvat", "Tukikahvojen ja apuvälineiden asennus", "Montering av stödhandtag och hjälpmedel",
          "Installing grab bars and aids", "Tukikahvat kylpyhuoneeseen ja eteiseen, kynnysluiskat.", price=5500,
          labour_share=70, one_off=True),
        S("lamput-ja-paristot", "Lamppujen ja palovaroittimen paristojen vaihto",
          "Byte av lampor och brandvarnarbatterier", "Changing bulbs and smoke alarm batteries",
          "Lamppujen ja paristojen vaihto korkealta ilman putoamisvaaraa.", unit="visit", price=3500,
          labour_share=90, one_off=True),
        S("esteettomyysmuutokset", "Esteettömyysmuutokset", "Tillgänglighetsanpassningar",
          "Accessibility modifications", "Kynnysten poisto, ovien levennys ja muut pienet muutostyöt.",
          price=6200, labour_share=60, one_off=True),
    ], ("tukikahva asennettu", "lamput vaihdettu", "palovaroittimen paristo", "ovi korjattu")),
    ("piha", "Pihatyöt", "Gårdsarbete", "Yard work", [
        S("lumityot", "Lumityöt", "Snöskottning", "Snow clearing",
          "Pihan, portaiden ja postilaatikon reitin lumityöt ja hiekoitus.", price=4900, labour_share=100),
        S("ruohonleikkuu", "Ruohonleikkuu", "Gräsklippning", "Lawn mowing",
          "Nurmikon leikkuu ja reunojen siistiminen kesäkaudella.", price=4500, labour_share=100),
        S("puutarhatyot", "Puutarha- ja haravointityöt", "Trädgårdsarbete och krattning",
          "Gardening and raking", "Haravointi, kukkapenkkien kitkentä ja pensaiden leikkaus.", price=4500,
          labour_share=100),
        S("polttopuut", "Polttopuiden kanto ja pilkkominen", "Vedbärning och vedhuggning",
          "Carrying and chopping firewood", "Polttopuiden pilkkominen ja kanto sisälle valmiiksi.", price=4200,
          labour_share=100),
    ], ("lumityöt", "hiekoitus", "haravointi", "ruohonleikkuu", "puiden kanto")),
    ("hyvinvointi", "Hyvinvointi ja liikunta", "Välmående och motion", "Wellbeing and exercise", [
        S("kotikuntoutus", "Kotikuntoutus", "Hemrehabilitering", "Home rehabilitation",
          "Fysioterapeutin ohjaama harjoittelu kotona esimerkiksi sairaalajakson jälkeen.", unit="visit",
          price=6800, vat_bp=0, soteri=True),
        S("fysioterapia", "Fysioterapia kotona", "Fysioterapi i hemmet", "Physiotherapy at home",
          "Fysioterapeutin kotikäynti: liikkumiskyvyn arvio ja harjoitusohjelma.", unit="visit", price=7900,
          vat_bp=0, soteri=True),
        S("senioriliikunta", "Senioriliikuntaryhmä", "Motionsgrupp för seniorer", "Senior exercise group",
          "Ohjattu tasapaino- ja lihaskuntoryhmä kerran viikossa.", unit="visit", price=1200, vat_bp=1400),
        S("ystavapalvelu", "Ystäväpalvelu", "Vänverksamhet", "Befriending service",
          "Koulutettu vapaaehtoinen ystävä käy juttelemassa ja ulkoilemassa.", unit="visit", price=None,
          vat_bp=0),
    ], ("tasapainoharjoitteet", "lihaskuntoharjoitteet", "kävelyharjoittelu", "keskustelu ja seura")),
    ("hoiva", "Hoiva ja hoito", "Vård och omsorg", "Care", [
        S("kotihoito", "Kotihoidon käynti", "Hemvårdsbesök", "Home care visit",
          "Lähihoitajan käynti: päivittäiset toimet, ravitsemus, voinnin seuranta.", price=5200, vat_bp=0,
          soteri=True),
        S("laakehoito", "Lääkkeiden jakelu ja annostelu", "Läkemedelsutdelning och dosering",
          "Medication management", "Lääkkeiden jako dosettiin ja lääkityksen toteutumisen seuranta.",
          unit="visit", price=3900, vat_bp=0, self_paid=False, soteri=True),
        S("omaishoidon-vapaa", "Omaishoitajan vapaan sijaistus", "Avlösning för närståendevårdare",
          "Respite for family carers", "Hoitaja tulee kotiin, jotta omaishoitaja pääsee vapaalle.", price=4800,
          vat_bp=0, soteri=True),
        S("yohoito", "Yöhoito kotona", "Nattvård i hemmet", "Night care at home",
          "Yökäynnit tai yöpäivystys kotona esimerkiksi sairaalasta kotiutumisen jälkeen.", price=5900,
          vat_bp=0, soteri=True),
        S("sairaanhoitajan-kaynti", "Sairaanhoitajan kotikäynti", "Sjukskötarbesök i hemmet", "Nurse home visit",
          "Sairaanhoitajan käynti: haavanhoito, näytteenotto, pistokset.", unit="visit", price=7500, vat_bp=0,
          self_paid=False, soteri=True),
    ], ("lääkkeet annettu", "verenpaineen mittaus", "aamutoimet", "ravitsemuksen seuranta", "haavanhoito")),
]
del S

# --------------------------------------------------------------------------- providers


@dataclass(frozen=True)
class ProviderSpec:
    """One provider organisation: who it is, where and in which languages it works,
    what it offers, and its price level relative to the catalogue's usual prices."""

    slug: str
    name: str
    kind: str
    description: str
    languages: tuple[str, ...]
    areas: tuple[str, ...]
    services: tuple[str, ...]
    contact: str
    price_factor: float = 1.0
    soteri: bool = False
    status: str = ProviderStatus.APPROVED
    worker: str | None = None  # name of a worker login, if the org has one
    requested: tuple[str, ...] = ()  # services named in a pending application


PROVIDERS: list[ProviderSpec] = [
    ProviderSpec("naapuriapu", "Näsin Naapuriapu ry", ProviderKind.NGO,
                 "Vapaaehtoisvoimin toimiva yhdistys: ystäväpalvelua, ulkoiluapua ja asiointiapua Tampereen "
                 "keskustan ja pohjoisten alueiden ikäihmisille. Palvelut edullisia tai maksuttomia.",
                 ("fi",), TAMPERE[:12], ("ystavapalvelu", "ulkoiluapu", "kauppa-asiointi", "ateriakuljetus",
                                         "saattaja-terveydenhuoltoon", "kauppakassipalvelu"),
                 "Riitta Halme", price_factor=0.6),
    ProviderSpec("seniorituki", "Pirkanmaan Seniorituki ry", ProviderKind.NGO,
                 "Seniorijärjestö, joka järjestää liikuntaryhmiä, ystävätoimintaa ja apua arjen asiointiin "
                 "koko Pirkanmaalla.",
                 ("fi", "en"), ALL_AREAS, ("ystavapalvelu", "senioriliikunta", "pankki-ja-virastoasiointi",
                                           "apteekkiasiointi", "turvallisuuskartoitus", "harrastussaattaja"),
                 "Kari Niemelä", price_factor=0.7),
    ProviderSpec("svenskaseniorer", "Tammerfors Svenska Seniorer rf", ProviderKind.NGO,
                 "Svenskspråkig förening: vänverksamhet, ledsagning och hjälp med ärenden på svenska i "
                 "Tammerfors med omnejd. Ruotsinkielistä ystävä- ja asiointiapua.",
                 ("sv", "fi"), TAMPERE + ("33960",), ("ystavapalvelu", "ulkoiluapu", "kauppa-asiointi",
                                                      "harrastussaattaja", "ateriaseura"),
                 "Birgitta Holmström", price_factor=0.75),
    ProviderSpec("kirkaskoti", "Siivouspalvelu Kirkas Koti Oy", ProviderKind.COMPANY,
                 "Kotisiivousta ikäihmisille jo vuodesta 2009. Sama tuttu siivooja joka kerta, "
                 "kotitalousvähennyskelpoinen palvelu.",
                 ("fi", "en"), TAMPERE + ("33960", "36200"), ("yllapitosiivous", "suursiivous", "ikkunanpesu",
                                                              "pyykkihuolto"),
                 "Satu Laaksonen", price_factor=1.0, worker="Merja Salonen"),
    ProviderSpec("pirkanateria", "Pirkan Ateriapalvelu Oy", ProviderKind.COMPANY,
                 "Kotiruokaa omasta keittiöstä: ateriat kotiin arkipäivisin, erityisruokavaliot ja "
                 "kauppakassipalvelu.",
                 ("fi", "sv"), ALL_AREAS, ("ateriakuljetus", "erityisruokavaliot", "ruoanlaitto-kotona",
                                           "kauppakassipalvelu"),
                 "Jari Lindroos", price_factor=1.05),
    ProviderSpec("hyvaarki", "Kotihoito Hyvä Arki Oy", ProviderKind.COMPANY,
                 "Yksityinen kotihoitoyritys: lähihoitajien ja sairaanhoitajien käynnit, saunotus, "
                 "omaishoidon vapaat ja yöhoito. Rekisteröity Soteri-rekisteriin.",
                 ("fi", "sv", "en"), TAMPERE + ("33960", "33470", "37100"),
                 ("kotihoito", "saunotus", "aamu-ja-iltatoimet", "laakehoito", "omaishoidon-vapaa", "yohoito",
                  "sairaanhoitajan-kaynti", "yllapitosiivous", "kauppa-asiointi"),
                 "Anu Väisänen", price_factor=1.1, soteri=True, worker="Tuomas Leppänen"),
    ProviderSpec("heikkila", "Remonttiapu Heikkilä Ky", ProviderKind.COMPANY,
                 "Pienet korjaus- ja asennustyöt ikäihmisten koteihin: tukikahvat, kynnysluiskat, lamput ja "
                 "palovaroittimet. Kotitalousvähennys työn osuudesta.",
                 ("fi",), ALL_AREAS, ("pienkorjaukset", "tukikahvat", "lamput-ja-paristot",
                                      "esteettomyysmuutokset"),
                 "Pertti Heikkilä", price_factor=0.95),
    ProviderSpec("koivisto", "Piha- ja kiinteistöpalvelu Koivisto Tmi", ProviderKind.COMPANY,
                 "Lumityöt, ruohonleikkuu, haravointi ja polttopuut omakotitaloihin Tampereen itäosissa, "
                 "Kangasalla ja Lempäälässä.",
                 ("fi",), ("33540", "33560", "33580", "33610", "33700", "33720", "33800", "33820", "33900",
                           "36200", "37500"),
                 ("lumityot", "ruohonleikkuu", "puutarhatyot", "polttopuut", "pienkorjaukset"),
                 "Harri Koivisto", price_factor=0.9),
    ProviderSpec("turvaverkko", "Turvaverkko Palvelut Oy", ProviderKind.COMPANY,
                 "Turvapuhelimet, paikantavat rannekkeet ja turva-auttajat ympäri vuorokauden koko "
                 "Pirkanmaalla.",
                 ("fi", "sv", "en"), ALL_AREAS, ("turvapuhelin", "turva-auttajakaynti", "gps-turvaranneke",
                                                 "turvallisuuskartoitus"),
                 "Minna Aaltonen", price_factor=1.0, soteri=True),
    ProviderSpec("aaltohyvinvointi", "Hyvinvointikeskus Aalto Oy", ProviderKind.COMPANY,
                 "Fysioterapeutit ja jalkahoitajat kotikäynneillä sekä ohjattuja senioriliikuntaryhmiä.",
                 ("fi", "en"), TAMPERE + ("33960", "37500"), ("kotikuntoutus", "fysioterapia", "senioriliikunta",
                                                              "jalkahoito", "kampaaja-kotiin"),
                 "Elina Aalto", price_factor=1.05, soteri=True),
    ProviderSpec("hoivarekry", "Hoivarekry Oy", ProviderKind.AGENCY,
                 "Henkilöstöpalveluyritys: lähihoitajia ja sairaanhoitajia kotihoidon sijaisuuksiin "
                 "lyhyelläkin varoitusajalla, myös suoraan asiakkaan kotiin.",
                 ("fi", "en"), TAMPERE, ("kotihoito", "omaishoidon-vapaa", "yohoito"),
                 "Janne Virtanen", price_factor=1.15, soteri=True),
    ProviderSpec("sijaispooli", "Pirkanmaan Sijaispooli Oy", ProviderKind.AGENCY,
                 "Sosiaali- ja terveysalan henkilöstöä vuokralle koko Pirkanmaalle: lähi- ja sairaanhoitajat, "
                 "fysioterapeutit ja sosionomit.",
                 ("fi", "sv"), ALL_AREAS, ("kotihoito", "sairaanhoitajan-kaynti", "aamu-ja-iltatoimet"),
                 "Heidi Saarinen", price_factor=1.2, soteri=True),
    # Applications waiting for the administrator's decision.
    ProviderSpec("lehtonen", "Asiointiapu Lehtonen Tmi", ProviderKind.COMPANY,
                 "Yhden hengen yritys: kauppa- ja apteekkiasiointia sekä saattoapua Nokialla ja Ylöjärvellä.",
                 ("fi",), ("37100", "33470"), (), "Marko Lehtonen", status=ProviderStatus.PENDING,
                 requested=("kauppa-asiointi", "apteekkiasiointi", "saattaja-terveydenhuoltoon")),
    ProviderSpec("lempaalanseniorit", "Lempäälän Eläkeläiset ry", ProviderKind.NGO,
                 "Eläkeläisyhdistys, joka haluaa tarjota ystäväpalvelua ja ulkoiluapua Lempäälässä.",
                 ("fi",), ("37500",), (), "Raija Mustonen", status=ProviderStatus.PENDING,
                 requested=("ystavapalvelu", "ulkoiluapu")),
]

# (service type slug, postal codes) that have a procured ranking of providers.
RANKED_AREAS = ("33100", "33200", "33210", "33500", "33540", "33720", "33800", "37100")
RANKINGS = [(slug, RANKED_AREAS) for slug in ("kotihoito", "yllapitosiivous", "ateriakuljetus", "kauppa-asiointi")]

STAFFING_COVERAGE = {
    "hoivarekry": ((Qualification.PRACTICAL_NURSE, Qualification.HOME_CARE_ASSISTANT,
                    Qualification.REGISTERED_NURSE), TAMPERE),
    "sijaispooli": ((Qualification.PRACTICAL_NURSE, Qualification.REGISTERED_NURSE, Qualification.PHYSIOTHERAPIST,
                     Qualification.SOCIAL_CARE_INSTRUCTOR), ALL_AREAS),
}

OFFERING_NOTES = (
    "Sama tuttu työntekijä joka kerta, sijaisesta ilmoitetaan etukäteen.",
    "Käynnit arkipäivisin klo 8–18, viikonloppuisin sopimuksen mukaan.",
    "Kokeneet työntekijät, joilla on ensiapukoulutus ja ikäihmisten palveluiden kokemus.",
    "Ensimmäisellä kerralla sovitaan yhdessä, mitä tehdään ja missä järjestyksessä.",
    "Hintaan sisältyvät työvälineet ja -aineet.",
)

# --------------------------------------------------------------------------- people

STAFF = [  # (login, name, phone)
    ("ohjaaja1", "Sanna Lehtinen", "040 718 2231"),
    ("ohjaaja2", "Mikko Rantanen", "040 718 2232"),
    ("ohjaaja3", "Johanna Salo", "040 718 2233"),
    ("ohjaaja4", "Antti Koskinen", "040 718 2234"),
]
MANAGERS = [("johtaja", "Päivi Laaksonen"), ("johtaja2", "Jukka Hakala")]
ADMIN_NAME = "Tiina Virta"

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
GUIDANCE_TOPICS = (
    ("siivous", "Kerrottu siivouspalveluista ja kotitalousvähennyksestä.", None),
    ("ateriapalvelu", "Ohjattu ateriapalveluun, tilaus tehty.", None),
    ("turvapuhelin", "Turvapuhelimen hakeminen ja hinnat käyty läpi.", None),
    ("omaishoito", "Omaishoidon tuki ja vapaapäivät, ohjattu hakemaan.", "Omaishoidon tuen palveluohjaus"),
    ("palveluseteli", "Palvelusetelin käyttö ja omavastuu selitetty.", None),
    ("kuljetuspalvelu", "Kerrottu sosiaalihuoltolain kuljetuspalvelusta.", "Kuljetuspalvelun hakemus"),
    ("asunnon muutostyöt", "Tukikahvat ja kynnysten poisto, ohjattu toimintaterapeutille.",
     "Apuvälinelainaamo"),
    ("yksinäisyys", "Ohjattu ystäväpalveluun ja senioriryhmiin.", "Ystäväpalvelu"),
    ("muisti", "Muistihuolet, ohjattu muistihoitajalle.", "Muistihoitajan vastaanotto"),
    ("raha-asiat", "Hoitotuki ja asumistuki, autettu Kela-hakemuksessa.", "Kela"),
    ("kotihoito", "Kotihoidon palvelutarpeen arviointi sovittu.", "Kotihoidon palvelutarpeen arviointi"),
)
INSTRUCTIONS = (
    "Asiakas kuulee huonosti: soita ovikelloa pitkään ja odota hetki.",
    "Avain on avainsäilössä, koodi kerrotaan tilauksen hyväksyneelle.",
    "Kotona on kissa, joka ei saa päästä ulos.",
    "Asiakas liikkuu rollaattorilla, varaa aikaa.",
    "Toivotaan samaa työntekijää joka kerta.",
    "Rappukäytävän ovessa summeri, asunto 3. kerroksessa, hissi on.",
    "",
    "",
)
VISIT_NOTES = (None, None, None, "Kaikki hyvin.", "Asiakas hyvällä tuulella, juteltiin pitkään.",
               "Sovittiin seuraavasta käynnistä.", "Asiakas toivoi ensi kerralla myös ikkunoiden pyyhintää.")
CONCERN_NOTES = (
    "Asiakas oli kaatunut eteisessä viime viikolla, mustelmia käsivarressa. Ei halunnut lääkäriin.",
    "Jääkaapissa paljon vanhentunutta ruokaa ja asiakas vaikuttaa laihtuneen.",
    "Asiakas oli sekava eikä muistanut sovittua käyntiä. Lääkedosetti oli koskematon.",
    "Asunnossa kylmä, patterit eivät lämpene. Asiakas ei ollut ilmoittanut isännöitsijälle.",
)
DECLINE_REASONS = (
    "Ei vapaata kapasiteettia toivotulla aikataululla.",
    "Alue on liian kaukana työntekijöidemme reiteiltä.",
    "Emme pysty takaamaan samaa työntekijää joka kerta.",
    "Toivottu kieli ei onnistu tällä viikolla.",
)
CANCEL_REASONS = (
    "Asiakas muutti tehostettuun palveluasumiseen.",
    "Asiakas joutui sairaalaan, palvelu tilataan uudelleen kotiutuessa.",
    "Omainen hoitaa asian itse, asiakas perui.",
    "Tilaus tehtiin väärälle palvelulle, tilalle uusi tilaus.",
    "Palvelua ei enää tarvita: kotikuntoutusjakso päättyi.",
)
NOT_RECEIVED_NOTES = (
    "Asiakas ei avannut ovea kolmella käynnillä. Sovittu kotikäynti vastuutyöntekijän kanssa.",
    "Ateriat eivät sopineet asiakkaan ruokavalioon, palvelu keskeytyi. Etsitään toinen tuottaja.",
    "Palveluntuottaja ei löytänyt sopivaa aikaa, asiakas jäi ilman palvelua kahdeksi viikoksi.",
)
FEEDBACK_COMMENT_SV = "Tack, allt fungerade mycket bra!"
FEEDBACK_COMMENTS = {
    5: ("Todella ystävällinen ja huolellinen työntekijä. Kiitos!", "Kaikki sujui erinomaisesti.",
        "Mukava, kun sama hoitaja käy aina."),
    4: ("Hyvää työtä, kerran tultiin puoli tuntia myöhässä.", "Olen tyytyväinen.", None),
    3: ("Ihan kelvollinen, mutta aikatauluista pitäisi sopia paremmin.", None),
    2: ("Työntekijä vaihtui joka kerta, eikä kukaan tiennyt mitä pitää tehdä.",),
    1: ("Palvelu ei vastannut sovittua.",),
}
PROVIDER_RESPONSES = (
    "Kiitos palautteesta! Välitämme kiitoksen työntekijälle.",
    "Pahoittelemme myöhästymistä. Olemme tarkentaneet reittisuunnittelua.",
    "Kiitos palautteesta. Pyrimme jatkossa siihen, että sama työntekijä käy aina.",
)

# How many orders end up in each state (about 80 in all).
ORDER_MIX = {
    OrderStatus.OFFERED: 12, OrderStatus.ESCALATED: 6, OrderStatus.ACCEPTED: 10, OrderStatus.IN_PROGRESS: 14,
    OrderStatus.COMPLETED: 10, OrderStatus.CLOSED: 20, OrderStatus.CANCELLED: 8,
}
# Orders the demo logins should see: (client index or None = any, service, status, winner slug, extras).
FEATURED_ORDERS = [
    (0, "yllapitosiivous", OrderStatus.IN_PROGRESS, "kirkaskoti", {}),
    (0, "ateriakuljetus", OrderStatus.COMPLETED, "pirkanateria", {}),
    (0, "ikkunanpesu", OrderStatus.CLOSED, "kirkaskoti", {"feedback": 5}),
    (0, "ulkoiluapu", OrderStatus.OFFERED, None, {}),
    (0, "turvapuhelin", OrderStatus.ACCEPTED, "turvaverkko", {}),
    (1, "kauppa-asiointi", OrderStatus.IN_PROGRESS, "svenskaseniorer", {}),
    (1, "fysioterapia", OrderStatus.CLOSED, "aaltohyvinvointi", {"feedback": 4}),
    (2, "kotihoito", OrderStatus.IN_PROGRESS, "hyvaarki", {"concern": True}),
    (2, "turvapuhelin", OrderStatus.CLOSED, "turvaverkko", {}),
    (2, "saunotus", OrderStatus.OFFERED, None, {"mode": OfferMode.SINGLE, "to": "hyvaarki"}),
    (None, "kotihoito", OrderStatus.OFFERED, None, {"mode": OfferMode.BROADCAST, "min_providers": 3}),
    (None, "yllapitosiivous", OrderStatus.OFFERED, None, {"mode": OfferMode.BROADCAST, "min_providers": 2}),
    (None, "kotihoito", OrderStatus.ACCEPTED, "hyvaarki", {}),
    (None, "yllapitosiivous", OrderStatus.ACCEPTED, None, {"reoffer": True}),
    (None, "pienkorjaukset", OrderStatus.ESCALATED, None, {}),
    (None, "saunotus", OrderStatus.COMPLETED, "hyvaarki", {"concern": True}),
    (None, "kotihoito", OrderStatus.OFFERED, None, {"mode": OfferMode.RANKED}),
    (None, "ateriakuljetus", OrderStatus.IN_PROGRESS, None, {"mode": OfferMode.RANKED}),
    (None, "kauppa-asiointi", OrderStatus.CLOSED, None, {"mode": OfferMode.RANKED}),
    (None, "yllapitosiivous", OrderStatus.ESCALATED, None, {"mode": OfferMode.RANKED}),
    (None, "kotihoito", OrderStatus.COMPLETED, None, {"mode": OfferMode.RANKED}),
    (None, "ateriakuljetus", OrderStatus.CANCELLED, None, {"mode": OfferMode.RANKED}),
]
CAPACITIES = [("hyvaarki", "kotihoito", 12), ("kirkaskoti", "yllapitosiivous", 20),
              ("pirkanateria", "ateriakuljetus", 60)]  # (provider, service, new orders per week)
TAKEN_STATES = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED)
VOUCHER_SERVICES = {"yllapitosiivous", "kotihoito", "ateriakuljetus", "saunotus", "kauppa-asiointi",
                    "omaishoidon-vapaa"}

# --------------------------------------------------------------------------- helpers

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
WEEKDAYS_FI = ("maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina",
               "sunnuntaina")


def _business_id(rng: random.Random, first_digit: int, taken: set[str]) -> str:
    """A valid, unused Y-tunnus: 7 digits, a hyphen and the mod-11 check digit."""
    while True:
        digits = f"{first_digit}{rng.randrange(0, 10 ** 6):06d}"
        remainder = sum(int(d) * w for d, w in zip(digits, BUSINESS_ID_WEIGHTS)) % 11
        if remainder == 1:  # no valid check digit exists: such numbers are never issued
            continue
        value = f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        if value not in taken:
            taken.add(value)
            return value


def _identity_code(rng: random.Random, born: date, sex: str, taken: set[str]) -> str:
    """A valid, unused henkilötunnus for someone born in the 1900s (century sign '-');
    the individual number is odd for men and even for women, as in real codes."""
    while True:
        individual = rng.randrange(2, 900)
        if (individual % 2 == 1) != (sex == "M"):
            individual += 1 if individual < 899 else -1
        if not 2 <= individual <= 899:
            continue
        head = f"{born:%d%m%y}"
        code = f"{head}-{individual:03d}{HETU_CHECK[int(head + f'{individual:03d}') % 31]}"
        if code not in taken:
            taken.add(code)
            return code


def _number(prefix: str, created_at: datetime, row_id: int) -> str:
    """``SO-2026-000123``: the same scheme as the live services (year and row id), so
    rows created after the demo never collide with its numbers."""
    return f"{prefix}-{created_at.astimezone(HELSINKI).year}-{row_id:06d}"


def _token_hash() -> str:
    """The SHA-256 of a fresh random token (the token itself is not kept)."""
    return hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest()


def _vat(gross_cents: int, rate_bp: int) -> int:
    """VAT included in a gross price, rounded half up to a cent."""
    return (2 * gross_cents * rate_bp + 10000 + rate_bp) // (2 * (10000 + rate_bp))


def _ascii(text: str) -> str:
    """A name as the local part of an e-mail address (``Mäkinen`` -> ``makinen``)."""
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "A", "Ö": "O", "Å": "A", " ": "", "-": ""})
    return text.translate(table).lower()


def _phone(rng: random.Random) -> str:
    """A Finnish mobile number in the usual spaced form."""
    return f"{rng.choice(('040', '044', '050'))} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}"


def _round_price(cents: float) -> int:
    """Prices end in 0 or 90 cents, like real price lists."""
    euros = int(cents // 100)
    return euros * 100 + (90 if cents - euros * 100 >= 45 else 0)


@dataclass
class _Timeline:
    """When things happened to one order (all aware UTC, dates local)."""

    created_at: datetime
    start_date: date
    end_date: date | None = None
    accepted_at: datetime | None = None
    escalated_at: datetime | None = None
    reoffered_at: datetime | None = None
    visits: list[datetime] = field(default_factory=list)  # local visit start times, as UTC
    completed_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class _OrderPlan:
    """What one order's story is to be; ``build_orders`` turns it into rows."""

    client: Client
    spec: ServiceSpec
    category: str
    status: str
    prior: str            # the state the order was in when cancelled (else = status)
    mode: str
    funding: str
    recipients: list[Provider]   # offers, in the order they were made
    winner: Provider | None
    reoffer_to: Provider | None = None   # escalated first, then re-offered to this provider
    concern: bool = False
    feedback: int | None = None          # the rating given, if any
    choices: int = 1                     # how many providers could have served it
    per_week: int | None = None
    minutes: int | None = None
    cancelled_at: datetime | None = None
    timeline: _Timeline | None = None
    order: ServiceOrder | None = None
    offers: list[Offer] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)


# --------------------------------------------------------------------------- the builder


class _DemoBuilder:
    """Builds the set step by step; each step adds rows and flushes."""

    def __init__(self):
        self.rng = random.Random(SEED)
        self.now = utcnow()
        self.today = self.now.astimezone(HELSINKI).date()
        self.session = db.session
        self.counts: dict[str, int] = {}
        self.providers: dict[str, Provider] = {}
        self.provider_admins: dict[int, User] = {}
        self.provider_workers: dict[int, User] = {}
        self.services: dict[str, ServiceType] = {}
        self.specs: dict[str, ServiceSpec] = {}
        self.category_of: dict[str, str] = {}
        self.tasks: dict[str, tuple[str, ...]] = {}
        self.offerings: list[Offering] = []
        self.rankings: dict[tuple[str, str], list[Provider]] = {}
        self.staff: list[User] = []
        self.clients: list[Client] = []
        self.client_sex: dict[Client, str] = {}
        self.last_activity: dict[Client, datetime] = {}
        self.feedback_rows: list[Feedback] = []
        self.client_users: list[User] = []
        self.vouchers: dict[tuple[int, str], ServiceVoucher] = {}

    # -- time helpers

    def local(self, day: date, hour: float) -> datetime:
        """A local Helsinki wall-clock time on ``day`` as aware UTC."""
        minutes = int(hour * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), HELSINKI).astimezone(UTC)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        """That long before the moment the demo is loaded."""
        return self.now - timedelta(days=days, hours=hours)

    def add(self, *rows) -> None:
        """Add rows to the session (flushed later, in one go where ids are not needed)."""
        self.session.add_all(rows)

    def count(self, key: str, n: int = 1) -> None:
        """Count created rows for the summary ``load_demo`` returns."""
        self.counts[key] = self.counts.get(key, 0) + n

    def touch(self, client: Client, at: datetime) -> None:
        """Remember the latest thing that happened to a client (``last_activity_at``)."""
        if at > self.last_activity.get(client, client.created_at):
            self.last_activity[client] = at

    # -- platform users

    def user(self, email: str, role: str, name: str, created_at: datetime, **kw) -> User:
        """A login through ``create_user`` (hashed password, same checks as the CLI)."""
        user = create_user(email, DEMO_PASSWORD, role, name=name, **kw)
        user.created_at = created_at
        self.count("users")
        return user

    def build_platform_users(self) -> None:
        """The administrator, four guidance workers and two managers."""
        started = self.ago(days=720)  # the platform went live about two years ago
        self.admin = self.user(f"admin@{DOMAIN}", Role.ADMIN, ADMIN_NAME, started)
        for login, name, phone in STAFF:
            staff = self.user(f"{login}@{DOMAIN}", Role.STAFF, name, started + timedelta(days=self.rng.uniform(1, 30)))
            staff.phone = phone
            self.staff.append(staff)
        self.staff_by_id = {s.id: s for s in self.staff}
        for login, name in MANAGERS:
            self.user(f"{login}@{DOMAIN}", Role.MANAGER, name, started + timedelta(days=self.rng.uniform(1, 60)))

    # -- catalogue

    def build_catalogue(self) -> None:
        """Categories and service types from ``CATALOGUE``, in three languages."""
        for position, (slug, fi, sv, en, specs, tasks) in enumerate(CATALOGUE, start=1):
            category = ServiceCategory(slug=slug, name_fi=fi, name_sv=sv, name_en=en, position=position)
            self.add(category)
            self.session.flush()
            self.count("service_categories")
            for spec in specs:
                service = ServiceType(
                    category_id=category.id, slug=spec.slug, name_fi=spec.fi, name_sv=spec.sv, name_en=spec.en,
                    description_fi=spec.description, self_paid_allowed=spec.self_paid, needs_soteri=spec.soteri,
                    default_unit=spec.unit)
                self.add(service)
                self.services[spec.slug] = service
                self.specs[spec.slug] = spec
                self.category_of[spec.slug] = slug
                self.count("service_types")
            self.tasks[slug] = tasks
        self.session.flush()

    # -- providers

    def build_providers(self) -> None:
        """Providers from ``PROVIDERS`` with valid business IDs; each approved one has
        its approval decision and an org-admin login (and some a worker login)."""
        taken: set[str] = set()
        for spec in PROVIDERS:
            first_digit = self.rng.choice((0, 1)) if spec.kind == ProviderKind.NGO else self.rng.choice((2, 3))
            approved = spec.status == ProviderStatus.APPROVED
            # approved providers joined before the oldest demo orders (about 230 days back)
            created = self.ago(days=self.rng.uniform(260, 690)) if approved else self.ago(days=self.rng.uniform(1, 6))
            provider = Provider(
                name=spec.name, business_id=_business_id(self.rng, first_digit, taken), kind=spec.kind,
                status=spec.status, email=f"info@{spec.slug}.{DOMAIN}", phone=f"03 {self.rng.randrange(200, 400)} "
                f"{self.rng.randrange(1000, 10000)}", website=f"https://{spec.slug}.{DOMAIN}",
                description=spec.description, languages=list(spec.languages), service_areas=list(spec.areas),
                contact_person=spec.contact, soteri_registered=spec.soteri,
                requested_service_type_ids=[self.services[slug].id for slug in spec.requested],
                prepayment_register=spec.kind != ProviderKind.NGO, allows_invoice=True, created_at=created,
                approved_at=created + timedelta(days=self.rng.uniform(2, 14)) if approved else None)
            self.add(provider)
            self.providers[spec.slug] = provider
            self.count("providers")
            self.count(f"providers_{spec.status}")
        self.session.flush()
        self.provider_by_id = {p.id: p for p in self.providers.values()}
        for spec in PROVIDERS:
            provider = self.providers[spec.slug]
            if spec.status != ProviderStatus.APPROVED:
                continue
            self.add(ProviderDecision(provider_id=provider.id, decision="approved", decided_by_id=self.admin.id,
                                      reasons="Y-tunnus, vakuutukset ja omavalvontasuunnitelma tarkistettu.",
                                      at=provider.approved_at))
            admin = self.user(f"tilaukset@{spec.slug}.{DOMAIN}", Role.PROVIDER, spec.contact, provider.approved_at,
                              provider_id=provider.id, provider_role=ProviderRole.ADMIN)
            self.provider_admins[provider.id] = admin
            if spec.worker:
                self.provider_workers[provider.id] = self.user(
                    f"tyontekija@{spec.slug}.{DOMAIN}", Role.PROVIDER, spec.worker,
                    provider.approved_at + timedelta(days=3), provider_id=provider.id,
                    provider_role=ProviderRole.WORKER)

    def build_offerings(self) -> None:
        """Each approved provider's offerings with prices, VAT, household deduction and
        the postal codes served; a few weekly capacities."""
        for spec in PROVIDERS:
            provider = self.providers[spec.slug]
            for slug in spec.services:
                service_spec = self.specs[slug]
                price = None
                if service_spec.price is not None:
                    factor = spec.price_factor * self.rng.uniform(0.95, 1.05)
                    price = _round_price(service_spec.price * factor)
                offering = Offering(
                    provider_id=provider.id, service_type_id=self.services[slug].id, unit=service_spec.unit,
                    # Small non-profit associations are not VAT-registered.
                    price_cents=price, vat_rate_bp=0 if spec.kind == ProviderKind.NGO else service_spec.vat_bp,
                    self_paid=service_spec.self_paid and price is not None,
                    household_deduction=service_spec.labour_share is not None,
                    labour_share_percent=service_spec.labour_share or 100, languages=list(spec.languages),
                    description=self.rng.choice(OFFERING_NOTES), created_at=provider.approved_at,
                    updated_at=provider.approved_at)
                offering.areas = [OfferingArea(postal_code=code) for code in spec.areas]
                self.add(offering)
                self.offerings.append(offering)
                self.count("offerings")
        self.session.flush()
        for slug, service, per_week in CAPACITIES:
            self.add(ProviderCapacity(provider_id=self.providers[slug].id, service_type_id=self.services[service].id,
                                      orders_per_week=per_week))

    def eligible(self, slug: str, postal_code: str, languages: list[str]) -> list[Provider]:
        """Approved providers offering ``slug`` at ``postal_code`` in one of ``languages``."""
        found = []
        for offering in self.offerings:
            if offering.service_type_id != self.services[slug].id or not offering.active:
                continue
            provider = self.provider_by_id[offering.provider_id]
            if provider.status != ProviderStatus.APPROVED:
                continue
            if postal_code in offering.postal_codes and set(offering.languages) & set(languages):
                found.append(provider)
        return found

    def build_rankings(self) -> None:
        """The procured order of providers for ``RANKINGS`` (only where two or more compete)."""
        for slug, codes in RANKINGS:
            for code in codes:
                providers = self.eligible(slug, code, ["fi", "sv", "en"])
                if len(providers) < 2:
                    continue
                self.rng.shuffle(providers)
                self.rankings[(slug, code)] = providers
                for rank, provider in enumerate(providers, start=1):
                    self.add(ProviderRanking(service_type_id=self.services[slug].id, postal_code=code,
                                             provider_id=provider.id, rank=rank))
                    self.count("provider_rankings")

    def build_staffing_coverage(self) -> None:
        """Qualifications and postal codes the two staffing agencies cover."""
        for slug, (qualifications, codes) in STAFFING_COVERAGE.items():
            for qualification in qualifications:
                for code in codes:
                    self.add(StaffingCoverage(provider_id=self.providers[slug].id, qualification=qualification,
                                              postal_code=code))
                    self.count("staffing_coverage")
        self.session.flush()

    # -- clients

    def _client_row(self, index: int, first: str, last: str, born: date, sex: str, address: str,
                    postal_code: str, languages: list[str], segment: str, taken: set[str]) -> Client:
        """One client; consent, non-disclosure and the identity code depend on ``index``."""
        worker = self.staff[index % len(self.staff)]
        created = self.ago(days=self.rng.uniform(260, 900))  # before the oldest orders
        consent = index not in NO_CONSENT
        has_code = index < 3 or self.rng.random() < 0.7
        email = None
        if index < 3 or self.rng.random() < 0.35:
            email = f"{_ascii(first)}.{_ascii(last)}{index}@asiakas.{DOMAIN}"
        return Client(
            first_name=first, last_name=last, birth_date=born,
            personal_identity_code=_identity_code(self.rng, born, sex, taken) if has_code else None,
            address=address, postal_code=postal_code, municipality=POSTAL_AREAS[postal_code][0],
            phone=_phone(self.rng), email=email, languages=languages, consent_to_share=consent,
            consent_recorded_at=created + timedelta(hours=1) if consent else None,
            consent_recorded_by_id=worker.id if consent else None, segment=segment,
            non_disclosure=index in NON_DISCLOSURE, responsible_worker_id=worker.id,
            created_at=created, updated_at=created, last_activity_at=created,
            last_check_at=self.ago(days=self.rng.uniform(3, 200)))

    def build_clients(self) -> None:
        """The three fixed clients behind the client logins, then drawn ones up to 60."""
        taken: set[str] = set()
        codes = list(POSTAL_AREAS)
        for index in range(CLIENT_COUNT):
            if index < len(FIXED_CLIENTS):
                first, last, born, sex, address, code, languages, segment = FIXED_CLIENTS[index]
            else:
                swedish = self.rng.random() < 0.1
                sex = self.rng.choice("FFM")  # most older clients are women
                if swedish:
                    first = self.rng.choice(SV_WOMEN if sex == "F" else SV_MEN)
                    last, languages = self.rng.choice(SV_SURNAMES), ["sv", "fi"]
                else:
                    first = self.rng.choice(WOMEN if sex == "F" else MEN)
                    last, languages = self.rng.choice(SURNAMES), ["fi"]
                born = date(1930, 1, 1) + timedelta(days=self.rng.randrange((date(1960, 12, 31) - date(1930, 1, 1)).days))
                code = self.rng.choice(codes)
                street = self.rng.choice(POSTAL_AREAS[code][1])
                address = f"{street} {self.rng.randrange(1, 60)}"
                if self.rng.random() < 0.7:
                    address += f" {self.rng.choice('ABCD')} {self.rng.randrange(1, 40)}"
                segment = self.rng.choices(list(Segment), weights=(35, 45, 20))[0]
            client = self._client_row(index, first, last, born, sex, address, code, languages, segment, taken)
            self.client_sex[client] = sex
            self.add(client)
            self.clients.append(client)
            self.count("clients")
        self.session.flush()

    def build_client_logins(self) -> None:
        """Two clients' own logins and a daughter acting for her mother."""
        aino, gunnel, helvi = self.clients[:3]
        self.client_users.append(self.user(f"asiakas@{DOMAIN}", Role.CLIENT, aino.full_name,
                                           aino.created_at + timedelta(days=1), client_id=aino.id))
        self.client_users.append(self.user(f"asiakas2@{DOMAIN}", Role.CLIENT, gunnel.full_name,
                                           gunnel.created_at + timedelta(days=1), client_id=gunnel.id, language="sv"))
        relative = self.user(f"omainen@{DOMAIN}", Role.CLIENT, "Leena Mäkinen", helvi.created_at + timedelta(days=2))
        relative.phone = "050 412 7788"
        self.relative = relative
        self.add(ClientRepresentative(client_id=helvi.id, user_id=relative.id, relationship_="tytär",
                                      consent_recorded_at=helvi.created_at + timedelta(days=2, hours=1),
                                      consent_recorded_by_id=helvi.responsible_worker_id))
        self.add(NetworkMember(client_id=helvi.id, name="Leena Mäkinen", role="Tytär",
                               responsibility="Omainen, asioi äidin puolesta palvelussa", phone=relative.phone,
                               email=relative.email, user_id=relative.id, created_at=helvi.created_at))
        self.count("network_members")

    def build_networks(self) -> None:
        """Home nurse, doctor and a relative for about half of the clients."""
        for client in self.clients:
            if self.rng.random() > 0.55 and client is not self.clients[0]:
                continue
            home_care = f"{MUNICIPALITY_GENITIVE[client.municipality]} kotihoito"
            team = next((name for name, codes in HOME_CARE_TEAMS.items() if client.postal_code in codes), None)
            members = [
                NetworkMember(client_id=client.id, name=self.rng.choice(STAFF_NAMES),
                              organisation=f"{home_care}, {team}" if team else home_care,
                              role="Kotisairaanhoitaja", responsibility="Lääkehoito ja voinnin seuranta",
                              phone=_phone(self.rng), starts_on=client.created_at.date(),
                              ends_on=self.today + timedelta(days=self.rng.choice((90, 180, 365)))),
                NetworkMember(client_id=client.id, name=self.rng.choice(DOCTOR_NAMES),
                              organisation=self.rng.choice(HEALTH_CENTRES[client.municipality]),
                              role="Omalääkäri", responsibility="Pitkäaikaissairauksien hoito ja reseptit",
                              starts_on=client.created_at.date()),
            ]
            if client is not self.clients[2]:
                relation = self.rng.choice(RELATIONS)
                if relation == "Puoliso":
                    first = self.rng.choice(MEN if self.client_sex[client] == "F" else WOMEN)
                elif relation == "Sisar":
                    first = self.rng.choice(WOMEN)
                else:  # the next generation
                    first = self.rng.choice(CHILD_NAMES[relation])
                members.append(NetworkMember(client_id=client.id, name=f"{first} {client.last_name}", role=relation,
                                             responsibility="Omainen, yhteyshenkilö", phone=_phone(self.rng)))
            for member in members:
                member.created_at = client.created_at
                self.add(member)
                self.count("network_members")

    def build_guidance_contacts(self) -> None:
        """Logged advice from the last four months; about a third from anonymous callers."""
        municipalities = sorted({town for town, _ in POSTAL_AREAS.values()})
        for _ in range(48):
            staff = self.rng.choice(self.staff)
            topic, outcome, referral = self.rng.choice(GUIDANCE_TOPICS)
            anonymous = self.rng.random() < 0.3
            client = None if anonymous else self.rng.choice(self.clients)
            day = self.today - timedelta(days=self.rng.randrange(1, 120))
            at = self.local(day, self.rng.uniform(8.5, 15.5))
            self.add(GuidanceContact(
                client_id=client.id if client else None, staff_id=staff.id, at=at,
                channel=self.rng.choices(("phone", "visit", "chat", "email"), weights=(60, 20, 10, 10))[0],
                topic=topic, outcome=outcome, referral=referral if self.rng.random() < 0.6 else None,
                municipality=client.municipality if client else self.rng.choice(municipalities),
                minutes=self.rng.choice((5, 10, 15, 20, 30, 45))))
            if client is not None:
                self.touch(client, at)
            self.count("guidance_contacts")

    # -- service orders: planning

    def _plan(self, client: Client, slug: str, status: str, winner_slug: str | None,
              extras: dict) -> _OrderPlan | None:
        """Choose recipients, offer mode, winner and funding for an order, or None when
        the client's area and languages do not fit the wish."""
        rng = self.rng
        eligible = self.eligible(slug, client.postal_code, client.languages)
        if len(eligible) < extras.get("min_providers", 1) or (extras.get("reoffer") and len(eligible) < 2):
            return None
        prior = status
        if status == OrderStatus.CANCELLED:
            prior = rng.choice((OrderStatus.OFFERED, OrderStatus.ESCALATED, OrderStatus.ACCEPTED,
                                OrderStatus.IN_PROGRESS))
        if prior == OrderStatus.IN_PROGRESS and self.specs[slug].one_off:
            return None  # a one-off job is completed after its visit, it does not stay running
        winner = None
        if prior in TAKEN_STATES:
            winner = self.providers[winner_slug] if winner_slug else rng.choice(eligible)
            if winner not in eligible:
                return None
        ranking = [p for p in self.rankings.get((slug, client.postal_code), []) if p in eligible]
        mode = extras.get("mode")
        if mode == OfferMode.RANKED and not ranking:
            return None
        if mode is None:
            if ranking and rng.random() < 0.6:
                mode = OfferMode.RANKED
            elif len(eligible) >= 2 and rng.random() < 0.6:
                mode = OfferMode.BROADCAST
            else:
                mode = OfferMode.SINGLE
        reoffer_to = None
        if extras.get("reoffer"):
            # first a single offer to someone else, who never answered
            mode, reoffer_to = OfferMode.SINGLE, winner
            recipients = [rng.choice([p for p in eligible if p is not winner])]
        elif extras.get("to"):
            recipients = [self.providers[extras["to"]]]
            if recipients[0] not in eligible:
                return None
        elif mode == OfferMode.RANKED and ranking:
            recipients = list(ranking)
            if winner is not None and recipients.index(winner) > 1:
                recipients.remove(winner)  # keep it plausible: the winner was first or second in line
                recipients.insert(1, winner)
        elif mode == OfferMode.SINGLE:
            recipients = [winner or rng.choice(eligible)]
        else:
            mode = OfferMode.BROADCAST
            recipients = rng.sample(eligible, min(len(eligible), 4))
            if winner is not None and winner not in recipients:
                recipients[-1] = winner
        spec = self.specs[slug]
        funding, roll = Funding.MUNICIPALITY, rng.random()
        if slug in VOUCHER_SERVICES and roll < 0.35:
            funding = Funding.VOUCHER
        elif spec.self_paid and roll > 0.92:
            funding = Funding.SELF_PAID
        plan = _OrderPlan(client=client, spec=spec, category=self.category_of[slug], status=status, prior=prior,
                          mode=mode, funding=funding, recipients=recipients, winner=winner, reoffer_to=reoffer_to,
                          concern=extras.get("concern", False), feedback=extras.get("feedback"),
                          choices=len(eligible))
        plan.per_week, plan.minutes = self._rhythm(spec, plan.category)
        return plan

    def _rhythm(self, spec: ServiceSpec, category: str) -> tuple[int | None, int | None]:
        """Visits per week and minutes per visit (None for one-off services)."""
        if spec.one_off:
            return None, None
        if category == "ateriat" and spec.unit == "item":
            return 5, 15
        if category == "hoiva" or spec.slug == "aamu-ja-iltatoimet":
            return self.rng.choice((3, 5, 7)), self.rng.choice((30, 45, 60))
        return self.rng.choice((1, 1, 2)), self.rng.choice((60, 90, 120))

    def plan_orders(self) -> list[_OrderPlan]:
        """The featured orders first, then random ones until ORDER_MIX is reached;
        returned in the order they were placed."""
        plans: list[_OrderPlan] = []
        remaining = dict(ORDER_MIX)
        used = {client for client in self.clients[:len(FIXED_CLIENTS)]}
        for index, slug, status, winner, extras in FEATURED_ORDERS:
            candidates = [self.clients[index]] if index is not None else [
                c for c in self.clients if c not in used and c.consent_to_share]
            for client in candidates:
                plan = self._plan(client, slug, status, winner, extras)
                if plan:
                    used.add(client)
                    plans.append(plan)
                    remaining[status] -= 1
                    break
            else:
                raise RuntimeError(f"demo data: nobody can get the featured order {slug} ({status})")
        clients = [c for c in self.clients if c.consent_to_share]
        slugs = list(self.specs)
        concerns_left = 4
        for status, left in remaining.items():
            while left:
                plan = self._plan(self.rng.choice(clients), self.rng.choice(slugs), status, None, {})
                if plan is None or (plan.choices == 1 and self.rng.random() < 0.6):
                    continue  # prefer services with competition: offers and rankings show better
                if status in (OrderStatus.IN_PROGRESS, OrderStatus.CLOSED) and concerns_left \
                        and self.rng.random() < 0.25:
                    plan.concern, concerns_left = True, concerns_left - 1
                if status in (OrderStatus.COMPLETED, OrderStatus.CLOSED) and plan.feedback is None \
                        and self.rng.random() < (0.5 if status == OrderStatus.COMPLETED else 0.7):
                    plan.feedback = self.rng.choices((5, 4, 3, 2, 1), weights=(45, 35, 12, 6, 2))[0]
                plans.append(plan)
                left -= 1
        for plan in plans:
            until = self.now
            if plan.status == OrderStatus.CANCELLED:
                plan.cancelled_at = until = self.ago(days=self.rng.uniform(0.5, 40))
            plan.timeline = self._timeline(plan, until)
        plans.sort(key=lambda p: p.timeline.created_at)
        return plans

    # -- service orders: timelines

    @staticmethod
    def _visit_days(first: date, per_week: int, count: int) -> list[date]:
        """``count`` visit days from ``first`` on, ``per_week`` a week, evenly spread."""
        offsets = [round(i * 7 / per_week) for i in range(per_week)]
        days: list[date] = []
        week = 0
        while len(days) < count:
            days.extend(first + timedelta(days=week * 7 + offset) for offset in offsets)
            week += 1
        return days[:count]

    def _timeline(self, plan: _OrderPlan, until: datetime) -> _Timeline:
        """Timestamps of an order that reached ``plan.prior`` before ``until`` (now, or
        the moment it was cancelled). Offers go out when the order is placed; a provider
        answers within the 24-hour deadline; visits start after acceptance."""
        rng, state = self.rng, plan.prior
        until_day = until.astimezone(HELSINKI).date()
        if state == OrderStatus.OFFERED:
            created = until - timedelta(hours=rng.uniform(1, 20))
            return _Timeline(created_at=created, start_date=until_day + timedelta(days=rng.randrange(3, 15)))
        if state == OrderStatus.ESCALATED:
            created = until - timedelta(days=rng.uniform(1.6, 5))
            return _Timeline(created_at=created, start_date=until_day + timedelta(days=rng.randrange(1, 10)))
        if state == OrderStatus.ACCEPTED:
            start = until_day + timedelta(days=rng.randrange(1, 15))
            if plan.reoffer_to is not None:
                created = until - timedelta(days=rng.uniform(2.5, 6))
                escalated = created + OFFER_DEADLINE + timedelta(minutes=rng.randrange(2, 15))
                reoffered = escalated + timedelta(hours=rng.uniform(0.5, 3))
                return _Timeline(created_at=created, start_date=start, escalated_at=escalated,
                                 reoffered_at=reoffered, accepted_at=reoffered + timedelta(hours=rng.uniform(0.5, 5)))
            created = until - timedelta(days=rng.uniform(0.5, 6))
            hours = min(20.0, (until - created).total_seconds() / 3600 * 0.8)
            return _Timeline(created_at=created, start_date=start,
                             accepted_at=created + timedelta(hours=rng.uniform(0.3, hours)))
        # In progress, completed or closed: the visits decide the dates.
        per_week = plan.per_week or 1
        if state == OrderStatus.IN_PROGRESS:
            first = until_day - timedelta(days=rng.randrange(1, 35))
            count = 1 if plan.spec.one_off else 10
            starts = [self.local(d, rng.uniform(8, 14)) for d in self._visit_days(first, per_week, count)]
            # a report is written within about four hours of the visit's start
            visits = [v for v in starts if v < until - timedelta(hours=4)] or [self.local(first, 8)]
            end = first if plan.spec.one_off else first + timedelta(days=rng.choice((90, 180)))
        else:
            gap = rng.randrange(1, 7) if state == OrderStatus.COMPLETED else rng.randrange(8, 150)
            last = until_day - timedelta(days=gap)
            count = 1 if plan.spec.one_off else rng.randrange(3, 10)
            days = [last - (d - last) for d in self._visit_days(last, per_week, count)][::-1]
            first, end = days[0], last
            visits = [self.local(d, rng.uniform(8, 14)) for d in days]
        accepted = self.local(first - timedelta(days=rng.randrange(2, 8)), rng.uniform(8, 15.5))
        timeline = _Timeline(created_at=accepted - timedelta(hours=rng.uniform(1, 20)), accepted_at=accepted,
                             start_date=first, end_date=end, visits=visits)
        if state in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
            timeline.completed_at = visits[-1] + timedelta(hours=rng.uniform(4, 30))
            timeline.completed_at = min(timeline.completed_at, max(visits[-1] + timedelta(hours=4),
                                                                   until - timedelta(hours=1)))
        if state == OrderStatus.CLOSED:
            timeline.closed_at = timeline.completed_at + timedelta(days=rng.uniform(0.2, 6))
        return timeline

    # -- service orders: rows
    #
    # The rows mirror what orders.services writes when the same story happens live:
    # numbers from the row id, offer ranks by position, the same event actions and
    # system notes, an access-log row when an order is placed, a follow-up for each
    # concern and for a service not received.

    def build_orders(self) -> None:
        """Orders in the order they were placed (so numbers grow with time), then
        their offers, events, visit reports, follow-ups and feedback."""
        self.plans = self.plan_orders()
        for plan in self.plans:
            tl, spec = plan.timeline, plan.spec
            plan.order = ServiceOrder(
                number=f"tmp-{secrets.token_hex(8)}", client_id=plan.client.id,
                service_type_id=self.services[spec.slug].id, ordered_by_id=plan.client.responsible_worker_id,
                status=plan.status, funding=plan.funding, offer_mode=plan.mode,
                voucher_id=self._voucher(plan).id if plan.funding == Funding.VOUCHER else None,
                instructions=self.rng.choice(INSTRUCTIONS), start_date=tl.start_date, end_date=tl.end_date,
                visits_per_week=plan.per_week, minutes_per_visit=plan.minutes, created_at=tl.created_at,
                offered_at=tl.reoffered_at or tl.created_at)
            self.add(plan.order)
        self.session.flush()
        for plan in self.plans:
            plan.order.number = _number("SO", plan.timeline.created_at, plan.order.id)
            self._order_history(plan)
            self.count("orders")
        self.session.flush()

    def _voucher(self, plan: _OrderPlan) -> ServiceVoucher:
        """The client's service voucher for the service, granted just before the order."""
        key = (plan.client.id, plan.spec.slug)
        if key not in self.vouchers:
            unit = "hours" if plan.spec.unit == "hour" else "visits"
            valid_from = min(plan.timeline.start_date, plan.timeline.created_at.date()) - timedelta(days=3)
            voucher = ServiceVoucher(
                client_id=plan.client.id, service_type_id=self.services[plan.spec.slug].id, unit=unit,
                value_per_month=self.rng.choice((4, 6, 8)) if unit == "hours" else 20,
                unit_value_cents=int((plan.spec.price or 3000) * 0.85),
                client_share_cents=self.rng.choice((500, 800, 1000)), valid_from=valid_from,
                valid_until=valid_from + timedelta(days=365), granted_by_id=plan.client.responsible_worker_id,
                created_at=plan.timeline.created_at - timedelta(days=3))
            self.add(voucher)
            self.session.flush()
            self.vouchers[key] = voucher
            self.count("service_vouchers")
        return self.vouchers[key]

    def _event(self, plan: _OrderPlan, at: datetime, action: str, from_status: str | None, to_status: str,
               actor: User | None = None, provider: Provider | None = None, note: str | None = None) -> None:
        """Remember a timeline entry; ``_order_history`` writes them in time order.
        Entries that change nothing (decline, expire, offer, visit) have from = to."""
        plan.events.append(OrderEvent(order_id=plan.order.id, at=at, actor_id=actor.id if actor else None,
                                      provider_id=provider.id if provider else None, action=action,
                                      from_status=from_status, to_status=to_status, note=note))

    def _offer(self, plan: _OrderPlan, provider: Provider, status: str, sent: datetime | None,
               answered: datetime | None = None) -> None:
        """One offer; a decline or expiry also goes on the timeline."""
        reason = self.rng.choice(DECLINE_REASONS) if status == OfferStatus.DECLINED else None
        if status == OfferStatus.EXPIRED:
            answered = sent + OFFER_DEADLINE + timedelta(minutes=self.rng.randrange(1, 6))  # the deadline sweep
        answered_by = self.provider_admins[provider.id] if status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED) \
            else None
        offer = Offer(order_id=plan.order.id, provider_id=provider.id, status=status,
                      rank=len(plan.offers) + 1, sent_at=sent, deadline_at=sent + OFFER_DEADLINE if sent else None,
                      answered_at=answered, answered_by_id=answered_by.id if answered_by else None,
                      decline_reason=reason)
        self.add(offer)
        plan.offers.append(offer)
        self.count("offers")
        if status == OfferStatus.DECLINED:
            self._event(plan, answered, "decline", OrderStatus.OFFERED, OrderStatus.OFFERED, actor=answered_by,
                        provider=provider, note=reason)
        elif status == OfferStatus.EXPIRED:
            self._event(plan, answered, "expire", OrderStatus.OFFERED, OrderStatus.OFFERED, provider=provider,
                        note="no answer by the deadline")

    def _order_history(self, plan: _OrderPlan) -> None:
        """Offers, transitions, visits and the closing of one order."""
        order, tl, rng = plan.order, plan.timeline, self.rng
        staff = self.staff_by_id[order.ordered_by_id]
        state = plan.prior
        first_round = 1 if plan.mode == OfferMode.RANKED else len(plan.recipients)
        self._event(plan, tl.created_at, "create", None, OrderStatus.OFFERED, actor=staff,
                    note=f"{plan.mode}: offered to {first_round} provider(s)")
        self.add(AccessLogEntry(at=tl.created_at, actor_id=staff.id, actor_role=staff.role, client_id=plan.client.id,
                                action="order", what="service order", purpose=Purpose.ORDERING, channel="web"))
        self.count("access_log")
        if plan.reoffer_to is not None:
            self._reoffered(plan, staff)
        elif plan.mode == OfferMode.RANKED:
            self._ranked_offers(plan)
        else:
            self._parallel_offers(plan)
        if state in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED):
            self._visits(plan)
        if state in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
            order.completed_at = tl.completed_at
            self._event(plan, tl.completed_at, "complete", OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED,
                        actor=self._reporter(order.provider_id), provider=plan.winner)
            self._feedback(plan)
        if state == OrderStatus.CLOSED:
            self._close(plan, staff)
        if plan.status == OrderStatus.CANCELLED:
            order.cancelled_at, order.cancel_reason = plan.cancelled_at, rng.choice(CANCEL_REASONS)
            for offer in plan.offers:
                if offer.status == OfferStatus.PENDING:  # cancelling withdraws the open offers
                    offer.status = OfferStatus.WITHDRAWN
            self._event(plan, plan.cancelled_at, "cancel", state, OrderStatus.CANCELLED, actor=staff,
                        note=order.cancel_reason)
        plan.events.sort(key=lambda e: e.at)  # stable: same-moment entries keep their order
        self.add(*plan.events)
        self.count("order_events", len(plan.events))
        for event in plan.events:
            self.touch(plan.client, event.at)

    def _close(self, plan: _OrderPlan, staff: User) -> None:
        """Staff confirm what the client got; a service not received opens a follow-up."""
        order, rng = plan.order, self.rng
        order.closed_at = plan.timeline.closed_at
        if rng.random() < 0.15:
            order.outcome, order.outcome_note = Outcome.NOT_RECEIVED, rng.choice(NOT_RECEIVED_NOTES)
            follow = FollowUp(client_id=plan.client.id, assigned_to_id=plan.client.responsible_worker_id,
                              kind=FollowUpKind.OTHER, order_id=order.id, due_at=order.closed_at,
                              created_at=order.closed_at,
                              title=f"Order {order.number}: the client did not get the service")
            if order.closed_at < self.ago(days=7):
                follow.done_at, follow.done_by_id = order.closed_at + timedelta(days=2), staff.id
                follow.done_note = "Uusi tilaus tehty toiselle palveluntuottajalle."
            self.add(follow)
            self.count("follow_ups")
        else:
            order.outcome = Outcome.RECEIVED
            order.outcome_note = rng.choice((None, None, "Asiakas tyytyväinen, tarve jatkuu omana ostona.",
                                             "Varmistettu puhelimessa asiakkaalta."))
        self._event(plan, order.closed_at, "close", OrderStatus.COMPLETED, OrderStatus.CLOSED, actor=staff,
                    note=order.outcome_note)

    def _escalate(self, plan: _OrderPlan, at: datetime) -> None:
        """Back to the ordering staff member (the deadline job's wording)."""
        plan.order.escalated_at = at
        self._event(plan, at, "escalate", OrderStatus.OFFERED, OrderStatus.ESCALATED,
                    note="every provider declined or did not answer in time")

    def _reoffered(self, plan: _OrderPlan, staff: User) -> None:
        """Nobody answered the first offer; the order escalated and the staff member
        offered it to another provider, who accepted."""
        tl = plan.timeline
        for provider in plan.recipients:
            self._offer(plan, provider, OfferStatus.EXPIRED, tl.created_at)
        self._escalate(plan, max(o.answered_at for o in plan.offers))
        self._event(plan, tl.reoffered_at, "reoffer", OrderStatus.ESCALATED, OrderStatus.OFFERED, actor=staff,
                    note=f"{OfferMode.SINGLE}: offered to 1 provider(s)")
        self._offer(plan, plan.reoffer_to, OfferStatus.ACCEPTED, tl.reoffered_at, tl.accepted_at)
        self._accept(plan)

    def _parallel_offers(self, plan: _OrderPlan) -> None:
        """Single and broadcast rounds: every recipient gets the offer at once."""
        tl, rng, state = plan.timeline, self.rng, plan.prior
        sent = tl.created_at
        if state == OrderStatus.OFFERED:
            until = plan.cancelled_at or self.now
            for i, provider in enumerate(plan.recipients):
                if i > 0 and rng.random() < 0.3:
                    answered = sent + (until - sent) * rng.uniform(0.1, 0.8)
                    self._offer(plan, provider, OfferStatus.DECLINED, sent, answered)
                else:
                    self._offer(plan, provider, OfferStatus.PENDING, sent)
        elif state == OrderStatus.ESCALATED:
            for provider in plan.recipients:
                if rng.random() < 0.5:
                    self._offer(plan, provider, OfferStatus.DECLINED, sent,
                                sent + timedelta(hours=rng.uniform(0.5, 20)))
                else:
                    self._offer(plan, provider, OfferStatus.EXPIRED, sent)
            self._escalate(plan, max(o.answered_at for o in plan.offers))
        else:
            for provider in plan.recipients:
                if provider is plan.winner:
                    self._offer(plan, provider, OfferStatus.ACCEPTED, sent, tl.accepted_at)
                elif rng.random() < 0.4:
                    self._offer(plan, provider, OfferStatus.DECLINED, sent,
                                sent + (tl.accepted_at - sent) * rng.uniform(0.1, 0.9))
                else:
                    self._offer(plan, provider, OfferStatus.WITHDRAWN, sent)  # another provider won
            self._accept(plan)

    def _ranked_offers(self, plan: _OrderPlan) -> None:
        """Down the procured ranking: the next provider gets the offer when the previous
        one declines; those whose turn has not come wait (no ``sent_at``) and are
        withdrawn once somebody accepts."""
        tl, rng, state = plan.timeline, self.rng, plan.prior
        taken = state in TAKEN_STATES
        if taken:
            current, stop = plan.recipients.index(plan.winner), tl.accepted_at
        elif state == OrderStatus.OFFERED:
            current, stop = (rng.choice((0, 0, 1)) if len(plan.recipients) > 1 else 0), plan.cancelled_at or self.now
        else:  # escalated: everybody declined in turn
            current, stop = len(plan.recipients), tl.created_at + timedelta(hours=30)
        sent = tl.created_at
        step = (stop - sent) / (current + 1)
        for position, provider in enumerate(plan.recipients):
            if position > 0 and position <= current:
                self._event(plan, sent, "offer", OrderStatus.OFFERED, OrderStatus.OFFERED, provider=provider,
                            note="offered to the next provider on the ranked list")
            if position < current:
                answered = sent + min(step * rng.uniform(0.3, 0.9), timedelta(hours=20))
                self._offer(plan, provider, OfferStatus.DECLINED, sent, answered)
                sent = answered
            elif position == current:
                status = OfferStatus.ACCEPTED if taken else OfferStatus.PENDING
                self._offer(plan, provider, status, sent, tl.accepted_at if taken else None)
            else:
                self._offer(plan, provider, OfferStatus.WITHDRAWN if taken else OfferStatus.PENDING, None)
        if state == OrderStatus.ESCALATED:
            self._escalate(plan, sent)
        if taken:
            self._accept(plan)

    def _accept(self, plan: _OrderPlan) -> None:
        """The winner's org admin accepted: the order gets its provider."""
        order = plan.order
        order.provider_id, order.accepted_at = plan.winner.id, plan.timeline.accepted_at
        self._event(plan, order.accepted_at, "accept", OrderStatus.OFFERED, OrderStatus.ACCEPTED,
                    actor=self.provider_admins[plan.winner.id], provider=plan.winner)

    def _reporter(self, provider_id: int) -> User:
        """Who writes a provider's visit reports: its worker if it has one."""
        return self.provider_workers.get(provider_id) or self.provider_admins[provider_id]

    def _visits(self, plan: _OrderPlan) -> None:
        """Visit reports; the first one starts the order, a concern alerts the
        responsible worker."""
        order, rng, tl = plan.order, self.rng, plan.timeline
        reporter = self._reporter(order.provider_id)
        tasks = self.tasks[plan.category]
        concern_at = rng.randrange(len(tl.visits)) if plan.concern else None
        for i, start in enumerate(tl.visits):
            minutes = order.minutes_per_visit or rng.choice((60, 90, 120))
            if minutes > 15:
                minutes += rng.choice((-15, 0, 0, 0, 15))
            reported = start + timedelta(minutes=minutes + rng.randrange(5, 60))
            concern = i == concern_at
            self.add(VisitReport(
                order_id=order.id, provider_id=order.provider_id, reported_by_id=reporter.id,
                date=start.astimezone(HELSINKI).date(), minutes=minutes,
                tasks=rng.sample(tasks, rng.randrange(1, 4)),
                note=rng.choice(CONCERN_NOTES) if concern else rng.choice(VISIT_NOTES), concern=concern,
                created_at=reported))
            self.count("visit_reports")
            if i == 0:
                order.in_progress_at = reported
                self._event(plan, reported, "start", OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, actor=reporter,
                            provider=plan.winner, note="first visit reported")
            self._event(plan, reported, "visit", OrderStatus.IN_PROGRESS, OrderStatus.IN_PROGRESS, actor=reporter,
                        provider=plan.winner, note="visit reported" + (" with a concern" if concern else ""))
            if concern:
                order.has_concern = True
                self._concern_follow_up(plan, reported)

    def _concern_follow_up(self, plan: _OrderPlan, at: datetime) -> None:
        """The responsible worker's task about a concern; done unless the order still runs."""
        client = plan.client
        follow = FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id,
                          kind=FollowUpKind.CONCERN, title=f"Concern in a visit report on order {plan.order.number}",
                          order_id=plan.order.id, due_at=at, created_at=at)
        if plan.status != OrderStatus.IN_PROGRESS:
            follow.done_at = min(at + timedelta(days=self.rng.uniform(0.2, 2)), self.now - timedelta(hours=1))
            follow.done_by_id = client.responsible_worker_id
            follow.done_note = "Soitettu asiakkaalle ja kotihoitoon, kotikäynti sovittu."
        self.add(follow)
        self.count("follow_ups")

    # -- feedback

    def _derive_link_token(self, link: FeedbackLink) -> None:
        """Give a link the token the feedback service derives, so staff can read it out."""
        self.session.flush()
        link.token_hash = feedback_token_hash(link_token(link))

    def _feedback(self, plan: _OrderPlan) -> None:
        """A one-time link for every completed order; feedback through some of them."""
        order, rng = plan.order, self.rng
        completed = plan.timeline.completed_at
        language = "sv" if plan.client.languages[0] == "sv" else "fi"
        link = FeedbackLink(token_hash=_token_hash(), order_id=order.id, provider_id=order.provider_id,
                            client_id=plan.client.id, language=language, created_at=completed,
                            expires_at=completed + timedelta(days=FEEDBACK_LINK_DAYS))
        self.add(link)
        self._derive_link_token(link)
        self.count("feedback_links")
        if plan.feedback is None:
            return
        given = min(completed + timedelta(hours=rng.uniform(2, 96)), self.now - timedelta(minutes=20))
        if plan.timeline.closed_at is not None:
            given = min(given, plan.timeline.closed_at - timedelta(minutes=5))
        link.used_at = given
        self.session.flush()
        comment = rng.choice(FEEDBACK_COMMENTS[plan.feedback])
        if language == "sv" and plan.feedback >= 4:
            comment = FEEDBACK_COMMENT_SV
        feedback = Feedback(link_id=link.id, provider_id=order.provider_id, order_id=order.id,
                            client_id=plan.client.id, service_type_id=order.service_type_id, rating=plan.feedback,
                            needs_met=plan.feedback >= 3, comment=comment, created_at=given)
        if comment and rng.random() < 0.35:
            feedback.response = rng.choice(PROVIDER_RESPONSES)
            feedback.responded_at = given + timedelta(hours=rng.uniform(2, 30))
            feedback.responded_by_id = self.provider_admins[order.provider_id].id
            if feedback.responded_at > self.now:
                feedback.responded_at = self.now - timedelta(minutes=5)
        self.add(feedback)
        self.feedback_rows.append(feedback)
        self.count("feedback")

    def hide_one_feedback(self) -> None:
        """An administrator has hidden one comment that told about a worker's health."""
        candidates = [f for f in self.feedback_rows if f.comment and f.rating <= 3] or self.feedback_rows
        if not candidates:
            return
        feedback = candidates[-1]
        feedback.comment = "Hoitaja kertoi omista sairauksistaan koko käynnin ajan."
        feedback.hidden_at = min(feedback.created_at + timedelta(days=1), self.now - timedelta(minutes=1))
        feedback.hidden_by_id = self.admin.id
        feedback.hidden_reason = "Sisältää työntekijän terveystietoja."
        self.session.flush()
        self.add(FeedbackModerationEvent(feedback_id=feedback.id, action="hide", reason=feedback.hidden_reason,
                                         actor_id=self.admin.id, at=feedback.hidden_at))

    def update_ratings(self) -> None:
        """``Provider.rating_sum``/``rating_count`` from the published (not hidden) feedback."""
        for provider in self.providers.values():
            provider.rating_sum, provider.rating_count = 0, 0
        for feedback in self.feedback_rows:
            if feedback.hidden_at is None:
                self.provider_by_id[feedback.provider_id].rating_sum += feedback.rating
                self.provider_by_id[feedback.provider_id].rating_count += 1

    def finish_clients(self) -> None:
        """``last_activity_at`` is the latest order step or guidance contact of the client."""
        for client, at in self.last_activity.items():
            client.last_activity_at = client.updated_at = at

    # -- networks of the orders, follow-ups, messages, access log

    def build_order_network(self) -> None:
        """The winning provider of every running order joins the client's network."""
        seen = set()
        for plan in self.plans:
            if plan.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS) or plan.winner is None:
                continue
            key = (plan.client.id, plan.winner.id)
            if key in seen:
                continue
            seen.add(key)
            per_week = plan.order.visits_per_week
            self.add(NetworkMember(
                client_id=plan.client.id, name=plan.winner.contact_person or plan.winner.name,
                organisation=plan.winner.name, role="Palveluntuottaja",
                responsibility=plan.spec.fi + (f", {per_week} krt/vko" if per_week else ""),
                phone=plan.winner.phone, email=plan.winner.email, provider_id=plan.winner.id,
                starts_on=plan.order.start_date, ends_on=plan.order.end_date, created_at=plan.order.accepted_at))
            self.count("network_members")

    def build_segment_checks(self) -> None:
        """Intensive clients not checked for a while have an open check-up task."""
        for client in self.clients:
            if client.segment == Segment.INTENSIVE and client.last_check_at < self.ago(days=14):
                self.add(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id,
                                  kind=FollowUpKind.SEGMENT_CHECK, title="Tehostetun asiakkaan tilannekatsaus",
                                  due_at=client.last_check_at + timedelta(days=14),
                                  created_at=client.last_check_at + timedelta(days=14)))
                self.count("follow_ups")

    def build_messages(self) -> None:
        """A short exchange between the demo client and her worker, and one from the relative."""
        aino, helvi = self.clients[0], self.clients[2]
        aino_user = self.client_users[0]
        worker = self.staff_by_id[aino.responsible_worker_id]
        helvi_worker = self.staff_by_id[helvi.responsible_worker_id]
        sent = self.ago(days=3, hours=5)
        rows = [
            Message(client_id=aino.id, sender_id=aino_user.id, to_user_id=worker.id,
                    body="Hei! Voisiko siivoojan käyntiä siirtää ensi viikolla torstaille? Minulla on silloin "
                         "lääkäri tiistaina.", created_at=sent, read_at=sent + timedelta(hours=2)),
            Message(client_id=aino.id, sender_id=worker.id, to_user_id=aino_user.id,
                    body="Hei Aino! Välitin toiveen siivousyritykselle, he vahvistavat ajan suoraan sinulle.",
                    created_at=sent + timedelta(hours=3)),
            Message(client_id=helvi.id, sender_id=self.relative.id, to_user_id=helvi_worker.id,
                    body="Äiti on ollut viime päivinä väsynyt ja syönyt huonosti. Voisiko kotihoito "
                         "kiinnittää tähän huomiota?", created_at=self.ago(days=1, hours=2)),
        ]
        self.add(*rows)
        self.count("messages", len(rows))

    def build_access_log(self) -> None:
        """Besides the rows written when orders were placed: the demo client's record
        was opened by her worker and by the cleaning company that won her order."""
        aino = self.clients[0]
        worker = self.staff_by_id[aino.responsible_worker_id]
        cleaning = next(p.order for p in self.plans if p.client is aino and p.spec.slug == "yllapitosiivous")
        cleaner = self.provider_admins[cleaning.provider_id]
        rows = [
            (worker, "view", "client record", Purpose.GUIDANCE, self.ago(days=21, hours=3)),
            (worker, "update", "consent", Purpose.GUIDANCE, self.ago(days=21, hours=2)),
            (cleaner, "view", "contact details", Purpose.SERVICE, cleaning.accepted_at + timedelta(minutes=20)),
            (worker, "view", f"order {cleaning.number}", Purpose.ORDERING, self.ago(days=2, hours=4)),
        ]
        for actor, action, what, purpose, at in rows:
            self.add(AccessLogEntry(at=at, actor_id=actor.id, actor_role=actor.role, client_id=aino.id,
                                    action=action, what=what, purpose=purpose, channel="web"))
            self.count("access_log")

    # -- self-paid shop

    def build_shop_orders(self) -> None:
        """Purchases in every shop state, from guests and from the demo client."""
        aino, aino_user = self.clients[0], self.client_users[0]
        purchases = [  # (provider, [(service, qty)], buyer, postal, status, method, days ago)
            ("kirkaskoti", [("ikkunanpesu", 3)], "aino", "33500", ShopOrderStatus.FULFILLED, "invoice", 20),
            ("pirkanateria", [("ateriakuljetus", 10), ("erityisruokavaliot", 5)], "guest", "33540",
             ShopOrderStatus.PAID, "invoice", 2),
            ("heikkila", [("tukikahvat", 2), ("lamput-ja-paristot", 1)], "guest", "37100",
             ShopOrderStatus.PENDING_PAYMENT, "invoice", 0.3),
            ("koivisto", [("lumityot", 4)], "guest", "36200", ShopOrderStatus.CANCELLED, "card", 6),
            ("aaltohyvinvointi", [("jalkahoito", 1)], "aino", "33500", ShopOrderStatus.REFUNDED, "invoice", 35),
            ("kirkaskoti", [("suursiivous", 4)], "guest", "33720", ShopOrderStatus.FULFILLED, "invoice", 12),
        ]
        guests = [("Riitta Koskinen", "050 332 1190"), ("Pauli Nurmi", "044 901 2280"),
                  ("Marjut Ylinen", "040 552 8712"), ("Kimmo Suvanto", "050 778 3301")]
        for slug, lines, buyer, postal, status, method, days in purchases:
            provider = self.providers[slug]
            created = self.ago(days=days)
            if buyer == "aino":
                name, email, phone, address, user, client = (aino.full_name, aino_user.email, aino.phone,
                                                              aino.address, aino_user, aino)
            else:
                name, phone = guests.pop(0)
                email = f"{_ascii(name.split()[0])}.{_ascii(name.split()[1])}@asiakas.{DOMAIN}"
                street = self.rng.choice(POSTAL_AREAS[postal][1])
                address, user, client = f"{street} {self.rng.randrange(1, 40)}", None, None
            day = (created + timedelta(days=self.rng.randrange(2, 6))).astimezone(HELSINKI).date()
            wish = f"{WEEKDAYS_FI[day.weekday()].capitalize()} {day.day}.{day.month}. klo 9–12"
            shop = ShopOrder(number=f"tmp-{secrets.token_hex(8)}",
                             access_token_hash=_token_hash(), provider_id=provider.id,
                             buyer_user_id=user.id if user else None, client_id=client.id if client else None,
                             buyer_name=name, buyer_email=email, buyer_phone=phone, buyer_address=address,
                             buyer_postal_code=postal, desired_time=wish, status=status, payment_method=method,
                             created_at=created, total_cents=0, vat_cents=0)
            for service_slug, quantity in lines:
                offering = self._offering(provider, service_slug)
                if postal not in offering.postal_codes:
                    raise RuntimeError(f"demo data: {slug} does not sell {service_slug} in {postal}")
                total = offering.price_cents * quantity
                # The amount that qualifies for the deduction (the labour share), as at checkout.
                deduction = deduction_base(total, offering.labour_share_percent, offering.household_deduction)
                shop.items.append(ShopOrderItem(
                    offering_id=offering.id, description=self.services[service_slug].name_fi,
                    unit=offering.unit, quantity=quantity, unit_price_cents=offering.price_cents,
                    vat_rate_bp=offering.vat_rate_bp, total_cents=total, vat_cents=_vat(total, offering.vat_rate_bp),
                    household_deduction_cents=deduction))
            shop.total_cents = sum(i.total_cents for i in shop.items)
            shop.vat_cents = sum(i.vat_cents for i in shop.items)
            shop.household_deduction_cents = sum(i.household_deduction_cents for i in shop.items)
            self.add(shop)
            self.session.flush()
            shop.number = _number("SH", created, shop.id)
            # The buyer's link is derived from the row, as for a real purchase.
            self.session.refresh(shop)
            shop.access_token_hash = hashlib.sha256(access_token(shop).encode()).hexdigest()
            self._shop_history(shop, user, day)
            self.count("shop_orders")
            self.count("shop_order_items", len(shop.items))

    def _offering(self, provider: Provider, slug: str) -> Offering:
        """The provider's offering of a service type."""
        return next(o for o in self.offerings
                    if o.provider_id == provider.id and o.service_type_id == self.services[slug].id)

    def _shop_history(self, shop: ShopOrder, buyer: User | None, day: date) -> None:
        """Events and timestamps of a purchase from checkout to its current state."""
        provider_admin = self.provider_admins[shop.provider_id]
        steps = [(None, ShopOrderStatus.PENDING_PAYMENT, buyer, shop.created_at, None)]
        if shop.status != ShopOrderStatus.CANCELLED:
            shop.confirmed_time = shop.desired_time
        if shop.status in (ShopOrderStatus.PAID, ShopOrderStatus.REFUNDED):
            # paid in advance; an invoice purchase is otherwise delivered first and invoiced afterwards
            shop.paid_at = shop.created_at + timedelta(hours=self.rng.uniform(0.5, 20))
            steps.append((ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.PAID, provider_admin, shop.paid_at,
                          "Ennakkolasku maksettu."))
        if shop.status == ShopOrderStatus.FULFILLED:
            shop.fulfilled_at = self.local(day, 15)
            steps.append((ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.FULFILLED, provider_admin,
                          shop.fulfilled_at, "Tehty; lasku lähetetty."))
            link = FeedbackLink(token_hash=_token_hash(), shop_order_id=shop.id, provider_id=shop.provider_id,
                                client_id=shop.client_id, created_at=shop.fulfilled_at,
                                expires_at=shop.fulfilled_at + timedelta(days=FEEDBACK_LINK_DAYS))
            self.add(link)
            self._derive_link_token(link)
            self.count("feedback_links")
        if shop.status == ShopOrderStatus.CANCELLED:
            shop.cancelled_at = shop.created_at + timedelta(minutes=35)
            steps.append((ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.CANCELLED, None, shop.cancelled_at,
                          "Korttimaksua ei suoritettu loppuun."))
        if shop.status == ShopOrderStatus.REFUNDED:
            shop.refunded_at = shop.paid_at + timedelta(days=2)
            shop.refunded_cents = shop.total_cents
            steps.append((ShopOrderStatus.PAID, ShopOrderStatus.REFUNDED, provider_admin, shop.refunded_at,
                          "Jalkahoitaja sairastui, käyntiä ei voitu tehdä. Maksu palautettu."))
        for from_status, to_status, actor, at, note in steps:
            self.add(ShopOrderEvent(shop_order_id=shop.id, at=at, actor_id=actor.id if actor else None,
                                    from_status=from_status, to_status=to_status, note=note))

    # -- staffing

    def build_staffing_request(self) -> None:
        """One open request from a home-care unit, sent to both agencies, with one offer."""
        staff = self.staff[2]
        created = self.ago(hours=5)
        request = StaffingRequest(
            number=f"tmp-{secrets.token_hex(8)}", created_by_id=staff.id,
            unit="Tampereen kotihoito, Hervannan lähipalvelualue", qualification=Qualification.PRACTICAL_NURSE,
            postal_code="33720", headcount=2, respond_by=self.now + timedelta(hours=31),
            note="Kaksi lähihoitajaa aamuvuoroihin sairauslomien ajaksi. Lääkeluvat ja oma auto edellytetään.",
            status=StaffingStatus.OPEN, created_at=created)
        monday = self.today + timedelta(days=7 - self.today.weekday())
        request.shifts = [StaffingShift(start_at=self.local(monday + timedelta(days=d), 7),
                                        end_at=self.local(monday + timedelta(days=d), 15)) for d in range(3)]
        self.add(request)
        self.session.flush()
        request.number = _number("SR", created, request.id)
        for slug in ("hoivarekry", "sijaispooli"):
            self.add(StaffingRecipient(request_id=request.id, provider_id=self.providers[slug].id,
                                       created_at=created, notified_at=created + timedelta(minutes=1)))
        agency = self.providers["hoivarekry"]
        self.add(StaffingOffer(
            request_id=request.id, provider_id=agency.id, created_by_id=self.provider_admins[agency.id].id,
            headcount=1, hourly_rate_cents=3890, status=StaffingOfferStatus.OFFERED,
            candidates=["Laura K., lähihoitaja, 6 vuotta kotihoidossa, lääkeluvat voimassa"],
            note="Toinen työntekijä vahvistuu huomenna aamupäivällä.", created_at=created + timedelta(hours=2)))
        self.count("staffing_requests")
        self.count("staffing_offers")


def load_demo() -> dict:
    """Load the demo data set into ``db.session`` (flushed, not committed) and return a
    summary of what was created, e.g. ``{"users": 27, "providers": 14, ...}``.

    Meant for an empty database. Raises ConflictError (``demo_loaded``) when the demo
    logins already exist.
    """
    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_LOGINS[0][1])) is not None:
        raise ConflictError("The demo data is already loaded (its logins exist).", code="demo_loaded")
    builder = _DemoBuilder()
    builder.build_platform_users()
    builder.build_catalogue()
    builder.build_providers()
    builder.build_offerings()
    builder.build_rankings()
    builder.build_staffing_coverage()
    builder.build_clients()
    builder.build_client_logins()
    builder.build_networks()
    builder.build_guidance_contacts()
    builder.build_orders()
    builder.hide_one_feedback()
    builder.update_ratings()
    builder.build_order_network()
    builder.build_segment_checks()
    builder.build_messages()
    builder.build_access_log()
    builder.finish_clients()
    builder.build_shop_orders()
    builder.build_staffing_request()
    db.session.flush()
    return dict(sorted(builder.counts.items()))
