"""The aggregations behind every manager report and the manager dashboard.

One builder per report kind (``build(kind, period, filters, language)``) returns the
report as plain JSON values: its sections (tables) with their rows, the totals, the
period, the filters and the time it was generated. The RQ job, the dashboard, the
CSV/XLSX files and the API all use these builders, so they show the same numbers.

How the numbers are computed, the same on PostgreSQL and SQLite:

- **In the database.** Each builder runs a few GROUP BY queries over a subquery of
  the rows in the period (``src``); Python only receives the grouped rows (tens or
  hundreds, never the orders themselves), names them and applies the small-group
  rule. On PostgreSQL one query computes every grouping of a report in a single pass
  with ``GROUP BY GROUPING SETS``; SQLite has no grouping sets, so it reads the
  subquery once into a temporary table and runs one GROUP BY per grouping on it.
- **Period and months in the county's time.** A period is whole days in
  Europe/Helsinki. Months are a ``CASE`` over the period's month boundaries (the UTC
  instants of local midnight, computed here), so a visit at 00:30 on 1 March local
  time counts in March on both databases (``date_trunc``/``strftime`` would give UTC
  months, and differently on each).
- **Durations** are whole seconds: ``EXTRACT(EPOCH FROM a - b)`` on PostgreSQL,
  ``(julianday(a) - julianday(b)) * 86400`` on SQLite, both rounded, then shown in
  hours.
- **Percentiles** (median, 90th percentile) are continuous percentiles:
  PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY ...)``. SQLite has no
  percentile function, so the same value is computed in SQL with window functions:
  ``ROW_NUMBER()`` and ``COUNT(*)`` over each group's ordered durations pick the two
  rows around position ``p * (n - 1)``, and the result is interpolated between them
  exactly as ``percentile_cont`` does. Only those two values per group leave the
  database.
- **Small groups.** A row whose number of distinct clients is below ``SMALL_GROUP``
  (5) has every figure suppressed: ``null`` with ``"suppressed": true`` and
  ``"suppression": "small"`` in JSON; its people count reads ``<5``, its other
  figures ``–`` (``hidden_text``). Complementary suppression
  (``reports.privacy.suppress_table``) then hides further rows (``"suppression":
  "complementary"``, every figure ``–``) until no hidden row can be worked out from
  a table's total, or, for the month-by-category table, from its month and
  category totals. Guidance contacts count distinct known clients plus anonymous
  contacts; self-paid sales count distinct buyers (by e-mail address, which never
  leaves the database). Staffing requests concern no clients and are not
  suppressed. No names of people or identity codes are read at all.
- **Kept months.** Without filters a report is assembled from the figures of each
  month (``reports.monthly``): closed months are computed once and kept, the
  others computed for their month alone; the result is the same as computing the
  whole period from the rows.
"""

from __future__ import annotations

import gc
import math
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.sql.ddl import CreateTableAs

from core.db import utcnow, where_given
from core.extensions import db
from core.time import local_midnight, local_today
from reports.privacy import COMPLEMENTARY, SMALL, SMALL_GROUP, TOTAL, suppress_table

SUPPRESSED_TEXT = "<5"  # a people count hidden because it is below SMALL_GROUP
HIDDEN_TEXT = "–"  # any other hidden figure (money, averages, rates, complementary rows)
MAX_MONTHS = 60  # longest period a report may cover

FILTER_KEYS = ("municipality", "postal_code", "category_id", "provider_id", "segment")

KIND_TITLES = {
    "orders": _l("Service orders"),
    "response_times": _l("Response times, declines and escalations"),
    "delivered_hours": _l("Delivered hours"),
    "feedback": _l("Client feedback"),
    "guidance_contacts": _l("Guidance contacts"),
    "shop_sales": _l("Self-paid sales"),
    "staffing": _l("Staffing requests"),
}

# Which filters a kind can apply; the others are named in the report as not applied.
APPLICABLE_FILTERS = {
    "orders": set(FILTER_KEYS),
    "response_times": set(FILTER_KEYS),
    "delivered_hours": set(FILTER_KEYS),
    "feedback": set(FILTER_KEYS),
    "guidance_contacts": {"municipality", "postal_code", "segment"},
    "shop_sales": set(FILTER_KEYS),
    "staffing": {"postal_code", "provider_id"},
}

FILTER_LABELS = {
    "municipality": _l("Municipality"), "postal_code": _l("Postal area"),
    "category_id": _l("Service category"), "provider_id": _l("Provider"), "segment": _l("Client segment"),
}
SEGMENT_LABELS = {"independent": _l("Independent"), "guidance": _l("Needs guidance"),
                  "intensive": _l("Needs intensive coordination")}
CHANNEL_LABELS = {"phone": _l("Phone"), "visit": _l("Visit"), "chat": _l("Chat"), "email": _l("E-mail")}

# Every column a report can have: key -> (type, label). Types: month and label are
# the group's name; count, percent (0-100, one decimal), hours (one decimal),
# rating (1-5, two decimals) and money (integer cents) are figures.
COLUMNS = {
    "month": ("month", _l("Month")),
    "category": ("label", _l("Service category")),
    "provider": ("label", _l("Provider")),
    "agency": ("label", _l("Staffing agency")),
    "channel": ("label", _l("Channel")),
    "topic": ("label", _l("Topic")),
    "qualification": ("label", _l("Qualification")),
    "orders": ("count", _l("Orders")),
    "clients": ("count", _l("Clients")),
    "accepted": ("count", _l("Accepted")),
    "escalated": ("count", _l("Escalated")),
    "escalation_rate": ("percent", _l("Escalation rate %")),
    "cancelled": ("count", _l("Cancelled")),
    "completed": ("count", _l("Completed")),
    "closed": ("count", _l("Loop closed")),
    "received": ("count", _l("Received")),
    "not_received": ("count", _l("Not received")),
    "received_rate": ("percent", _l("Received % of closed")),
    "open_loops": ("count", _l("Completed, loop open")),
    "median_hours": ("hours", _l("Median hours to acceptance")),
    "p90_hours": ("hours", _l("90th percentile hours to acceptance")),
    "offers": ("count", _l("Offers sent")),
    "offers_accepted": ("count", _l("Offers accepted")),
    "declined": ("count", _l("Declined")),
    "expired": ("count", _l("Expired")),
    "decline_rate": ("percent", _l("Decline rate %")),
    "expiry_rate": ("percent", _l("Expiry rate %")),
    "visits": ("count", _l("Visits")),
    "hours": ("hours", _l("Hours delivered")),
    "feedback": ("count", _l("Feedback")),
    "average_rating": ("rating", _l("Average rating (1-5)")),
    "needs_met_rate": ("percent", _l("Needs met %")),
    "contacts": ("count", _l("Contacts")),
    "people": ("count", _l("People")),
    "anonymous": ("count", _l("Anonymous contacts")),
    "average_minutes": ("hours", _l("Average minutes")),
    "purchases": ("count", _l("Purchases")),
    "buyers": ("count", _l("Buyers")),
    "sales_cents": ("money", _l("Sales incl. VAT")),
    "vat_cents": ("money", _l("VAT")),
    "platform_fee_cents": ("money", _l("Platform fees")),
    "refunded_cents": ("money", _l("Refunded")),
    "net_sales_cents": ("money", _l("Net sales")),
    "requests": ("count", _l("Requests")),
    "headcount": ("count", _l("People requested")),
    "filled": ("count", _l("Filled")),
    "fill_rate": ("percent", _l("Fill rate %")),
    "people_covered": ("count", _l("People provided")),
    "median_fill_hours": ("hours", _l("Median hours to fill")),
    "p90_fill_hours": ("hours", _l("90th percentile hours to fill")),
    "hours_worked": ("hours", _l("Hours worked")),
    "selected_offers": ("count", _l("Selected offers")),
}
GROUP_TYPES = ("month", "label")


