"""The manager dashboard: the same report builders as the jobs (``reports.aggregates``)
for the filters chosen on the page, turned into key figures, charts and tables.

Without filters the reports come from the kept figures of the closed months
(``reports.monthly``) and only the current month is computed from its rows. The
built reports are also cached in Redis for ``CACHE_SECONDS`` per kind, period,
filters and language; the page shows when the figures were computed. Everything
here is presentation of already aggregated rows (a few hundred at most).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, timedelta

import redis
import sqlalchemy as sa
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from core.extensions import db
from core.redis import get_redis
from core.templating import fmt_month, money
from reports import charts
from reports.aggregates import COLUMNS, HIDDEN_TEXT, KINDS, SUPPRESSED_TEXT, Filters, Period, build, local_today
from reports.models import ReportRun, ReportStatus
from reports.services import previous_month, recent_runs

log = logging.getLogger(__name__)

CACHE_SECONDS = 600
_CACHE_KEY = "kotiapu:reports:dashboard:v1:{}"
TOP_PROVIDERS = 10


def default_period(today: date | None = None) -> Period:
    """The last twelve months: from the first day of the month eleven months ago."""
    today = today or local_today()
    first = today.replace(day=1)
    for _i in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return Period(first, today)


def cached_build(kind: str, period: Period, filters: Filters, language: str, cache: dict | None = None) -> dict:
    """``aggregates.build`` through the Redis cache. ``cache`` (shared by the
    builds of one page) remembers a Redis failure, so an outage costs one timeout
    per page, not one per report."""
    cache = cache if cache is not None else {}
    ident = json.dumps([kind, period.to_dict(), filters.to_dict(), language], sort_keys=True)
    key = _CACHE_KEY.format(hashlib.sha256(ident.encode()).hexdigest())
    conn = None
    if not cache.get("down"):
        try:
            conn = get_redis()
            raw = conn.get(key)
            if raw:
                return json.loads(raw)
        except redis.exceptions.RedisError as exc:
            log.warning("report cache unavailable: %s", exc.__class__.__name__)
            cache["down"], conn = True, None
    result = build(kind, period, filters, language=language)
    if conn is not None:
        try:
            conn.set(key, json.dumps(result), ex=CACHE_SECONDS)
        except redis.exceptions.RedisError:
            cache["down"] = True
    return result


def results(period: Period, filters: Filters, language: str, kinds=KINDS) -> dict[str, dict]:
    cache: dict = {}
    return {kind: cached_build(kind, period, filters, language, cache) for kind in kinds}


def last_month_overview(language: str) -> dict:
    """Last month's key figures for the manager's front page: from the monthly
    reports the workers have built (the same builders), or built now (and cached)
    for the kinds not built yet."""
    period = previous_month(local_today())
    stored = {kind: result for kind, result in db.session.execute(
        sa.select(ReportRun.kind, ReportRun.result).where(
            ReportRun.scheduled.is_(True), ReportRun.status == ReportStatus.DONE,
            ReportRun.period_from == period.start, ReportRun.period_to == period.end))}
    cache: dict = {}
    res = {kind: stored.get(kind) or cached_build(kind, period, Filters(), language, cache) for kind in KINDS}
    return {"period": period, "figures": key_figures(res)}


# --------------------------------------------------------------------------- presentation

def format_value(value, kind: str, suppressed: bool = False, small_count: bool = False) -> str:
    """A figure as the pages show it, in the page's language. A hidden figure is
    ``<5`` when it is the people count of a small group (``small_count``), else
    ``–`` (see ``reports.aggregates.hidden_text``)."""
    if suppressed:
        return SUPPRESSED_TEXT if small_count else HIDDEN_TEXT
    if value is None:
        return "–"
    if kind == "count":
        return format_decimal(value, "#,##0")
    if kind == "percent":
        return format_decimal(value, "0.0") + "\u00a0%"
    if kind == "hours":
        return format_decimal(value, "#,##0.0")
    if kind == "rating":
        return format_decimal(value, "0.00")
    if kind == "money":
        return money(value)
    return str(value)


def _axis_fmt(kind: str):
    if kind == "money":
        return lambda v: format_decimal(v / 100, "#,##0") + "\u00a0€"
    if kind == "percent":
        return lambda v: format_decimal(v, "#,##0.#") + "\u00a0%"
    if kind in ("hours", "rating"):
        return lambda v: format_decimal(v, "#,##0.#")
    return lambda v: format_decimal(v, "#,##0")


def _section(result: dict, key: str) -> dict:
    return next(s for s in result["sections"] if s["key"] == key)


def table(section: dict, columns: list[str] | None = None, caption: str | None = None, limit: int | None = None,
          total: bool = True) -> dict:
    """A section's rows as a table for a page: group columns, then ``columns``."""
    groups = [c for c in section["columns"] if c["type"] in ("month", "label")]
    figures = [c for c in section["columns"] if c["type"] not in ("month", "label")
               and (columns is None or c["key"] in columns)]
    rows = section["rows"][:limit] if limit else section["rows"]

    def cells(row, head=None):
        names = [head] + [""] * (len(groups) - 1) if head else [
            fmt_month(row.get(c["key"])) if c["type"] == "month" and row.get(c["key"]) else str(row.get(c["key"], ""))
            for c in groups]
        return {"names": names,
                "values": [format_value(row.get(c["key"]), c["type"], row.get("suppressed", False),
                                        _small_count(row, c["key"], section.get("people"))) for c in figures]}

    return {
        "caption": caption or section["title"],
        "group_headers": [c["label"] for c in groups],
        "headers": [c["label"] for c in figures],
        "rows": [cells(r) for r in rows],
        "total": cells(section["total"], _("Total")) if total and section.get("total") else None,
        "more": len(section["rows"]) - len(rows),
    }


