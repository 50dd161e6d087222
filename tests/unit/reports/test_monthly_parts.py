"""The parts kept per month combine exactly: distinct values by union (bitmaps,
sparse sets, hashed text, empty groups mixed), percentiles from histograms equal
the continuous percentile of all the values."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import monthly as M

pytestmark = pytest.mark.smoke


def percentile_cont(values, p):
    values = sorted(values)
    pos = p * (len(values) - 1)
    low = int(pos)
    if low + 1 >= len(values) or pos == low:
        return float(values[low])
    return values[low] + (pos - low) * (values[low + 1] - values[low])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-50, 10**6), min_size=0, max_size=40), min_size=1, max_size=6),
       st.sampled_from([0.5, 0.9]))
def test_percentiles_from_monthly_histograms_equal_the_percentile_of_the_rows(months, p):
    hists = [M._histogram(Counter(m)) for m in months if m]
    everything = [v for m in months for v in m]
    got = M.percentile(hists, p)
    if not everything:
        assert got is None
    else:
        assert got == pytest.approx(percentile_cont(everything, p))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(st.integers(1, 5000), st.integers(1, 2_000_000)), max_size=300), min_size=1,
                max_size=6))
def test_distinct_clients_over_months_are_exact(months):
    combined = 0
    for m in months:
        combined = M._union(combined, M.distinct_set(m))
        # And through storage, as a kept month is read back.
        part = {("x",): {"m": {}, "d": M.distinct_set(m), "p": {}}}
        assert M.distinct_size(M.decode(M.encode(part))[("x",)]["d"]) == len(set(m))
    assert M.distinct_size(combined) == len({v for m in months for v in m})


def test_text_values_and_empty_groups_mix():
    buyers = M.distinct_set(["a@example.fi", "b@example.fi", "a@example.fi"])
    assert M.distinct_size(M._union(0, buyers)) == 2
    assert M.distinct_size(M._union(buyers, 0)) == 2
    assert M.distinct_size(M._union(M.distinct_set(range(100)), {3, 500})) == 101
