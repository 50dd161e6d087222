"""The demo data set (``demo.load_demo``): it loads into a freshly migrated
database, holds what the README promises, its identifiers pass the Finnish checksums,
its money adds up, and every service order tells a consistent story.

The checksum functions below are written here on purpose, independently of
``core.validators``, so a shared mistake cannot hide."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from accounts.models import ProviderRole, Role, User
from catalogue.models import ServiceCategory, ServiceType
from clients.models import Client
from core.db import utcnow
from demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from core.errors import ConflictError
from feedback.models import Feedback, FeedbackLink
from marketplace.models import ShopOrder
from orders.models import (
    Offer,
    OfferStatus,
    OrderEvent,
    OrderStatus,
    ServiceOrder,
    VisitReport,
)
from providers.models import Provider, ProviderKind, ProviderStatus

pytestmark = pytest.mark.smoke

TAKEN = {OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED}

# --------------------------------------------------------------------------- checksums


def business_id_ok(value: str) -> bool:
    """Y-tunnus: seven digits, '-', check digit (weights 7,9,10,5,8,4,2, mod 11)."""
    m = re.fullmatch(r"(\d{7})-(\d)", value or "")
    if not m:
        return False
    remainder = sum(int(d) * w for d, w in zip(m.group(1), (7, 9, 10, 5, 8, 4, 2))) % 11
    if remainder == 1:
        return False
    return int(m.group(2)) == (0 if remainder == 0 else 11 - remainder)


_CENTURIES = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900,
              "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def identity_code_birth_date(value: str) -> date | None:
    """The birth date of a valid henkilötunnus (DDMMYY, century sign, 002-899, check
    character of DDMMYYNNN mod 31), else None."""
    m = re.fullmatch(r"(\d\d)(\d\d)(\d\d)([-+A-FU-Y])(\d{3})([0-9A-Y])", value or "")
    if not m:
        return None
    dd, mm, yy, sign, individual, check = m.groups()
    if not 2 <= int(individual) <= 899:
        return None
    if "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(dd + mm + yy + individual) % 31] != check:
        return None
    try:
        return date(_CENTURIES[sign] + int(yy), int(mm), int(dd))
    except ValueError:
        return None


def test_checksum_helpers_tell_valid_from_invalid():
    # Nokia Oyj's business ID and the Digital and Population Data Services Agency's
    # example identity code, each with one character changed.
    assert business_id_ok("0112038-9") and not business_id_ok("0112038-8")
    assert identity_code_birth_date("131052-308T") == date(1952, 10, 13)
    assert identity_code_birth_date("131052-308U") is None
    assert identity_code_birth_date("131052-001T") is None  # individual number out of range


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def demo(db):
    summary = load_demo()
    db.session.commit()
    return summary


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --------------------------------------------------------------------------- tests


def test_demo_set_has_what_the_readme_promises(app, db, demo):
    approved = db.session.scalars(sa.select(Provider).where(Provider.status == ProviderStatus.APPROVED)).all()
    assert 10 <= len(approved) <= 14
    assert sum(p.kind == ProviderKind.AGENCY for p in approved) == 2
    assert {ProviderKind.NGO, ProviderKind.COMPANY} <= {p.kind for p in approved}
    assert _count(db, Provider, Provider.status == ProviderStatus.PENDING) == 2
    assert 35 <= _count(db, ServiceType) <= 45
    assert 8 <= _count(db, ServiceCategory) <= 12
    for service in db.session.scalars(sa.select(ServiceType)):
        assert service.name_fi and service.name_sv and service.name_en
    assert _count(db, Client) == 60
    statuses = Counter(db.session.scalars(sa.select(ServiceOrder.status)))
    assert set(statuses) == set(OrderStatus), statuses
    assert 70 <= sum(statuses.values()) <= 90
    assert demo["orders"] == sum(statuses.values())
    # Issue 13: purchase and order numbers are never placeholders; the demo shows
    # concerns with their urgency, an escalated one, and a follow-up raised by a
    # second signal from another source.
    from clients.models import Concern, FollowUp
    from marketplace.models import ShopOrder

    assert not [n for n in db.session.scalars(sa.select(ShopOrder.number)) if n.startswith("tmp-")]
    assert not [n for n in db.session.scalars(sa.select(ServiceOrder.number)) if n.startswith("tmp-")]
    assert {c.urgency for c in db.session.scalars(sa.select(Concern))} == {"today", "week"} or \
        _count(db, Concern, Concern.urgency == "today") >= 1
    assert all(c.description for c in db.session.scalars(sa.select(Concern)))
    assert _count(db, Concern, Concern.escalated_at.is_not(None)) == 1
    assert _count(db, FollowUp, FollowUp.code == "concern_escalated") >= 1
    assert _count(db, FollowUp, FollowUp.priority == 1, FollowUp.priority_code == "second_signal") >= 1
    assert demo["clients"] == 60

    roles = Counter(db.session.scalars(sa.select(User.role)))
    assert roles[Role.ADMIN] >= 1 and roles[Role.STAFF] == 4 and roles[Role.MANAGER] == 2
    for provider in approved:  # every approved organisation has an org-admin login
        assert _count(db, User, User.provider_id == provider.id, User.provider_role == ProviderRole.ADMIN) == 1
    assert _count(db, User, User.provider_role == ProviderRole.WORKER) >= 2

    with pytest.raises(ConflictError):  # a second load is refused, not half-done
        load_demo()


def test_every_demo_login_works_with_its_role(app, db, demo):
    assert {role for role, _, _ in DEMO_LOGINS} == set(Role)
    for role, email, description in DEMO_LOGINS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None, email
        assert user.role == role and user.active, email
        assert description
        browser = app.test_client()
        response = browser.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, (email, response.status_code)
        assert response.headers["Location"].endswith("/dashboard"), email
        assert browser.get("/dashboard").status_code == 200, email
    relative = db.session.scalar(sa.select(User).where(User.email == "omainen@demo.kotiapu.fi"))
    assert relative is not None and relative.client_id is None
    from clients.models import ClientRepresentative

    assert _count(db, ClientRepresentative, ClientRepresentative.user_id == relative.id) == 1


def test_identifiers_pass_the_checksums_and_money_adds_up(db, demo):
    business_ids = list(db.session.scalars(sa.select(Provider.business_id)))
    assert business_ids and all(business_id_ok(b) for b in business_ids), business_ids
    assert len(set(business_ids)) == len(business_ids)

    clients = db.session.scalars(sa.select(Client).where(Client.personal_identity_code.is_not(None))).all()
    assert len(clients) >= 10
    for client in clients:
        born = identity_code_birth_date(client.personal_identity_code)
        assert born is not None, client.personal_identity_code
        assert born == client.birth_date
    for client in db.session.scalars(sa.select(Client)):
        assert date(1930, 1, 1) <= client.birth_date <= date(1960, 12, 31)
    assert _count(db, Client, Client.non_disclosure.is_(True)) == 3

    # money: ratings come from published feedback, purchase totals from their lines
    for provider in db.session.scalars(sa.select(Provider)):
        ratings = list(db.session.scalars(sa.select(Feedback.rating).where(
            Feedback.provider_id == provider.id, Feedback.hidden_at.is_(None))))
        assert (provider.rating_sum, provider.rating_count) == (sum(ratings), len(ratings)), provider.name
    shops = db.session.scalars(sa.select(ShopOrder)).all()
    assert len({s.status for s in shops}) >= 4
    for shop in shops:
        assert shop.items
        assert shop.total_cents == sum(i.total_cents for i in shop.items)
        assert shop.vat_cents == sum(i.vat_cents for i in shop.items)
        for item in shop.items:
            assert item.total_cents == item.unit_price_cents * item.quantity
            exact = item.total_cents * item.vat_rate_bp / (10000 + item.vat_rate_bp)
            assert abs(item.vat_cents - exact) <= 0.5


def test_every_order_tells_a_consistent_story(db, demo):
    now = utcnow()
    for order in db.session.scalars(sa.select(ServiceOrder)):
        offers = db.session.scalars(sa.select(Offer).where(Offer.order_id == order.id)).all()
        events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id)
                                    .order_by(OrderEvent.id)).all()
        visits = db.session.scalars(sa.select(VisitReport).where(VisitReport.order_id == order.id)
                                    .order_by(VisitReport.created_at)).all()
        accepted = [o for o in offers if o.status == OfferStatus.ACCEPTED]
        where = f"{order.number} ({order.status})"
        assert re.fullmatch(r"SO-\d{4}-\d{6}", order.number), where

        # exactly one winner from accepted on; none before
        if order.status in TAKEN or (order.status == OrderStatus.CANCELLED and order.accepted_at):
            assert len(accepted) == 1 and accepted[0].provider_id == order.provider_id, where
            assert accepted[0].answered_at == order.accepted_at, where
        else:
            assert not accepted and order.provider_id is None and order.accepted_at is None, where
        if order.status == OrderStatus.OFFERED:
            assert any(o.status == OfferStatus.PENDING and o.sent_at and o.deadline_at > now for o in offers), where
        else:
            assert all(o.status != OfferStatus.PENDING for o in offers), where
        if order.status == OrderStatus.ESCALATED:
            assert offers and all(o.status in (OfferStatus.DECLINED, OfferStatus.EXPIRED) for o in offers), where
        for offer in offers:
            if offer.sent_at:
                assert order.created_at <= offer.sent_at and offer.deadline_at > offer.sent_at, where
            if offer.status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED):
                assert offer.sent_at <= offer.answered_at <= offer.deadline_at, where
            if offer.status == OfferStatus.EXPIRED:
                assert offer.deadline_at <= now, where

        # the state's own timestamp, in order, none in the future
        assert getattr(order, f"{order.status}_at") is not None, where
        chain = [t for t in (order.created_at, order.accepted_at, order.in_progress_at, order.completed_at,
                             order.closed_at) if t is not None]
        assert chain == sorted(chain) and chain[-1] <= now, where
        if order.cancelled_at:
            assert chain[-1] <= order.cancelled_at <= now and order.cancel_reason, where

        # visits from the first report on; concern flag matches the reports
        if order.status in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED):
            assert visits and visits[0].created_at == order.in_progress_at, where
        if order.status in (OrderStatus.OFFERED, OrderStatus.ESCALATED, OrderStatus.ACCEPTED):
            assert not visits, where
        if order.completed_at and visits:
            assert visits[-1].created_at <= order.completed_at, where
        assert order.has_concern == any(v.concern for v in visits), where
        if order.status == OrderStatus.CLOSED:
            assert order.outcome in ("received", "not_received"), where
            assert order.outcome == "received" or order.outcome_note, where
        if order.status in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
            assert _count(db, FeedbackLink, FeedbackLink.order_id == order.id) == 1, where

        # the event timeline is one unbroken chain ending in the current state
        assert events and events[0].from_status is None and events[0].to_status == OrderStatus.OFFERED, where
        for before, after in itertools.pairwise(events):
            assert after.from_status == before.to_status and after.at >= before.at, where
        assert events[-1].to_status == order.status, where

        client = db.session.get(Client, order.client_id)
        assert client.consent_to_share, where  # nothing is shared without consent
        assert client.created_at < order.created_at, where
        for offer in offers:
            provider = db.session.get(Provider, offer.provider_id)
            assert provider.status == ProviderStatus.APPROVED and provider.approved_at < order.created_at, where
    assert _count(db, ServiceOrder, ServiceOrder.created_at < now - timedelta(days=400)) == 0