def _small_count(row: dict, key: str, people: str | None) -> bool:
    return row.get("suppression") == "small" and key == people


def _series(section: dict, months: list[str], key: str) -> list:
    """A figure per month for a line: None where the month has no data (a gap),
    SUPPRESSED where it is hidden by the small-group rule."""
    by_month = {r["month"]: r for r in section["rows"]}
    out = []
    for m in months:
        row = by_month.get(m)
        out.append(None if row is None else charts.SUPPRESSED if row["suppressed"] else row.get(key))
    return out


def _points(section: dict, months: list[str], key: str) -> list[tuple[str, float | None]]:
    if not section["rows"]:
        return [(m, None) for m in months]  # no figures at all: the chart says so
    by_month = {r["month"]: r for r in section["rows"]}
    out = []
    for m in months:
        row = by_month.get(m)
        if row is None:
            out.append((m, 0))
        else:
            out.append((m, charts.SUPPRESSED if row["suppressed"] else row.get(key)))
    return out


def key_figures(res: dict[str, dict]) -> list[dict]:
    """The headline numbers of the period, each with its report kind."""
    spec = [
        ("orders", "orders", _("Service orders")),
        ("response_times", "median_hours", _("Median hours from order to acceptance")),
        ("response_times", "p90_hours", _("90th percentile hours to acceptance")),
        ("response_times", "decline_rate", _("Offers declined")),
        ("orders", "escalation_rate", _("Orders escalated")),
        ("orders", "completed", _("Orders completed")),
        ("orders", "received_rate", _("Closed loops: service received")),
        ("orders", "open_loops", _("Completed orders with the loop open")),
        ("delivered_hours", "hours", _("Hours delivered")),
        ("feedback", "average_rating", _("Average rating (1-5)")),
        ("feedback", "needs_met_rate", _("Feedback: needs met")),
        ("guidance_contacts", "contacts", _("Guidance contacts")),
        ("shop_sales", "sales_cents", _("Self-paid sales incl. VAT")),
        ("shop_sales", "vat_cents", _("VAT of self-paid sales")),
        ("shop_sales", "platform_fee_cents", _("Platform fees")),
        ("staffing", "fill_rate", _("Staffing requests filled")),
        ("staffing", "median_fill_hours", _("Median hours to fill a staffing request")),
        ("staffing", "hours_worked", _("Hours worked by agency staff")),
    ]
    out = []
    for kind, key, label in spec:
        if kind not in res:
            continue
        totals = res[kind]["totals"]
        suppressed = totals.get("offers_suppressed" if key == "decline_rate" else "suppressed", False)
        out.append({"kind": kind, "key": key, "label": label,
                    "value": format_value(totals.get(key), COLUMNS[key][0], suppressed,
                                          suppressed and key in ("clients", "people", "buyers")
                                          and totals.get("suppression") == "small"),
                    "attention": key in ("open_loops",) and not suppressed and (totals.get(key) or 0) > 0})
    return out


