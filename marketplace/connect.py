"""Stripe Connect onboarding: a provider organisation connects to Stripe to take
card payments in the shop."""

from __future__ import annotations

from flask_babel import gettext as _

from catalogue.offerings import require_provider
from core.errors import ConflictError, PermissionDenied
from core.extensions import db
from core.urls import absolute_url
from marketplace import billing
from marketplace.errors import PaymentUnavailable
from providers.models import Provider


def start_payment_onboarding(actor) -> str:
    """An organisation admin connects the organisation to Stripe to take card payments:
    creates its Express account once (idempotency key per organisation) and returns a
    fresh onboarding link. Raises PermissionDenied for others, ConflictError when
    Stripe is not configured, PaymentUnavailable when it cannot be reached."""
    provider_id = require_provider(actor)
    if not actor.is_org_admin:
        raise PermissionDenied(_("Only the organisation's administrator sets up card payments."))
    if not billing.configured():
        raise ConflictError(_("Card payments are not in use on this platform."), code="card_unavailable")
    provider = db.session.get(Provider, provider_id)
    try:
        if not provider.stripe_account_id:
            account = billing.create_connected_account(email=provider.email, business_name=provider.name,
                                                       provider_id=provider.id,
                                                       idempotency_key=f"account-{provider.id}")
            provider.stripe_account_id = account["id"]
            db.session.flush()
        link = billing.create_account_link(
            account=provider.stripe_account_id,
            refresh_url=absolute_url("marketplace.provider_offerings", onboarding="refresh"),
            return_url=absolute_url("marketplace.provider_offerings", onboarding="done"))
    except billing.BillingError as exc:
        if exc.unavailable:
            raise PaymentUnavailable(_("The payment service could not be reached. Try again in a moment.")) from None
        raise ConflictError(_("The payment service refused: %(reason)s", reason=exc.message), code="onboarding_refused") from None
    return link["url"]


