"""The service catalogue: ten categories of service types named in Finnish, Swedish
and English, and (once the providers exist) the providers' offerings with prices,
VAT, the household deduction and the postal codes they serve, and their weekly
capacities. All of it goes through the services (the administrator saves the
catalogue, each org admin its offerings and capacities)."""

from __future__ import annotations

from dataclasses import dataclass

from demo.base import Demo, round_price
from demo.providers import PROVIDERS
# The catalogue is imported through marketplace until it has moved to its own
# package (the integrator updates these imports).
from catalogue.admin import save_category, save_service_type
from catalogue.models import Offering
from catalogue.offerings import OfferingInput, create_offering
from providers.models import Provider, ProviderKind
from providers.services import set_capacity


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


OFFERING_NOTES = (
    "Sama tuttu työntekijä joka kerta, sijaisesta ilmoitetaan etukäteen.",
    "Käynnit arkipäivisin klo 8–18, viikonloppuisin sopimuksen mukaan.",
    "Kokeneet työntekijät, joilla on ensiapukoulutus ja ikäihmisten palveluiden kokemus.",
    "Ensimmäisellä kerralla sovitaan yhdessä, mitä tehdään ja missä järjestyksessä.",
    "Hintaan sisältyvät työvälineet ja -aineet.",
)

CAPACITIES = [("hyvaarki", "kotihoito", 12), ("kirkaskoti", "yllapitosiivous", 20),
              ("pirkanateria", "ateriakuljetus", 60)]  # (provider, service, new orders per week)


def build_catalogue(d: Demo) -> None:
    """Categories and service types from ``CATALOGUE``, in three languages, saved by
    the administrator."""
    for position, (slug, fi, sv, en, specs, tasks) in enumerate(CATALOGUE, start=1):
        category = save_category(d.admin, slug=slug, name_fi=fi, name_sv=sv, name_en=en, position=position)
        d.count("service_categories")
        for spec in specs:
            d.services[spec.slug] = save_service_type(
                d.admin, category_id=category.id, slug=spec.slug, name_fi=spec.fi, name_sv=spec.sv, name_en=spec.en,
                description_fi=spec.description, self_paid_allowed=spec.self_paid, needs_soteri=spec.soteri,
                default_unit=spec.unit)
            d.specs[spec.slug] = spec
            d.category_of[spec.slug] = slug
            d.count("service_types")
        d.tasks[slug] = tasks


def build_offerings(d: Demo) -> None:
    """Each approved provider's offerings with prices, VAT, household deduction and
    the postal codes served, added by its org admin; a few weekly capacities."""
    for spec in PROVIDERS:
        provider = d.providers[spec.slug]
        for slug in spec.services:
            service_spec = d.specs[slug]
            price = None
            if service_spec.price is not None:
                factor = spec.price_factor * d.rng.uniform(0.95, 1.05)
                price = round_price(service_spec.price * factor)
            offering = create_offering(d.provider_admins[provider.id], OfferingInput(
                service_type_id=d.services[slug].id, postal_codes=list(spec.areas), languages=list(spec.languages),
                unit=service_spec.unit, price_cents=price,
                # Small non-profit associations are not VAT-registered.
                vat_rate_bp=0 if spec.kind == ProviderKind.NGO else service_spec.vat_bp,
                self_paid=service_spec.self_paid and price is not None,
                household_deduction=service_spec.labour_share is not None,
                labour_share_percent=service_spec.labour_share or 100, description=d.rng.choice(OFFERING_NOTES)))
            # Published when the provider was approved (the service stamps now).
            offering.created_at = offering.updated_at = provider.approved_at
            d.offerings.append(offering)
            d.count("offerings")
    for slug, service, per_week in CAPACITIES:
        provider = d.providers[slug]
        set_capacity(provider.id, d.services[service].id, per_week, d.provider_admins[provider.id])


def offering_of(d: Demo, provider: Provider, slug: str) -> Offering:
    """The provider's offering of a service type."""
    return next(o for o in d.offerings
                if o.provider_id == provider.id and o.service_type_id == d.services[slug].id)


