"""Closed months computed once and kept: the periodic job keeps the figures of
every closed month; a report built from them equals the report computed from the
rows (every kind, every figure, suppression included); a late change to a closed
month (a correction through the ORM, a bulk update such as an erasure's) marks
that month stale, the report stays right meanwhile, and the job recomputes it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from core.time import local_today
from reports import jobs, monthly
from reports.aggregates import KINDS, Filters, Period, build
from reports.models import ReportMonth, ReportMonthFigure
from tests.integration.reports.conftest import PERIOD, utc

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def _figures(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "generated_at"}


def _state(db, kind, month):
    db.session.expire_all()
    return db.session.scalar(sa.select(ReportMonth.stale).where(ReportMonth.kind == kind, ReportMonth.month == month))


@pytest.mark.smoke
def test_kept_months_give_the_same_reports_as_the_rows(app, db, dataset):
    result = jobs.settle_months()
    db.session.commit()
    assert result["orders"] >= 2  # March and April (and the month before, with an order)
    for kind in KINDS:
        assert _state(db, kind, MARCH) is False, kind
        period = Period(*PERIOD)
        kept = build(kind, period, language="en")
        live = build(kind, period, language="en", live=True)
        assert _figures(kept) == _figures(live), kind
        # A period cutting months in half takes the halves live and still agrees.
        half = Period(date(2026, 3, 15), date(2026, 4, 30))
        assert _figures(build(kind, half, language="en")) == _figures(build(kind, half, language="en", live=True))
    # Served from the kept rows: a change the session cannot see (raw SQL) does
    # not show until the month is recomputed.
    db.session.execute(sa.text("UPDATE service_orders SET cancelled_at = created_at WHERE id = :id"),
                       {"id": dataset.m1.id})
    db.session.commit()
    period = Period(MARCH, date(2026, 3, 31))
    assert build("orders", period, language="en")["totals"]["cancelled"] == 1
    assert build("orders", period, language="en", live=True)["totals"]["cancelled"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportMonthFigure)) > 0


@pytest.mark.smoke
def test_a_late_correction_marks_its_month_stale_and_the_job_recomputes_it(app, db, dataset):
    jobs.settle_months()
    db.session.commit()
    period = Period(*PERIOD)
    before = build("orders", period, language="en")
    assert before["totals"]["cancelled"] == 1
    # A correction through the ORM, as the services make it: m1 (March) cancelled late.
    dataset.m1.cancelled_at = utc(2026, 3, 3, 9)
    db.session.commit()
    assert _state(db, "orders", MARCH) is True and _state(db, "orders", APRIL) is False
    assert _state(db, "response_times", MARCH) is True and _state(db, "feedback", MARCH) is False
    # Meanwhile the stale month is computed live: the report is right at once.
    during = build("orders", period, language="en")
    assert during["totals"]["cancelled"] == 2
    assert jobs.settle_months()["orders"] == 1
    db.session.commit()
    assert _state(db, "orders", MARCH) is False
    after = build("orders", period, language="en")
    assert _figures(after) == _figures(build("orders", period, language="en", live=True))
    assert after["totals"]["cancelled"] == 2


def test_a_rolled_back_change_leaves_the_month_settled(app, db, dataset):
    jobs.settle_months()
    db.session.commit()
    dataset.m2.cancelled_at = utc(2026, 3, 3, 9)
    db.session.flush()
    db.session.rollback()
    assert _state(db, "orders", MARCH) is False


def test_bulk_updates_and_new_rows_in_closed_months_mark_them(app, db, dataset):
    from orders.models import ServiceOrder, VisitReport
    from tests import factories as f

    jobs.settle_months()
    db.session.commit()
    # A bulk update like the one erasure makes (free text cleared) marks the months of its rows.
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.client_id == dataset.clients[10].id)
                       .values(instructions=""))
    db.session.commit()
    assert _state(db, "orders", APRIL) is True and _state(db, "orders", MARCH) is False
    # A visit reported late for a March date marks March of delivered hours.
    f.VisitReportFactory(order_id=dataset.m2.id, provider_id=dataset.m2.provider_id, date=date(2026, 3, 30),
                         minutes=45)
    db.session.commit()
    assert _state(db, "delivered_hours", MARCH) is True
    # A row of today marks nothing: today is always live (the current month's
    # finished days are kept, see test_kept_spans).
    current = monthly.current_month()
    kept_days = _state(db, "delivered_hours", current)
    f.VisitReportFactory(order_id=dataset.m2.id, provider_id=dataset.m2.provider_id, date=local_today(),
                         minutes=30)
    db.session.commit()
    assert _state(db, "delivered_hours", current) is kept_days
    jobs.settle_months()
    db.session.commit()
    period = Period(*PERIOD)
    for kind in ("orders", "delivered_hours"):
        assert _figures(build(kind, period, language="en")) == _figures(build(kind, period, language="en",
                                                                              live=True))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitReport)) == 10


def test_the_settle_job_runs_in_a_real_worker_and_the_cli_recomputes(app, db, dataset, run_jobs):
    from core.jobs import enqueue

    enqueue("reports.jobs.settle_months", queue="reports")
    db.session.commit()
    assert run_jobs() >= 1
    assert _state(db, "orders", MARCH) is False
    runner = app.test_cli_runner()
    out = runner.invoke(args=["reports", "settle", "--recompute", "--kind", "orders"])
    assert out.exit_code == 0, out.output
    assert "orders:" in out.output and "month(s) settled" in out.output
    assert _state(db, "orders", MARCH) is False
    bad = runner.invoke(args=["reports", "settle", "--kind", "nonsense"])
    assert bad.exit_code != 0 and "unknown report kind" in bad.output


def test_the_dashboard_is_served_from_the_kept_figures(app, client, db, dataset, manager, login_as):
    jobs.settle_months()
    db.session.commit()
    # Raw SQL (unseen by the session events) changes the rows, not the kept figures:
    # the dashboard's March shows what was kept.
    db.session.execute(sa.text("DELETE FROM visit_reports WHERE date < :d"), {"d": date(2026, 4, 1)})
    db.session.commit()
    login_as(manager)
    html = client.get(f"/reports/?date_from={PERIOD[0]}&date_to={PERIOD[1]}").get_data(as_text=True)
    # 8.0 hours over March and April were kept; the rows now hold only April's 1.5.
    assert '<span class="stat-value">8.0</span> <span class="stat-label">Hours delivered' in html
    assert build("delivered_hours", Period(*PERIOD), language="en", live=True)["totals"]["visits"] in (None, 2)
