"""Order notifications: who is told what, in their language, exactly once, and
without client identity where it does not belong."""

from datetime import date

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from orders import services

pytestmark = pytest.mark.smoke


def _mail(db, to):
    return db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == to)
                              .order_by(OutgoingEmail.id)).all()


def test_offer_reaches_providers_without_identity(db, market, place, run_jobs):
    order = place()
    run_jobs()
    for provider in market.providers:
        mails = _mail(db, provider.email)
        assert len(mails) == 1 and order.number in mails[0].subject
        assert "Aino" not in mails[0].body and "Hämeenkatu" not in mails[0].body
        assert "33100" in mails[0].body and f"/orders/{order.id}" in mails[0].body
        assert mails[0].sent_at is not None


def test_acceptance_tells_staff_and_client_in_their_language(db, market, place, run_jobs):
    market.client.languages = ["sv", "fi"]
    db.session.commit()
    order = place()
    run_jobs()  # the offers go out
    services.accept_offer(market.members[0], order.id)
    db.session.commit()
    run_jobs()
    staff_mail = [m for m in _mail(db, market.staff.email) if order.number in m.subject]
    assert len(staff_mail) == 1 and market.providers[0].name in staff_mail[0].body
    client_mail = _mail(db, "aino@example.fi")
    assert len(client_mail) == 1 and client_mail[0].language == "sv"
    assert "tjänst" in client_mail[0].body.lower() or "tjänst" in client_mail[0].subject.lower()
    # The losers are told the offer is no longer open.
    for provider in market.providers[1:]:
        assert len(_mail(db, provider.email)) == 2


def test_an_offer_taken_before_its_notice_went_out_sends_nothing(db, market, place, run_jobs):
    order = place()
    services.accept_offer(market.members[0], order.id)  # auto-accept-fast: before any job ran
    db.session.commit()
    run_jobs()
    for provider in market.providers[1:]:
        assert _mail(db, provider.email) == []


def test_decline_and_escalation_reach_the_ordering_staff_member(db, market, place, run_jobs):
    order = place(provider_ids=[market.providers[0].id])
    services.decline_offer(market.members[0], order.id, "Ei vapaita työntekijöitä")
    db.session.commit()
    run_jobs()
    subjects = [m.subject for m in _mail(db, market.staff.email)]
    assert len(subjects) == 2
    bodies = " ".join(m.body for m in _mail(db, market.staff.email))
    assert "Ei vapaita työntekijöitä" in bodies


def test_concern_alerts_the_responsible_worker_at_once(db, market, place, run_jobs, make_user):
    worker = make_user("staff", email="vastuu@example.fi")
    market.client.responsible_worker_id = worker.id
    db.session.commit()
    order = place(start_date=date.today())
    services.accept_offer(market.members[0], order.id)
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[],
                          note="Kaatunut", concern=True, urgency="week")
    db.session.commit()
    run_jobs()
    mails = _mail(db, "vastuu@example.fi")
    # The alert carries the concern's text (issue 13): the worker must not have to log in to learn it.
    assert len(mails) == 1 and order.number in mails[0].subject and "Kaatunut" in mails[0].body
    assert "Aino" not in mails[0].body  # the client is not named
    from clients.models import FollowUp

    follow_up = db.session.scalar(sa.select(FollowUp))
    assert follow_up.assigned_to_id == worker.id and follow_up.kind == "concern" and follow_up.order_id == order.id


def test_cancellation_tells_the_providers_concerned(db, market, place, run_jobs):
    order = place(provider_ids=[market.providers[0].id, market.providers[1].id])
    run_jobs()
    services.cancel_order(market.staff, order.id, "Asiakas siirtyi sairaalaan")
    db.session.commit()
    run_jobs()
    for provider in market.providers[:2]:
        assert any("cancel" in m.subject.lower() or "peru" in m.subject.lower() for m in _mail(db, provider.email))
    assert _mail(db, market.providers[2].email) == []


def test_a_repeated_job_sends_nothing_twice(db, market, place, run_jobs):
    from orders.jobs import send_offer_notification

    order = place()
    run_jobs()
    offer_id = order.offers[0].id
    send_offer_notification(offer_id)
    db.session.commit()
    run_jobs()
    assert len(_mail(db, market.providers[0].email)) == 1


def test_completion_sends_the_client_a_one_time_feedback_link(client, db, market, place, run_jobs, api_token):
    order = place(start_date=date.today())
    services.accept_offer(market.members[0], order.id)
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    services.complete_order(market.members[0], order.id, "Asiakas muutti")
    db.session.commit()
    run_jobs()
    mails = [m for m in _mail(db, "aino@example.fi") if "/feedback/" in m.body]
    assert len(mails) == 1
    link = next(word for word in mails[0].body.split() if "/feedback/" in word)
    # Staff see the same link in the order's JSON, to give it by phone or letter.
    body = client.get(f"/api/v1/orders/{order.id}", headers=api_token(market.staff)).get_json()
    assert body["feedback_url"] == link and link.startswith("http")
    token = link.rsplit("/", 1)[1]
    info = client.get(f"/api/v1/feedback/{token}")
    assert info.status_code == 200 and info.get_json()["order"]["number"] == order.number
    assert client.post(f"/api/v1/feedback/{token}", json={"rating": 5, "needs_met": True}).status_code == 201
    assert client.post(f"/api/v1/feedback/{token}", json={"rating": 4, "needs_met": True}).status_code == 410
    # A repeated completion job does not create a second link or e-mail.
    from orders.jobs import send_completion_notifications

    send_completion_notifications(order.id)
    db.session.commit()
    run_jobs()
    assert len([m for m in _mail(db, "aino@example.fi") if "/feedback/" in m.body]) == 1
