"""Signed webhooks to provider organisations' systems.

- An organisation's administrator registers endpoints (``create_endpoint``): an
  ``https://`` URL (``http://`` to a loopback address outside production) and the
  event types it wants. The secret that signs the deliveries is shown once.
- Events are raised from the rows the other domains already write (order events and
  offers, shop-order events, staffing recipients), found by SQLAlchemy session hooks
  installed by ``install_event_hooks``: no other domain calls this module. When a
  transaction that wrote such rows commits, a ``WebhookEvent`` is written for each
  organisation concerned that has an endpoint subscribed to the type, with its
  fan-out job (``interop.jobs.fan_out``) in the same commit.
- The job builds the event's ``data`` through the API's own policy and serializers,
  as the organisation would see it through the API (no client identity before
  acceptance), and one delivery per endpoint; ``interop.jobs.deliver`` POSTs it
  with the ``Kotiapu-Signature`` header, retries with exponential backoff and
  disables an endpoint after repeated failures (the organisation is told).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext
from flask_babel import gettext

from core.db import utcnow
from core.errors import DomainError, NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from interop.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from providers import policy as provider_policy

SIGNATURE_HEADER = "Kotiapu-Signature"
TEST_EVENT = "webhook.test"
# The event types an endpoint may subscribe to. ``order.message`` is part of the
# contract (API.md) and reserved: the platform has no order messages yet.
EVENT_TYPES = (
    "order.offered", "order.accepted", "order.taken", "order.cancelled", "order.completed", "order.message",
    "shop_order.paid", "staffing_request.opened",
)
MAX_ENDPOINTS = 20
DEFAULTS = {
    # Attempts of one delivery (the first and its retries).
    "WEBHOOK_MAX_ATTEMPTS": 6,
    # The first retry waits this long; each further one twice as long (30 s, 1, 2, 4, 8 min).
    "WEBHOOK_RETRY_BASE_SECONDS": 30.0,
    # An endpoint is disabled when this many deliveries in a row have failed every attempt.
    "WEBHOOK_DISABLE_AFTER": 5,
    "WEBHOOK_TIMEOUT_SECONDS": 10.0,
}


def _(text: str, **variables) -> str:
    """gettext that also works outside a request (jobs): English there."""
    try:
        return gettext(text, **variables)
    except RuntimeError:
        return text % variables if variables else text


def setting(name: str):
    return type(DEFAULTS[name])(current_app.config.get(name, DEFAULTS[name]))


class InsecureUrl(DomainError, status=422, code="insecure_url"):
    """The endpoint URL is not https (or http to a loopback address outside production)."""


# --------------------------------------------------------------------------- signatures


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Kotiapu-Signature`` header value of ``body``: ``t=<unix time>,v1=<hex
    HMAC-SHA256 of "<t>.<body>" keyed with the secret>``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made less than
    ``tolerance`` seconds ago (what a receiver does; the tests use it too)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --------------------------------------------------------------------------- endpoints


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url) -> str:
    """The endpoint URL, or a refusal naming the problem."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed(_("Some fields are invalid."), fields={"url": [_("This field is required.")]})
    url = url.strip()
    if len(url) > 500:
        raise ValidationFailed(_("Some fields are invalid."), fields={"url": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 500)]})
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        host, parts = "", None
    if parts is None or parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise ValidationFailed(_("Some fields are invalid."),
                               fields={"url": [_("Must be a web address such as https://example.fi/kotiapu.")]})
    production = current_app.config.get("APP_ENV") == "production"
    if parts.scheme == "https" or (not production and _loopback(host)):
        return url
    message = _("The address must start with https://.") if production else _(
        "The address must start with https:// (http:// only to this machine, outside production).")
    raise InsecureUrl(message, fields={"url": [message]})


def check_events(events) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValidationFailed(_("Some fields are invalid."),
                               fields={"events": [_("Choose at least one event.")]})
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        raise ValidationFailed(_("Some fields are invalid."), fields={"events": [
            _("Unknown events: %(names)s. Known: %(known)s.", names=", ".join(unknown)[:300],
              known=", ".join(EVENT_TYPES))]})
    return list(dict.fromkeys(events))


def _endpoints(provider_id: int):
    return sa.select(WebhookEndpoint).where(WebhookEndpoint.provider_id == provider_id,
                                            WebhookEndpoint.deleted_at.is_(None))


def endpoints_of(provider_id: int) -> list[WebhookEndpoint]:
    return db.session.scalars(_endpoints(provider_id).order_by(WebhookEndpoint.id)).all()


