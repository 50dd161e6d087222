"""Follow-up reminders from the segment and the retention period (periodic sweeps,
idempotent, run by a real RQ worker), concerns on the staff dashboard, completing
follow-ups, and handing a client over to another worker."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from clients.models import ClientEvent, FollowUp
from core.db import utcnow
from tests import factories as f

pytestmark = pytest.mark.smoke


def _open(db, client_id, kind):
    db.session.expire_all()
    return db.session.scalars(sa.select(FollowUp).where(FollowUp.client_id == client_id, FollowUp.kind == kind,
                                                        FollowUp.done_at.is_(None))).all()


def _run_sweep(run_jobs, path):
    from core.jobs import enqueue
    from core.extensions import db

    enqueue("core.worker.run_periodic", path)
    db.session.commit()
    run_jobs()


def test_segment_check_ups_come_by_segment_and_only_once(db, world, run_jobs):
    from clients.services import sweep_segment_checks

    now = utcnow()
    intensive = f.ClientFactory(segment="intensive", responsible_worker_id=world.worker.id,
                                last_check_at=now - timedelta(days=15))
    fresh_intensive = f.ClientFactory(segment="intensive", responsible_worker_id=world.worker.id,
                                      last_check_at=now - timedelta(days=13))
    guidance = f.ClientFactory(segment="guidance", responsible_worker_id=world.worker.id,
                               last_check_at=now - timedelta(days=30))
    independent = f.ClientFactory(segment="independent", responsible_worker_id=world.worker.id,
                                  last_check_at=now - timedelta(days=181))
    db.session.commit()
    _run_sweep(run_jobs, "clients.jobs.sweep_segment_checks")
    _run_sweep(run_jobs, "clients.jobs.sweep_segment_checks")
    assert sweep_segment_checks() == 0  # nothing more to open
    assert len(_open(db, intensive.id, "segment_check")) == 1
    assert len(_open(db, independent.id, "segment_check")) == 1
    assert _open(db, fresh_intensive.id, "segment_check") == []
    assert _open(db, guidance.id, "segment_check") == []
    follow = _open(db, intensive.id, "segment_check")[0]
    assert follow.assigned_to_id == world.worker.id
    assert abs(follow.due_at - (now - timedelta(days=1))) < timedelta(minutes=1)


def test_the_database_refuses_a_second_open_reminder_of_a_swept_kind(db, world):
    f.FollowUpFactory(client_id=world.aino.id, kind="retention")
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        f.FollowUpFactory(client_id=world.aino.id, kind="retention")
    db.session.rollback()
    # Concerns may be many (one per order), and a done reminder does not count.
    f.FollowUpFactory(client_id=world.aino.id, kind="concern")
    f.FollowUpFactory(client_id=world.aino.id, kind="concern")
    done = db.session.scalar(sa.select(FollowUp).where(FollowUp.kind == "retention"))
    done.done_at = utcnow()
    f.FollowUpFactory(client_id=world.aino.id, kind="retention")
    db.session.commit()


def test_a_sweep_that_loses_the_race_keeps_its_transaction(db, world):
    from clients.services import insert_follow_up

    first = insert_follow_up(FollowUp(client_id=world.aino.id, kind="retention", title="a"))
    second = insert_follow_up(FollowUp(client_id=world.aino.id, kind="retention", title="b"))
    other = insert_follow_up(FollowUp(client_id=world.bertta.id, kind="retention", title="c"))
    assert first is not None and second is None and other is not None
    db.session.commit()
    assert len(_open(db, world.aino.id, "retention")) == 1 and len(_open(db, world.bertta.id, "retention")) == 1


def test_marking_a_check_up_done_records_the_check(client, db, world, login_as):
    from clients.services import sweep_segment_checks

    world.aino.last_check_at = utcnow() - timedelta(days=90)
    db.session.commit()
    sweep_segment_checks()
    db.session.commit()
    follow = _open(db, world.aino.id, "segment_check")[0]
    login_as(world.worker)
    page = client.get(f"/clients/{world.aino.id}").get_data(as_text=True)
    assert follow.code == "segment_check_guidance"  # shown in the reader's language, Finnish here
    assert "Ohjausta tarvitsevan asiakkaan tilannekatsaus (60 päivän välein)" in page
    r = client.post(f"/clients/follow-ups/{follow.id}/done", data={"note": "Soitettu, kaikki hyvin"})
    assert r.status_code == 302
    db.session.expire_all()
    assert follow.done_at is not None and follow.done_by_id == world.worker.id
    assert world.aino.last_check_at > utcnow() - timedelta(minutes=1)
    assert sweep_segment_checks() == 0
    r = client.post(f"/clients/follow-ups/{follow.id}/done", data={})
    assert r.status_code == 302  # shown as an error, nothing changes


def test_a_guidance_contact_with_the_client_closes_the_check_up(db, world):
    from clients.services import log_guidance_contact, sweep_segment_checks

    world.aino.last_check_at = utcnow() - timedelta(days=90)
    db.session.commit()
    sweep_segment_checks()
    log_guidance_contact(world.worker, channel="phone", topic="cleaning", outcome="ok", client_id=world.aino.id)
    db.session.commit()
    assert _open(db, world.aino.id, "segment_check") == []


def test_retention_flags_inactive_records_once_and_unflags_on_new_activity(app, db, world, run_jobs):
    from clients.services import sweep_retention

    old = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    quiet = f.ClientFactory(responsible_worker_id=world.worker.id, last_activity_at=old)
    busy = f.ClientFactory(responsible_worker_id=world.worker.id, last_activity_at=old)
    f.ServiceOrderFactory(number="SO-2026-910001", client=busy, status="in_progress")
    recent = f.ClientFactory(last_activity_at=utcnow() - timedelta(days=30))
    db.session.commit()
    _run_sweep(run_jobs, "clients.jobs.sweep_retention")
    _run_sweep(run_jobs, "clients.jobs.sweep_retention")
    db.session.expire_all()
    assert quiet.retention_flagged_at is not None
    assert busy.retention_flagged_at is None and recent.retention_flagged_at is None
    assert len(_open(db, quiet.id, "retention")) == 1
    assert _open(db, quiet.id, "retention")[0].assigned_to_id == world.worker.id
    quiet.last_activity_at = utcnow()
    db.session.commit()
    sweep_retention()
    db.session.commit()
    db.session.expire_all()
    assert quiet.retention_flagged_at is None and _open(db, quiet.id, "retention") == []


def test_the_retention_period_is_configurable(app, db, world):
    from clients.services import sweep_retention

    app.config["RETENTION_DAYS"] = 30
    c = f.ClientFactory(last_activity_at=utcnow() - timedelta(days=31))
    db.session.commit()
    assert sweep_retention() == 1


def test_keeping_a_flagged_record_restarts_the_period(client, db, world, login_as):
    from clients.services import sweep_retention

    world.aino.last_activity_at = utcnow() - timedelta(days=800)
    world.aino_order.status = "closed"
    db.session.commit()
    sweep_retention()
    db.session.commit()
    login_as(world.worker)
    r = client.post(f"/clients/{world.aino.id}/retention/keep", data={"reason": "Palvelutarve arvioidaan"})
    assert r.status_code == 302
    db.session.expire_all()
    assert world.aino.retention_flagged_at is None and _open(db, world.aino.id, "retention") == []
    assert sweep_retention() == 0


def test_a_concern_in_a_visit_report_reaches_the_staff_dashboard(client, db, world, login_as):
    from orders.services import record_visit
    from datetime import date

    record_visit(world.provider_member, world.aino_order.id, visit_date=date.today(), minutes=30, tasks=["x"],
                 concern=True, note="Asiakas oli kaatunut", urgency="today")
    db.session.commit()
    login_as(world.worker)
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert f"Concern in a visit report on order {world.aino_order.number} (contact today)" in html
    assert "Asiakas oli kaatunut" in html and world.provider_member.name in html


def test_handover_moves_open_follow_ups_records_it_and_tells_the_client(client, db, world, login_as, run_jobs,
                                                                         emails):
    mine = f.FollowUpFactory(client_id=world.aino.id, assigned_to_id=world.worker.id, title="Soita")
    unassigned = f.FollowUpFactory(client_id=world.aino.id, assigned_to_id=None, title="Tarkista")
    someone_elses = f.FollowUpFactory(client_id=world.aino.id, assigned_to_id=world.bertta_user.id, title="Muu")
    done = f.FollowUpFactory(client_id=world.aino.id, assigned_to_id=world.worker.id, done_at=utcnow(), title="Tehty")
    world.aino.non_disclosure = True
    db.session.commit()
    login_as(world.worker)
    r = client.post(f"/clients/{world.aino.id}/handover", data={"new_worker_id": world.other_worker.id})
    assert r.status_code == 302
    db.session.expire_all()
    assert world.aino.responsible_worker_id == world.other_worker.id
    assert mine.assigned_to_id == world.other_worker.id and unassigned.assigned_to_id == world.other_worker.id
    assert someone_elses.assigned_to_id == world.bertta_user.id and done.assigned_to_id == world.worker.id
    event = db.session.scalar(sa.select(ClientEvent).where(ClientEvent.action == "handover"))
    assert event.actor_id == world.worker.id and event.code == "client.handover"
    assert (event.params["from"], event.params["to"]) == ("Sanna Ohjaaja", "Mikko Ohjaaja")
    run_jobs()
    mails = emails()
    to_client = [m for m in mails if m[0] in ("aino.login@example.fi", "leena@example.fi")]
    assert len(to_client) == 2 and all("Mikko Ohjaaja" in m[2] for m in to_client)
    assert any(m[0] == "mikko@example.fi" for m in mails)
    for _to, subject, body in mails:  # no personal data of the client in any e-mail
        for secret in ("Hämeenkatu", "040 111 2222", "Aino", "Asiakas"):
            assert secret not in subject + body
    run_jobs()
    assert len(emails()) == len(mails)  # sent once


def test_handover_refuses_a_non_staff_target(client, db, world, login_as):
    login_as(world.worker)
    r = client.post(f"/clients/{world.aino.id}/handover", data={"new_worker_id": world.aino_user.id})
    assert r.status_code == 302
    db.session.expire_all()
    assert world.aino.responsible_worker_id == world.worker.id
