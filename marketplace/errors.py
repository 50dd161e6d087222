"""The shop's own refusals (besides ``core.errors``)."""

from __future__ import annotations

from core.errors import DomainError


class PaymentUnavailable(DomainError):
    """Stripe could not be reached: nothing was saved, the buyer can try again."""

    status = 503
    code = "payment_unavailable"


class AlreadyCheckedOut(DomainError):
    """The same checkout was submitted twice; ``shop_order`` is the purchase the first
    submission made (None while it is still being made)."""

    status = 409
    code = "already_submitted"

    def __init__(self, message: str, shop_order=None):
        super().__init__(message)
        self.shop_order = shop_order


class WebhookRejected(DomainError):
    """A webhook that is not verifiably from Stripe (400)."""

    status = 400
    code = "bad_signature"
