"""Money arithmetic of catalogue prices: VAT included in a gross price, the part of
it that qualifies for the household tax deduction, and rates for people."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CURRENCY = "EUR"
MIN_CARD_PRICE_CENTS = 50          # Stripe's smallest charge in euros
MAX_PRICE_CENTS = 1_000_000        # 10 000 € per unit
# Finnish VAT rates a provider can choose in the web form (basis points).
VAT_CHOICES_BP = (2550, 1400, 1350, 1000, 0)


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_from_gross(gross_cents: int, rate_bp: int) -> int:
    """VAT included in a gross amount: gross * rate / (1 + rate), rounded half up."""
    return half_up(Decimal(gross_cents) * rate_bp / (10000 + rate_bp))


def deduction_base(gross_cents: int, labour_share_percent: int, applies: bool) -> int:
    """The part of a gross amount that qualifies for the household tax deduction
    (kotitalousvähennys): the labour share, VAT included. Not the deduction itself:
    the buyer deducts a percentage of it in their own taxation (docs/shop.md)."""
    return half_up(Decimal(gross_cents) * labour_share_percent / 100) if applies else 0


def deduction_applies(offering) -> bool:
    """The household tax deduction is possible only for work bought from a provider in
    the prepayment register (ennakkoperintärekisteri)."""
    return bool(offering.household_deduction and offering.provider.prepayment_register)


def vat_rate_label(rate_bp: int) -> str:
    """25.5, 14, 0 – a rate for people and the API."""
    return f"{Decimal(rate_bp) / 100:f}".rstrip("0").rstrip(".") if rate_bp % 100 else str(rate_bp // 100)
