"""The report charts' colours against the background they are drawn on (WCAG 1.4.11
non-text contrast, 1.4.3 for their text), read from where they are defined: the
chart rules of static/css/reports.css, with the custom properties of
static/css/app.css. Real charts are drawn (bars, horizontal bars, lines with four
series, a small multiple with a hidden figure) and every element of them gets the
colour the style sheet gives it, so a new class or a changed colour is checked too."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports import charts

ROOT = Path(__file__).resolve().parents[3]
APP_CSS = ROOT / "static" / "css" / "app.css"
REPORTS_CSS = ROOT / "static" / "css" / "reports.css"
GRAPHICS = {"rect", "line", "polyline", "polygon", "circle", "path"}
TEXT_MINIMUM, GRAPHIC_MINIMUM = 4.5, 3.0


# --------------------------------------------------------------------------- colours

def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_ratio_is_the_wcag_one():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#b7bec5", "#ffffff") == pytest.approx(1.88, abs=0.01)  # the old grey of hidden bars


# --------------------------------------------------------------------------- the style sheets

def _rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of the style sheet's plain rules, in order."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for part in body.split(";"):
            name, _, value = part.partition(":")
            if value.strip():
                declarations[name.strip()] = value.strip()
        for selector in selectors.split(","):
            rules.append((" ".join(selector.split()), declarations))
    return rules


VARIABLES = {name: value for selector, decl in _rules(APP_CSS.read_text()) if selector == ":root"
             for name, value in decl.items() if name.startswith("--")}
CHART_RULES = [(s, d) for s, d in _rules(REPORTS_CSS.read_text()) if s.split(" ")[0].startswith(".chart")]


def resolve(value: str) -> str:
    match = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if match:
        assert match.group(1) in VARIABLES, f"{value} is not defined in app.css"
        return resolve(VARIABLES[match.group(1)])
    return value


def _is_colour(value: str) -> bool:
    return bool(re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", value))


# The chart paints its own background (so the page around it does not decide its contrast).
BACKGROUND = resolve(next((d["background"] for s, d in CHART_RULES if s == ".chart" and "background" in d),
                          "none"))


def test_the_chart_has_a_background_of_its_own_and_every_colour_is_a_colour():
    assert _is_colour(BACKGROUND), f".chart has no background colour of its own: {BACKGROUND}"
    for selector, declarations in CHART_RULES:
        for prop in ("fill", "stroke", "background", "color"):
            if prop in declarations and declarations[prop] != "none":
                assert _is_colour(resolve(declarations[prop])), f"{selector} {{ {prop}: {declarations[prop]} }}"


def _matches(compound: str, tag: str, classes: set[str]) -> bool:
    parts = re.findall(r"^[a-z]+|\.[\w-]+", compound)
    if "".join(parts) != compound:
        return False  # a selector this test does not understand matches nothing
    want_tag = parts[0] if parts and not parts[0].startswith(".") else None
    return (want_tag is None or want_tag == tag) and {p[1:] for p in parts if p.startswith(".")} <= classes


def style_of(tag: str, classes: set[str]) -> dict[str, str]:
    """The declarations the chart rules give an element inside ``svg.chart``
    (specificity, then order; only the ``.chart X`` descendant rules apply)."""
    matched = []
    for order, (selector, declarations) in enumerate(CHART_RULES):
        head, _, rest = selector.partition(" ")
        if head != ".chart" or not rest or " " in rest or not _matches(rest, tag, classes):
            continue
        specificity = (rest.count("."), 0 if rest.startswith(".") else 1)
        matched.append((specificity, order, declarations))
    style: dict[str, str] = {}
    for _spec, _order, declarations in sorted(matched, key=lambda m: (m[0], m[1])):
        style.update(declarations)
    return style


# --------------------------------------------------------------------------- the charts drawn

class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, set[str], dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "svg":
            self.found.append((tag, set((attrs.get("class") or "").split()), attrs))

    handle_startendtag = handle_starttag


def _drawn(app) -> list[tuple[str, str, set[str], dict]]:
    hidden = charts.SUPPRESSED
    with app.test_request_context("/?lang=fi"):
        drawn = {
            "bars": charts.bars([("2026-01", 4), ("2026-02", hidden), ("2026-03", 9)], str, "x"),
            "hbars": charts.hbars([("Alfa", 5), ("Beta", hidden), ("Gamma", None)], str, "x"),
            "lines": charts.lines(["2026-01", "2026-02", "2026-03", "2026-04"],
                                  [(f"S{i}", [1 + i, 2, hidden, 3 + i]) for i in range(4)], str, "x"),
            "spark": charts.spark([3, hidden, None, 7], 10, "x"),
        }
    found = []
    for name, svg in drawn.items():
        parser = _Elements()
        parser.feed(str(svg))
        found += [(name, tag, classes, attrs) for tag, classes, attrs in parser.found]
    return found


def test_every_element_of_every_chart_stands_out_from_the_chart_background(app):
    elements = _drawn(app)
    kinds = {tag for _n, tag, _c, _a in elements}
    assert {"rect", "line", "polyline", "circle", "polygon", "text"} <= kinds, kinds
    assert any("bar-suppressed" in classes for _n, _t, classes, _a in elements)
    weak = []
    for chart, tag, classes, attrs in elements:
        style = style_of(tag, classes)
        where = f"{chart} <{tag} class={' '.join(sorted(classes))!r}>"
        if tag == "text":
            fill = resolve(style.get("fill", "#000000"))
            if contrast(fill, BACKGROUND) < TEXT_MINIMUM:
                weak.append(f"{where}: text {fill} at {contrast(fill, BACKGROUND):.2f}:1")
            continue
        assert tag in GRAPHICS, where
        # SVG's defaults: a shape is filled black and has no outline; a line has only its stroke.
        fill = "none" if tag == "line" else attrs.get("fill") or style.get("fill", "#000000")
        stroke = attrs.get("stroke") or style.get("stroke", "none")
        painted = [resolve(c) for c in (fill, stroke) if c != "none"]
        assert painted, f"{where} is drawn in no colour"
        # The object stands out if its outline or its body reaches 3:1 against the background.
        best = max(contrast(c, BACKGROUND) for c in painted)
        if best < GRAPHIC_MINIMUM:
            weak.append(f"{where}: {painted} at best {best:.2f}:1")
    assert not weak, "\n".join(weak)


def test_every_colour_of_the_chart_rules_reaches_three_to_one():
    """Also the colours no chart of the test happens to draw."""
    weak = []
    for selector, declarations in CHART_RULES:
        for prop in ("fill", "stroke"):
            value = declarations.get(prop, "none")
            if value == "none":
                continue
            colour = resolve(value)
            minimum = TEXT_MINIMUM if selector.endswith(" text") or prop == "fill" and _is_text_rule(selector) \
                else GRAPHIC_MINIMUM
            if colour != BACKGROUND and contrast(colour, BACKGROUND) < minimum:
                weak.append(f"{selector} {{ {prop}: {value} }} at {contrast(colour, BACKGROUND):.2f}:1")
    assert not weak, "\n".join(weak)


TEXT_CLASSES = {"tick", "value", "name", "legend", "suppressed"}


def _is_text_rule(selector: str) -> bool:
    return any(f".{c}" == selector.partition(" ")[2] for c in TEXT_CLASSES)


def test_the_series_differ_by_more_than_colour():
    """Lines of different series have their own dash pattern (and marker shape)."""
    dashes = [style_of("polyline", {"line", f"series-{s}"}).get("stroke-dasharray", "none") for s in range(4)]
    assert len(set(dashes)) == 4, dashes
    assert len(set(charts.MARKERS)) == 4
    # A hidden figure in a small chart is an outline of its own pattern, not a bar of another colour.
    hidden = style_of("rect", {"bar-suppressed"})
    assert hidden.get("stroke-dasharray", "none") != "none"
    assert resolve(hidden["fill"]) == BACKGROUND
