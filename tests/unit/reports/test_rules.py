"""The rules of the report figures that need no database: periods and months in
the county's time, the continuous percentile, complementary suppression, chart
scales and spreadsheet-safe text."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale

from reports import aggregates as A
from reports import charts
from reports.export import _text

pytestmark = pytest.mark.smoke


def test_months_of_a_period_are_clipped_to_it():
    months = A.Period(date(2026, 1, 15), date(2026, 3, 10)).months()
    assert [(m.label, m.start, m.stop) for m in months] == [
        ("2026-01", date(2026, 1, 15), date(2026, 2, 1)),
        ("2026-02", date(2026, 2, 1), date(2026, 3, 1)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 11)),
    ]
    assert [m.label for m in A.Period(date(2025, 12, 1), date(2026, 1, 31)).months()] == ["2025-12", "2026-01"]


def test_local_midnight_follows_summer_time():
    assert A.local_midnight(date(2026, 3, 1)) == datetime(2026, 2, 28, 22, 0, tzinfo=timezone.utc)
    assert A.local_midnight(date(2026, 4, 1)) == datetime(2026, 3, 31, 21, 0, tzinfo=timezone.utc)
    period = A.Period(date(2026, 3, 1), date(2026, 3, 31))
    assert (period.start_utc, period.end_utc) == (datetime(2026, 2, 28, 22, tzinfo=timezone.utc),
                                                  datetime(2026, 3, 31, 21, tzinfo=timezone.utc))


def test_month_of_and_month_count():
    assert A.Period.month_of(date(2024, 2, 10)) == A.Period(date(2024, 2, 1), date(2024, 2, 29))
    assert A.month_count(date(2025, 12, 31), date(2026, 1, 1)) == 2


def test_filters_round_trip_without_empty_values():
    filters = A.Filters.from_dict({"municipality": "Tampere", "postal_code": "", "provider_id": 3, "x": 1})
    assert filters.to_dict() == {"municipality": "Tampere", "provider_id": 3}
    assert filters.by_client and not A.Filters(provider_id=3).by_client


def percentile_cont(values, p):
    """PostgreSQL's percentile_cont, written out."""
    values = sorted(values)
    pos = p * (len(values) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return float(values[low]) if low == high else values[low] + (pos - low) * (values[high] - values[low])


@pytest.mark.parametrize("seed", range(20))
def test_window_interpolation_is_percentile_cont(seed):
    rng = random.Random(seed)
    values = sorted(rng.randrange(0, 100000) for _ in range(rng.randrange(1, 40)))
    for p in (0.5, 0.9):
        pos = p * (len(values) - 1)
        low = int(pos)  # what CAST(... AS INTEGER) gives in SQLite
        high = values[low + 1] if low + 1 < len(values) else None
        assert A._interpolate(len(values), p, values[low], high) == percentile_cont(values, p)


def test_interpolation_of_nothing_is_none():
    assert A._interpolate(0, 0.5, None, None) is None
    assert A._interpolate(None, 0.5, None, None) is None


@pytest.mark.parametrize("values, top, step", [
    ([49], 50, 10), ([8.2], 10, 2), ([100.0], 100, 20), ([3], 3, 1), ([1], 1, 1), ([0.5], 0.5, 0.1),
    ([], 1, 1), ([0], 1, 1), ([22500], 25000, 5000),
])
def test_chart_scales_are_round(values, top, step):
    got_top, got_step = charts._scale(values)
    assert got_top == pytest.approx(top) and got_step == pytest.approx(step)


def test_charts_are_images_with_text_and_escape_names():
    svg = charts.hbars([("<b>Oy</b>", 3), ("Small", charts.SUPPRESSED)], str, "Orders by provider")
    assert svg.startswith('<svg class="chart" viewBox=') and 'role="img" aria-label="Orders by provider"' in svg
    assert "&lt;b&gt;Oy&lt;/b&gt;" in svg and "<b>" not in svg
    assert ">–<" in svg and "&lt;5" not in svg  # a hidden bar is "–", whatever it counts


def test_a_chart_whose_every_figure_is_hidden_says_so_instead_of_drawing_an_empty_axis(app):
    with app.test_request_context(), force_locale("en"):
        for chart in (charts.bars([("2026-03", charts.SUPPRESSED), ("2026-04", charts.SUPPRESSED)], str, "x"),
                      charts.hbars([("Alfa", charts.SUPPRESSED)], str, "x"),
                      charts.lines(["2026-03"], [("Median", [charts.SUPPRESSED])], str, "x")):
            assert "<svg" not in chart and "<line" not in chart
            assert "Every figure of this chart is hidden to protect the clients&#39; privacy" in chart
        shown = charts.bars([("2026-03", charts.SUPPRESSED), ("2026-04", 7)], str, "x")
        assert "<svg" in shown and "<rect" in shown
    for lang, month in (("fi", "3/2026"), ("sv", "3/2026"), ("en", "Mar 2026")):
        with app.test_request_context(), force_locale(lang):
            assert charts.month_tick("2026-03") == month
    assert charts.month_tick("Alfa") == "Alfa"
    line = charts.lines(["2026-01", "2026-02"], [("Median", [1.5, None])], str, "x")
    assert "<polyline" not in line and line.count("<circle") == 2  # one point and the legend


@pytest.mark.parametrize("text, safe", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+358", "'+358"), ("-1", "'-1"), ("@SUM", "'@SUM"),
    ("siivous", "siivous"), ("", ""),
])
def test_spreadsheet_formulas_are_written_as_text(text, safe):
    assert _text(text) == safe
