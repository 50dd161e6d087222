"""Monthly figures: what a report needs of a closed month, computed once and kept,
so that a report's cost grows with the number of months, not with the rows.

A report (``reports.aggregates``) is a few aggregations, each grouping the rows
of its period by some dimensions (month, category, provider, ...). For one
month, each group's *parts* are kept, unsuppressed, exact and combinable:

- the additive measures (counts, sums) as numbers;
- a distinct count (clients, buyers) as the set of the distinct values: distinct
  counts do not add up over months, sets do (a buyer's e-mail address is kept as
  a 64-bit hash of it, never as the address);
- a percentile's column (hours to acceptance, to fill) as a histogram of its
  values (value -> rows), from which the continuous percentile over any months is
  the same as ``percentile_cont`` over the rows.

They are stored per report kind, month and dimension (``report_month_figures``,
one row each, the groups in its JSON). The settled months are also combined
into aligned *spans* of 2-32 months (``report_span_figures``, ``build_spans``),
and the current month's finished days are kept (``settle_month_to_date``,
``report_months.through``). A report over a period without filters takes the
largest spans inside it whose months are all settled (``report_months.stale``
false), the other settled whole closed months alone, and the current month's kept
days; today, a partial month, a stale month or a month not settled yet is
computed live for that part alone; then the parts of every piece are combined
into the grouped rows the builder would have got from the database, and the
builder names, derives and suppresses them as always. So the small-group rule
sees exact client counts, and a report from kept figures equals the live one.

A late change to a closed month (a correction, a refund, an erasure) marks that
month stale (``reports.staleness``, SQLAlchemy events: nothing in the other
domains changes); until the periodic ``reports.jobs.settle_months`` recomputes
it, reports compute that month live (and do not read the spans holding it;
recomputing the month deletes them, ``build_spans`` makes them again).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from array import array
from bisect import bisect_right
from collections import Counter
from itertools import accumulate
from datetime import date, timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.time import local_date

# How a stored month's JSON is laid out; a change makes every month recomputed.
FORMAT_VERSION = 4


# --------------------------------------------------------------------------- parts

def _value_key(value) -> int:
    """A distinct value as an integer: ids as they are, text as a 64-bit hash."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    digest = hashlib.blake2b(str(value).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


MAX_BITMAP_ID = 1 << 26  # ids up to 67 million are kept as a bitmap (8 MB at most)


def distinct_set(values):
    """The distinct values of a group in a form whose union is ``_union`` and whose
    size is ``distinct_size``: ids (non-negative integers) of a dense group as a
    bitmap in a Python integer (bit i set: id i is in), of a sparse group as a set
    of ids; anything else as a set of 64-bit keys."""
    values = [v for v in values if v is not None]
    if all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_BITMAP_ID for v in values):
        if not values:
            return 0
        if len(values) * 32 < max(values):
            return set(values)
        return _bits(values)
    return {_value_key(v) for v in values}


