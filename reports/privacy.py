"""Small-group suppression of statistical tables, with complementary suppression.

The public helper is :func:`suppress_table` (a stable name: other packages import
it). A table is a grid of cells, each with the number of people (distinct clients)
behind it, and optionally its row totals, column totals and grand total shown
beside it. The rule:

1. **Primary suppression.** A cell (or a shown total) behind fewer than ``limit``
   people, but at least one, is hidden.
2. **Complementary suppression.** A hidden cell must not be computable from the
   figures still shown. Every total is the sum of its line, so the published table
   is a system of linear equations (each row: its cells minus its total is zero;
   each column likewise; the row totals and the column totals each sum to the
   grand total). The hidden cells are its unknowns. A hidden cell is determined by
   the equations exactly when it lies on no cycle of hidden cells in the bipartite
   graph whose nodes are the lines (rows, columns, the total row and the total
   column) and whose edges are the cells: a cycle lets its cells change by +x/-x
   alternately while every line sum stays the same, and a cell on no cycle (a
   bridge) is fixed by the sums. Lines whose sum is not shown impose nothing, so
   they are merged into one free node. While some hidden cell is a bridge, the
   cheapest path of further cells that closes a cycle through it is hidden too
   (cheapest: fewest and smallest cells, data cells before totals).

The result names the hidden cells and totals, and why each one is hidden
(``SMALL``: fewer than ``limit`` people; ``COMPLEMENTARY``: hidden so that another
cannot be worked out). A one-dimensional table (groups and their total) is a
table with one column and ``row_totals=False``.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

SMALL_GROUP = 5
SMALL = "small"
COMPLEMENTARY = "complementary"
TOTAL = ("__total__",)  # the key of the total row / total column


@dataclass
class Suppression:
    """What :func:`suppress_table` hides. ``cells`` maps a hidden ``(row, column)``
    to its reason; ``row_totals``/``column_totals`` map a hidden total's row or
    column to its reason; ``grand_total`` is the reason the grand total is hidden
    (or None)."""

    cells: dict[tuple[Hashable, Hashable], str] = field(default_factory=dict)
    row_totals: dict[Hashable, str] = field(default_factory=dict)
    column_totals: dict[Hashable, str] = field(default_factory=dict)
    grand_total: str | None = None

    def cell(self, row, column) -> str | None:
        return self.cells.get((row, column))


def is_small(people: int | None, limit: int = SMALL_GROUP) -> bool:
    """Fewer than ``limit`` people, but someone: hidden. Nobody (0) reveals nobody."""
    return people is not None and 0 < people < limit


def suppress_table(cells: Mapping[tuple[Hashable, Hashable], int], *,
                   row_totals: Mapping[Hashable, int] | bool | None = None,
                   column_totals: Mapping[Hashable, int] | bool | None = None,
                   grand_total: int | bool | None = None,
                   limit: int = SMALL_GROUP,
                   hidden: Iterable[tuple[Hashable, Hashable]] = (),
                   rows: Iterable[Hashable] | None = None,
                   columns: Iterable[Hashable] | None = None) -> Suppression:
    """Hide the cells and totals of a table that are behind fewer than ``limit``
    people, and enough others that none of them can be worked out from what is
    shown (see the module docstring).

    ``cells``: ``{(row, column): people}``; a cell not given is an empty cell (0,
    shown). ``row_totals``/``column_totals``: ``{row: people}`` when those totals
    are shown (people counts of totals are not sums when a person can be in several
    cells, so give them), ``True`` to use the sums of the cells, ``None``/``False``
    when not shown. ``grand_total``: its people count, ``True`` for the sum, or
    ``None``/``False``. ``hidden``: cells (or ``(row, TOTAL)``, ``(TOTAL, column)``,
    ``(TOTAL, TOTAL)``) already hidden for another reason, e.g. by another table
    sharing these totals. ``rows``/``columns``: the order used to break ties (by
    default the order of ``cells``)."""
    rows = list(dict.fromkeys(rows if rows is not None else (r for r, _c in cells)))
    columns = list(dict.fromkeys(columns if columns is not None else (c for _r, c in cells)))
    people: dict[tuple, int] = {(r, c): int(cells.get((r, c)) or 0) for r in rows for c in columns}
    has_rt, has_ct = bool(row_totals), bool(column_totals)
    has_gt = grand_total not in (None, False) and (has_rt or has_ct)
    if has_rt:
        for r in rows:
            people[(r, TOTAL)] = (int(row_totals.get(r) or 0) if isinstance(row_totals, Mapping)
                                  else sum(people[(r, c)] for c in columns))
    if has_ct:
        for c in columns:
            people[(TOTAL, c)] = (int(column_totals.get(c) or 0) if isinstance(column_totals, Mapping)
                                  else sum(people[(r, c)] for r in rows))
    if has_gt:
        people[(TOTAL, TOTAL)] = (sum(people[(r, c)] for r in rows for c in columns)
                                  if grand_total is True else int(grand_total))

    reasons: dict[tuple, str] = {}
    for key in hidden:
        if key in people:
            reasons[key] = COMPLEMENTARY
    for key, n in people.items():
        if is_small(n, limit):
            reasons[key] = SMALL

    # The graph: a node per line whose sum is shown; the others are one free node.
    def node(kind: str, line) -> tuple:
        if kind == "row":
            constrained = has_rt if line != TOTAL else (has_ct and has_gt)
        else:
            constrained = has_ct if line != TOTAL else (has_rt and has_gt)
        return (kind, line) if constrained else ("free",)

    order = {key: i for i, key in enumerate(people)}
    edges = {key: (node("row", key[0]), node("col", key[1])) for key in people}

    def cost(key) -> tuple:
        margin = (key[0] == TOTAL) + (key[1] == TOTAL)
        return (margin, people[key], order[key])

    while True:
        bridge = _first_bridge([k for k in people if k in reasons], edges, order)
        if bridge is None:
            break
        path = _cheapest_cycle(bridge, edges, reasons, cost)
        if not path:
            break  # nothing can close a cycle (a table of one cell and no totals)
        for key in path:
            reasons.setdefault(key, COMPLEMENTARY)

    out = Suppression()
    for key, why in reasons.items():
        r, c = key
        if r == TOTAL and c == TOTAL:
            out.grand_total = why
        elif c == TOTAL:
            out.row_totals[r] = why
        elif r == TOTAL:
            out.column_totals[c] = why
        else:
            out.cells[key] = why
    return out


def _first_bridge(hidden: list, edges: dict, order: dict):
    """A hidden cell on no cycle of hidden cells (Tarjan's bridges over a multigraph,
    edges told apart by key), the first in table order; None when there is none."""
    adjacency: dict[tuple, list] = {}
    for key in hidden:
        u, v = edges[key]
        if u == v:
            continue  # a cell between two free lines: no equation holds it
        adjacency.setdefault(u, []).append((v, key))
        adjacency.setdefault(v, []).append((u, key))
    index: dict[tuple, int] = {}
    low: dict[tuple, int] = {}
    bridges = []
    counter = 0
    for start in adjacency:
        if start in index:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack = [(start, None, iter(adjacency[start]))]
        while stack:
            u, via, it = stack[-1]
            advanced = False
            for v, key in it:
                if key == via:
                    continue
                if v not in index:
                    index[v] = low[v] = counter
                    counter += 1
                    stack.append((v, key, iter(adjacency[v])))
                    advanced = True
                    break
                low[u] = min(low[u], index[v])
            if advanced:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[u])
                if low[u] > index[parent]:
                    bridges.append(via)
    return min(bridges, key=lambda k: order[k]) if bridges else None


def _cheapest_cycle(bridge, edges: dict, reasons: dict, cost) -> list:
    """The shown cells to hide so that ``bridge`` lies on a cycle: the cheapest
    path between its two lines, hidden cells costing nothing (Dijkstra)."""
    source, target = edges[bridge]
    adjacency: dict[tuple, list] = {}
    for key, (u, v) in edges.items():
        if key == bridge:
            continue
        adjacency.setdefault(u, []).append((v, key))
        adjacency.setdefault(v, []).append((u, key))
    zero = (0, 0, 0)
    best: dict[tuple, tuple] = {source: zero}
    back: dict[tuple, tuple] = {}
    heap = [(zero, 0, source)]
    tick = 1
    while heap:
        dist, _t, u = heapq.heappop(heap)
        if dist != best.get(u):
            continue
        if u == target:
            break
        for v, key in adjacency.get(u, ()):
            step = zero if key in reasons else cost(key)
            # Weights compare as tuples: fewer totals first, then fewer people.
            nd = (dist[0] + step[0], dist[1] + step[1], dist[2] + (step != zero))
            if v not in best or nd < best[v]:
                best[v] = nd
                back[v] = (u, key)
                heapq.heappush(heap, (nd, tick, v))
                tick += 1
    if target not in back and source != target:
        return []
    path, at = [], target
    while at != source:
        at, key = back[at]
        if key not in reasons:
            path.append(key)
    return path
