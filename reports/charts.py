"""Charts for the manager dashboard as inline SVG drawn on the server: no script,
nothing for the CSP to refuse, readable without JavaScript and in print.

Each chart is an ``<svg role="img">`` with a short text alternative that points to
the table of the same figures next to it (the table is what a screen reader reads).
Colours come from classes in ``static/css/reports.css`` (a palette that stays
distinguishable with the common colour-vision deficiencies, every colour at 3:1
against the chart's background and text at 4.5:1, as
tests/unit/reports/test_chart_contrast.py checks); lines also differ by their dash
pattern and marker shape, so colour is never the only cue. Months under a chart are
the reader's months (the ``month`` filter: "3/2026", "Mar 2026"). A hidden figure
(small-group rule) is drawn as ``–`` in place of its bar or point, and as a dashed
outline in a small chart. A chart with nothing to draw (every figure hidden, or no
figures) is a sentence saying so, not an empty axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flask_babel import gettext as _
from markupsafe import Markup, escape

from core.templating import fmt_month
from reports.aggregates import HIDDEN_TEXT

SUPPRESSED_TEXT = HIDDEN_TEXT  # what a hidden bar or point shows

WIDTH = 640
MARKERS = ("circle", "square", "triangle", "diamond")


class _Suppressed:
    """A figure hidden by the small-group rule: drawn as "<5"."""

    def __repr__(self) -> str:
        return "SUPPRESSED"


SUPPRESSED = _Suppressed()


def _numbers(values) -> list[float]:
    return [v for v in values if v is not None and v is not SUPPRESSED]


def nothing_to_draw(values) -> Markup | None:
    """The sentence shown instead of a chart whose figures are all hidden (or that
    has none); None when there is something to draw."""
    values = list(values)
    if any(v is not None and v is not SUPPRESSED for v in values):
        return None
    if any(v is SUPPRESSED for v in values):
        text = _("Every figure of this chart is hidden to protect the clients' privacy (groups of fewer than "
                 "5 clients), so there is nothing to draw. The table below shows what can be shown.")
    else:
        text = _("Nothing to draw: there are no figures for this period and these filters.")
    return Markup('<p class="chart-empty">') + escape(text) + Markup("</p>")


def _scale(values: list[float]) -> tuple[float, float]:
    """The top of the value axis and the step between its gridlines: round
    numbers (1, 2 or 5 times a power of ten), at most five steps, whole steps for
    whole-number figures."""
    maximum = max(values, default=0)
    if maximum <= 0:
        return 1.0, 0.25 if not all(float(v).is_integer() for v in values) else 1.0
    magnitude = 10 ** math.floor(math.log10(maximum / 5))
    step = magnitude
    for m in (1, 2, 5, 10):
        step = m * magnitude
        if step * 5 >= maximum:
            break
    if all(float(v).is_integer() for v in values):
        step = max(step, 1.0)
    return step * math.ceil(maximum / step - 1e-9), step


def _svg(width: int, height: int, label: str, body: list[str], css: str = "chart") -> Markup:
    head = (f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg" focusable="false">')
    # Every text in ``body`` went through ``escape`` where it was built; the rest is numbers.
    return Markup(head + "".join(body) + "</svg>")  # nosec B704


def _y_axis(body: list[str], top: float, step: float, left: int, plot_top: int, plot_h: int, right: int,
            fmt: Callable) -> None:
    for i in range(round(top / step) + 1):
        value = step * i
        y = plot_top + plot_h - plot_h * value / top
        body.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')


def month_tick(label: str) -> str:
    """``2026-03`` under a chart as the reader's month (the ``month`` filter: "3/2026"
    in Finnish and Swedish, "Mar 2026" in English); any other label as it is."""
    if len(label) == 7 and label[4] == "-" and label[:4].isdigit() and label[5:].isdigit():
        return fmt_month(label)
    return label


TICK_CHAR = 7.0  # the width of a character of a tick label (12px), generously


def _tick_every(labels: list[str], slot: float) -> int:
    """Every how many slots a tick label fits without touching the next one."""
    widest = max((len(t) for t in labels), default=1) * TICK_CHAR + 8
    return max(1, math.ceil(widest / slot)) if slot > 0 else 1


def bars(points: list[tuple[str, float | None]], fmt: Callable, label: str, height: int = 240) -> Markup:
    """Vertical bars, one per point (a time series of months)."""
    empty = nothing_to_draw(v for _l, v in points)
    if empty is not None:
        return empty
    left, right, plot_top, bottom = 64, WIDTH - 8, 18, 40
    plot_h = height - plot_top - bottom
    top, step = _scale(_numbers(v for _l, v in points))
    body: list[str] = []
    _y_axis(body, top, step, left, plot_top, plot_h, right, fmt)
    n = max(len(points), 1)
    slot = (right - left) / n
    bar_w = max(min(slot * 0.7, 48), 2)
    ticks = [month_tick(name) for name, _v in points]
    every = _tick_every(ticks, slot)
    base = plot_top + plot_h
    for i, (name, value) in enumerate(points):
        x = left + slot * i + (slot - bar_w) / 2
        cx = left + slot * i + slot / 2
        if value is SUPPRESSED:
            body.append(f'<text class="suppressed" x="{cx:.1f}" y="{base - 4}" text-anchor="middle">'
                        f'{escape(SUPPRESSED_TEXT)}</text>')
        elif value is not None:
            h = plot_h * value / top if top else 0
            body.append(f'<rect class="bar series-0" x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                        f'height="{h:.1f}"/>')
            if n <= 13:
                body.append(f'<text class="value" x="{cx:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">'
                            f'{escape(fmt(value))}</text>')
        if i % every == 0:
            body.append(f'<text class="tick" x="{cx:.1f}" y="{base + 16}" text-anchor="middle">'
                        f'{escape(ticks[i])}</text>')
    body.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{base}" y2="{base}"/>')
    return _svg(WIDTH, height, label, body)


def hbars(points: list[tuple[str, float | None]], fmt: Callable, label: str) -> Markup:
    """Horizontal bars with the names on the left (categories, providers, channels)."""
    empty = nothing_to_draw(v for _l, v in points)
    if empty is not None:
        return empty
    left, right, row_h, top_pad = 230, WIDTH - 70, 26, 6
    height = top_pad * 2 + row_h * max(len(points), 1)
    top = max(_numbers(v for _l, v in points), default=0) or 1
    body: list[str] = []
    for i, (name, value) in enumerate(points):
        y = top_pad + row_h * i
        short = name if len(name) <= 30 else name[:29] + "…"
        body.append(f'<text class="name" x="{left - 8}" y="{y + row_h / 2 + 5:.1f}" text-anchor="end">'
                    f'{escape(short)}</text>')
        if value is SUPPRESSED or value is None:
            text = escape(SUPPRESSED_TEXT) if value is SUPPRESSED else "–"
            body.append(f'<text class="suppressed" x="{left + 4}" y="{y + row_h / 2 + 5:.1f}">{text}</text>')
            continue
        w = (right - left) * value / top
        body.append(f'<rect class="bar series-0" x="{left}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}"/>')
        body.append(f'<text class="value" x="{left + w + 6:.1f}" y="{y + row_h / 2 + 5:.1f}">{escape(fmt(value))}</text>')
    body.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top_pad}" y2="{height - top_pad}"/>')
    return _svg(WIDTH, height, label, body)


def lines(x_labels: list[str], series: list[tuple[str, list[float | None]]], fmt: Callable, label: str,
          height: int = 260) -> Markup:
    """Up to four lines over the months, with markers and a legend."""
    empty = nothing_to_draw(v for _n, vs in series for v in vs)
    if empty is not None:
        return empty
    left, right, plot_top, bottom = 64, WIDTH - 8, 34, 40
    plot_h = height - plot_top - bottom
    top, step = _scale(_numbers(v for _n, vs in series for v in vs))
    body: list[str] = []
    _y_axis(body, top, step, left, plot_top, plot_h, right, fmt)
    n = max(len(x_labels), 1)
    slot = (right - left) / n
    base = plot_top + plot_h
    ticks = [month_tick(name) for name in x_labels]
    every = _tick_every(ticks, slot)
    for i, tick in enumerate(ticks):
        if i % every == 0:
            body.append(f'<text class="tick" x="{left + slot * i + slot / 2:.1f}" y="{base + 16}" '
                        f'text-anchor="middle">{escape(tick)}</text>')
    lx = left
    for s, (name, vs) in enumerate(series[:4]):
        points = []
        for i, v in enumerate(vs):
            x = left + slot * i + slot / 2
            if v is None or v is SUPPRESSED:
                if v is SUPPRESSED and s == 0:
                    body.append(f'<text class="suppressed" x="{x:.1f}" y="{base - 4}" text-anchor="middle">'
                                f'{escape(SUPPRESSED_TEXT)}</text>')
                if len(points) > 1:
                    body.append(_polyline(points, s))
                points = []
                continue
            y = base - plot_h * v / top
            points.append((x, y))
            body.append(_marker(x, y, s))
        if len(points) > 1:
            body.append(_polyline(points, s))
        body.append(_marker(lx + 6, 14, s))
        body.append(f'<text class="legend" x="{lx + 16}" y="18">{escape(name)}</text>')
        lx += 34 + 8 * len(name)
    body.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{base}" y2="{base}"/>')
    return _svg(WIDTH, height, label, body)


def _polyline(points, s: int) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="line series-{s}" points="{coords}" fill="none"/>'


def _marker(x: float, y: float, s: int) -> str:
    shape = MARKERS[s % len(MARKERS)]
    cls = f'class="marker series-{s}"'
    if shape == "circle":
        return f'<circle {cls} cx="{x:.1f}" cy="{y:.1f}" r="4.5"/>'
    if shape == "square":
        return f'<rect {cls} x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"/>'
    if shape == "triangle":
        return f'<polygon {cls} points="{x:.1f},{y - 5.5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}"/>'
    return f'<polygon {cls} points="{x:.1f},{y - 5.5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5.5:.1f} {x - 5:.1f},{y:.1f}"/>'


def spark(values: list[float | None], top: float, label: str, width: int = 200, height: int = 64) -> Markup:
    """A small bar chart with a shared scale (small multiples: one per category)."""
    n = max(len(values), 1)
    slot = width / n
    body: list[str] = []
    base = height - 4
    for i, v in enumerate(values):
        if v is None:
            continue
        if v is SUPPRESSED:
            body.append(f'<rect class="bar-suppressed" x="{slot * i + 1.5:.1f}" y="{base - 6}" '
                        f'width="{max(slot - 3, 1):.1f}" height="6"/>')
            continue
        h = (height - 8) * v / top if top else 0
        body.append(f'<rect class="bar series-0" x="{slot * i + 1:.1f}" y="{base - h:.1f}" '
                    f'width="{max(slot - 2, 1):.1f}" height="{h:.1f}"/>')
    body.append(f'<line class="axis" x1="0" x2="{width}" y1="{base}" y2="{base}"/>')
    return _svg(width, height, label, body, css="chart spark")