def create_endpoint(actor, provider_id: int, url, events, description: str = "") -> WebhookEndpoint:
    """An organisation's administrator registers an endpoint. Its secret is returned
    on the row; ``reveal_secret`` shows it once."""
    provider_policy.require_manage(actor, provider_id)
    errors: dict = {}
    checked_url = checked_events = None
    for name, check, value in (("url", check_url, url), ("events", check_events, events)):
        try:
            if name == "url":
                checked_url = check(value)
            else:
                checked_events = check(value)
        except InsecureUrl:
            raise
        except ValidationFailed as exc:
            errors.update(exc.fields or {})
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(_endpoints(provider_id).subquery()))
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed(ngettext("An organisation can have at most %(num)d endpoint.", "An organisation can have at most %(num)d endpoints.", MAX_ENDPOINTS),
                               code="too_many_endpoints")
    endpoint = WebhookEndpoint(provider_id=provider_id, url=checked_url, events=checked_events,
                               description=(description or "").strip()[:200],
                               secret="whsec_" + secrets.token_urlsafe(32), created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def reveal_secret(endpoint: WebhookEndpoint) -> str | None:
    """The secret the first time it is asked for, None after that."""
    if endpoint.secret_shown:
        return None
    endpoint.secret_shown = True
    db.session.flush()
    return endpoint.secret


def visible_endpoint(actor, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint of the actor's organisation (any member may read its log), else 404."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None or not provider_policy.is_member(actor, endpoint.provider_id):
        raise NotFoundError(_("No such webhook endpoint."))
    return endpoint


def managed_endpoint(actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = visible_endpoint(actor, endpoint_id)
    provider_policy.require_manage(actor, endpoint.provider_id)
    return endpoint


def delete_endpoint(actor, endpoint_id: int) -> WebhookEndpoint:
    """Stop and remove an endpoint; its deliveries not yet made are cancelled."""
    endpoint = managed_endpoint(actor, endpoint_id)
    endpoint.active = False
    endpoint.deleted_at = utcnow()
    _cancel_pending(endpoint.id)
    db.session.flush()
    return endpoint


def enable_endpoint(actor, endpoint_id: int) -> WebhookEndpoint:
    """Switch a disabled endpoint back on (after fixing the receiver)."""
    endpoint = managed_endpoint(actor, endpoint_id)
    endpoint.active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.consecutive_failures = 0
    db.session.flush()
    return endpoint


def _cancel_pending(endpoint_id: int) -> None:
    db.session.execute(sa.update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, next_attempt_at=None))


def send_test_event(actor, endpoint_id: int) -> WebhookEvent:
    """The "send a test event" button: a ``webhook.test`` event to this endpoint only,
    delivered like any other (even to a disabled endpoint, to check it works again)."""
    endpoint = managed_endpoint(actor, endpoint_id)
    event = new_event(TEST_EVENT, endpoint.provider_id, None, endpoint_id=endpoint.id)
    event.data = {"message": "A test event from Kotiapu.", "endpoint_id": endpoint.id}
    db.session.flush()
    return event


def deliveries_query(endpoint_id: int):
    return (sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
            .options(sa.orm.joinedload(WebhookDelivery.event)))


def disabled_endpoints(provider_id: int) -> list[WebhookEndpoint]:
    return db.session.scalars(_endpoints(provider_id).where(WebhookEndpoint.active.is_(False))
                              .order_by(WebhookEndpoint.disabled_at.desc())).all()


# --------------------------------------------------------------------------- events


def new_event(type_: str, provider_id: int, subject_id: int | None, endpoint_id: int | None = None) -> WebhookEvent:
    event = WebhookEvent(public_id="evt_" + secrets.token_hex(12), type=type_, provider_id=provider_id,
                         subject_id=subject_id, endpoint_id=endpoint_id)
    db.session.add(event)
    db.session.flush()
    enqueue("interop.jobs.fan_out", event.id, queue="webhooks")
    return event


_statements: dict[str, sa.Select] = {}


# The answer of ``any_active_endpoint`` read earlier in the session's transaction
# (``note_any_active_endpoint``), kept in ``session.info``; interop.events drops it
# when the transaction ends and when the session writes an endpoint.
ENDPOINT_HINT = "interop_any_active_endpoint"


def any_active_endpoint_column():
    """Whether any endpoint is active, as a column for a query that a busy write
    makes anyway (placing an order reads its client, accepting an offer its offer):
    its answer, given to ``note_any_active_endpoint``, spares the commit the query of
    its own. Read within the same transaction as the commit's check; an endpoint
    another process creates meanwhile is missed either way, as it would be a moment
    after the check."""
    return sa.exists().where(WebhookEndpoint.active.is_(True),
                             WebhookEndpoint.deleted_at.is_(None)).label("any_webhook_endpoint")


def note_any_active_endpoint(value) -> None:
    """Keep the answer of ``any_active_endpoint_column`` for the rest of the session's
    transaction."""
    db.session().info[ENDPOINT_HINT] = bool(value)


def any_active_endpoint(session=None) -> bool:
    """One cheap query before looking at events in detail: most commits of a
    platform without webhooks stop here. No query when the transaction has read
    the answer already (``note_any_active_endpoint``)."""
    session = session if session is not None else db.session()
    hint = session.info.get(ENDPOINT_HINT)
    if hint is not None:
        return hint
    stmt = _statements.get("any_active")
    if stmt is None:  # built at first use and reused: every commit with events asks
        stmt = _statements["any_active"] = sa.select(any_active_endpoint_column())
    return bool(session.scalar(stmt))


def subscribed_providers(type_: str, provider_ids) -> set[int]:
    """Of ``provider_ids``, the organisations with an active endpoint for ``type_``."""
    ids = {i for i in provider_ids if i is not None}
    if not ids:
        return set()
    rows = db.session.execute(sa.select(WebhookEndpoint.provider_id, WebhookEndpoint.events).where(
        WebhookEndpoint.provider_id.in_(ids), WebhookEndpoint.active.is_(True),
        WebhookEndpoint.deleted_at.is_(None))).all()
    return {pid for pid, events in rows if type_ in (events or [])}
