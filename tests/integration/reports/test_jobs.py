"""The report job: progress committed as it goes (visible to other connections
while the job's own transaction is open), failures recorded, and the monthly
reports: made once on the first day of a month by the sweep, built, and e-mailed to
the managers as links, exactly once, also by a real `flask worker` through RQ's
cron scheduler."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from reports import jobs, services
from reports.aggregates import KINDS
from reports.models import ReportRun
from tests import factories as f
from tests.fixtures import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.smoke


def _status_elsewhere(db, run_id):
    with db.engine.connect() as conn:
        return tuple(conn.execute(sa.select(ReportRun.status, ReportRun.progress)
                                  .where(ReportRun.id == run_id)).one())


def test_progress_is_visible_to_others_while_the_job_runs(app, db, manager, monkeypatch):
    run = services.request_report(manager, "orders", date(2026, 3, 1), date(2026, 3, 31), "csv")
    db.session.commit()
    seen = []
    real_build = jobs.aggregates.build

    def build(*args, progress=None, **kwargs):
        seen.append(_status_elsewhere(db, run.id))
        result = real_build(*args, progress=progress, **kwargs)
        seen.append(_status_elsewhere(db, run.id))
        return result

    monkeypatch.setattr(jobs.aggregates, "build", build)
    assert jobs.build_report(run.id) == "done"
    assert seen[0] == ("running", 2)
    assert seen[1][0] == "running" and 5 < seen[1][1] <= 90
    db.session.commit()
    assert _status_elsewhere(db, run.id) == ("done", 100)


def test_a_failing_report_is_marked_failed_with_its_reason(app, db, manager, monkeypatch, client, login_as):
    run = services.request_report(manager, "orders", date(2026, 3, 1), date(2026, 3, 31), "csv")
    db.session.commit()

    def broken(*args, **kwargs):
        raise ValueError("no such column")

    monkeypatch.setattr(jobs.aggregates, "build", broken)
    assert jobs.build_report(run.id) == "failed"
    db.session.commit()
    db.session.expire_all()
    run = db.session.get(ReportRun, run.id)
    assert run.status == "failed" and "no such column" in run.error and run.finished_at
    login_as(manager)
    page = client.get(f"/reports/{run.id}").get_data(as_text=True)
    assert "Generating the report failed." in page
    assert "no such column" not in page  # technical details stay in the log
    assert jobs.build_report(run.id) == "skipped"


def test_monthly_reports_are_made_once_and_mailed_once(app, db, make_user, run_jobs):
    managers = [make_user("manager", language="fi"), make_user("manager", language="sv")]
    make_user("manager", active=False)
    make_user("staff")
    db.session.commit()
    created = services.schedule_monthly_reports(date(2026, 12, 1))
    assert len(created) == len(KINDS)
    assert {(r.period_from, r.period_to, r.scheduled, r.format) for r in created} == {
        (date(2026, 11, 1), date(2026, 11, 30), True, "xlsx")}
    db.session.commit()
    assert services.schedule_monthly_reports(date(2026, 12, 1)) == []  # the next hourly sweep
    assert services.schedule_monthly_reports(date(2026, 12, 15)) == []  # a sweep later in the month
    db.session.commit()
    assert run_jobs() >= len(KINDS)
    runs = db.session.scalars(sa.select(ReportRun).where(ReportRun.scheduled.is_(True))).all()
    assert len(runs) == len(KINDS) and {r.status for r in runs} == {"done"}
    mails = db.session.scalars(sa.select(OutgoingEmail).order_by(OutgoingEmail.id)).all()
    assert sorted(m.to_address for m in mails) == sorted(m.email for m in managers)
    finnish = next(m for m in mails if m.to_address == managers[0].email)
    assert "11/2026" in finnish.subject and "2026-11" not in finnish.subject  # the month as Finns write it
    for run in runs:
        assert f"http://kotiapu.test/reports/{run.id}" in finnish.body
    assert finnish.sent_at is not None
    # The sweep's safety net finds everything sent already.
    assert services.notify_monthly_ready(date(2026, 11, 1), date(2026, 11, 30)) == 0
    assert services.pending_monthly_notifications(date(2026, 12, 1)) == 0


def test_a_second_scheduler_cannot_make_the_monthly_reports_twice(app, db):
    f.ReportRunFactory(kind="orders", period_from=date(2026, 11, 1), period_to=date(2026, 11, 30), scheduled=True)
    f.ReportRunFactory(kind="orders", period_from=date(2026, 11, 1), period_to=date(2026, 11, 30), scheduled=False)
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        f.ReportRunFactory(kind="orders", period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                           scheduled=True)
    db.session.rollback()


_wait_for = partial(wait_for, timeout=120.0, interval=0.5)


def test_the_monthly_sweep_runs_by_rqs_cron_scheduler_in_a_real_worker(app, db, make_user, worker_env, tmp_path):
    manager = make_user("manager")
    db.session.commit()
    worker, log = start_worker(worker_env, tmp_path / "worker.log")
    try:
        def mailed():
            db.session.expire_all()
            return db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail).where(
                OutgoingEmail.to_address == manager.email, OutgoingEmail.sent_at.is_not(None))) == 1

        assert _wait_for(mailed), "no monthly e-mail:\n" + (tmp_path / "worker.log").read_text()[-3000:]
        runs = db.session.scalars(sa.select(ReportRun).where(ReportRun.scheduled.is_(True))).all()
        assert len(runs) == len(KINDS) and {r.status for r in runs} == {"done"}
        assert {r.period_to for r in runs} == {services.previous_month(services.local_today()).end}
    finally:
        stop_worker(worker, log)
    output = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in output, output[-3000:]