# --------------------------------------------------------------------------- period and filters

@dataclass(frozen=True)
class Month:
    label: str   # 2026-03
    start: date  # first day inside the period
    stop: date   # first day after it (exclusive)

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.start)

    @property
    def stop_utc(self) -> datetime:
        return local_midnight(self.stop)


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end`` (inclusive), in the county's time."""

    start: date
    end: date

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_utc(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1))

    def months(self) -> list[Month]:
        out, first = [], self.start.replace(day=1)
        after = self.end + timedelta(days=1)
        while first <= self.end:
            following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            out.append(Month(f"{first:%Y-%m}", max(first, self.start), min(following, after)))
            first = following
        return out

    def to_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    @classmethod
    def month_of(cls, day: date) -> Period:
        first = day.replace(day=1)
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(first, following - timedelta(days=1))


def month_count(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass(frozen=True)
class Filters:
    """What a report is narrowed to. ``postal_code`` is a postal code or its first
    digits (a postal area: ``331`` is 33100-33199)."""

    municipality: str | None = None
    postal_code: str | None = None
    category_id: int | None = None
    provider_id: int | None = None
    segment: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict | None) -> Filters:
        data = data or {}
        return cls(**{k: data[k] for k in FILTER_KEYS if data.get(k) not in (None, "")})

    @property
    def by_client(self) -> bool:
        return bool(self.municipality or self.postal_code or self.segment)


def _client_conditions(filters: Filters, municipality=True, postal=True, segment=True) -> list:
    from clients.models import Client

    conds = []
    if municipality and filters.municipality:
        conds.append(sa.func.lower(Client.municipality) == filters.municipality.lower())
    if postal and filters.postal_code:
        conds.append(Client.postal_code.startswith(filters.postal_code, autoescape=True))
    if segment and filters.segment:
        conds.append(Client.segment == filters.segment)
    return conds


def _with_client_filters(stmt, client_col, filters: Filters):
    """Join the clients table only when a filter needs it."""
    from clients.models import Client

    conds = _client_conditions(filters)
    if not conds:
        return stmt
    return stmt.join(Client, Client.id == client_col).where(*conds)


# --------------------------------------------------------------------------- SQL building blocks

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_index(col, months: list[Month], dates: bool = False):
    """The index of the period's month that ``col`` (a UTC timestamp, or a local
    date when ``dates``) falls in; rows are already limited to the period."""
    whens = [(col < (m.stop if dates else m.stop_utc), sa.literal_column(str(i))) for i, m in enumerate(months[:-1])]
    last = sa.literal_column(str(len(months) - 1))
    return sa.case(*whens, else_=last) if whens else last


