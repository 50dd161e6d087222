"""Complementary suppression holds: over random tables, no hidden cell or total can
be worked out from the figures shown, neither by subtracting along a row or a
column (the way a reader with a calculator would) nor by solving all the table's
equations together (exact rational Gaussian elimination); every small cell is
hidden; a table without small cells hides nothing."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.privacy import COMPLEMENTARY, SMALL, TOTAL, suppress_table

pytestmark = pytest.mark.smoke


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 5))
    values = {(f"r{i}", f"c{j}"): draw(st.one_of(st.integers(0, 4), st.integers(0, 40)))
              for i in range(n_rows) for j in range(n_cols)}
    row_totals = draw(st.booleans())
    column_totals = draw(st.booleans())
    grand_total = draw(st.booleans())
    return values, row_totals, column_totals, grand_total


def published(values, row_totals, column_totals, grand_total):
    """Every figure of the table as a reader sees it: cells and totals with values."""
    rows = list(dict.fromkeys(r for r, _c in values))
    cols = list(dict.fromkeys(c for _r, c in values))
    figures = dict(values)
    if row_totals:
        for r in rows:
            figures[(r, TOTAL)] = sum(values[(r, c)] for c in cols)
    if column_totals:
        for c in cols:
            figures[(TOTAL, c)] = sum(values[(r, c)] for r in rows)
    if grand_total and (row_totals or column_totals):
        figures[(TOTAL, TOTAL)] = sum(values.values())
    return rows, cols, figures


def equations(rows, cols, figures):
    """The sums a reader knows hold: each line's cells add up to its total."""
    out = []
    for r in rows + [TOTAL]:
        if (r, TOTAL) in figures:
            out.append(([(r, c) for c in cols], (r, TOTAL)))
    for c in cols + [TOTAL]:
        if (TOTAL, c) in figures:
            out.append(([(r, c) for r in rows], (TOTAL, c)))
    return [(parts, total) for parts, total in out if all(p in figures for p in parts)]


def hidden_keys(s):
    keys = set(s.cells) | {(r, TOTAL) for r in s.row_totals} | {(TOTAL, c) for c in s.column_totals}
    if s.grand_total:
        keys.add((TOTAL, TOTAL))
    return keys


def recover_by_subtraction(figures, eqs, hidden):
    """A line with one hidden figure gives it away; repeat with what was learnt."""
    known = {k: v for k, v in figures.items() if k not in hidden}
    changed = True
    while changed:
        changed = False
        for parts, total in eqs:
            unknown = [k for k in parts + [total] if k not in known]
            if len(unknown) == 1:
                k = unknown[0]
                if k == total:
                    known[k] = sum(known[p] for p in parts)
                else:
                    known[k] = known[total] - sum(known[p] for p in parts if p != k)
                changed = True
    return {k for k in hidden if k in known}


def determined_by_linear_algebra(eqs, hidden):
    """The hidden figures fixed by the equations: x_k is determined exactly when the
    unit vector of k is in the row space of the equations' unknown parts."""
    unknowns = sorted(hidden, key=str)
    index = {k: i for i, k in enumerate(unknowns)}
    matrix = []
    for parts, total in eqs:
        row = [Fraction(0)] * len(unknowns)
        for p in parts:
            if p in index:
                row[index[p]] += 1
        if total in index:
            row[index[total]] -= 1
        if any(row):
            matrix.append(row)
    base = rank(matrix)
    out = set()
    for k in unknowns:
        unit = [Fraction(0)] * len(unknowns)
        unit[index[k]] = Fraction(1)
        if rank(matrix + [unit]) == base:
            out.add(k)
    return out


def rank(matrix):
    m = [list(r) for r in matrix]
    r = 0
    cols = len(m[0]) if m else 0
    for c in range(cols):
        pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[r], m[pivot] = m[pivot], m[r]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c] / m[r][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[r])]
        r += 1
    return r


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_hidden_figure_can_be_worked_out(table):
    values, row_totals, column_totals, grand_total = table
    s = suppress_table(values, row_totals=row_totals, column_totals=column_totals, grand_total=grand_total)
    rows, cols, figures = published(values, row_totals, column_totals, grand_total)
    hidden = hidden_keys(s)
    for key, n in figures.items():
        if 0 < n < 5:
            assert key in hidden and (s.cells.get(key) or s.row_totals.get(key[0]) or
                                      s.column_totals.get(key[1]) or s.grand_total) == SMALL, key
    eqs = equations(rows, cols, figures)
    assert recover_by_subtraction(figures, eqs, hidden) == set()
    assert determined_by_linear_algebra(eqs, hidden) == set()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(5, 50), min_size=1, max_size=8), st.integers(1, 4))
def test_tables_without_small_groups_hide_nothing_and_totals_agree(people, n_cols):
    values = {(f"r{i}", f"c{j}"): n + j for i, n in enumerate(people) for j in range(n_cols)}
    s = suppress_table(values, row_totals=True, column_totals=True, grand_total=True)
    assert hidden_keys(s) == set()
    rows, cols, figures = published(values, True, True, True)
    assert figures[(TOTAL, TOTAL)] == sum(figures[(r, TOTAL)] for r in rows) == sum(
        figures[(TOTAL, c)] for c in cols)


def test_a_lone_small_row_of_a_list_takes_the_smallest_other_row_with_it():
    s = suppress_table({("a", "n"): 10, ("b", "n"): 3, ("c", "n"): 7, ("d", "n"): 12}, column_totals=True)
    assert s.cells == {("b", "n"): SMALL, ("c", "n"): COMPLEMENTARY}
    assert s.column_totals == {} and s.grand_total is None


def test_a_hidden_row_next_to_shown_totals_takes_a_total_when_nothing_else_can_hide_it():
    # The row totals are shown and the only other row is a total: the total goes.
    s = suppress_table({("a", "x"): 3, ("a", "y"): 9}, row_totals={"a": 9})
    assert s.cells == {("a", "x"): SMALL, ("a", "y"): COMPLEMENTARY} and s.row_totals == {}


def test_a_cross_table_hides_a_rectangle_not_the_totals():
    cells = {("03", "A"): 9, ("03", "B"): 8, ("04", "A"): 9, ("04", "B"): 2}
    s = suppress_table(cells, row_totals=True, column_totals=True, grand_total=True)
    assert set(s.cells) == {("03", "A"), ("03", "B"), ("04", "A"), ("04", "B")}
    assert s.row_totals == {} and s.column_totals == {} and s.grand_total is None


def test_given_people_counts_of_totals_are_used_and_already_hidden_cells_kept():
    # Totals of distinct people are not sums: a small total is hidden itself.
    s = suppress_table({("a", "n"): 6, ("b", "n"): 7}, column_totals={"n": 4}, hidden=[("a", "n")])
    assert s.column_totals == {"n": SMALL} and ("a", "n") in s.cells
