"""Webhook jobs (queue ``webhooks``): fan an event out to its endpoints, and deliver
one event to one endpoint with retries and exponential backoff. Each takes ids,
reloads its rows and does nothing when the work is already done."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import requests
import sqlalchemy as sa
from flask import current_app

from accounts.models import ProviderRole, Role, User
from core.access import Purpose, record_access
from core.api import iso
from core.db import utcnow
from core.extensions import db
from core.jobs import enqueue
from core.mail import language_of, send_templated
from core.urls import absolute_url
from interop import webhooks
from interop.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from interop.payloads import event_data
from providers.models import Provider


def fan_out(event_id: int) -> str:
    """Write the event's ``data`` (as the organisation sees it through the API) and
    one delivery per subscribed endpoint, each with its delivery job."""
    event = db.session.scalar(sa.select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update())
    if event is None or event.dispatched_at is not None:
        return "skipped"
    event.dispatched_at = utcnow()
    if event.endpoint_id is not None:
        endpoints = db.session.scalars(sa.select(WebhookEndpoint).where(
            WebhookEndpoint.id == event.endpoint_id, WebhookEndpoint.deleted_at.is_(None))).all()
    else:
        endpoints = [e for e in webhooks.endpoints_of(event.provider_id) if e.active and event.type in e.events]
    if not endpoints:
        return "no endpoints"
    if event.data is None:
        built = event_data(event)
        if built is None:  # the subject is gone or no longer visible to the organisation
            return "not visible"
        event.data, client_id = built
        if client_id is not None:
            record_access(client_id, "webhook", Purpose.SERVICE,
                          what=f"{event.type} event {event.public_id} to the provider's system")
    body = json.dumps({"id": event.public_id, "type": event.type, "created_at": iso(event.created_at),
                       "data": event.data}, ensure_ascii=False, separators=(",", ":"))
    for endpoint in endpoints:
        delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, body=body,
                                   next_attempt_at=utcnow())
        db.session.add(delivery)
        db.session.flush()
        enqueue(deliver, delivery.id, queue="webhooks")
    return f"{len(endpoints)} deliveries"


def backoff_seconds(attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: base, 2×base, 4×base, …"""
    return webhooks.setting("WEBHOOK_RETRY_BASE_SECONDS") * 2 ** (attempts - 1)


def deliver(delivery_id: int) -> str:
    """POST the delivery's body, signed, once. A 2xx answer delivers it; otherwise the
    next attempt is scheduled with exponential backoff until the attempts are used
    up, and an endpoint whose deliveries keep failing is disabled."""
    delivery = db.session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                 .with_for_update())
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return "skipped"
    endpoint, event = delivery.endpoint, delivery.event
    now = utcnow()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        # RQ's scheduler counts whole seconds: a retry may start a little early. Wait.
        enqueue(deliver, delivery.id, queue="webhooks", at=delivery.next_attempt_at)
        return "not yet"
    if endpoint.deleted_at is not None or (not endpoint.active and event.type != webhooks.TEST_EVENT):
        delivery.status, delivery.next_attempt_at = DeliveryStatus.CANCELLED, None
        return "cancelled"
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Kotiapu-Webhooks/1",
               "Kotiapu-Event": event.type, "Kotiapu-Event-Id": event.public_id,
               webhooks.SIGNATURE_HEADER: webhooks.sign(endpoint.secret, body)}
    started = time.monotonic()
    code, error = None, None
    try:
        # The time-out is a setting (bandit does not see it through the call).
        response = requests.post(endpoint.url, data=body, headers=headers, allow_redirects=False,  # nosec B113
                                 timeout=webhooks.setting("WEBHOOK_TIMEOUT_SECONDS"))
        code = response.status_code
        response.close()
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except requests.RequestException as exc:
        # The class only: an exception's text may carry the URL's query string.
        error = exc.__class__.__name__
    db.session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=code, error=error,
                                  duration_ms=int((time.monotonic() - started) * 1000)))
    delivery.attempts += 1
    delivery.status_code, delivery.last_error, delivery.last_attempt_at = code, error, now
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
        if event.type != webhooks.TEST_EVENT:
            endpoint.consecutive_failures = 0
        return "delivered"
    if delivery.attempts < webhooks.setting("WEBHOOK_MAX_ATTEMPTS"):
        at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
        delivery.next_attempt_at = at
        enqueue(deliver, delivery.id, queue="webhooks", at=at)
        return "retry"
    delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    if event.type != webhooks.TEST_EVENT:
        endpoint.consecutive_failures += 1
        if endpoint.active and endpoint.consecutive_failures >= webhooks.setting("WEBHOOK_DISABLE_AFTER"):
            _disable(endpoint)
            return "failed, endpoint disabled"
    return "failed"


def _disable(endpoint: WebhookEndpoint) -> None:
    """Switch the endpoint off, cancel what it still had to get, and tell the
    organisation (e-mail to the organisation and its administrators; its dashboard
    and webhooks page show it too)."""
    endpoint.active = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = f"{endpoint.consecutive_failures} deliveries in a row failed"
    db.session.flush()
    db.session.execute(sa.update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, next_attempt_at=None))
    enqueue(notify_disabled, endpoint.id, queue="mail")


def notify_disabled(endpoint_id: int) -> str:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.active or endpoint.disabled_at is None:
        return "skipped"
    provider = db.session.get(Provider, endpoint.provider_id)
    url = absolute_url("interop.webhooks_page")
    key = f"webhook-disabled:{endpoint.id}:{int(endpoint.disabled_at.timestamp())}"
    sent = 0
    recipients = [(provider.email, language_of(provider.languages))]
    admins = db.session.execute(sa.select(User.email, User.language).where(
        User.provider_id == provider.id, User.role == Role.PROVIDER, User.provider_role == ProviderRole.ADMIN,
        User.active.is_(True))).all()
    recipients += [(email, language) for email, language in admins]
    for email, language in dict(recipients).items():
        if send_templated(email, "interop/email/endpoint_disabled.txt", language or "fi", f"{key}:{email}",
                          endpoint=endpoint, provider=provider, url=url,
                          failures=endpoint.consecutive_failures):
            sent += 1
    current_app.logger.info("webhook endpoint %s disabled; %s message(s) queued", endpoint.id, sent)
    return f"{sent} sent"