def seconds_between(later, earlier):
    """Whole seconds from ``earlier`` to ``later`` (NULL when either is NULL)."""
    if _dialect() == "postgresql":
        return sa.cast(sa.func.round(sa.func.extract("epoch", later - earlier)), sa.Float)
    return sa.func.round((sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0)


def count_distinct(column: str):
    """The measure "distinct values of ``column``" (clients, buyers). Marked, so
    that the monthly figures (``reports.monthly``) can keep the values themselves:
    distinct counts do not add up over months, sets do."""
    def measure(s):
        return sa.func.count(sa.distinct(s.c[column]))

    measure.distinct_column = column
    return measure


def _count_if(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


@dataclass
class Aggregation:
    """One aggregation over ``src``: ``measures`` (name -> function of src giving an
    aggregate) and ``percentiles`` (name -> (src column, p)) for each grouping set."""

    src: sa.Subquery | sa.Table
    sets: dict[str, tuple[str, ...]]
    measures: dict[str, Callable]
    percentiles: dict[str, tuple[str, float]] | None = None

    @property
    def dims(self) -> list[str]:
        seen = []
        for dims in self.sets.values():
            for d in dims:
                if d not in seen:
                    seen.append(d)
        return seen

    def steps(self) -> int:
        if _dialect() == "postgresql":
            return 1
        columns = {c for c, _p in (self.percentiles or {}).values()}
        return len(self.sets) * (1 + len(columns))


class Progress:
    """Reports progress (an integer percent) as the queries of a report finish."""

    def __init__(self, callback: Callable[[int], None] | None, start: int = 5, end: int = 90):
        self.callback, self.start, self.end = callback, start, end
        self.total, self.done = 0, 0

    def plan(self, steps: int) -> None:
        self.total += steps

    def step(self) -> None:
        self.done += 1
        if self.callback is not None and self.total:
            self.callback(self.start + (self.end - self.start) * min(self.done, self.total) // self.total)


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def run_aggregation(agg: Aggregation, progress: Progress) -> dict[str, list[dict]]:
    """The grouped rows of ``agg`` per grouping set: ``{set: [{dim..., measure...}]}``."""
    if _dialect() == "postgresql":
        return _run_grouping_sets(agg, progress)
    if len(agg.sets) == 1:
        return _run_group_bys(agg, progress)
    # SQLite reads the period's rows (the join, the month CASE, the filters) once
    # into a narrow temporary table and groups that for each set, instead of
    # reading the big table once per set: about three times faster. A temporary
    # table locks nothing in the main database.
    create = CreateTableAs(sa.select(agg.src), f"report_src_{uuid.uuid4().hex[:12]}", metadata=sa.MetaData(),
                           temporary=True)
    db.session.execute(create)
    try:
        return _run_group_bys(Aggregation(create.table, agg.sets, agg.measures, agg.percentiles), progress)
    finally:
        db.session.execute(sa.text(f'DROP TABLE temp."{create.table.name}"'))


def _run_group_bys(agg: Aggregation, progress: Progress) -> dict[str, list[dict]]:
    out = {}
    for name, dims in agg.sets.items():
        cols = [agg.src.c[d] for d in dims]
        stmt = sa.select(*cols, *(fn(agg.src).label(k) for k, fn in agg.measures.items()))
        if cols:
            stmt = stmt.group_by(*cols)
        rows = [{k: _plain(v) for k, v in r.items()} for r in db.session.execute(stmt).mappings()]
        progress.step()
        if agg.percentiles:
            found = _window_percentiles(agg.src, dims, agg.percentiles, progress)
            for row in rows:
                row.update(found.get(tuple(row[d] for d in dims), dict.fromkeys(agg.percentiles)))
        out[name] = rows
    return out


def _run_grouping_sets(agg: Aggregation, progress: Progress) -> dict[str, list[dict]]:
    dims = agg.dims
    cols = [agg.src.c[d] for d in dims]
    select = [sa.func.grouping(*cols).label("_set"), *cols]
    select += [fn(agg.src).label(k) for k, fn in agg.measures.items()]
    select += [sa.func.percentile_cont(p).within_group(agg.src.c[col]).label(k)
               for k, (col, p) in (agg.percentiles or {}).items()]
    stmt = sa.select(*select).group_by(sa.func.grouping_sets(
        *(sa.tuple_(*(agg.src.c[d] for d in s)) for s in agg.sets.values())))
    # GROUPING() has a bit per dimension, set when the row is NOT grouped by it.
    masks = {}
    for name, s in agg.sets.items():
        mask = 0
        for i, d in enumerate(dims):
            if d not in s:
                mask |= 1 << (len(dims) - 1 - i)
        masks[mask] = name
    out = {name: [] for name in agg.sets}
    for r in db.session.execute(stmt).mappings():
        name = masks[r["_set"]]
        out[name].append({k: _plain(v) for k, v in r.items()
                          if k != "_set" and (k in agg.sets[name] or k not in dims)})
    progress.step()
    return out


def _window_percentiles(src, dims, percentiles: dict, progress: Progress) -> dict[tuple, dict]:
    """SQLite: continuous percentiles per group by window functions (see the module
    docstring); ``{group key: {name: value}}``."""
    by_column: dict[str, list[tuple[str, float]]] = {}
    for name, (col, p) in percentiles.items():
        by_column.setdefault(col, []).append((name, p))
    found: dict[tuple, dict] = {}
    for col, items in by_column.items():
        parts = [src.c[d] for d in dims]
        value = src.c[col]
        ordered = sa.select(
            *parts, value.label("v"),
            (sa.func.row_number().over(partition_by=parts or None, order_by=value) - 1).label("i"),
            sa.func.count().over(partition_by=parts or None).label("n"),
        ).where(value.is_not(None)).subquery("ordered")
        group = [ordered.c[d] for d in dims]
        select = [*group, sa.func.max(ordered.c.n).label("n")]
        for name, p in items:
            # CAST truncates, i.e. floor() of a non-negative position, as percentile_cont does.
            low = sa.cast(sa.literal(p, sa.Float) * (ordered.c.n - 1), sa.Integer)
            select.append(sa.func.max(sa.case((ordered.c.i == low, ordered.c.v))).label(f"{name}__lo"))
            select.append(sa.func.max(sa.case((ordered.c.i == low + 1, ordered.c.v))).label(f"{name}__hi"))
        stmt = sa.select(*select)
        if group:
            stmt = stmt.group_by(*group)
        for r in db.session.execute(stmt).mappings():
            key = tuple(r[d] for d in dims)
            values = found.setdefault(key, {})
            for name, p in items:
                values[name] = _interpolate(r["n"], p, r[f"{name}__lo"], r[f"{name}__hi"])
        progress.step()
    return found


def _interpolate(n, p: float, low, high):
    if not n or low is None:
        return None
    position = p * (n - 1)
    fraction = position - math.floor(position)
    if high is None or fraction == 0:
        return float(low)
    return float(low) + fraction * (float(high) - float(low))


# --------------------------------------------------------------------------- figures

def _rate(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _hours(seconds) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 1)


def _minutes_to_hours(minutes) -> float | None:
    return None if minutes is None else round(minutes / 60.0, 1)


def _total_row(groups: dict) -> dict:
    """The one row of an aggregation's "total" grouping, or an empty row."""
    return groups["total"][0] if groups["total"] else {}


class Builder:
    """Assembles one report: sections of named, suppressed rows from grouped rows."""

    def __init__(self, kind: str, period: Period, filters: Filters, progress: Progress):
        self.kind, self.period, self.filters, self.progress = kind, period, filters, progress
        self.months = period.months()
        self.sections: list[dict] = []
        self.totals: dict = {}
        self.notes: list[str] = []
        self._plans: list[dict] = []
        # Where the grouped rows come from (``aggregate``): the database (None),
        # or the monthly figures: ``capture`` collects one month's parts,
        # ``replay`` holds each aggregation's parts of every month.
        self.capture: list | None = None
        self.replay: list | None = None
        self._replayed = 0
        self._category_names: dict | None = None
        self._provider_names: dict | None = None

    def aggregate(self, agg: Aggregation) -> dict[str, list[dict]]:
        """The grouped rows of ``agg``: from the database, or combined from the
        monthly figures (``reports.monthly``), which give the same rows."""
        from reports import monthly

        if self.capture is not None:
            parts = monthly.month_parts(agg, self.progress, self.months[0].label)
            self.capture.append(parts)
            return monthly.combine([parts], agg, self.months)
        if self.replay is not None:
            parts = self.replay[self._replayed]
            self._replayed += 1
            self.progress.step()
            return monthly.combine(parts, agg, self.months)
        return run_aggregation(agg, self.progress)

    # names of groups
    def category_names(self) -> dict:
        if self._category_names is None:
            from catalogue.models import ServiceCategory

            self._category_names = {
                c.id: (c.position, c.name()) for c in db.session.scalars(sa.select(ServiceCategory))}
        return self._category_names

    def provider_names(self, ids) -> dict:
        """Names of the providers ``ids``, read once per report (several tables
        name the same providers). PostgreSQL gets the ids as one array parameter:
        thousands of bound parameters cost more to send than the query."""
        from providers.models import Provider

        if self._provider_names is None:
            self._provider_names = {}
        known = self._provider_names
        missing = sorted({i for i in ids if i is not None and i not in known})
        if missing:
            if _dialect() == "postgresql":
                cond = Provider.id == sa.any_(sa.bindparam("ids", missing, type_=sa.ARRAY(sa.Integer)))
            else:
                cond = Provider.id.in_(missing)
            known.update(dict(db.session.execute(sa.select(Provider.id, Provider.name).where(cond)).all()))
            known.update((i, "") for i in missing if i not in known)
        return known

    def name_rows(self, rows: list[dict], dim: str) -> list[dict]:
        """Give each row its group's name (and id) and sort the rows."""
        if dim == "month":
            for r in rows:
                r["month"] = self.months[r.pop("month")].label
            return sorted(rows, key=lambda r: r["month"])
        if dim == "category":
            names = self.category_names()
            for r in rows:
                cid = r.pop("category_id")
                r["category_id"] = cid
                r["category"] = names[cid][1] if cid in names else _("Other")
            return sorted(rows, key=lambda r: (names.get(r["category_id"], (10**6, ""))[0], r["category"]))
        if dim in ("provider", "agency"):
            names = self.provider_names(r["provider_id"] for r in rows)
            for r in rows:
                pid = r["provider_id"]
                r[dim] = names.get(pid, "") if pid is not None else _("No provider yet")
            return sorted(rows, key=lambda r: (r["provider_id"] is None, r[dim].lower()))
        if dim == "channel":
            for r in rows:
                r["channel"] = str(CHANNEL_LABELS.get(r["channel_key"], r["channel_key"]))
            return sorted(rows, key=lambda r: list(CHANNEL_LABELS).index(r["channel_key"])
                          if r["channel_key"] in CHANNEL_LABELS else 99)
        if dim == "qualification":
            labels = _qualification_labels()
            for r in rows:
                r["qualification"] = str(labels.get(r["qualification_key"], r["qualification_key"]))
            return sorted(rows, key=lambda r: r["qualification"])
        if dim == "topic":
            for r in rows:
                r["topic"] = r["topic_key"]
            return sorted(rows, key=lambda r: r["topic"].lower())
        raise ValueError(dim)

    def section(self, key: str, title, group: list[str], columns: list[str], rows: list[dict],
                derive: Callable[[dict], dict], people: str | None = "clients", total: dict | None = None,
                sort_by: str | None = None, cross: tuple[str, str, str, str] | None = None,
                fold: tuple[str, str] | None = None) -> dict:
        """A table: group columns, then figures; ``derive`` turns a grouped row into
        the figures. Rows with fewer than SMALL_GROUP ``people`` are suppressed, and
        complementary rows with them (``reports.privacy.suppress_table``) when the
        report is finished (``result``): against the table's total, and for a
        cross-tabulation (``cross``: row dimension, column dimension, and the keys of
        the sections holding its row and column totals) against both. ``fold``
        (group column, name): the hidden rows become one row of that name, after
        suppression, so that their names are not shown either."""
        out_rows = [self._row(r, group, columns, derive, people) for r in rows]
        section = {
            "key": key, "title": str(title),
            "columns": [{"key": c, "type": COLUMNS[c][0], "label": str(COLUMNS[c][1])} for c in group + columns],
            "people": people,
            "rows": out_rows,
        }
        if total is not None:
            section["total"] = self._row(dict(total), [], columns, derive, people)
        self.sections.append(section)
        self._plans.append({"section": section, "columns": columns, "sort_by": sort_by, "cross": cross,
                            "fold": fold, "total": id(total) if total is not None else None})
        return section

    def grand_total(self, groups: dict, columns: list[str], derive: Callable[[dict], dict],
                    people: str | None = "clients") -> dict:
        """The aggregation's total row (empty when nothing matched); the report's key
        figures (``totals``) are derived from it."""
        total = _total_row(groups)
        self.totals = self._row(dict(total), [], columns, derive, people)
        self._totals_of = id(total)
        self._totals_columns = columns
        return total

    def grouped_section(self, key: str, title, dim: str, columns: list[str], groups: dict,
                        derive: Callable[[dict], dict], **options) -> dict:
        """``section`` of the rows grouped by the one dimension ``dim``
        (``groups[dim]`` of an aggregation), named and sorted by ``name_rows``."""
        return self.section(key, title, [dim], columns, self.name_rows(groups[dim], dim), derive, **options)

    @staticmethod
    def _row(r: dict, group: list[str], columns: list[str], derive, people) -> dict:
        figures = derive(r)
        # Fewer than five clients: hidden. A row with figures but no known client
        # (guest feedback) is hidden too; an empty cell of a cross-table is not.
        suppressed = (people is not None and (figures.get(people) or 0) < SMALL_GROUP
                      and not r.get("_empty"))
        row = {k: v for k, v in r.items() if k in group or k.endswith(("_id", "_key"))}
        for c in columns:
            row[c] = None if suppressed else figures.get(c)
        row["suppressed"] = suppressed
        if suppressed:
            row["suppression"] = SMALL
        if people is not None:
            row["_people"] = figures.get(people)
        return row

    def _suppress(self) -> None:
        """Complementary suppression of every table, repeated until nothing changes
        (a total hidden in one table is hidden in the tables sharing it; a
        cross-table's hidden totals are rows of its total tables)."""
        by_key = {p["section"]["key"]: p for p in self._plans}
        for _round in range(20):
            changed = False
            for plan in self._plans:
                if plan["section"]["people"] is None:
                    continue
                if plan["cross"]:
                    changed |= self._suppress_cross(plan, by_key)
                elif plan["total"] is not None:
                    changed |= self._suppress_list(plan)
            if not changed:
                break
        for plan in self._plans:
            if plan["sort_by"]:
                key = plan["sort_by"]
                plan["section"]["rows"].sort(key=lambda r: (r["suppressed"], -(r[key] or 0)))
            if plan["fold"]:
                rows = plan["section"]["rows"]
                shown = [r for r in rows if not r["suppressed"]]
                if len(shown) < len(rows):
                    shown.append({plan["fold"][0]: str(plan["fold"][1]), **dict.fromkeys(plan["columns"]),
                                  "suppressed": True, "suppression": COMPLEMENTARY})
                plan["section"]["rows"] = shown
        if getattr(self, "_totals_of", None) is not None and self.totals:
            for plan in self._plans:
                total = plan["section"].get("total")
                if plan["total"] == self._totals_of and total and total["suppressed"]:
                    _hide(self.totals, self._totals_columns, total.get("suppression", COMPLEMENTARY))

    def _suppress_list(self, plan: dict) -> bool:
        section, people = plan["section"], plan["section"]["people"]
        rows, total = section["rows"], section["total"]
        counts = {(i, "n"): self._raw_people(r, people) for i, r in enumerate(rows)}
        hidden = [(i, "n") for i, r in enumerate(rows) if r["suppressed"]]
        if total["suppressed"]:
            hidden.append((TOTAL, "n"))
        s = suppress_table(counts, column_totals={"n": self._raw_people(total, people)}, hidden=hidden,
                           rows=range(len(rows)), columns=["n"])
        changed = False
        for (i, _n), why in s.cells.items():
            changed |= _hide(rows[i], plan["columns"], why)
        if "n" in s.column_totals:
            changed |= self._hide_total(plan, s.column_totals["n"])
        return changed

    def _hide_total(self, plan: dict, why: str) -> bool:
        changed = False
        for other in self._plans:
            if other["total"] == plan["total"] and other["section"].get("total"):
                changed |= _hide(other["section"]["total"], other["columns"], why)
        return changed

    def _suppress_cross(self, plan: dict, by_key: dict) -> bool:
        row_dim, col_dim, rows_key, cols_key = plan["cross"]
        section, people = plan["section"], plan["section"]["people"]
        row_plan, col_plan = by_key[rows_key], by_key[cols_key]
        col_id = f"{col_dim}_id" if any(f"{col_dim}_id" in r for r in section["rows"]) else col_dim
        margin_rows = {r[row_dim]: r for r in row_plan["section"]["rows"]}
        margin_cols = {r.get(col_id): r for r in col_plan["section"]["rows"]}
        cells = {(r[row_dim], r.get(col_id)): r for r in section["rows"]}
        total = row_plan["section"].get("total")
        hidden = [k for k, r in cells.items() if r["suppressed"]]
        hidden += [(k, TOTAL) for k, r in margin_rows.items() if r["suppressed"]]
        hidden += [(TOTAL, k) for k, r in margin_cols.items() if r["suppressed"]]
        if total and total["suppressed"]:
            hidden.append((TOTAL, TOTAL))
        s = suppress_table({k: self._raw_people(r, people) for k, r in cells.items()},
                           row_totals={k: self._raw_people(r, people) for k, r in margin_rows.items()},
                           column_totals={k: self._raw_people(r, people) for k, r in margin_cols.items()},
                           grand_total=self._raw_people(total, people) if total else None, hidden=hidden,
                           rows=list(dict.fromkeys(k[0] for k in cells)),
                           columns=list(dict.fromkeys(k[1] for k in cells)))
        changed = False
        for k, why in s.cells.items():
            if k in cells:
                changed |= _hide(cells[k], plan["columns"], why)
        for k, why in s.row_totals.items():
            if k in margin_rows:
                changed |= _hide(margin_rows[k], row_plan["columns"], why)
        for k, why in s.column_totals.items():
            if k in margin_cols:
                changed |= _hide(margin_cols[k], col_plan["columns"], why)
        if s.grand_total:
            changed |= self._hide_total(row_plan, s.grand_total)
        return changed

    @staticmethod
    def _raw_people(row: dict, people: str) -> int:
        """The people count behind a row, also when the row is hidden already (kept
        aside in ``_people`` for the complementary choice; never published)."""
        value = row.get("_people", row.get(people))
        return int(value or 0)

    def result(self) -> dict:
        self._suppress()
        for section in self.sections:
            for row in section["rows"] + ([section["total"]] if section.get("total") else []):
                row.pop("_people", None)
                row.pop("_empty", None)
        self.totals.pop("_people", None)
        applicable = APPLICABLE_FILTERS[self.kind]
        return {
            "kind": self.kind,
            "title": str(KIND_TITLES[self.kind]),
            "period": self.period.to_dict(),
            "months": [m.label for m in self.months],
            "filters": self.filters.to_dict(),
            "filters_text": filter_texts(self.filters),
            "filters_not_applied": [str(FILTER_LABELS[k]) for k in FILTER_KEYS
                                    if k not in applicable and getattr(self.filters, k) not in (None, "")],
            "generated_at": utcnow().isoformat().replace("+00:00", "Z"),
            "small_group_limit": SMALL_GROUP,
            "totals": self.totals,
            "sections": self.sections,
            "notes": self.notes,
        }


def hidden_text(row: dict, key: str, people: str | None) -> str:
    """What a hidden figure is shown as: ``<5`` for the people count of a group
    that has fewer than five (a true statement), ``–`` for every other figure of a
    hidden row (an amount of money, an average, a rate, a count of orders) and for
    every figure of a row hidden only to protect another row."""
    return SUPPRESSED_TEXT if row.get("suppression") == SMALL and key == people else HIDDEN_TEXT


def _hide(row: dict, columns: list[str], why: str) -> bool:
    """Hide a row's figures (complementary suppression); False if already hidden."""
    if row.get("suppressed"):
        return False
    for c in columns:
        row[c] = None
    row["suppressed"] = True
    row["suppression"] = why
    return True


def _qualification_labels() -> dict:
    try:
        from staffing.services import QUALIFICATION_LABELS
    except ImportError:  # pragma: no cover - the staffing package is part of the platform
        return {}
    return QUALIFICATION_LABELS


def filter_texts(filters: Filters) -> list[list[str]]:
    """``[[label, value], ...]`` of the filters in use, in the current language."""
    out = []
    for key, value in filters.to_dict().items():
        if key == "category_id":
            from catalogue.models import ServiceCategory

            cat = db.session.get(ServiceCategory, value)
            value = cat.name() if cat else str(value)
        elif key == "provider_id":
            from providers.models import Provider

            prov = db.session.get(Provider, value)
            value = prov.name if prov else str(value)
        elif key == "segment":
            value = str(SEGMENT_LABELS.get(value, value))
        elif key == "postal_code":
            value = value if len(value) == 5 else f"{value}…"
        out.append([str(FILTER_LABELS[key]), str(value)])
    return out


# --------------------------------------------------------------------------- the kinds

def _orders_base(b: Builder, *extra_columns):
    """Orders created in the period, with the filters applied, as a subquery."""
    from catalogue.models import ServiceType
    from orders.models import ServiceOrder as O

    f = b.filters
    stmt = (sa.select(month_index(O.created_at, b.months).label("month"),
                      ServiceType.category_id.label("category_id"), O.provider_id.label("provider_id"),
                      O.client_id.label("client_id"), *extra_columns)
            .select_from(O).outerjoin(ServiceType, ServiceType.id == O.service_type_id)
            .where(O.created_at >= b.period.start_utc, O.created_at < b.period.end_utc))
    stmt = where_given(stmt, (ServiceType.category_id, f.category_id), (O.provider_id, f.provider_id))
    return _with_client_filters(stmt, O.client_id, f)


def build_orders(b: Builder) -> None:
    """Orders per month, per month and category, per category and per provider:
    acceptance, escalation, cancellation, completion and the closed loop."""
    from orders.models import ServiceOrder as O

    def flag(condition, name):
        return sa.case((condition, 1), else_=0).label(name)

    # Small integer flags instead of the timestamps: the rows that PostgreSQL sorts
    # for the distinct client counts stay narrow.
    src = _orders_base(b, flag(O.accepted_at.is_not(None), "accepted"), flag(O.escalated_at.is_not(None), "escalated"),
                       flag(O.cancelled_at.is_not(None), "cancelled"), flag(O.completed_at.is_not(None), "completed"),
                       flag(O.closed_at.is_not(None), "closed"), flag(O.outcome == "received", "received"),
                       flag(O.outcome == "not_received", "not_received"),
                       flag(O.status == "completed", "open_loops")).subquery("src")
    flags = ("accepted", "escalated", "cancelled", "completed", "closed", "received", "not_received", "open_loops")
    measures = {"orders": lambda s: sa.func.count(), "clients": count_distinct("client_id")}
    measures.update({name: (lambda s, name=name: sa.func.sum(s.c[name])) for name in flags})
    agg = Aggregation(src, sets={"month": ("month",), "month_category": ("month", "category_id"),
                                 "category": ("category_id",), "provider": ("provider_id",), "total": ()},
                      measures=measures)
    b.progress.plan(agg.steps())
    g = b.aggregate(agg)

    def derive(r):
        out = {k: r.get(k) or 0 for k in ("orders", "clients", "accepted", "escalated", "cancelled", "completed",
                                           "closed", "received", "not_received", "open_loops")}
        out["escalation_rate"] = _rate(out["escalated"], out["orders"])
        out["received_rate"] = _rate(out["received"], out["received"] + out["not_received"])
        return out

    columns = ["orders", "clients", "accepted", "escalated", "escalation_rate", "cancelled", "completed",
               "closed", "received", "not_received", "received_rate", "open_loops"]
    total = b.grand_total(g, columns, derive)
    b.grouped_section("by_month", _l("Orders by month"), "month", columns, g, derive, total=total)
    # Every month and category, so that an empty cell can be hidden too.
    present = {(r["month"], r["category_id"]) for r in g["month_category"]}
    months = sorted({r["month"] for r in g["month_category"]})
    categories = list(dict.fromkeys(r["category_id"] for r in g["month_category"]))
    filled = g["month_category"] + [{"month": m, "category_id": c, "_empty": True} for m in months
                                    for c in categories if (m, c) not in present]
    rows = b.name_rows(b.name_rows(filled, "category"), "month")
    b.section("by_month_category", _l("Orders by month and service category"), ["month", "category"],
              ["orders", "clients"], rows, derive, cross=("month", "category", "by_month", "by_category"))
    b.grouped_section("by_category", _l("Orders by service category"), "category", columns, g, derive, total=total)
    b.grouped_section("by_provider", _l("Orders by provider"), "provider", columns, g, derive, total=total,
                      sort_by="orders")
    b.notes.append(_("Orders are counted in the month they were placed; their later steps (acceptance, "
                     "completion, closing) are counted with them."))


def build_response_times(b: Builder) -> None:
    """Time from order to acceptance (median, 90th percentile) and escalations per
    month, category and provider; offers declined or left unanswered per month and
    per provider offered to."""
    from catalogue.models import ServiceType
    from orders.models import Offer
    from orders.models import ServiceOrder as O

    secs = seconds_between(O.accepted_at, O.created_at)
    src = _orders_base(b, O.accepted_at.label("accepted_at"), O.escalated_at.label("escalated_at"),
                       secs.label("secs")).subquery("src")
    times = Aggregation(src, sets={"month": ("month",), "category": ("category_id",),
                                   "provider": ("provider_id",), "total": ()},
                        measures={"orders": lambda s: sa.func.count(),
                                  "clients": count_distinct("client_id"),
                                  "accepted": lambda s: sa.func.count(s.c.accepted_at),
                                  "escalated": lambda s: sa.func.count(s.c.escalated_at)},
                        percentiles={"p50": ("secs", 0.5), "p90": ("secs", 0.9)})
    f = b.filters
    offers = (sa.select(month_index(O.created_at, b.months).label("month"), Offer.provider_id.label("provider_id"),
                        O.client_id.label("client_id"), Offer.status.label("status"))
              .select_from(Offer).join(O, O.id == Offer.order_id)
              .where(O.created_at >= b.period.start_utc, O.created_at < b.period.end_utc,
                     Offer.sent_at.is_not(None)))
    if f.category_id:
        offers = offers.join(ServiceType, ServiceType.id == O.service_type_id).where(
            ServiceType.category_id == f.category_id)
    if f.provider_id:
        offers = offers.where(Offer.provider_id == f.provider_id)
    osrc = _with_client_filters(offers, O.client_id, f).subquery("osrc")
    answers = Aggregation(osrc, sets={"month": ("month",), "provider": ("provider_id",), "total": ()},
                          measures={"offers": lambda s: sa.func.count(),
                                    "clients": count_distinct("client_id"),
                                    "offers_accepted": lambda s: _count_if(s.c.status == "accepted"),
                                    "declined": lambda s: _count_if(s.c.status == "declined"),
                                    "expired": lambda s: _count_if(s.c.status == "expired")})
    b.progress.plan(times.steps() + answers.steps())
    t = b.aggregate(times)
    a = b.aggregate(answers)

    def derive_times(r):
        out = {k: r.get(k) or 0 for k in ("orders", "clients", "accepted", "escalated")}
        out["median_hours"] = _hours(r.get("p50"))
        out["p90_hours"] = _hours(r.get("p90"))
        out["escalation_rate"] = _rate(out["escalated"], out["orders"])
        return out

    def derive_offers(r):
        out = {k: r.get(k) or 0 for k in ("offers", "clients", "offers_accepted", "declined", "expired")}
        answered = out["offers_accepted"] + out["declined"] + out["expired"]
        out["decline_rate"] = _rate(out["declined"], answered)
        out["expiry_rate"] = _rate(out["expired"], answered)
        return out

    tcols = ["orders", "clients", "accepted", "median_hours", "p90_hours", "escalated", "escalation_rate"]
    ocols = ["offers", "clients", "offers_accepted", "declined", "expired", "decline_rate", "expiry_rate"]
    ttotal = _total_row(t)
    ototal = _total_row(a)
    totals = b._row(dict(ttotal), [], tcols, derive_times, "clients")
    offer_totals = b._row(dict(ototal), [], ocols, derive_offers, "clients")
    b.totals = {**totals, **{k: offer_totals[k] for k in ("offers", "offers_accepted", "declined", "expired",
                                                          "decline_rate", "expiry_rate")},
                "offers_suppressed": offer_totals["suppressed"]}
    b.grouped_section("by_month", _l("Time to acceptance by month"), "month", tcols, t, derive_times, total=ttotal)
    b.grouped_section("by_category", _l("Time to acceptance by service category"), "category", tcols, t, derive_times,
                      total=ttotal)
    b.grouped_section("by_provider", _l("Time to acceptance by provider"), "provider", tcols, t, derive_times,
                      total=ttotal, sort_by="orders")
    b.grouped_section("offers_by_month", _l("Offers and declines by month"), "month", ocols, a, derive_offers,
                      total=ototal)
    b.grouped_section("offers_by_provider", _l("Offers and declines by provider"), "provider", ocols, a, derive_offers,
                      total=ototal, sort_by="offers")
    b.notes.append(_("Time to acceptance runs from placing the order to its acceptance. Decline and expiry "
                     "rates are shares of the offers that were answered or expired."))


def build_delivered_hours(b: Builder) -> None:
    """Visits and hours reported by providers, by the month of the visit, by
    category and by provider."""
    from catalogue.models import ServiceType
    from orders.models import ServiceOrder as O
    from orders.models import VisitReport as V

    f = b.filters
    stmt = (sa.select(month_index(V.date, b.months, dates=True).label("month"),
                      ServiceType.category_id.label("category_id"), V.provider_id.label("provider_id"),
                      O.client_id.label("client_id"), V.minutes.label("minutes"))
            .select_from(V).join(O, O.id == V.order_id).outerjoin(ServiceType, ServiceType.id == O.service_type_id)
            .where(V.date >= b.period.start, V.date <= b.period.end))
    stmt = where_given(stmt, (ServiceType.category_id, f.category_id), (V.provider_id, f.provider_id))
    src = _with_client_filters(stmt, O.client_id, f).subquery("src")
    agg = Aggregation(src, sets={"month": ("month",), "category": ("category_id",), "provider": ("provider_id",),
                                 "total": ()},
                      measures={"visits": lambda s: sa.func.count(),
                                "clients": count_distinct("client_id"),
                                "minutes": lambda s: sa.func.sum(s.c.minutes)})
    b.progress.plan(agg.steps())
    g = b.aggregate(agg)

    def derive(r):
        return {"visits": r.get("visits") or 0, "clients": r.get("clients") or 0,
                "hours": _minutes_to_hours(r.get("minutes") or 0)}

    columns = ["visits", "clients", "hours"]
    total = b.grand_total(g, columns, derive)
    b.grouped_section("by_month", _l("Delivered hours by month"), "month", columns, g, derive, total=total)
    b.grouped_section("by_category", _l("Delivered hours by service category"), "category", columns, g, derive,
                      total=total)
    b.grouped_section("by_provider", _l("Delivered hours by provider"), "provider", columns, g, derive, total=total,
                      sort_by="hours")
    b.notes.append(_("Hours are the minutes of the visit reports, counted by the date of the visit."))


def build_feedback(b: Builder) -> None:
    """Published feedback (hidden items left out) given in the period: the average
    rating and the share who said their needs were met."""
    from feedback.models import Feedback as F
    from catalogue.models import ServiceType

    f = b.filters
    stmt = (sa.select(month_index(F.created_at, b.months).label("month"),
                      ServiceType.category_id.label("category_id"), F.provider_id.label("provider_id"),
                      F.client_id.label("client_id"), F.rating.label("rating"),
                      sa.case((F.needs_met.is_(True), 1), else_=0).label("needs_met"))
            .select_from(F).outerjoin(ServiceType, ServiceType.id == F.service_type_id)
            .where(F.created_at >= b.period.start_utc, F.created_at < b.period.end_utc, F.hidden_at.is_(None)))
    stmt = where_given(stmt, (ServiceType.category_id, f.category_id), (F.provider_id, f.provider_id))
    src = _with_client_filters(stmt, F.client_id, f).subquery("src")
    agg = Aggregation(src, sets={"month": ("month",), "category": ("category_id",), "provider": ("provider_id",),
                                 "total": ()},
                      measures={"feedback": lambda s: sa.func.count(),
                                "clients": count_distinct("client_id"),
                                "rating_sum": lambda s: sa.func.sum(s.c.rating),
                                "needs_met": lambda s: sa.func.sum(s.c.needs_met)})
    b.progress.plan(agg.steps())
    g = b.aggregate(agg)

    def derive(r):
        n = r.get("feedback") or 0
        return {"feedback": n, "clients": r.get("clients") or 0,
                "average_rating": round((r.get("rating_sum") or 0) / n, 2) if n else None,
                "needs_met_rate": _rate(r.get("needs_met") or 0, n)}

    columns = ["feedback", "clients", "average_rating", "needs_met_rate"]
    total = b.grand_total(g, columns, derive)
    b.grouped_section("by_month", _l("Feedback by month"), "month", columns, g, derive, total=total)
    b.grouped_section("by_category", _l("Feedback by service category"), "category", columns, g, derive, total=total)
    b.grouped_section("by_provider", _l("Feedback by provider"), "provider", columns, g, derive, total=total,
                      sort_by="feedback")
    b.notes.append(_("Feedback hidden by moderation is not counted. Feedback without a known client "
                     "(guest purchases) does not count towards the five clients a row needs."))


def build_guidance_contacts(b: Builder) -> None:
    """Guidance contacts per month, channel and topic."""
    from clients.models import Client
    from clients.models import GuidanceContact as G

    f = b.filters
    stmt = (sa.select(month_index(G.at, b.months).label("month"), G.channel.label("channel_key"),
                      G.topic.label("topic_key"), G.client_id.label("client_id"), G.minutes.label("minutes"))
            .where(G.at >= b.period.start_utc, G.at < b.period.end_utc))
    if f.municipality:
        stmt = stmt.where(sa.func.lower(G.municipality) == f.municipality.lower())
    conds = _client_conditions(f, municipality=False)
    if conds:
        stmt = stmt.join(Client, Client.id == G.client_id).where(*conds)
    src = stmt.subquery("src")
    agg = Aggregation(src, sets={"month": ("month",), "channel": ("channel_key",), "topic": ("topic_key",),
                                 "total": ()},
                      measures={"contacts": lambda s: sa.func.count(),
                                "known": count_distinct("client_id"),
                                "anonymous": lambda s: sa.func.count() - sa.func.count(s.c.client_id),
                                "minutes": lambda s: sa.func.sum(s.c.minutes),
                                "timed": lambda s: sa.func.count(s.c.minutes)})
    b.progress.plan(agg.steps())
    g = b.aggregate(agg)

    def derive(r):
        timed = r.get("timed") or 0
        return {"contacts": r.get("contacts") or 0, "people": (r.get("known") or 0) + (r.get("anonymous") or 0),
                "anonymous": r.get("anonymous") or 0,
                "average_minutes": round((r.get("minutes") or 0) / timed, 1) if timed else None}

    columns = ["contacts", "people", "anonymous", "average_minutes"]
    total = b.grand_total(g, columns, derive, people="people")
    b.grouped_section("by_month", _l("Guidance contacts by month"), "month", columns, g, derive, people="people",
                      total=total)
    b.grouped_section("by_channel", _l("Guidance contacts by channel"), "channel", columns, g, derive, people="people",
                      total=total)
    # A topic is typed by staff: a rare one could name a person, so a suppressed
    # topic does not show its name either; they are folded into one row.
    b.section("by_topic", _l("Guidance contacts by topic"), ["topic"], columns,
              b.name_rows(g["topic"], "topic"), derive, people="people", total=total, sort_by="contacts",
              fold=("topic", _("Other topics")))
    b.notes.append(_("People are distinct known clients plus anonymous contacts."))


def build_shop_sales(b: Builder) -> None:
    """Self-paid purchases paid (or, by invoice, delivered) in the period: sales
    incl. VAT, VAT, platform fees and refunds, per month and provider."""
    from catalogue.models import Offering, ServiceType
    from marketplace.models import ShopOrderItem
    from marketplace.models import ShopOrder as S

    f = b.filters
    sold_at = sa.func.coalesce(S.paid_at, S.fulfilled_at)
    stmt = (sa.select(month_index(sold_at, b.months).label("month"), S.provider_id.label("provider_id"),
                      sa.func.lower(S.buyer_email).label("buyer"), S.total_cents.label("total"),
                      S.vat_cents.label("vat"), S.platform_fee_cents.label("fee"),
                      S.refunded_cents.label("refunded"))
            .where(S.status.in_(("paid", "fulfilled", "refunded")), sold_at >= b.period.start_utc,
                   sold_at < b.period.end_utc))
    if f.provider_id:
        stmt = stmt.where(S.provider_id == f.provider_id)
    if f.postal_code:
        stmt = stmt.where(S.buyer_postal_code.startswith(f.postal_code, autoescape=True))
    if f.category_id:
        stmt = stmt.where(sa.exists(
            sa.select(ShopOrderItem.id).join(Offering, Offering.id == ShopOrderItem.offering_id)
            .join(ServiceType, ServiceType.id == Offering.service_type_id)
            .where(ShopOrderItem.shop_order_id == S.id, ServiceType.category_id == f.category_id)))
    conds = _client_conditions(f, postal=False)
    if conds:
        from clients.models import Client

        stmt = stmt.join(Client, Client.id == S.client_id).where(*conds)
    src = stmt.subquery("src")
    agg = Aggregation(src, sets={"month": ("month",), "provider": ("provider_id",), "total": ()},
                      measures={"purchases": lambda s: sa.func.count(),
                                "buyers": count_distinct("buyer"),
                                "total": lambda s: sa.func.sum(s.c.total), "vat": lambda s: sa.func.sum(s.c.vat),
                                "fee": lambda s: sa.func.sum(s.c.fee),
                                "refunded": lambda s: sa.func.sum(s.c.refunded)})
    b.progress.plan(agg.steps())
    g = b.aggregate(agg)

    def derive(r):
        total, refunded = r.get("total") or 0, r.get("refunded") or 0
        return {"purchases": r.get("purchases") or 0, "buyers": r.get("buyers") or 0, "sales_cents": total,
                "vat_cents": r.get("vat") or 0, "platform_fee_cents": r.get("fee") or 0,
                "refunded_cents": refunded, "net_sales_cents": total - refunded}

    columns = ["purchases", "buyers", "sales_cents", "vat_cents", "platform_fee_cents", "refunded_cents",
               "net_sales_cents"]
    total = b.grand_total(g, columns, derive, people="buyers")
    b.grouped_section("by_month", _l("Self-paid sales by month"), "month", columns, g, derive, people="buyers",
                      total=total)
    b.grouped_section("by_provider", _l("Self-paid sales by provider"), "provider", columns, g, derive,
                      people="buyers", total=total, sort_by="sales_cents")
    b.notes.append(_("Sales are counted when paid (invoice purchases: when delivered); amounts are in euros "
                     "incl. VAT, net sales after refunds."))


def build_staffing(b: Builder) -> None:
    """Staffing requests made in the period: fill rate, time to fill, people
    provided and hours worked, per month and qualification, and per agency."""
    from staffing.models import StaffingOffer as SO
    from staffing.models import StaffingRequest as R

    f = b.filters
    selected = sa.select(SO.request_id.label("request_id"), sa.func.sum(SO.headcount).label("people"),
                         sa.func.sum(SO.minutes_worked).label("minutes")).where(SO.status == "selected")
    if f.provider_id:
        selected = selected.where(SO.provider_id == f.provider_id)
    selected = selected.group_by(SO.request_id).subquery("sel")
    stmt = (sa.select(month_index(R.created_at, b.months).label("month"), R.qualification.label("qualification_key"),
                      R.headcount.label("headcount"), R.status.label("status"),
                      # Time to fill only of requests filled now (a cancelled one may have been).
                      sa.case((R.status == "filled", seconds_between(R.filled_at, R.created_at))).label("fill_secs"),
                      sa.func.coalesce(selected.c.people, 0).label("people"),
                      sa.func.coalesce(selected.c.minutes, 0).label("minutes"))
            .select_from(R).outerjoin(selected, selected.c.request_id == R.id)
            .where(R.created_at >= b.period.start_utc, R.created_at < b.period.end_utc))
    if f.postal_code:
        stmt = stmt.where(R.postal_code.startswith(f.postal_code, autoescape=True))
    if f.provider_id:
        stmt = stmt.where(selected.c.request_id.is_not(None))
    src = stmt.subquery("src")
    requests = Aggregation(src, sets={"month": ("month",), "qualification": ("qualification_key",), "total": ()},
                           measures={"requests": lambda s: sa.func.count(),
                                     "headcount": lambda s: sa.func.sum(s.c.headcount),
                                     "filled": lambda s: _count_if(s.c.status == "filled"),
                                     "cancelled": lambda s: _count_if(s.c.status == "cancelled"),
                                     "people_covered": lambda s: sa.func.sum(s.c.people),
                                     "minutes": lambda s: sa.func.sum(s.c.minutes)},
                           percentiles={"p50": ("fill_secs", 0.5), "p90": ("fill_secs", 0.9)})
    agencies = (sa.select(SO.provider_id.label("provider_id"), SO.headcount.label("people"),
                          SO.minutes_worked.label("minutes"))
                .join(R, R.id == SO.request_id)
                .where(SO.status == "selected", R.created_at >= b.period.start_utc, R.created_at < b.period.end_utc))
    if f.postal_code:
        agencies = agencies.where(R.postal_code.startswith(f.postal_code, autoescape=True))
    if f.provider_id:
        agencies = agencies.where(SO.provider_id == f.provider_id)
    asrc = agencies.subquery("asrc")
    by_agency = Aggregation(asrc, sets={"provider": ("provider_id",), "total": ()},
                            measures={"selected_offers": lambda s: sa.func.count(),
                                      "people_covered": lambda s: sa.func.sum(s.c.people),
                                      "minutes": lambda s: sa.func.sum(s.c.minutes)})
    b.progress.plan(requests.steps() + by_agency.steps())
    g = b.aggregate(requests)
    a = b.aggregate(by_agency)

    def derive(r):
        n, cancelled = r.get("requests") or 0, r.get("cancelled") or 0
        return {"requests": n, "headcount": r.get("headcount") or 0, "filled": r.get("filled") or 0,
                "fill_rate": _rate(r.get("filled") or 0, n - cancelled),
                "people_covered": r.get("people_covered") or 0,
                "median_fill_hours": _hours(r.get("p50")), "p90_fill_hours": _hours(r.get("p90")),
                "hours_worked": _minutes_to_hours(r.get("minutes") or 0)}

    def derive_agency(r):
        return {"selected_offers": r.get("selected_offers") or 0, "people_covered": r.get("people_covered") or 0,
                "hours_worked": _minutes_to_hours(r.get("minutes") or 0)}

    columns = ["requests", "headcount", "filled", "fill_rate", "people_covered", "median_fill_hours",
               "p90_fill_hours", "hours_worked"]
    total = b.grand_total(g, columns, derive, people=None)
    b.grouped_section("by_month", _l("Staffing requests by month"), "month", columns, g, derive, people=None,
                      total=total)
    b.grouped_section("by_qualification", _l("Staffing requests by qualification"), "qualification", columns, g,
                      derive, people=None, total=total)
    atotal = _total_row(a)
    b.section("by_agency", _l("People provided by agency"), ["agency"], ["selected_offers", "people_covered",
                                                                       "hours_worked"],
              b.name_rows(a["provider"], "agency"), derive_agency, people=None, total=atotal,
              sort_by="people_covered")
    b.notes.append(_("Fill rate is the share of requests (cancelled ones left out) whose people were covered; "
                     "time to fill runs from the request to its filling. Staffing concerns no clients, so "
                     "nothing is suppressed."))


BUILDERS: dict[str, Callable[[Builder], None]] = {
    "orders": build_orders,
    "response_times": build_response_times,
    "delivered_hours": build_delivered_hours,
    "feedback": build_feedback,
    "guidance_contacts": build_guidance_contacts,
    "shop_sales": build_shop_sales,
    "staffing": build_staffing,
}
KINDS = tuple(BUILDERS)


def build(kind: str, period: Period, filters: Filters | None = None, language: str = "fi",
          progress: Callable[[int], None] | None = None, live: bool = False) -> dict:
    """The report ``kind`` for ``period`` and ``filters`` as JSON values, with its
    names and headings in ``language``. ``progress(percent)`` is called as the
    queries finish (5..90). Read-only: callable from jobs and pages alike.

    Without filters the report is assembled from the monthly figures
    (``reports.monthly``: kept ones for settled closed months, the others
    computed for their month alone); with filters, or ``live``, it is computed
    from the rows of the whole period. Both give the same report."""
    if kind not in BUILDERS:
        raise ValueError(f"unknown report kind {kind!r}")
    filters = filters or Filters()
    builder = Builder(kind, period, filters, Progress(progress))
    with force_locale(language if language in ("fi", "sv", "en") else "fi"):
        _tune_session()
        if not live and not filters.to_dict():
            from reports import monthly

            # Tens of thousands of small objects (the groups of every month) are
            # made and dropped here; the cyclic garbage collector would walk them
            # again and again (they hold no cycles), so it waits until the end.
            collecting = gc.isenabled()
            gc.disable()
            try:
                builder.replay = monthly.parts_for_period(kind, period)
                builder.progress.plan(len(builder.replay))
                BUILDERS[kind](builder)
            finally:
                if collecting:
                    gc.enable()
        else:
            BUILDERS[kind](builder)
        result = builder.result()
    result["language"] = language
    return result


def _tune_session() -> None:
    """PostgreSQL: the report's big GROUP BYs sort in memory (work_mem) and skip the
    JIT compiler, whose compile time exceeds its gain on these queries; index reads
    are costed as on a cached or solid-state disk (``random_page_cost`` 1.1), so
    that today's offers are found through their orders' index instead of by
    reading every offer (at 500 % of the reference data 9 ms instead of 150 ms,
    and a whole month's 1.3 s instead of 1.6 s). ``SET LOCAL`` ends with the
    transaction."""
    if _dialect() == "postgresql":
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL random_page_cost = 1.1"))
