"""factory_boy factories for every model. Objects are flushed into the test's
session (``db.session``); tests commit when the code under test needs it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from accounts.models import ApiToken, LoginFailure, User
from catalogue.models import Offering, OfferingArea, ServiceCategory, ServiceType
from clients.models import (
    Client, ClientRepresentative, FollowUp, GuidanceContact, Message, NetworkMember,
)
from core.db import utcnow
from core.extensions import db
from core.models import AccessLogEntry, OutboxJob, OutgoingEmail
from core.time import local_today
from core.validators import business_id_check_digit
from feedback.models import Feedback, FeedbackLink
from marketplace.models import ShopOrder, ShopOrderEvent, ShopOrderItem, StripeEvent
from orders.models import (
    Offer, OrderEvent, ServiceOrder, VisitReport,
)
from vouchers.models import ServiceEvent, ServiceVoucher, VoucherSettlement
from providers.models import (
    AutoAcceptRule, Provider, ProviderAttachment, ProviderCapacity, ProviderDecision, ProviderInvitation,
    ProviderRanking,
)
from reports.models import ReportRun
from staffing.models import StaffingCoverage, StaffingOffer, StaffingRecipient, StaffingRequest, StaffingShift

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH: dict[str, str] = {}


def password_hash() -> str:
    # Hashing with scrypt costs ~50 ms; the factories reuse one hash.
    if "h" not in _PASSWORD_HASH:
        from accounts.services import hash_password

        _PASSWORD_HASH["h"] = hash_password(PASSWORD)
    return _PASSWORD_HASH["h"]


def valid_business_id(n: int) -> str:
    """The n-th valid Y-tunnus (skipping numbers that have no check digit)."""
    base = 2000000 + n * 7
    while business_id_check_digit(f"{base:07d}") is None:
        base += 1
    return f"{base:07d}-{business_id_check_digit(f'{base:07d}')}"


_HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def valid_identity_code(n: int, born: date = date(1945, 3, 7)) -> str:
    individual = 2 + n % 897
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}-{individual:03d}{_HETU_CHARS[int(digits) % 31]}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def id_of(factory_class, **kwargs):
    """A foreign key declaration: the id of a new ``factory_class(**kwargs)`` object."""
    return factory.LazyAttribute(lambda o: factory_class(**kwargs).id)


def from_now(**delta):
    """A time declaration: ``timedelta(**delta)`` after the object is made."""
    return factory.LazyFunction(lambda: utcnow() + timedelta(**delta))


def random_token_hash():
    """A token hash declaration: the hash of a fresh random token."""
    return factory.LazyFunction(lambda: token_hash(secrets.token_urlsafe(24)))


class _ModelKeyword(type(SQLAlchemyModelFactory)):
    """Lets a factory name its model in the class statement:
    ``class OfferFactory(Base, model=Offer)`` instead of an inner ``Meta``."""

    def __new__(mcs, name, bases, attrs, model=None):
        if model is not None:
            attrs["Meta"] = type("Meta", (), {"model": model})
        return super().__new__(mcs, name, bases, attrs)

    def __init__(cls, name, bases, attrs, model=None):
        super().__init__(name, bases, attrs)


class Base(SQLAlchemyModelFactory, metaclass=_ModelKeyword):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class ProviderFactory(Base, model=Provider):
    name = factory.Sequence(lambda n: f"Hoivapalvelu {n} Oy")
    business_id = factory.Sequence(valid_business_id)
    kind = "company"
    status = "approved"
    email = factory.Sequence(lambda n: f"provider{n}@example.fi")
    languages = factory.LazyFunction(lambda: ["fi"])
    service_areas = factory.LazyFunction(lambda: ["33100"])
    approved_at = factory.LazyFunction(utcnow)


class UserFactory(Base, model=User):
    email = factory.Sequence(lambda n: f"user{n}@example.fi")
    name = factory.Sequence(lambda n: f"Testi Käyttäjä {n}")
    password_hash = factory.LazyFunction(password_hash)
    role = "staff"
    language = "fi"
    provider_role = factory.LazyAttribute(lambda o: "admin" if o.role == "provider" else None)


class ClientFactory(Base, model=Client):
    first_name = factory.Sequence(lambda n: f"Aino{n}")
    last_name = "Virtanen"
    birth_date = date(1940, 5, 17)
    address = factory.Sequence(lambda n: f"Hämeenkatu {n}")
    postal_code = "33100"
    municipality = "Tampere"
    phone = "040 123 4567"
    languages = factory.LazyFunction(lambda: ["fi"])
    consent_to_share = True
    consent_recorded_at = factory.LazyFunction(utcnow)
    segment = "guidance"


class ClientRepresentativeFactory(Base, model=ClientRepresentative):
    client_id = id_of(ClientFactory)
    user_id = id_of(UserFactory, role="client")
    relationship_ = "daughter"


class NetworkMemberFactory(Base, model=NetworkMember):
    client_id = id_of(ClientFactory)
    name = "Kotisairaanhoitaja Liisa"
    organisation = "Tampereen kotihoito"
    role = "home nurse"


class GuidanceContactFactory(Base, model=GuidanceContact):
    staff_id = id_of(UserFactory, role="staff")
    channel = "phone"
    topic = "cleaning"
    outcome = "advice given"


class FollowUpFactory(Base, model=FollowUp):
    client_id = id_of(ClientFactory)
    kind = "other"
    title = "Soita asiakkaalle"


class MessageFactory(Base, model=Message):
    client_id = id_of(ClientFactory)
    sender_id = id_of(UserFactory, role="staff")
    body = "Hei!"


class ServiceCategoryFactory(Base, model=ServiceCategory):
    slug = factory.Sequence(lambda n: f"category-{n}")
    name_fi = factory.Sequence(lambda n: f"Kategoria {n}")
    name_sv = factory.Sequence(lambda n: f"Kategori {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class ServiceTypeFactory(Base, model=ServiceType):
    category = factory.SubFactory(ServiceCategoryFactory)
    slug = factory.Sequence(lambda n: f"service-{n}")
    name_fi = factory.Sequence(lambda n: f"Palvelu {n}")
    name_sv = factory.Sequence(lambda n: f"Tjänst {n}")
    name_en = factory.Sequence(lambda n: f"Service {n}")


class OfferingFactory(Base, model=Offering):
    provider = factory.SubFactory(ProviderFactory)
    service_type = factory.SubFactory(ServiceTypeFactory)
    unit = "hour"
    price_cents = 4500
    vat_rate_bp = 2550
    self_paid = True
    languages = factory.LazyFunction(lambda: ["fi"])

    @factory.post_generation
    def postal_codes(obj, create, extracted, **kwargs):
        for code in extracted if extracted is not None else ["33100"]:
            obj.areas.append(OfferingArea(postal_code=code))
        db.session.flush()


class ServiceOrderFactory(Base, model=ServiceOrder):
    number = factory.Sequence(lambda n: f"SO-2026-{n:06d}")
    client = factory.SubFactory(ClientFactory)
    service_type = factory.SubFactory(ServiceTypeFactory)
    ordered_by_id = id_of(UserFactory, role="staff")
    status = "offered"
    start_date = factory.LazyFunction(lambda: local_today() + timedelta(days=7))
    visits_per_week = 1
    minutes_per_visit = 60
    offered_at = factory.LazyFunction(utcnow)


class OfferFactory(Base, model=Offer):
    order = factory.SubFactory(ServiceOrderFactory)
    provider = factory.SubFactory(ProviderFactory)
    status = "pending"
    sent_at = factory.LazyFunction(utcnow)
    deadline_at = from_now(hours=24)


class OrderEventFactory(Base, model=OrderEvent):
    order_id = id_of(ServiceOrderFactory)
    action = "create"
    to_status = "offered"


class VisitReportFactory(Base, model=VisitReport):
    order_id = factory.LazyAttribute(
        lambda o: ServiceOrderFactory(status="in_progress", provider=ProviderFactory()).id)
    provider_id = factory.LazyAttribute(lambda o: db.session.get(ServiceOrder, o.order_id).provider_id)
    date = factory.LazyFunction(local_today)
    minutes = 60
    tasks = factory.LazyFunction(lambda: ["cleaning"])


class ServiceVoucherFactory(Base, model=ServiceVoucher):
    client_id = id_of(ClientFactory)
    service_type_id = id_of(ServiceTypeFactory)
    unit = "hour"
    monthly_amount = 600
    value_cents_per_unit = 3200
    valid_from = factory.LazyFunction(local_today)


class ServiceEventFactory(Base, model=ServiceEvent):
    voucher_id = id_of(ServiceVoucherFactory)
    order_id = id_of(ServiceOrderFactory, status="in_progress")
    provider_id = id_of(ProviderFactory)
    date = factory.LazyFunction(local_today)
    month = factory.LazyFunction(lambda: local_today().replace(day=1))
    quantity = 60
    voucher_cents = 3200
    client_share_cents = 0


class VoucherSettlementFactory(Base, model=VoucherSettlement):
    month = factory.LazyFunction(lambda: local_today().replace(day=1))


class FeedbackLinkFactory(Base, model=FeedbackLink):
    token_hash = random_token_hash()
    order_id = id_of(ServiceOrderFactory, status="completed")
    provider_id = id_of(ProviderFactory)
    expires_at = from_now(days=30)


class FeedbackFactory(Base, model=Feedback):
    provider_id = id_of(ProviderFactory)
    rating = 4
    needs_met = True
    comment = "Hyvää palvelua"


class ShopOrderFactory(Base, model=ShopOrder):
    number = factory.Sequence(lambda n: f"SH-2026-{n:06d}")
    access_token_hash = random_token_hash()
    provider = factory.SubFactory(ProviderFactory)
    buyer_name = "Matti Meikäläinen"
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@example.fi")
    buyer_postal_code = "33100"
    payment_method = "invoice"
    total_cents = 4500
    vat_cents = 914


class ShopOrderItemFactory(Base, model=ShopOrderItem):
    shop_order = factory.SubFactory(ShopOrderFactory)
    offering_id = factory.LazyAttribute(lambda o: OfferingFactory(provider=o.shop_order.provider).id)
    description = "Siivous"
    unit = "hour"
    quantity = 1
    unit_price_cents = 4500
    vat_rate_bp = 2550
    total_cents = 4500
    vat_cents = 914


class ShopOrderEventFactory(Base, model=ShopOrderEvent):
    shop_order_id = id_of(ShopOrderFactory)
    to_status = "pending_payment"


class StripeEventFactory(Base, model=StripeEvent):
    id = factory.Sequence(lambda n: f"evt_test_{n}")
    type = "checkout.session.completed"
    payload = factory.LazyFunction(dict)


class ProviderDecisionFactory(Base, model=ProviderDecision):
    provider_id = id_of(ProviderFactory)
    decision = "approved"


class ProviderAttachmentFactory(Base, model=ProviderAttachment):
    provider_id = id_of(ProviderFactory)
    kind = "insurance"
    filename = "vakuutus.pdf"
    stored_name = factory.Sequence(lambda n: f"{secrets.token_hex(8)}-{n}.pdf")
    content_type = "application/pdf"
    size_bytes = 1234


class ProviderInvitationFactory(Base, model=ProviderInvitation):
    provider_id = id_of(ProviderFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.fi")
    token_hash = random_token_hash()
    expires_at = from_now(days=7)


class ProviderCapacityFactory(Base, model=ProviderCapacity):
    provider_id = id_of(ProviderFactory)
    service_type_id = id_of(ServiceTypeFactory)
    orders_per_week = 5


class AutoAcceptRuleFactory(Base, model=AutoAcceptRule):
    provider_id = id_of(ProviderFactory)


class ProviderRankingFactory(Base, model=ProviderRanking):
    service_type_id = id_of(ServiceTypeFactory)
    postal_code = "33100"
    provider_id = id_of(ProviderFactory)
    rank = 1


class StaffingCoverageFactory(Base, model=StaffingCoverage):
    provider_id = id_of(ProviderFactory, kind="agency")
    qualification = "practical_nurse"
    postal_code = "33100"


class StaffingRequestFactory(Base, model=StaffingRequest):
    number = factory.Sequence(lambda n: f"SR-2026-{n:06d}")
    created_by_id = id_of(UserFactory, role="staff")
    unit = "Kotihoito Keskusta"
    qualification = "practical_nurse"
    postal_code = "33100"
    headcount = 1
    respond_by = from_now(hours=4)


class StaffingShiftFactory(Base, model=StaffingShift):
    request_id = id_of(StaffingRequestFactory)
    start_at = from_now(days=1)
    end_at = from_now(days=1, hours=8)


class StaffingRecipientFactory(Base, model=StaffingRecipient):
    request_id = id_of(StaffingRequestFactory)
    provider_id = id_of(ProviderFactory, kind="agency")


class StaffingOfferFactory(Base, model=StaffingOffer):
    request_id = id_of(StaffingRequestFactory)
    provider_id = id_of(ProviderFactory, kind="agency")
    headcount = 1
    hourly_rate_cents = 3800


class ReportRunFactory(Base, model=ReportRun):
    kind = "orders"
    period_from = factory.LazyFunction(lambda: local_today().replace(day=1))
    period_to = factory.LazyFunction(local_today)


class ApiTokenFactory(Base, model=ApiToken):
    user_id = id_of(UserFactory)
    token_hash = random_token_hash()
    expires_at = from_now(hours=1)


class LoginFailureFactory(Base, model=LoginFailure):
    email = "someone@example.fi"
    address = "127.0.0.1"


class AccessLogEntryFactory(Base, model=AccessLogEntry):
    client_id = id_of(ClientFactory)
    actor_role = "staff"
    action = "view"
    purpose = "client guidance"


class OutboxJobFactory(Base, model=OutboxJob):
    func = "tests.jobs_for_tests.record_run"


class OutgoingEmailFactory(Base, model=OutgoingEmail):
    to_address = "someone@example.fi"
    subject = "Hei"
    body = "Viesti"


ALL_FACTORIES = [obj for obj in list(globals().values())
                 if isinstance(obj, type) and issubclass(obj, Base) and obj is not Base]
