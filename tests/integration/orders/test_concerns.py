"""Concerns and weak signals (issue 13, point 1): a concern needs its text and an
urgency; it reaches the responsible worker at once in their language with the text,
who raised it and when; the client does not see the text and the access log records
who read it; an urgent concern nobody acknowledges within the working hours is
escalated by a real RQ job to the other staff of the client's area; a second signal
from a different source within the window raises the follow-up's priority and says
why; the client's page shows every signal on one timeline."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from clients.models import Concern, FollowUp
from core.errors import ValidationFailed
from core.models import AccessLogEntry, OutgoingEmail
from core.time import add_working_hours
from orders import services
from tests import factories as f


def _running(market, place, db):
    order = place(start_date=date.today())
    services.accept_offer(market.members[0], order.id)
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    db.session.commit()
    return order


def _concern(market, order, db, text="Asiakas oli kaatunut eteisessä", urgency="today", member=0):
    services.record_visit(market.members[member], order.id, visit_date=date.today(), minutes=30, tasks=[],
                          concern=True, concern_text=text, urgency=urgency)
    db.session.commit()
    return db.session.scalars(sa.select(Concern).order_by(Concern.id.desc())).first()


def _mail(db, to):
    return db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == to)
                              .order_by(OutgoingEmail.id)).all()


@pytest.mark.smoke
def test_a_concern_needs_its_text_and_an_urgency(db, market, place):
    order = _running(market, place, db)
    with pytest.raises(ValidationFailed) as exc:
        services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[],
                              concern=True, concern_text="  ", urgency=None)
    assert set(exc.value.fields) == {"concern_text", "urgency"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Concern)) == 0


def test_the_visit_form_refuses_an_empty_concern_with_messages(client, db, market, place, login_as):
    order = _running(market, place, db)
    login_as(market.members[0])
    r = client.post(f"/orders/{order.id}/visits?lang=en", data={
        "date": date.today().isoformat(), "minutes": "30", "concern": "yes", "concern_text": ""},
        follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Describe what worried you" in page and "Choose how soon the client should be contacted" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Concern)) == 0


@pytest.mark.smoke
def test_the_concern_reaches_the_worker_at_once_in_their_language_with_its_text(client, db, market, place, run_jobs,
                                                                               login_as):
    market.staff.language = "sv"
    db.session.commit()
    order = _running(market, place, db)
    concern = _concern(market, order, db)
    run_jobs()
    (mail,) = [m for m in _mail(db, market.staff.email) if m.dedupe_key.startswith("concern:")]
    assert mail.language == "sv" and "Oro" in mail.subject and order.number in mail.subject
    assert "Asiakas oli kaatunut eteisessä" in mail.body and market.members[0].name in mail.body
    assert "Aino" not in mail.body  # the client is not named in e-mail
    follow = db.session.scalar(sa.select(FollowUp).where(FollowUp.concern_id == concern.id))
    assert follow.assigned_to_id == market.staff.id and follow.code == "concern"
    assert follow.params == {"order": order.number, "urgency": "today"}
    # The dashboard shows the text, who raised it and when, in the reader's language.
    login_as(market.staff)
    page = client.get("/dashboard?lang=fi").get_data(as_text=True)
    assert f"Huoli käyntiraportissa tilauksella {order.number} (yhteys tänään)" in page
    assert "Asiakas oli kaatunut eteisessä" in page and market.members[0].name in page
    read = db.session.scalars(sa.select(AccessLogEntry).where(
        AccessLogEntry.client_id == market.client.id, AccessLogEntry.what == "concern text")).all()
    assert [r.actor_id for r in read] == [market.staff.id]


def test_the_client_does_not_see_the_text_but_sees_that_it_was_read(client, db, market, place, login_as, make_user):
    order = _running(market, place, db)
    _concern(market, order, db)
    login_as(market.staff)
    client.get(f"/orders/{order.id}")
    client.post("/logout")
    me = make_user("client", client=market.client)
    db.session.commit()
    login_as(me)
    page = client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert order.number in page and "kaatunut" not in page
    log = client.get("/clients/me/access-log?lang=en").get_data(as_text=True)
    assert "a worry a provider reported about your wellbeing" in log


def test_acknowledging_stops_the_escalation(client, db, market, place, login_as):
    order = _running(market, place, db)
    concern = _concern(market, order, db)
    login_as(market.staff)
    r = client.post(f"/clients/concerns/{concern.id}/acknowledge", data={"next": "dashboard"})
    assert r.status_code == 302
    db.session.expire_all()
    assert concern.acknowledged_by_id == market.staff.id
    from clients.concerns import escalate_overdue_concerns

    assert escalate_overdue_concerns(now=concern.created_at + timedelta(days=10)) == 0


def _area(db, make_user, market):
    """Another worker responsible for a client in the same municipality (the area),
    and one whose clients live elsewhere."""
    colleague = make_user("staff", name="Kaisa Kollega", email="kaisa@example.fi", language="en")
    far = make_user("staff", name="Olli Muualla", email="olli@example.fi")
    f.ClientFactory(municipality=market.client.municipality, responsible_worker_id=colleague.id)
    f.ClientFactory(municipality="Oulu", postal_code="90100", responsible_worker_id=far.id)
    db.session.commit()
    return colleague, far


@pytest.mark.smoke
def test_an_urgent_concern_nobody_acknowledges_is_escalated_by_the_job(db, market, place, run_jobs, make_user):
    from core.jobs import enqueue

    colleague, far = _area(db, make_user, market)
    order = _running(market, place, db)
    urgent = _concern(market, order, db)
    weekly = _concern(market, order, db, text="Jääkaappi tyhjä", urgency="week")
    run_jobs()
    # Not yet due: nothing escalates.
    enqueue("clients.jobs.escalate_overdue_concerns")
    run_jobs()
    assert db.session.get(Concern, urgent.id).escalated_at is None
    # Three days on, the 4 working hours have passed (whatever the weekday).
    for c in (urgent, weekly):
        db.session.get(Concern, c.id).created_at = c.created_at - timedelta(days=3)
    db.session.commit()
    enqueue("clients.jobs.escalate_overdue_concerns")
    run_jobs()
    assert db.session.get(Concern, urgent.id).escalated_at is not None
    assert db.session.get(Concern, weekly.id).escalated_at is None  # "within a week" does not escalate
    escalated = db.session.scalars(sa.select(FollowUp).where(FollowUp.code == "concern_escalated")).all()
    assert [x.assigned_to_id for x in escalated] == [colleague.id]
    (mail,) = _mail(db, colleague.email)
    assert mail.language == "en" and "Escalated concern" in mail.subject and "kaatunut" in mail.body
    assert _mail(db, far.email) == []
    # Idempotent: running again escalates nothing more.
    enqueue("clients.jobs.escalate_overdue_concerns")
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp).where(
        FollowUp.code == "concern_escalated")) == 1


def test_working_hours_skip_nights_weekends_and_holidays(app):
    helsinki = timezone(timedelta(hours=2))
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=helsinki)
    assert add_working_hours(friday, 4) == datetime(2026, 12, 7, 11, 0, tzinfo=helsinki)
    before_christmas = datetime(2026, 12, 23, 14, 0, tzinfo=helsinki)
    assert add_working_hours(before_christmas, 4) == datetime(2026, 12, 28, 10, 0, tzinfo=helsinki)
    app.config["CONCERN_ACK_WORKING_HOURS"] = 2.0
    with app.app_context():
        from clients.concerns import acknowledge_by

        assert acknowledge_by(Concern(urgency="today", created_at=friday)) == datetime(
            2026, 12, 7, 9, 0, tzinfo=helsinki)
        assert acknowledge_by(Concern(urgency="week", created_at=friday)) is None


@pytest.mark.smoke
def test_a_second_signal_from_another_source_raises_the_priority_and_says_why(client, db, market, place, login_as):
    order = _running(market, place, db)
    _concern(market, order, db, urgency="week")
    follow = db.session.scalar(sa.select(FollowUp).where(FollowUp.code == "concern"))
    assert follow.priority == 0
    # The same provider again: the same source, no raise.
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[], missed=True)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(FollowUp, follow.id).priority == 0
    # Another provider declines another order of the client, with its reason: a second source.
    other = place(provider_ids=[market.providers[1].id])
    services.decline_offer(market.members[1], other.id, "Asiakas ei avannut ovea viimeksi")
    db.session.commit()
    db.session.expire_all()
    raised = db.session.get(FollowUp, follow.id)
    assert raised.priority == 1 and raised.priority_code == "second_signal"
    assert raised.priority_params["first_source"] == market.providers[0].name
    assert raised.priority_params["second_source"] == market.providers[1].name
    login_as(market.staff)
    page = client.get(f"/clients/{market.client.id}?lang=en").get_data(as_text=True)
    assert "High priority" in page and "Priority raised: declined order from Palvelu 1 Oy" in page
    # One timeline of every signal from all providers.
    for words in ("Concern", "Missed visit", "Declined order", "Asiakas ei avannut ovea viimeksi",
                  "Palvelu 0 Oy", "Palvelu 1 Oy"):
        assert words in page, words


def test_signals_outside_the_window_do_not_raise(db, market, place, app):
    order = _running(market, place, db)
    concern = _concern(market, order, db, urgency="week")
    concern.created_at = concern.created_at - timedelta(days=31)
    db.session.commit()
    other = place(provider_ids=[market.providers[1].id])
    services.decline_offer(market.members[1], other.id, "Ei kapasiteettia")
    db.session.commit()
    assert db.session.scalar(sa.select(FollowUp).where(FollowUp.code == "concern")).priority == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp).where(FollowUp.priority == 1)) == 0
