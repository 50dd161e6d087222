"""Splitting an event's price into the county's part and the client's own share,
and reading typed amounts: integers only, to the cent, never negative."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vouchers.forms import to_integer
from vouchers.services import split_amount

pytestmark = pytest.mark.smoke


def _half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)).__floor__())


@settings(max_examples=2000, deadline=None)
@given(unit=st.sampled_from(["hour", "visit", "euro"]), q=st.integers(0, 100_000), value=st.integers(0, 1_000_000),
       price=st.integers(0, 1_000_000))
def test_the_two_parts_are_the_price_to_the_cent(unit, q, value, price):
    covered, share = split_amount(unit, q, value, price)
    assert covered >= 0 and share >= 0
    if unit == "euro":
        assert (covered, share) == (q, 0)
        return
    rate = price or value
    per = Fraction(1, 60) if unit == "hour" else Fraction(1)
    assert covered + share == _half_up(rate * q * per)
    assert covered == _half_up(min(value, rate) * q * per)
    if price <= value:
        assert share == 0


def test_half_a_cent_is_rounded_up_once():
    # 1 minute at 30 €/h is 50 cents; 1 minute at 0,30 €/h is half a cent.
    assert split_amount("hour", 1, 3000, 3000) == (50, 0)
    assert split_amount("hour", 1, 30, 30) == (1, 0)
    assert split_amount("hour", 1, 30, 90) == (1, 1)   # 1,5 c total: 2 c, of which the voucher 0,5 c → 1 c
    assert split_amount("hour", 90, 3500, 4000) == (5250, 750)
    with pytest.raises(ValueError):
        split_amount("hour", -1, 3500, 4000)


@pytest.mark.parametrize("unit,text,expected", [
    ("hour", "7,5", 450), ("hour", "1.25", 75), ("hour", " 10 ", 600), ("visit", "8", 8), ("euro", "32,50", 3250),
    ("euro", "1 250,00 €", 125000)])
def test_typed_amounts(unit, text, expected):
    assert to_integer(unit, text) == expected


@pytest.mark.parametrize("unit,text", [("hour", "1,001"), ("visit", "1,5"), ("euro", "0,005"), ("hour", "-1"),
                                       ("hour", "abc"), ("hour", ""), ("hour", "NaN"), ("hour", "Infinity")])
def test_amounts_that_do_not_convert_exactly_are_refused(unit, text):
    with pytest.raises(ValueError):
        to_integer(unit, text)
