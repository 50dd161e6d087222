"""The amounts and counts formatted without Babel read exactly as Babel formats them
(core.templating.money and number), in each of the three languages."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from flask import Flask
from flask_babel import Babel, force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from core.templating import money, number


@pytest.fixture(scope="module")
def app():
    """A bare Flask app with Flask-Babel: the formats need only the language."""
    app = Flask(__name__)
    Babel(app)
    return app


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=-10**12, max_value=10**12))
def test_money_reads_as_babel_formats_it(app, lang, cents):
    with app.test_request_context("/"), force_locale(lang):
        assert money(cents) == format_currency(Decimal(cents) / 100, "EUR", locale=lang)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@settings(max_examples=300, deadline=None)
@given(value=st.integers(min_value=-10**12, max_value=10**12))
def test_counts_read_as_babel_formats_them(app, lang, value):
    with app.test_request_context("/"), force_locale(lang):
        assert number(value) == format_decimal(value, locale=lang)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
                       st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, places=4),
                       st.integers(min_value=-10**9, max_value=10**9)),
       digits=st.sampled_from([None, 0, 1, 2]))
def test_decimals_read_as_babel_formats_them(app, lang, value, digits):
    """Ratings ("4,5"), VAT rates ("25,5"), hours: decimals with and without fixed digits."""
    with app.test_request_context("/"), force_locale(lang):
        pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
        assert number(value, digits) == format_decimal(value, format=pattern, locale=lang)


def test_decimal_examples(app):
    with app.test_request_context("/"), force_locale("fi"):
        assert number(25.5) == "25,5" and number(14.0) == "14" and number(4.25, 1) == "4,2"
        assert number(Decimal("1234.5"), 2) == "1\u00a0234,50" and number(float("nan")) == format_decimal(
            float("nan"), locale="fi")
    with app.test_request_context("/"), force_locale("en"):
        assert number(1234.5678) == "1,234.568" and number(2.5, 0) == "2"


def test_money_examples(app):
    with app.test_request_context("/"), force_locale("fi"):
        assert money(123450) == "1\u00a0234,50\u00a0€" and money(-5) == "-0,05\u00a0€" and money(None) == "–"
    with app.test_request_context("/"), force_locale("en"):
        assert money(123450) == "€1,234.50" and money(-123456705) == "-€1,234,567.05"
