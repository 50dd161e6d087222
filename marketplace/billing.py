"""Stripe, and nothing else: the only module of the platform that imports ``stripe``.

Card payments use Stripe Checkout with Connect destination charges: one Checkout
Session per purchase, the provider's connected account as the destination and the
platform fee as ``application_fee_amount``. Every POST carries an idempotency key so
that a retried call never creates a second session, refund or account.

The functions take and return plain values (dicts, strings), and raise
``BillingError`` for anything Stripe refuses or cannot answer, so the services never
see a Stripe type. ``STRIPE_API_BASE`` points the library at another address (the
tests' local test double); it is passed as the client's ``base_addresses``.
"""

from __future__ import annotations

import json
import logging
import threading

import stripe
from flask import current_app
from flask_babel import gettext

log = logging.getLogger(__name__)

# Seconds to wait for Stripe; a checkout must not hang the buyer's request for long.
TIMEOUT_SECONDS = 20
_clients: dict[tuple[str, str], stripe.StripeClient] = {}
_lock = threading.Lock()


class BillingError(Exception):
    """Stripe refused a call (``unavailable`` False: a 4xx, e.g. an account that cannot
    take charges) or could not be reached (``unavailable`` True)."""

    def __init__(self, message: str, *, unavailable: bool = False, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.unavailable = unavailable
        self.code = code


class SignatureError(BillingError):
    """A webhook whose signature, timestamp or body does not check out."""


def configured() -> bool:
    """Card payments are possible only with a secret key."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def webhook_configured() -> bool:
    return bool(current_app.config.get("STRIPE_WEBHOOK_SECRET"))


def _client() -> stripe.StripeClient:
    key = current_app.config.get("STRIPE_SECRET_KEY") or ""
    if not key:
        raise BillingError(gettext("Stripe is not configured."), code="not_configured")
    base = current_app.config.get("STRIPE_API_BASE") or ""
    with _lock:
        client = _clients.get((key, base))
        if client is None:
            addresses = {"api": base.rstrip("/"), "connect": base.rstrip("/")} if base else None
            client = stripe.StripeClient(
                key, base_addresses=addresses, max_network_retries=2,
                http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
            )
            _clients[(key, base)] = client
    return client


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _call(what: str, func, *args, **kwargs) -> dict:
    try:
        return _plain(func(*args, **kwargs))
    except stripe.InvalidRequestError as exc:
        log.warning("stripe refused %s: %s", what, exc.user_message or exc)
        raise BillingError(exc.user_message or str(exc), code=getattr(exc, "code", None)) from None
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        log.warning("stripe unreachable for %s: %s", what, exc.__class__.__name__)
        raise BillingError(gettext("Stripe could not be reached."), unavailable=True) from None
    except stripe.StripeError as exc:
        # Authentication, permission and Stripe-side errors: not the buyer's fault.
        log.error("stripe error on %s: %s %s", what, exc.__class__.__name__, exc.user_message or exc)
        raise BillingError(gettext("The payment service answered with an error."), unavailable=True,
                           code=getattr(exc, "code", None)) from None


def create_checkout_session(*, shop_order_id: int, number: str, lines: list[dict], currency: str,
                            fee_cents: int, destination: str, customer_email: str, success_url: str,
                            cancel_url: str, expires_at: int, locale: str, idempotency_key: str) -> dict:
    """Create the purchase's Checkout Session (mode payment, destination charge).
    ``lines`` are ``{"name", "unit_amount", "quantity"}`` with gross cents.
    Returns ``{"id", "url", "amount_total", ...}``."""
    params = {
        "mode": "payment",
        "line_items": [{
            "price_data": {"currency": currency.lower(), "unit_amount": line["unit_amount"],
                           "product_data": {"name": line["name"][:250]}},
            "quantity": line["quantity"],
        } for line in lines],
        "customer_email": customer_email,
        "client_reference_id": str(shop_order_id),
        "metadata": {"shop_order_id": str(shop_order_id), "number": number},
        "payment_intent_data": {
            "application_fee_amount": fee_cents,
            "transfer_data": {"destination": destination},
            "metadata": {"shop_order_id": str(shop_order_id), "number": number},
        },
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": expires_at,
        "locale": locale if locale in ("fi", "sv", "en") else "auto",
    }
    return _call("checkout session", _client().v1.checkout.sessions.create, params=params,
                 options={"idempotency_key": idempotency_key})


def retrieve_checkout_session(session_id: str) -> dict:
    return _call("checkout session retrieve", _client().v1.checkout.sessions.retrieve, session_id)


def expire_checkout_session(session_id: str, *, idempotency_key: str) -> dict:
    """End an open session so it can no longer be paid (purchase cancelled)."""
    return _call("checkout session expire", _client().v1.checkout.sessions.expire, session_id,
                 options={"idempotency_key": idempotency_key})


def create_refund(*, payment_intent: str, amount_cents: int, shop_order_id: int, idempotency_key: str) -> dict:
    """Refund ``amount_cents`` of a destination charge. The transfer to the provider and
    the platform fee are reversed in proportion, so the provider bears its share."""
    params = {
        "payment_intent": payment_intent,
        "amount": amount_cents,
        "reverse_transfer": True,
        "refund_application_fee": True,
        "metadata": {"shop_order_id": str(shop_order_id)},
    }
    return _call("refund", _client().v1.refunds.create, params=params, options={"idempotency_key": idempotency_key})


def create_connected_account(*, email: str, business_name: str, provider_id: int, idempotency_key: str) -> dict:
    """An Express connected account for a provider organisation."""
    params = {
        "type": "express",
        "country": "FI",
        "email": email,
        "business_profile": {"name": business_name[:200]},
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "metadata": {"provider_id": str(provider_id)},
    }
    return _call("account", _client().v1.accounts.create, params=params, options={"idempotency_key": idempotency_key})


def create_account_link(*, account: str, refresh_url: str, return_url: str) -> dict:
    """A short-lived onboarding link for the connected account."""
    params = {"account": account, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"}
    return _call("account link", _client().v1.account_links.create, params=params)


def parse_webhook(payload: bytes, signature_header: str | None) -> dict:
    """Verify a webhook exactly as Stripe signs it (``t=..,v1=..`` HMAC-SHA256 with the
    endpoint secret, timestamp within five minutes) and return the event as a dict.
    Raises SignatureError for anything else."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret:
        raise SignatureError("The webhook secret is not configured.", code="not_configured")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature_header, secret,
                                              tolerance=stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(text)
    except stripe.SignatureVerificationError as exc:
        raise SignatureError(f"Invalid signature: {exc.user_message or exc}", code="bad_signature") from None
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("The body is not a JSON event.", code="bad_payload") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str) \
            or not isinstance(event.get("data"), dict) or not isinstance(event["data"].get("object"), dict):
        raise SignatureError("The body is not a Stripe event.", code="bad_payload")
    return event