def panels(res: dict[str, dict]) -> list[dict]:
    """The dashboard's charts, each with the table of its figures."""
    out = []
    orders = res["orders"]
    months = orders["months"]
    by_month = _section(orders, "by_month")
    out.append(_month_bars("orders-month", _("Service orders per month"), by_month, months, "orders", "count",
                           _("Bar chart of service orders per month; the figures are in the table below."),
                           ["orders", "clients", "accepted", "cancelled", "escalated"]))
    out.append(_category_panel(orders, months))
    providers = _section(orders, "by_provider")
    top = [r for r in providers["rows"] if not r["suppressed"]][:TOP_PROVIDERS]
    out.append({"id": "orders-provider", "title": _("Service orders by provider (largest %(n)s)", n=TOP_PROVIDERS),
                "chart": charts.hbars([(r["provider"], r["orders"]) for r in top]
                                      or [("", charts.SUPPRESSED) for _r in providers["rows"][:1]], _axis_fmt("count"),
                                      _("Bar chart of orders by provider; the figures are in the table below.")),
                "table": table(providers, ["orders", "clients", "accepted", "completed", "escalation_rate"],
                               limit=25)})
    rt = res["response_times"]
    t_month = _section(rt, "by_month")
    out.append(_month_lines("acceptance", _("Hours from order to acceptance"), t_month, months,
                            [(_("Median"), "median_hours"), (_("90th percentile"), "p90_hours")], "hours",
                            _("Line chart of the median and 90th percentile hours to acceptance per "
                              "month; the figures are in the table below."),
                            ["accepted", "median_hours", "p90_hours"]))
    o_month = _section(rt, "offers_by_month")
    rates = _merged_months(months, [(o_month, ["offers", "declined", "expired", "decline_rate"]),
                                    (t_month, ["escalated", "escalation_rate"])])
    out.append({"id": "declines", "title": _("Declines and escalations"),
                "chart": charts.lines(months, [(_("Decline rate"), _series(o_month, months, "decline_rate")),
                                               (_("Escalation rate"), _series(t_month, months, "escalation_rate"))],
                                      _axis_fmt("percent"),
                                      _("Line chart of the decline and escalation rates per month; the figures "
                                        "are in the table below.")),
                "table": rates})
    out.append(_month_lines("outcomes", _("Completion and closed-loop outcomes"), by_month, months,
                            [(_("Completed"), "completed"), (_("Received"), "received"),
                             (_("Not received"), "not_received"), (_("Loop open"), "open_loops")], "count",
                            _("Line chart of completed orders and closed-loop outcomes per month; the "
                              "figures are in the table below."),
                            ["completed", "closed", "received", "not_received", "received_rate", "open_loops"]))
    out.append(_month_bars("hours", _("Hours delivered per month (visit reports)"),
                           _section(res["delivered_hours"], "by_month"), months, "hours", "hours",
                           _("Bar chart of delivered hours per month; the figures are in the table below.")))
    out.append(_month_lines("feedback", _("Feedback: needs met and average rating"),
                            _section(res["feedback"], "by_month"), months,
                            [(_("Needs met %"), "needs_met_rate")], "percent",
                            _("Line chart of the share of feedback saying needs were met, per month; "
                              "the figures are in the table below.")))
    gc = res["guidance_contacts"]
    out.append(_contacts_panel("guidance-channel", _("Guidance contacts by channel"), _section(gc, "by_channel"),
                               "channel", _("Bar chart of guidance contacts by channel; the figures are in the "
                                            "table below.")))
    out.append(_contacts_panel("guidance-topic", _("Guidance contacts by topic"), _section(gc, "by_topic"),
                               "topic", _("Bar chart of guidance contacts by topic; the figures are in the table "
                                          "below."), limit=15))
    out.append(_month_bars("sales", _("Self-paid sales, VAT and platform fees"),
                           _section(res["shop_sales"], "by_month"), months, "sales_cents", "money",
                           _("Bar chart of self-paid sales per month; the figures are in the table below.")))
    out.append(_month_lines("staffing", _("Staffing: fill rate, time to fill and hours worked"),
                            _section(res["staffing"], "by_month"), months, [(_("Fill rate %"), "fill_rate")],
                            "percent",
                            _("Line chart of the staffing fill rate per month; the figures are in the "
                              "table below.")))
    return out


