"""What every part of the demo data set shares: the fixed seed, the published
password and logins, the Tampere-region area, checksum-valid identifiers and the
``Demo`` context that each domain's builder reads and extends."""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from accounts.demo_mode import DEMO_EMAIL_DOMAIN
from accounts.models import User
from accounts.services import create_user
from core.db import utcnow
from core.extensions import db
from core.time import local_date, local_zone

if TYPE_CHECKING:
    from clients.models import Client

SEED = 2026
DEMO_PASSWORD = "demo-salasana-2026"
DOMAIN = DEMO_EMAIL_DOMAIN  # the demo banner looks for logins of this domain
OFFER_DEADLINE = timedelta(hours=24)

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


# --------------------------------------------------------------------------- helpers

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id(rng: random.Random, first_digit: int, taken: set[str]) -> str:
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


def identity_code(rng: random.Random, born: date, sex: str, taken: set[str]) -> str:
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


def number(prefix: str, created_at: datetime, row_id: int) -> str:
    """``SO-2026-000123``: the same scheme as the live services (year and row id), so
    rows created after the demo never collide with its numbers."""
    return f"{prefix}-{local_date(created_at).year}-{row_id:06d}"


def random_token_hash() -> str:
    """The SHA-256 of a fresh random token (the token itself is not kept)."""
    return hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest()


def vat(gross_cents: int, rate_bp: int) -> int:
    """VAT included in a gross price, rounded half up to a cent."""
    return (2 * gross_cents * rate_bp + 10000 + rate_bp) // (2 * (10000 + rate_bp))


def ascii_name(text: str) -> str:
    """A name as the local part of an e-mail address (``Mäkinen`` -> ``makinen``)."""
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "A", "Ö": "O", "Å": "A", " ": "", "-": ""})
    return text.translate(table).lower()


def phone(rng: random.Random) -> str:
    """A Finnish mobile number in the usual spaced form."""
    return f"{rng.choice(('040', '044', '050'))} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}"


def round_price(cents: float) -> int:
    """Prices end in 0 or 90 cents, like real price lists."""
    euros = int(cents // 100)
    return euros * 100 + (90 if cents - euros * 100 >= 45 else 0)



class Demo:
    """The state the builders share while the set is made: the random generator, the
    moment the set is loaded, the rows later steps refer to, and the counts that
    ``load_demo`` returns. Each domain module adds its own attributes."""

    def __init__(self):
        self.rng = random.Random(SEED)
        self.now = utcnow()
        self.today = local_date(self.now)
        self.session = db.session
        self.counts: dict[str, int] = {}
        self.admin: User | None = None
        self.staff: list[User] = []
        self.staff_by_id: dict[int, User] = {}
        self.providers: dict = {}           # slug -> Provider
        self.provider_by_id: dict = {}
        self.provider_admins: dict[int, User] = {}
        self.provider_workers: dict[int, User] = {}
        self.services: dict = {}            # slug -> ServiceType
        self.specs: dict = {}               # slug -> demo.catalogue.ServiceSpec
        self.category_of: dict[str, str] = {}
        self.tasks: dict[str, tuple[str, ...]] = {}
        self.offerings: list = []
        self.rankings: dict = {}
        self.clients: list = []
        self.client_sex: dict = {}
        self.client_users: list[User] = []
        self.relative: User | None = None
        self.last_activity: dict = {}
        self.plans: list = []               # demo.orders._OrderPlan, in the order placed
        self.vouchers: dict = {}
        self.feedback_rows: list = []

    # -- time helpers

    def local(self, day: date, hour: float) -> datetime:
        """A local Helsinki wall-clock time on ``day`` as aware UTC."""
        minutes = int(hour * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), local_zone()).astimezone(UTC)

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
