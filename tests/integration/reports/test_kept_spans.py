"""Pre-combined kept figures: runs of closed months combined once into spans, and
the current month's finished days kept, so that a report reads a few parts per
group and computes only today from the rows. Both give the same reports as the
rows (every kind, every figure, suppression included); a late change to a
closed month drops the spans holding it and the job combines them again; a
change to a kept day of the current month marks those days stale, a row of
today marks nothing."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from reports import jobs, monthly
from reports.aggregates import KINDS, Period, build
from reports.models import ReportMonth, ReportSpanFigure
from tests.integration.reports.conftest import PERIOD, utc

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def _figures(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "generated_at"}


def _row(db, kind, month):
    db.session.expire_all()
    return db.session.scalar(sa.select(ReportMonth).where(ReportMonth.kind == kind, ReportMonth.month == month))


def _spans(db, kind):
    return set(db.session.execute(sa.select(ReportSpanFigure.start, ReportSpanFigure.months).distinct()
                                  .where(ReportSpanFigure.kind == kind)).all())


@pytest.mark.smoke
def test_spans_of_kept_months_give_the_same_reports_as_the_rows(app, db, dataset):
    jobs.settle_months()
    db.session.commit()
    period = Period(*PERIOD)
    # March and April are one span of two months (month numbers 24314-24315).
    assert monthly.pieces_used("orders", period) == [(MARCH, 2)]
    # February to November: February alone, then spans.
    longer = Period(date(2026, 2, 1), date(2026, 11, 30))
    pieces = monthly.pieces_used("orders", longer)
    assert pieces[0] == (date(2026, 2, 1), 1) and (MARCH, 2) in pieces and (date(2026, 5, 1), 4) in pieces
    assert sum(size for _start, size in pieces) == 10 and len(pieces) < 10
    for kind in KINDS:
        for p in (period, longer):
            kept = build(kind, p, language="en")
            assert _figures(kept) == _figures(build(kind, p, language="en", live=True)), (kind, p)
    # The small groups are suppressed as from the rows: a provider with fewer than
    # five clients over the two months reads "<5", whatever its months held.
    rows = {r["provider"]: r for r in next(s for s in build("orders", period, language="en")["sections"]
                                           if s["key"] == "by_provider")["rows"]}
    assert rows["Beta Palvelu Oy"]["suppressed"] is True and rows["Beta Palvelu Oy"]["orders"] is None


def test_a_span_equals_its_months_combined(app, db, dataset):
    jobs.settle_months()
    db.session.commit()
    for kind in ("orders", "response_times", "delivered_hours", "shop_sales"):
        span = monthly.stored_pieces(kind, [(MARCH, 2)])[(MARCH, 2)]
        months = monthly.stored_parts(kind, [MARCH, APRIL])
        assert len(span) == len(months[MARCH]) == len(months[APRIL])
        for i, parts in enumerate(span):
            merged = monthly.merge_parts(months[MARCH][i], months[APRIL][i])
            assert set(parts) == set(merged)
            for grouping, groups in parts.items():
                assert set(groups) == set(merged[grouping]), (kind, grouping)
                for key, part in groups.items():
                    other = merged[grouping][key]
                    assert part["m"] == other["m"]
                    assert monthly.distinct_size(part["d"]) == monthly.distinct_size(other["d"])
                    assert {n: (list(h[0]), list(h[1])) for n, h in part["p"].items()} == {
                        n: (list(h[0]), list(h[1])) for n, h in other["p"].items()}


def test_a_late_change_to_a_closed_month_drops_its_spans_and_the_job_combines_them_again(app, db, dataset):
    jobs.settle_months()
    db.session.commit()
    period = Period(*PERIOD)
    assert build("orders", period, language="en")["totals"]["cancelled"] == 1
    assert (MARCH, 2) in _spans(db, "orders")
    dataset.m1.cancelled_at = utc(2026, 3, 3, 9)  # a late correction in March
    db.session.commit()
    # March is stale: the span holding it is not read, March is computed live.
    assert monthly.pieces_used("orders", period) == [(APRIL, 1)]
    assert build("orders", period, language="en")["totals"]["cancelled"] == 2
    jobs.settle_months()
    db.session.commit()
    assert (MARCH, 2) in _spans(db, "orders")
    assert monthly.pieces_used("orders", period) == [(MARCH, 2)]
    kept = build("orders", period, language="en")
    assert kept["totals"]["cancelled"] == 2
    assert _figures(kept) == _figures(build("orders", period, language="en", live=True))
    # Recomputing a month drops its spans in the same transaction, even if the job
    # then stops before combining them again.
    monthly.settle_month("orders", APRIL)
    assert (MARCH, 2) not in _spans(db, "orders")
    db.session.rollback()


@pytest.fixture
def april_20(monkeypatch):
    """Today is 20 April 2026: April is the current month, its 1st-19th finished."""
    import core.time

    monkeypatch.setattr(core.time, "local_today", lambda: date(2026, 4, 20))
    return date(2026, 4, 20)


@pytest.mark.smoke
def test_the_current_months_finished_days_are_kept_and_only_today_is_live(app, db, dataset, april_20):
    from tests import factories as f

    jobs.settle_months()
    db.session.commit()
    row = _row(db, "orders", APRIL)
    assert row.through == april_20 and row.stale is False
    assert _row(db, "orders", MARCH).through is None and _row(db, "orders", MARCH).stale is False
    period = Period(MARCH, april_20)
    for kind in KINDS:
        assert _figures(build(kind, period, language="en")) == _figures(build(kind, period, language="en",
                                                                              live=True)), kind
    # Served from the kept days: a raw-SQL change to 14 April (unseen by the
    # session events) does not show, a new row of today does.
    before = build("orders", period, language="en")["totals"]["orders"]
    db.session.execute(sa.text("UPDATE service_orders SET cancelled_at = created_at WHERE id = :id"),
                       {"id": dataset.a2.id})
    f.ServiceOrderFactory(client=dataset.clients[4], service_type=dataset.a2.service_type, provider=dataset.p1,
                          status="offered", created_at=utc(2026, 4, 20, 8), offered_at=utc(2026, 4, 20, 8))
    db.session.commit()
    assert _row(db, "orders", APRIL).stale is False  # a row of today marks nothing
    totals = build("orders", period, language="en")["totals"]
    live = build("orders", period, language="en", live=True)["totals"]
    assert totals["orders"] == live["orders"] == before + 1
    assert (totals["cancelled"], live["cancelled"]) == (1, 2)
    # A change through the ORM to a kept day (14 April) marks the days stale; the
    # report computes the month live meanwhile, and the job keeps the days again.
    dataset.a3.cancelled_at = utc(2026, 4, 14, 12)
    db.session.commit()
    assert _row(db, "orders", APRIL).stale is True and _row(db, "orders", MARCH).stale is False
    assert build("orders", period, language="en")["totals"]["cancelled"] == 3
    jobs.settle_months()
    db.session.commit()
    assert _row(db, "orders", APRIL).stale is False
    assert _figures(build("orders", period, language="en")) == _figures(build("orders", period, language="en",
                                                                              live=True))
    # A period ending before the kept days end cannot use them: computed live.
    early = Period(APRIL, date(2026, 4, 10))
    assert _figures(build("orders", early, language="en")) == _figures(build("orders", early, language="en",
                                                                             live=True))
