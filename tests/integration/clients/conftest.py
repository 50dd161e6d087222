"""Fixtures for the client tests: two clients with their own logins, a relative
acting for the first, their responsible workers, and providers with orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests import factories as f


@dataclass
class World:
    worker: object
    other_worker: object
    provider: object
    provider_member: object
    other_provider: object
    other_member: object
    service_type: object
    aino: object
    aino_user: object
    bertta: object
    bertta_user: object
    relative: object
    representation: object
    aino_order: object
    bertta_order: object


@pytest.fixture
def world(db, make_user):
    worker = make_user("staff", name="Sanna Ohjaaja", email="sanna@example.fi")
    other_worker = make_user("staff", name="Mikko Ohjaaja", email="mikko@example.fi")
    provider = f.ProviderFactory(name="Kirkas Koti Oy", phone="03 100 200", email="info@kirkas.example.fi")
    other_provider = f.ProviderFactory(name="Toinen Hoiva Oy", email="info@toinen.example.fi")
    provider_member = make_user("provider", provider=provider, name="Satu Siivooja")
    other_member = make_user("provider", provider=other_provider, name="Olli Muu")
    service_type = f.ServiceTypeFactory()
    aino = f.ClientFactory(first_name="Aino", last_name="Asiakas", responsible_worker_id=worker.id,
                           email="aino@example.fi", phone="040 111 2222", address="Hämeenkatu 5 A 1",
                           personal_identity_code="131052-308T")
    bertta = f.ClientFactory(first_name="Bertta", last_name="Toinen", responsible_worker_id=other_worker.id,
                             email="bertta@example.fi", address="Satakunnankatu 9")
    aino_user = make_user("client", client=aino, email="aino.login@example.fi", name="Aino Asiakas")
    bertta_user = make_user("client", client=bertta, email="bertta.login@example.fi", name="Bertta Toinen")
    relative = make_user("client", client=None, client_id=None, email="leena@example.fi", name="Leena Tytär")
    representation = f.ClientRepresentativeFactory(client_id=aino.id, user_id=relative.id, relationship_="daughter",
                                                   consent_recorded_by_id=worker.id)
    # Numbers far from those the order service assigns (from the row id).
    aino_order = f.ServiceOrderFactory(number="SO-2026-900001", client=aino, service_type=service_type, provider=provider, status="in_progress",
                                       ordered_by_id=worker.id, start_date=date.today() - timedelta(days=20),
                                       end_date=date.today() + timedelta(days=60), visits_per_week=2,
                                       instructions="Ovikoodi 1234")
    f.VisitReportFactory(order_id=aino_order.id, provider_id=provider.id, date=date.today() - timedelta(days=3), minutes=45,
                         note="Kaikki hyvin")
    bertta_order = f.ServiceOrderFactory(number="SO-2026-900002", client=bertta, service_type=service_type, provider=other_provider,
                                         status="accepted", ordered_by_id=other_worker.id)
    db.session.commit()
    return World(worker, other_worker, provider, provider_member, other_provider, other_member, service_type, aino,
                 aino_user, bertta, bertta_user, relative, representation, aino_order, bertta_order)


@pytest.fixture
def log_rows(db):
    """``log_rows(client_id)``: how many access-log rows the client has now."""
    from core.models import AccessLogEntry

    def count(client_id: int) -> int:
        db.session.expire_all()
        return db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry)
                                 .where(AccessLogEntry.client_id == client_id))

    return count


@pytest.fixture
def emails(db):
    """``emails()``: every stored outgoing e-mail as (to, subject, body)."""
    from core.models import OutgoingEmail

    def rows():
        db.session.expire_all()
        return [(e.to_address, e.subject, e.body) for e in db.session.scalars(sa.select(OutgoingEmail)
                                                                                .order_by(OutgoingEmail.id))]

    return rows
