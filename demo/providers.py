"""Provider organisations: twelve approved ones (associations, companies and two
staffing agencies) with valid business IDs, their approval decisions and org-admin
logins, two applications waiting for a decision, and the procured rankings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from accounts.models import ProviderRole, Role
from demo.base import ALL_AREAS, DOMAIN, TAMPERE, Demo, business_id
from core.models import OutboxJob
from providers.models import Provider, ProviderKind, ProviderRanking, ProviderStatus
from providers.services import approve_provider, create_provider

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

APPROVAL_REASONS = "Y-tunnus, vakuutukset ja omavalvontasuunnitelma tarkistettu."

# (service type slug, postal codes) that have a procured ranking of providers.
RANKED_AREAS = ("33100", "33200", "33210", "33500", "33540", "33720", "33800", "37100")
RANKINGS = [(slug, RANKED_AREAS) for slug in ("kotihoito", "yllapitosiivous", "ateriakuljetus", "kauppa-asiointi")]


def build_providers(d: Demo) -> None:
    """Providers from ``PROVIDERS`` with valid business IDs. An approved one is
    registered by the administrator (``create_provider``), gets its org-admin login
    (and some a worker login) and is approved (``approve_provider``); the dates are
    then moved back to when it joined. The two waiting applications are rows: an
    application comes through ``submit_application`` with its insurance certificate
    and self-monitoring plan as files, which the demo does not have."""
    taken: set[str] = set()
    approved_at: dict[str, datetime] = {}
    jobs_before = d.session.scalar(sa.select(sa.func.max(OutboxJob.id))) or 0
    for spec in PROVIDERS:
        first_digit = d.rng.choice((0, 1)) if spec.kind == ProviderKind.NGO else d.rng.choice((2, 3))
        approved = spec.status == ProviderStatus.APPROVED
        # approved providers joined before the oldest demo orders (about 230 days back)
        created = d.ago(days=d.rng.uniform(260, 690)) if approved else d.ago(days=d.rng.uniform(1, 6))
        number = business_id(d.rng, first_digit, taken)
        phone = f"03 {d.rng.randrange(200, 400)} {d.rng.randrange(1000, 10000)}"
        # The profile the organisation fills in (the administrator's registration
        # takes only the organisation's identity).
        profile = dict(website=f"https://{spec.slug}.{DOMAIN}", description=spec.description,
                       service_areas=list(spec.areas), contact_person=spec.contact, soteri_registered=spec.soteri,
                       prepayment_register=spec.kind != ProviderKind.NGO, allows_invoice=True, created_at=created)
        identity = dict(name=spec.name, business_id=number, kind=spec.kind, email=f"info@{spec.slug}.{DOMAIN}",
                        phone=phone, languages=list(spec.languages))
        if approved:
            approved_at[spec.slug] = created + timedelta(days=d.rng.uniform(2, 14))
            provider = create_provider(**identity, actor=d.admin)
            for name, value in profile.items():
                setattr(provider, name, value)
        else:
            provider = Provider(status=spec.status, requested_service_type_ids=[d.services[slug].id
                                                                                for slug in spec.requested],
                                **identity, **profile)
            d.add(provider)
        d.providers[spec.slug] = provider
        d.count("providers")
        d.count(f"providers_{spec.status}")
    d.session.flush()
    d.provider_by_id = {p.id: p for p in d.providers.values()}
    for spec in PROVIDERS:
        if spec.status != ProviderStatus.APPROVED:
            continue
        provider, at = d.providers[spec.slug], approved_at[spec.slug]
        # The login first, so the approval e-mail links to the organisation's page
        # instead of inviting a first login.
        d.provider_admins[provider.id] = d.user(f"tilaukset@{spec.slug}.{DOMAIN}", Role.PROVIDER, spec.contact, at,
                                                provider_id=provider.id, provider_role=ProviderRole.ADMIN)
        decision = approve_provider(provider.id, d.admin, APPROVAL_REASONS)
        provider.approved_at = decision.at = at  # the service stamps now
        if spec.worker:
            d.provider_workers[provider.id] = d.user(
                f"tyontekija@{spec.slug}.{DOMAIN}", Role.PROVIDER, spec.worker, at + timedelta(days=3),
                provider_id=provider.id, provider_role=ProviderRole.WORKER)
    # The approval e-mails went out when the providers joined, not now.
    d.session.execute(sa.delete(OutboxJob).where(OutboxJob.id > jobs_before, OutboxJob.queue == "mail"))
    d.session.flush()


def eligible(d: Demo, slug: str, postal_code: str, languages: list[str]) -> list[Provider]:
    """Approved providers offering ``slug`` at ``postal_code`` in one of ``languages``."""
    found = []
    for offering in d.offerings:
        if offering.service_type_id != d.services[slug].id or not offering.active:
            continue
        provider = d.provider_by_id[offering.provider_id]
        if provider.status != ProviderStatus.APPROVED:
            continue
        if postal_code in offering.postal_codes and set(offering.languages) & set(languages):
            found.append(provider)
    return found


def build_rankings(d: Demo) -> None:
    """The procured order of providers for ``RANKINGS`` (only where two or more compete)."""
    for slug, codes in RANKINGS:
        for code in codes:
            providers = eligible(d, slug, code, ["fi", "sv", "en"])
            if len(providers) < 2:
                continue
            d.rng.shuffle(providers)
            d.rankings[(slug, code)] = providers
            for rank, provider in enumerate(providers, start=1):
                d.add(ProviderRanking(service_type_id=d.services[slug].id, postal_code=code,
                                      provider_id=provider.id, rank=rank))
                d.count("provider_rankings")


