"""The provider dashboard (offers, active orders, visits, purchases, staffing
requests, feedback, own figures beside the area's median) and the administrator's
dashboard. The provider dashboard's query count does not grow with the data."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.time import local_today
from providers.figures import format_duration, provider_figures
from tests import factories as f

pytestmark = pytest.mark.smoke


def _offer(provider, status, minutes=None, days_ago=1):
    sent = utcnow() - timedelta(days=days_ago)
    return f.OfferFactory(provider=provider, status=status, sent_at=sent,
                          answered_at=sent + timedelta(minutes=minutes) if minutes is not None else None)


@pytest.fixture
def area(db):
    """Three providers serving 33100, one far away; offers with known answer times."""
    me, peer1, peer2, far = (f.ProviderFactory() for _ in range(4))
    for p in (me, peer1, peer2):
        f.OfferingFactory(provider=p, postal_codes=["33100"])
    f.OfferingFactory(provider=far, postal_codes=["96100"])
    # me: 3 accepted (10, 20, 60 min), 1 declined (30 min), 1 expired -> 3/5 accepted, median 25 min
    for minutes in (10, 20, 60):
        _offer(me, "accepted", minutes)
    _offer(me, "declined", 30)
    _offer(me, "expired")
    _offer(me, "withdrawn")          # not the provider's answer: not counted
    _offer(me, "accepted", 1, days_ago=200)  # outside the period
    # peer1: 1 of 1 accepted in 120 min; peer2: 0 of 2 accepted, 40 and 50 min
    _offer(peer1, "accepted", 120)
    _offer(peer2, "declined", 40)
    _offer(peer2, "declined", 50)
    # far: not in the area
    _offer(far, "accepted", 5000)
    me.rating_sum, me.rating_count = 9, 2
    peer1.rating_sum, peer1.rating_count = 3, 1
    db.session.commit()
    return {"me": me, "peer1": peer1, "peer2": peer2, "far": far}


def test_figures_against_the_area_median(db, area):
    figures = provider_figures(area["me"].id)
    own, median = figures["own"], figures["area"]
    assert figures["area_size"] == 3
    assert own["acceptance_rate"] == pytest.approx(3 / 5) and own["answered"] == 5
    assert own["response_seconds"] == pytest.approx(25 * 60, abs=1)
    assert own["rating"] == pytest.approx(4.5) and own["rating_count"] == 2
    assert median["acceptance_rate"] == pytest.approx(0.6)      # median of 0.6, 1.0, 0.0
    assert median["response_seconds"] == pytest.approx(45 * 60, abs=1)  # median of 25, 120, 45 min
    assert median["rating"] == pytest.approx(3.75)              # median of 4.5 and 3.0


def test_provider_without_offerings_is_compared_with_everyone(db, area):
    lonely = f.ProviderFactory()
    db.session.commit()
    assert provider_figures(lonely.id)["area_size"] == 5


def test_duration_format():
    assert format_duration(None) is None
    assert format_duration(25 * 60) == "25 min"
    assert format_duration(2 * 3600 + 15 * 60) == "2 h 15 min"
    assert format_duration(3 * 86400 + 4 * 3600) == "3 d 4 h"


def test_dashboard_shows_everything(client, db, login_as, make_user, area):
    me = area["me"]
    user = make_user("provider", provider=me, language="en")
    order = f.ServiceOrderFactory(status="accepted", provider=me, number="SO-2026-777777")
    f.VisitReportFactory(order_id=order.id, provider_id=me.id, date=local_today())
    f.ShopOrderFactory(provider=me, status="paid", number="SH-2026-000042")
    f.FeedbackFactory(provider_id=me.id, rating=5, comment="Ihana siivooja!")
    f.FeedbackFactory(provider_id=me.id, rating=1, comment="Piilotettu", hidden_at=utcnow())
    pending = _offer(me, "pending")
    db.session.commit()
    login_as(user)
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert pending.order.number in html and "SO-2026-777777" in html and "SH-2026-000042" in html
    assert "Ihana siivooja!" in html and "Piilotettu" not in html
    assert "Your figures" in html and "60%" in html and "25 min" in html and "45 min" in html
    assert 'id="staffing-h"' not in html  # not an agency


def test_agency_sees_its_staffing_requests(client, db, login_as, make_user):
    agency = f.ProviderFactory(kind="agency")
    sent = f.StaffingRequestFactory(unit="Kotihoito Hervanta")
    f.StaffingRecipientFactory(request_id=sent.id, provider_id=agency.id)
    f.StaffingRequestFactory(unit="Ei lähetetty")
    db.session.commit()
    login_as(make_user("provider", provider=agency, language="en"))
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Kotihoito Hervanta" in html and "Ei lähetetty" not in html


def test_dashboard_query_count_does_not_grow(client, db, login_as, make_user, area, app):
    me = area["me"]
    login_as(make_user("provider", provider=me))

    def count_queries():
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/dashboard").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    f.ShopOrderFactory(provider=me, status="paid")
    f.ServiceOrderFactory(status="accepted", provider=me)
    _offer(me, "pending")
    db.session.commit()
    few = count_queries()
    for _ in range(8):
        f.ShopOrderFactory(provider=me, status="paid")
        f.ServiceOrderFactory(status="in_progress", provider=me)
        _offer(me, "pending")
        _offer(me, "accepted", 15)
        f.FeedbackFactory(provider_id=me.id)
    db.session.commit()
    assert count_queries() == few


def test_admin_dashboard_lists_applications(client, db, login_as, make_user):
    waiting = f.ProviderFactory(status="pending", name="Hakija Oy")
    f.ProviderFactory(status="suspended")
    org = f.ProviderFactory()
    f.ProviderAttachmentFactory(provider_id=org.id, expires_on=utcnow().date() + timedelta(days=10))
    db.session.commit()
    login_as(make_user("admin", language="en"))
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Hakija Oy" in html and f"/admin/providers/{waiting.id}" in html
    assert "provider documents expiring" in html
