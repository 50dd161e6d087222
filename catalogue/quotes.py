"""Signed price quotes: a statement of the price an offering was shown at, which a
checkout presenting it within two days is charged even if the price has risen."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.errors import ValidationFailed

QUOTE_MAX_AGE = 2 * 24 * 3600      # a price shown stays valid in a cart for two days


def _quote_serializer() -> URLSafeTimedSerializer:
    # The salt keeps its old name: quotes handed out before the move stay valid.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kotiapu.marketplace.price-quote")


def price_quote(offering) -> str | None:
    """A signed statement of the price shown for an offering now; a checkout that
    presents it within two days is charged that price even if it has risen since."""
    if offering.price_cents is None:
        return None
    return _quote_serializer().dumps([offering.id, offering.price_cents])


def read_price_quote(token: str, offering_id: int) -> int | None:
    """The quoted unit price for ``offering_id``, or None for a quote that has
    expired. Raises ValidationFailed for a forged quote or one of another offering."""
    try:
        quoted_id, price = _quote_serializer().loads(token, max_age=QUOTE_MAX_AGE)
    except SignatureExpired:
        return None
    except (BadSignature, ValueError, TypeError):
        raise ValidationFailed(_("The price quote is not valid."), code="invalid_price_quote") from None
    if quoted_id != offering_id or not isinstance(price, int):
        raise ValidationFailed(_("The price quote is for another offering."), code="invalid_price_quote")
    return price
