"""VAT from gross prices, the household-deduction base, the platform fee and price
quotes."""

import pytest
from flask import Flask

from catalogue import money, quotes
from marketplace import pricing


@pytest.mark.parametrize("gross,rate_bp,vat", [
    (4500, 2550, 914),      # 45,00 € incl. 25.5 %: 9,1434 -> 9,14
    (12550, 2550, 2550),
    (1050, 1400, 129),      # 14 %: 1,2894 -> 1,29
    (1000, 1000, 91),       # 10 %: 0,909 -> 0,91
    (999, 0, 0),
    (1, 2550, 0),
    (0, 2550, 0),
    (2, 2550, 0),           # 0,406 -> 0
    (3, 2550, 1),           # 0,6095 -> 1
])
def test_vat_from_gross(gross, rate_bp, vat):
    assert money.vat_from_gross(gross, rate_bp) == vat


def test_vat_rounds_half_up():
    # 10 % of 1,1 cent rounds to 1; find a value exactly at .5 for 25 %: 125 * 2500 / 12500 = 25
    assert money.vat_from_gross(125, 2500) == 25
    assert money.vat_from_gross(25, 2500) == 5
    assert money.vat_from_gross(2510, 2500) == 502


@pytest.mark.parametrize("gross,share,applies,base", [
    (9000, 80, True, 7200), (8990, 100, True, 8990), (4500, 0, True, 0), (4500, 80, False, 0), (333, 50, True, 167),
])
def test_deduction_base_is_the_labour_share(gross, share, applies, base):
    assert money.deduction_base(gross, share, applies) == base


def test_platform_fee_and_rate_labels():
    app = Flask(__name__)
    app.config.update(PLATFORM_FEE_PERCENT=5.0, SECRET_KEY="x" * 32)
    with app.app_context():
        assert pricing.platform_fee(9000) == 450
        assert pricing.platform_fee(10) == 1  # 0,5 -> 1 (half up)
        app.config["PLATFORM_FEE_PERCENT"] = 0
        assert pricing.platform_fee(9000) == 0
        app.config["PLATFORM_FEE_PERCENT"] = 2.5
        assert pricing.platform_fee(1999) == 50
    assert money.vat_rate_label(2550) == "25.5"
    assert money.vat_rate_label(1400) == "14"
    assert money.vat_rate_label(1350) == "13.5"
    assert money.vat_rate_label(0) == "0"


def test_price_quotes_are_signed_and_bound_to_the_offering():
    from core.errors import ValidationFailed

    class Offering:
        id, price_cents = 7, 4500

    from flask_babel import Babel

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "x" * 32
    Babel(app)
    with app.app_context():
        quote = quotes.price_quote(Offering())
        assert quotes.read_price_quote(quote, 7) == 4500
        with pytest.raises(ValidationFailed):
            quotes.read_price_quote(quote, 8)
        with pytest.raises(ValidationFailed):
            quotes.read_price_quote(quote[:-3] + "abc", 7)
    other = Flask(__name__)
    other.config["SECRET_KEY"] = "y" * 32
    Babel(other)
    with other.app_context(), pytest.raises(ValidationFailed):
        quotes.read_price_quote(quote, 7)
