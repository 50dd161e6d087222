"""The hourly sweep reminds the organisation and the administrators 30 and 7 days
before an attachment expires, once each."""

from datetime import date, timedelta

import pytest

from core.worker import PERIODIC_JOBS, run_periodic
from providers.services import remind_expiring_attachments
from tests import factories as f
from tests.integration.providers.conftest import emails

pytestmark = pytest.mark.smoke


@pytest.fixture
def world(db, make_user):
    org = f.ProviderFactory(name="Muistutus Oy", email="org@example.fi", languages=["sv", "fi"])
    org_admin = make_user("provider", provider=org, email="boss@example.fi", language="en")
    admin = make_user("admin", email="admin@example.fi", language="en")
    today = date(2026, 6, 1)
    expiring = f.ProviderAttachmentFactory(provider_id=org.id, filename="vakuutus.pdf",
                                           expires_on=today + timedelta(days=20))
    f.ProviderAttachmentFactory(provider_id=org.id, expires_on=today + timedelta(days=90))  # not yet
    f.ProviderAttachmentFactory(provider_id=org.id, expires_on=today - timedelta(days=1))  # already lapsed
    f.ProviderAttachmentFactory(provider_id=org.id, expires_on=None)
    rejected = f.ProviderFactory(status="rejected")
    f.ProviderAttachmentFactory(provider_id=rejected.id, expires_on=today + timedelta(days=3))
    db.session.commit()
    return {"org": org, "org_admin": org_admin, "admin": admin, "today": today, "expiring": expiring}


def test_sweep_is_registered_hourly():
    assert ("providers.jobs.remind_expiring_attachments", "default", 3600) in PERIODIC_JOBS


def test_thirty_and_seven_day_reminders_once_each(db, world):
    today = world["today"]
    assert remind_expiring_attachments(today) == 1
    db.session.commit()
    sent = emails(db)
    assert sorted(m.to_address for m in sent) == ["admin@example.fi", "boss@example.fi", "org@example.fi"]
    by_to = {m.to_address: m for m in sent}
    assert "vakuutus.pdf" in by_to["boss@example.fi"].body and "in 20 days" in by_to["boss@example.fi"].body
    assert "/organisation" in by_to["boss@example.fi"].body
    assert f"/admin/providers/{world['org'].id}" in by_to["admin@example.fi"].body
    # The organisation's address gets the e-mail in its administrator's language.
    assert by_to["org@example.fi"].language == "en"
    db.session.expire_all()
    assert world["expiring"].reminded_at is not None
    # Running again (every hour) sends nothing new.
    assert remind_expiring_attachments(today) == 0
    assert remind_expiring_attachments(today + timedelta(days=5)) == 0
    db.session.commit()
    assert len(emails(db)) == 3
    # Seven days before: one more round, once.
    assert remind_expiring_attachments(today + timedelta(days=14)) == 1
    assert remind_expiring_attachments(today + timedelta(days=15)) == 0
    db.session.commit()
    assert len(emails(db)) == 6
    # After it has lapsed: nothing more.
    assert remind_expiring_attachments(today + timedelta(days=21)) == 0


def test_first_reminder_inside_seven_days_is_the_seven_day_one(db, world):
    assert remind_expiring_attachments(world["today"] + timedelta(days=15)) == 1
    assert remind_expiring_attachments(world["today"] + timedelta(days=16)) == 0


def test_periodic_job_runs_commits_and_the_mail_is_sent(app, db, world, monkeypatch, run_jobs):
    import providers.documents

    monkeypatch.setattr(providers.documents, "_today", lambda: world["today"])
    assert run_periodic("providers.jobs.remind_expiring_attachments") == 1
    assert run_jobs() == 3
    assert [m.status for m in emails(db)] == ["stored"] * 3