def _month_bars(panel_id: str, title: str, section: dict, months: list[str], key: str, fmt: str, alt: str,
                columns: list[str] | None = None) -> dict:
    """A panel of one figure of a by-month section as bars, and the section's table."""
    return {"id": panel_id, "title": title,
            "chart": charts.bars(_points(section, months, key), _axis_fmt(fmt), alt),
            "table": table(section, columns)}


def _month_lines(panel_id: str, title: str, section: dict, months: list[str], lines: list[tuple], fmt: str,
                 alt: str, columns: list[str] | None = None) -> dict:
    """A panel of figures of a by-month section as lines (``lines``: (label, key)
    pairs), and the section's table."""
    return {"id": panel_id, "title": title,
            "chart": charts.lines(months, [(label, _series(section, months, key)) for label, key in lines],
                                  _axis_fmt(fmt), alt),
            "table": table(section, columns)}


def _category_panel(orders: dict, months: list[str]) -> dict:
    """Orders per month by category: a small chart per category on one scale, and
    the figures as a category-by-month table."""
    section = _section(orders, "by_month_category")
    cells: dict[tuple, dict] = {(r["category"], r["month"]): r for r in section["rows"]}
    names = list(dict.fromkeys(r["category"] for r in section["rows"]))
    values = [r["orders"] for r in section["rows"] if not r["suppressed"] and r["orders"] is not None]
    top = max(values, default=0) or 1
    smalls, rows = [], []
    for name in names:
        series = []
        texts = []
        for m in months:
            row = cells.get((name, m))
            suppressed = row is not None and row["suppressed"]
            value = row["orders"] if row and not suppressed else 0
            series.append(charts.SUPPRESSED if suppressed else value)
            texts.append(format_value(value, "count", suppressed))  # orders, not people: "–"
        smalls.append({"name": name, "chart": charts.spark(series, top, _("Orders per month: %(name)s", name=name))})
        rows.append({"names": [name], "values": texts})
    return {"id": "orders-category", "title": _("Service orders per month by service category"),
            "smalls": smalls,
            "table": {"caption": section["title"], "group_headers": [COLUMNS["category"][1]],
                      "headers": [fmt_month(m) for m in months], "rows": rows, "total": None, "more": 0}}


def _merged_months(months: list[str], parts: list[tuple[dict, list[str]]]) -> dict:
    """One table by month from several sections with the same months."""
    headers, rows = [], []
    for section, columns in parts:
        types = {c["key"]: c for c in section["columns"]}
        headers += [types[c]["label"] for c in columns]
    for m in months:
        values = []
        for section, columns in parts:
            row = next((r for r in section["rows"] if r["month"] == m), None)
            types = {c["key"]: c["type"] for c in section["columns"]}
            for c in columns:
                values.append(format_value(row.get(c) if row else 0 if types[c] == "count" else None, types[c],
                                           bool(row and row["suppressed"]),
                                           bool(row) and _small_count(row, c, section.get("people"))))
        rows.append({"names": [fmt_month(m)], "values": values})
    return {"caption": _("Declines and escalations by month"), "group_headers": [COLUMNS["month"][1]],
            "headers": headers, "rows": rows, "total": None, "more": 0}


def _contacts_panel(panel_id: str, title: str, section: dict, key: str, alt: str, limit: int | None = None) -> dict:
    """A panel of guidance contacts grouped by ``key``: horizontal bars and the table."""
    bars = [(r[key], charts.SUPPRESSED if r["suppressed"] else r["contacts"]) for r in section["rows"][:limit]]
    return {"id": panel_id, "title": title, "chart": charts.hbars(bars, _axis_fmt("count"), alt),
            "table": table(section)}


def manager_section(user) -> dict:
    """Last month's key figures, county-wide, from the monthly reports, and the
    reports generated lately (registered in ``reports.init_app``)."""
    overview = last_month_overview(str(get_locale() or "fi"))
    return {"period": overview["period"], "figures": overview["figures"], "recent_reports": recent_runs(user, limit=5)}