def _bits(values) -> int:
    bits = bytearray(max(values) // 8 + 1)
    for v in values:
        bits[v >> 3] |= 1 << (v & 7)
    return int.from_bytes(bits, "little")


def distinct_size(value) -> int:
    return value.bit_count() if isinstance(value, int) else len(value)


def _union(a, b):
    if not b:
        return a
    if not a:
        return b
    if isinstance(a, int) and isinstance(b, int):
        return a | b
    if isinstance(a, set) and isinstance(b, set):
        return a | b
    # A bitmap and a set of ids (a group dense in one month, sparse in another).
    if isinstance(a, set):
        a, b = b, a
    if all(0 <= v < MAX_BITMAP_ID for v in b):
        return a | _bits(b)
    return _bits_to_set(a) | b


def _bits_to_set(bits: int) -> set:
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    return {i * 8 + j for i, byte in enumerate(raw) if byte for j in range(8) if byte >> j & 1}


def _new_part(additive) -> dict:
    return {"m": dict.fromkeys(additive, 0), "d": 0, "p": {}}


def month_parts(agg, progress, month_label: str) -> dict:
    """The parts of each group of ``agg`` (an ``aggregates.Aggregation`` over ONE
    month): ``{set: {key: {"m": {measure: n}, "d": distinct values, "p": {name:
    histogram: values ascending, counts}}}}``, with the month dimension given as ``month_label``.
    PostgreSQL: one grouping-sets query with ``array_agg`` of the distinct values
    and of the percentile columns per group; SQLite: grouped by the distinct column
    too, and one query per percentile column."""
    from reports.aggregates import Aggregation, _dialect, run_aggregation

    distinct = {k: fn.distinct_column for k, fn in agg.measures.items() if hasattr(fn, "distinct_column")}
    additive = {k: fn for k, fn in agg.measures.items() if k not in distinct}
    if len(set(distinct.values())) > 1:
        raise ValueError("one distinct column per aggregation")
    column = next(iter(distinct.values()), None)
    percentiles = agg.percentiles or {}
    out: dict[str, dict] = {name: {} for name in agg.sets}

    def key_of(row, dims):
        return tuple(month_label if d == "month" else row[d] for d in dims)

    if _dialect() == "postgresql":
        measures = dict(additive)
        if column:
            measures["_d"] = lambda s: sa.func.array_agg(sa.distinct(s.c[column])).filter(s.c[column].is_not(None))
        for pname, (col, _p) in percentiles.items():
            measures[f"_p_{pname}"] = (lambda s, col=col: sa.func.array_agg(sa.cast(s.c[col], sa.BigInteger))
                                       .filter(s.c[col].is_not(None)))
        grouped = run_aggregation(Aggregation(agg.src, agg.sets, measures), progress)
        for name, dims in agg.sets.items():
            for row in grouped[name]:
                part = {"m": {k: row.get(k) or 0 for k in additive},
                        "d": distinct_set(row.get("_d") or []) if column else 0, "p": {}}
                for pname in percentiles:
                    values = row.get(f"_p_{pname}") or []
                    if values:
                        part["p"][pname] = _histogram(Counter(values))
                out[name][key_of(row, dims)] = part
        return out

    sets = {name: dims + ((column,) if column else ()) for name, dims in agg.sets.items()}
    grouped = run_aggregation(Aggregation(agg.src, sets, additive), progress)
    for name, dims in agg.sets.items():
        groups: dict = {}
        ids: dict = {}
        for row in grouped[name]:
            key = key_of(row, dims)
            part = groups.setdefault(key, _new_part(additive))
            for k in additive:
                part["m"][k] += row.get(k) or 0
            if column:
                ids.setdefault(key, []).append(row.get(column))
        for key, values in ids.items():
            groups[key]["d"] = distinct_set(values)
        out[name] = groups
    for pname, (col, _p) in percentiles.items():
        src = sa.select(agg.src).where(agg.src.c[col].is_not(None)).subquery("psrc")
        hist = run_aggregation(Aggregation(src, {name: dims + (col,) for name, dims in agg.sets.items()},
                                           {"_n": lambda s: sa.func.count()}), progress)
        for name, dims in agg.sets.items():
            for row in hist[name]:
                part = out[name].setdefault(key_of(row, dims), _new_part(additive))
                part["p"].setdefault(pname, Counter())[int(round(row[col]))] += row["_n"]
        for groups in out.values():
            for part in groups.values():
                if pname in part["p"]:
                    part["p"][pname] = _histogram(part["p"][pname])
    return out


def _histogram(counter: Counter) -> tuple:
    """A histogram as (values ascending, their counts)."""
    items = sorted(counter.items())
    return [v for v, _c in items], [c for _v, c in items]


def combine(month_parts_list: list[dict], agg, months: list) -> dict[str, list[dict]]:
    """The grouped rows of ``agg`` over several months (``month_parts_list``: the
    parts of each month) as ``run_aggregation`` gives them: month labels become
    the indexes of ``months`` (``aggregates.Month``)."""
    index = {m.label: i for i, m in enumerate(months)}
    distinct = {k: fn.distinct_column for k, fn in agg.measures.items() if hasattr(fn, "distinct_column")}
    additive = [k for k in agg.measures if k not in distinct]
    merged: dict[str, dict] = {name: {} for name in agg.sets}
    for parts in month_parts_list:
        for name, groups in parts.items():
            target = merged[name]
            for key, part in groups.items():
                into = target.get(key)
                if into is None:
                    target[key] = {"m": dict(part["m"]), "d": part["d"], "p": [dict(part["p"])]}
                    continue
                for k, v in part["m"].items():
                    into["m"][k] = into["m"].get(k, 0) + v
                into["d"] = _union(into["d"], part["d"])
                into["p"].append(part["p"])
    out: dict[str, list[dict]] = {}
    for name, dims in agg.sets.items():
        rows = []
        for key, part in merged[name].items():
            row = {}
            for d, v in zip(dims, key):
                row[d] = index[v] if d == "month" else v
            for k in additive:
                row[k] = part["m"].get(k, 0)
            for k in distinct:
                row[k] = distinct_size(part["d"])
            merged_by_column: dict = {}
            for pname, (col, p) in (agg.percentiles or {}).items():
                # Percentiles of the same column (median, 90th) share one merge.
                if col not in merged_by_column:
                    hists = [h[pname] for h in part["p"] if h.get(pname)]
                    merged_by_column[col] = merge_histograms(hists)
                row[pname] = percentile([merged_by_column[col]] if merged_by_column[col] else [], p)
            rows.append(row)
        out[name] = rows
    return out


_COUNT_BITS = 24  # a value and its count packed in one integer for sorting


def percentile(histograms: list[tuple], p: float) -> float | None:
    """The continuous percentile (``percentile_cont``) of the values counted in
    ``histograms`` (each: values ascending, their counts) together: interpolated
    between the values at positions floor(p(n-1)) and the next one. One month's
    histogram is read as it is; several are merged by one sort of packed integers
    (value, count), all in C but the packing."""
    if not histograms:
        return None
    values, counts = merge_histograms(histograms)
    cumulative = list(accumulate(counts))
    n = cumulative[-1]
    position = p * (n - 1)
    low = int(position)
    fraction = position - low
    first = float(values[bisect_right(cumulative, low)])
    if fraction == 0 or low + 1 >= n:
        return first
    return first + fraction * (float(values[bisect_right(cumulative, low + 1)]) - first)


def merge_histograms(histograms: list[tuple]) -> tuple | None:
    """Several histograms (values ascending, their counts) as one: a value in
    several appears in the merged one as often as there (its counts are not added
    up, which ``percentile`` does not need; ``_merge_exact`` adds them). One is
    returned as it is; None for none."""
    if not histograms:
        return None
    if len(histograms) == 1:
        return histograms[0]
    mask = (1 << _COUNT_BITS) - 1
    packed = []
    for vals, cnts in histograms:
        packed += [(v << _COUNT_BITS) | c for v, c in zip(vals, cnts)]
    packed.sort()
    return [x >> _COUNT_BITS for x in packed], [x & mask for x in packed]


def _merge_exact(a, b) -> tuple:
    """Two histograms as one with each value once (kept spans stay compact)."""
    if not a:
        return b
    if not b:
        return a
    counter = Counter(dict(zip(a[0], a[1])))
    for v, c in zip(b[0], b[1]):
        counter[v] += c
    return _histogram(counter)


def merge_parts(a: dict, b: dict) -> dict:
    """Two pieces' parts of one aggregation (``{grouping: {key: part}}``) combined
    into one piece, as ``combine`` would combine them: measures added, distinct
    values united, histograms merged. Month keys of different months stay apart."""
    out: dict = {}
    for grouping in list(a) + [g for g in b if g not in a]:
        groups = {key: {"m": dict(part["m"]), "d": part["d"], "p": dict(part["p"])}
                  for key, part in (a.get(grouping) or {}).items()}
        for key, part in (b.get(grouping) or {}).items():
            into = groups.get(key)
            if into is None:
                groups[key] = {"m": dict(part["m"]), "d": part["d"], "p": dict(part["p"])}
                continue
            for k, v in part["m"].items():
                into["m"][k] = into["m"].get(k, 0) + v
            into["d"] = _union(into["d"], part["d"])
            for name, hist in part["p"].items():
                into["p"][name] = _merge_exact(into["p"].get(name), hist)
        out[grouping] = groups
    return out


# --------------------------------------------------------------------------- storage

def _pack_ints(values) -> str:
    return base64.b64encode(zlib.compress(array("q", values).tobytes(), 6)).decode("ascii")


def _unpack_ints(text: str) -> array:
    out = array("q")
    out.frombytes(zlib.decompress(base64.b64decode(text)))
    return out


def encode(parts: dict) -> dict:
    """A month's parts of one grouping (``{key: part}``) as JSON values: the keys,
    each measure as a list, the distinct values of each group (a bitmap's bytes or
    sorted 64-bit keys) and each percentile histogram as arrays, compressed."""
    keys = list(parts)
    out: dict = {"keys": [list(k) for k in keys], "m": {}, "d": [], "p": {}}
    set_lengths, set_values = [], []
    measures = list(next(iter(parts.values()))["m"]) if parts else []
    for k in measures:
        out["m"][k] = [parts[key]["m"][k] for key in keys]
    for key in keys:
        d = parts[key]["d"]
        if isinstance(d, int):
            out["d"].append("b" + base64.b64encode(zlib.compress(
                d.to_bytes((d.bit_length() + 7) // 8, "little"), 6)).decode("ascii") if d else "")
        elif not d:
            out["d"].append("")
        else:
            # A sparse set (ids, or 64-bit keys of text values): in "s" with the others.
            out["d"].append("s")
            set_lengths.append(len(d))
            set_values += sorted(d)
    if set_lengths:
        out["s"] = [_pack_ints(set_lengths), _pack_ints(set_values)]
    names = sorted({n for part in parts.values() for n in part["p"]})
    for name in names:
        lengths, values, counts = [], [], []
        for key in keys:
            vals, cnts = parts[key]["p"].get(name) or ([], [])
            lengths.append(len(vals))
            values += vals
            counts += cnts
        out["p"][name] = [_pack_ints(lengths), _pack_ints(values), _pack_ints(counts)]
    return out


def decode(data: dict) -> dict:
    keys = [tuple(k) for k in data["keys"]]
    hists: dict[str, list] = {}
    decoded: dict[tuple, list] = {}
    for name, packed in (data.get("p") or {}).items():
        # The median and the 90th percentile of one column keep the same
        # histogram: decoded once, shared (combining never changes it in place).
        if tuple(packed) in decoded:
            hists[name] = decoded[tuple(packed)]
            continue
        lengths, values, counts = (_unpack_ints(x) for x in packed)
        per_key, at = [], 0
        for n in lengths:
            per_key.append((values[at:at + n], counts[at:at + n]) if n else None)
            at += n
        hists[name] = decoded[tuple(packed)] = per_key
    sets = []
    if data.get("s"):
        lengths, values = _unpack_ints(data["s"][0]), _unpack_ints(data["s"][1]).tolist()
        at = 0
        for n in lengths:
            sets.append(set(values[at:at + n]))
            at += n
    sets.reverse()
    out = {}
    for i, key in enumerate(keys):
        text = data["d"][i] if i < len(data.get("d", [])) else ""
        if not text:
            d = 0
        elif text[0] == "b":
            d = int.from_bytes(zlib.decompress(base64.b64decode(text[1:])), "little")
        else:
            d = sets.pop()
        p = {name: per_key[i] for name, per_key in hists.items() if per_key[i]}
        out[key] = {"m": {k: v[i] for k, v in data["m"].items()}, "d": d, "p": p}
    return out


# --------------------------------------------------------------------------- months

def first_of_month(day: date) -> date:
    return day.replace(day=1)


def current_month() -> date:
    from core.time import local_today

    return first_of_month(local_today())


def capture_month(kind: str, month) -> list[dict]:
    """The parts of every aggregation of report ``kind`` for ``month`` (an
    ``aggregates.Month``: a whole month or the part of one in a period), live."""
    from reports.aggregates import Builder, Filters, Period, Progress, BUILDERS

    builder = Builder(kind, Period(month.start, month.stop - timedelta(days=1)), Filters(), Progress(None))
    builder.capture = []
    BUILDERS[kind](builder)
    return builder.capture


SPAN_SIZES = (32, 16, 8, 4, 2)  # months in a pre-combined span, largest first


def month_number(month: date) -> int:
    """A month as a number (months since year 0): spans of n months start at
    multiples of n, so a month is in exactly one span of each size."""
    return month.year * 12 + month.month - 1


def _month_of_number(n: int) -> date:
    return date(n // 12, n % 12 + 1, 1)


def span_starts(month: date) -> list[tuple[date, int]]:
    """(start, months) of every span holding ``month``."""
    n = month_number(month)
    return [(_month_of_number(n - n % size), size) for size in SPAN_SIZES]


def _settled(kind: str, months: list[date]) -> dict[date, int]:
    """The settled months among ``months``: ``{month: aggregations kept}``."""
    from reports.models import ReportMonth

    if not months:
        return {}
    return dict(db.session.execute(sa.select(ReportMonth.month, ReportMonth.parts).where(
        ReportMonth.kind == kind, ReportMonth.month.in_(months), ReportMonth.stale.is_(False),
        ReportMonth.through.is_(None), ReportMonth.format_version == FORMAT_VERSION)).all())


def _spans_present(kind: str, first: date, last: date) -> set[tuple[date, int]]:
    from reports.models import ReportSpanFigure

    return set(db.session.execute(sa.select(ReportSpanFigure.start, ReportSpanFigure.months).distinct().where(
        ReportSpanFigure.kind == kind, ReportSpanFigure.start >= first, ReportSpanFigure.start <= last)).all())


def plan_pieces(kind: str, months: list[date]) -> list[tuple[date, int]]:
    """How to read the whole closed ``months`` (consecutive, ascending) from the kept
    figures: ``[(start, months)]``, a kept span (months > 1) wherever every month
    of it is settled and in ``months``, largest first, else a settled month alone
    (1). Months not settled are left out (the caller computes them live)."""
    settled = _settled(kind, months)
    if not settled:
        return []
    spans = _spans_present(kind, min(settled), max(settled))
    wanted = set(months)
    out, i = [], 0
    while i < len(months):
        month = months[i]
        if month not in settled:
            i += 1
            continue
        n = month_number(month)
        for size in SPAN_SIZES:
            if n % size == 0 and (month, size) in spans:
                inside = [_month_of_number(n + k) for k in range(size)]
                if all(m in wanted and m in settled for m in inside):
                    out.append((month, size))
                    i += size
                    break
        else:
            out.append((month, 1))
            i += 1
    return out


def stored_pieces(kind: str, pieces: list[tuple[date, int]]) -> dict[tuple[date, int], list[dict]]:
    """The kept parts of each piece (a month: (month, 1); a span: (start, months)):
    ``{piece: [parts of each aggregation]}``."""
    from reports.models import ReportMonthFigure, ReportSpanFigure

    out: dict[tuple, dict[int, dict]] = {}
    months = sorted(m for m, size in pieces if size == 1)
    if months:
        for month, part, grouping, figures in db.session.execute(
                sa.select(ReportMonthFigure.month, ReportMonthFigure.part, ReportMonthFigure.grouping,
                          ReportMonthFigure.figures)
                .where(ReportMonthFigure.kind == kind, ReportMonthFigure.month.in_(months))):
            out.setdefault((month, 1), {}).setdefault(part, {})[grouping] = decode(figures)
    spans = [(m, size) for m, size in pieces if size > 1]
    if spans:
        for start, size, part, grouping, figures in db.session.execute(
                sa.select(ReportSpanFigure.start, ReportSpanFigure.months, ReportSpanFigure.part,
                          ReportSpanFigure.grouping, ReportSpanFigure.figures)
                .where(ReportSpanFigure.kind == kind,
                       sa.tuple_(ReportSpanFigure.start, ReportSpanFigure.months).in_(spans))):
            out.setdefault((start, size), {}).setdefault(part, {})[grouping] = decode(figures)
    result = {}
    for piece in pieces:
        by_part = out.get(piece, {})
        result[piece] = [by_part[i] for i in sorted(by_part)]
    return result


def stored_parts(kind: str, months: list[date]) -> dict[date, list[dict]]:
    """The kept parts of the settled months among ``months`` (each alone):
    ``{month: [parts of each aggregation]}``."""
    settled = _settled(kind, months)
    kept = stored_pieces(kind, [(m, 1) for m in sorted(settled)])
    return {m: kept[(m, 1)] + [{}] * (settled[m] - len(kept[(m, 1)])) for m in sorted(settled)}


def parts_for_period(kind: str, period) -> list[list[dict]]:
    """For each aggregation of ``kind``, the parts of each piece of ``period``:
    kept spans and months for settled whole closed months, live ones for the
    others (the current month, a month cut by the period, a stale month)."""
    this_month = current_month()
    months = period.months()
    whole = [m.start for m in months
             if m.start.day == 1 and m.stop == _next_month(m.start) and m.start < this_month]
    pieces = plan_pieces(kind, whole)
    kept = stored_pieces(kind, pieces)
    covered = {}
    for start, size in pieces:
        n = month_number(start)
        for k in range(size):
            covered[_month_of_number(n + k)] = (start, size)
    per_piece, seen = [], set()
    for m in months:
        piece = covered.get(m.start) if m.start in whole else None
        if piece is None and m.start == this_month:
            # The current month from the 1st: its finished days kept, today live.
            kept_days = _month_to_date(kind, m.start, m.stop)
            if kept_days is not None:
                through, parts = kept_days
                per_piece.append(parts)
                if through < m.stop:
                    per_piece.append(capture_month(kind, type(m)(m.label, through, m.stop)))
                continue
        if piece is None:
            per_piece.append(capture_month(kind, m))
        elif piece not in seen:
            seen.add(piece)
            per_piece.append(kept[piece])
    n = max((len(p) for p in per_piece), default=0)
    return [[p[i] if i < len(p) else {} for p in per_piece] for i in range(n)]


def pieces_used(kind: str, period) -> list[tuple[date, int]]:
    """The kept pieces a report of ``period`` without filters reads (for tests and
    the bench): ``[(start, months)]``."""
    this_month = current_month()
    whole = [m.start for m in period.months()
             if m.start.day == 1 and m.stop == _next_month(m.start) and m.start < this_month]
    return plan_pieces(kind, whole)


def build_spans(kind: str) -> int:
    """Combine the kept months of ``kind`` into every span whose months are all
    settled and which is not kept yet, smallest first (a span of n months is its
    two halves combined); in the caller's transaction. The number built."""
    from reports.models import ReportMonth, ReportSpanFigure

    settled = set(db.session.scalars(sa.select(ReportMonth.month).where(
        ReportMonth.kind == kind, ReportMonth.stale.is_(False), ReportMonth.through.is_(None),
        ReportMonth.format_version == FORMAT_VERSION)))
    if not settled:
        return 0
    numbers = {month_number(m) for m in settled}
    present = _spans_present(kind, min(settled), max(settled))
    built = 0
    for size in reversed(SPAN_SIZES):
        half = size // 2
        starts = sorted({n - n % size for n in numbers})
        for n in starts:
            start = _month_of_number(n)
            if (start, size) in present or any(n + k not in numbers for k in range(size)):
                continue
            halves = [(start, half), (_month_of_number(n + half), half)]
            kept = stored_pieces(kind, halves)
            a, b = kept[halves[0]], kept[halves[1]]
            if len(a) != len(b):
                continue  # not the same aggregations (a format change under way)
            values = [{"kind": kind, "start": start, "months": size, "part": i, "grouping": grouping,
                       "figures": encode(groups)}
                      for i, parts in enumerate(merge_parts(x, y) for x, y in zip(a, b))
                      for grouping, groups in parts.items()]
            if values:
                db.session.execute(sa.insert(ReportSpanFigure), values)
                present.add((start, size))
                built += 1
    return built


def _drop_spans(kind: str, month: date) -> None:
    """Delete the kept spans holding ``month`` (its figures are being recomputed)."""
    from reports.models import ReportSpanFigure

    db.session.execute(sa.delete(ReportSpanFigure).where(
        ReportSpanFigure.kind == kind,
        sa.tuple_(ReportSpanFigure.start, ReportSpanFigure.months).in_(span_starts(month))))


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def settle_month(kind: str, month: date) -> bool:
    """Compute and keep the figures of a closed ``month`` of ``kind`` (in the
    caller's transaction). The month is marked settled only if nothing marked it
    stale meanwhile (``changes`` unchanged). True when settled."""
    from reports.models import ReportMonth

    row = db.session.scalar(sa.select(ReportMonth).where(ReportMonth.kind == kind, ReportMonth.month == month))
    return _keep_figures(kind, month, row, stop=_next_month(month), through=None)


def settle_month_to_date(kind: str, today: date | None = None) -> bool:
    """Keep the figures of the current month's finished days (from the 1st up to
    yesterday) of ``kind``, unless they are kept already and not stale; in the
    caller's transaction. A report then computes only today live. A change to a
    row of a kept day marks them stale (``reports.staleness``). True when kept now."""
    from core.time import local_today
    from reports.models import ReportMonth

    today = today or local_today()
    month = first_of_month(today)
    if today <= month:
        return False  # the 1st: no finished day yet
    row = db.session.scalar(sa.select(ReportMonth).where(ReportMonth.kind == kind, ReportMonth.month == month))
    if row is not None and not row.stale and row.through == today and row.format_version == FORMAT_VERSION:
        return False
    return _keep_figures(kind, month, row, stop=today, through=today)


def _keep_figures(kind: str, month: date, row, stop: date, through: date | None) -> bool:
    """Compute the figures of ``month`` from its 1st up to ``stop`` (exclusive) and
    keep them in place of the month's kept figures: a whole closed month
    (``through`` None; the spans holding it are dropped) or the current month's
    finished days (``through`` = ``stop``). The month's row is marked kept only if
    nothing marked it stale meanwhile (its ``changes`` unchanged). True when kept."""
    from reports.aggregates import Month, _tune_session
    from reports.models import ReportMonth, ReportMonthFigure

    if row is None:
        row = ReportMonth(kind=kind, month=month, stale=True, changes=0, parts=0, format_version=FORMAT_VERSION)
        db.session.add(row)
        db.session.flush()
    seen = row.changes
    _tune_session()
    parts = capture_month(kind, Month(f"{month:%Y-%m}", month, stop))
    if through is None:
        _drop_spans(kind, month)
    db.session.execute(sa.delete(ReportMonthFigure).where(ReportMonthFigure.kind == kind,
                                                          ReportMonthFigure.month == month))
    values = [{"kind": kind, "month": month, "part": i, "grouping": grouping, "figures": encode(groups)}
              for i, aggregation in enumerate(parts) for grouping, groups in aggregation.items()]
    if values:
        db.session.execute(sa.insert(ReportMonthFigure), values)
    done = db.session.execute(
        sa.update(ReportMonth).where(ReportMonth.id == row.id, ReportMonth.changes == seen)
        .values(stale=False, parts=len(parts), computed_at=utcnow(), format_version=FORMAT_VERSION, through=through)
        .execution_options(synchronize_session=False)).rowcount
    return done == 1


def _month_to_date(kind: str, month: date, stop: date) -> tuple[date, list[dict]] | None:
    """The kept finished days of the current ``month`` when they can serve a period
    reaching ``stop`` (exclusive): (the first day not kept, their parts)."""
    from reports.models import ReportMonth

    found = db.session.execute(sa.select(ReportMonth.through, ReportMonth.parts).where(
        ReportMonth.kind == kind, ReportMonth.month == month, ReportMonth.stale.is_(False),
        ReportMonth.through.is_not(None), ReportMonth.format_version == FORMAT_VERSION)).first()
    if found is None or not (month < found.through <= stop):
        return None
    kept = stored_pieces(kind, [(month, 1)])[(month, 1)]
    return found.through, kept + [{}] * (found.parts - len(kept))


def first_data_month(kind: str) -> date | None:
    """The first month with any row of ``kind`` (in the county's time)."""
    column = _time_column(kind)
    first = db.session.scalar(sa.select(sa.func.min(column)))
    if first is None:
        return None
    if isinstance(first, str):  # SQLite without type information on an expression
        from datetime import datetime

        first = datetime.fromisoformat(first)
    if hasattr(first, "astimezone") and hasattr(first, "hour"):
        if first.tzinfo is None:
            from datetime import timezone

            first = first.replace(tzinfo=timezone.utc)
        first = local_date(first)
    return first_of_month(first)


def _time_column(kind: str):
    from clients.models import GuidanceContact
    from feedback.models import Feedback
    from marketplace.models import ShopOrder
    from orders.models import ServiceOrder, VisitReport
    from staffing.models import StaffingRequest

    return {
        "orders": ServiceOrder.created_at, "response_times": ServiceOrder.created_at,
        "delivered_hours": VisitReport.date, "feedback": Feedback.created_at, "guidance_contacts": GuidanceContact.at,
        "shop_sales": sa.func.coalesce(ShopOrder.paid_at, ShopOrder.fulfilled_at),
        "staffing": StaffingRequest.created_at,
    }[kind]


def first_month() -> date | None:
    """The first month with data of any report kind: every kind is kept from
    there, so that a kind with no rows yet has its (empty) months kept too."""
    from reports.aggregates import KINDS

    months = [m for m in (first_data_month(k) for k in KINDS) if m]
    return min(months) if months else None


def months_to_settle(kind: str, today: date | None = None, first: date | None = None) -> list[date]:
    """The closed months of ``kind`` not settled (never computed, or stale), oldest
    first: from ``first`` (default: ``first_month()``) to the last closed month."""
    from reports.models import ReportMonth

    this_month = first_of_month(today) if today else current_month()
    first = first or first_month()
    if first is None or first >= this_month:
        return []
    settled = set(db.session.scalars(sa.select(ReportMonth.month).where(
        ReportMonth.kind == kind, ReportMonth.stale.is_(False), ReportMonth.through.is_(None),
        ReportMonth.format_version == FORMAT_VERSION)))
    out, month = [], first
    while month < this_month:
        if month not in settled:
            out.append(month)
        month = _next_month(month)
    return out
