"""Order jobs: notifications and offer deadlines. Each takes ids, reloads its rows,
does nothing when the state has moved on, and sends each message at most once
(``dedupe_key``)."""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa

from accounts.models import User
from clients.models import Client
from core.extensions import db
from core.mail import language_of, send_templated
from core.models import OutgoingEmail
from core.urls import absolute_url
from feedback.services import issue_feedback_link
from orders import offers
from orders.models import Offer, OfferStatus, OrderStatus, ServiceOrder
from providers.models import Provider


def _order_url(order_id: int) -> str:
    return absolute_url("orders.detail", order_id=order_id)


def _offer_job(status: str):
    """Decorates ``job(offer, order, provider)`` into the job ``job(offer_id)``, which
    is "skipped" unless the offer is still ``status`` (the state moved on and the
    message is no longer due)."""

    def decorate(job):
        @wraps(job)
        def run(offer_id: int) -> str:
            offer = db.session.get(Offer, offer_id)
            if offer is None or offer.status != status:
                return "skipped"
            return job(offer, db.session.get(ServiceOrder, offer.order_id), db.session.get(Provider, offer.provider_id))

        return run

    return decorate


@_offer_job(OfferStatus.PENDING)
def send_offer_notification(offer, order, provider) -> str:
    """Tell a provider organisation it has a new offer to answer (no client identity)."""
    client = db.session.get(Client, order.client_id)
    send_templated(provider.email, "orders/email/offer.txt", language_of(provider.languages),
                   f"offer:{offer.id}", order=order, offer=offer, postal_code=client.postal_code,
                   url=_order_url(order.id))
    return "sent"


def check_offer_deadline(offer_id: int) -> str:
    """Scheduled at the offer's deadline: expire it if still unanswered."""
    return "expired" if offers.expire_offer(offer_id) else "skipped"


def expire_overdue_offers() -> int:
    """Periodic safety net for deadlines whose scheduled job was lost."""
    return offers.expire_overdue_offers()


def send_acceptance_notifications(order_id: int) -> str:
    """To the ordering staff member and the client: the order was accepted."""
    order = db.session.get(ServiceOrder, order_id)
    if order is None or order.provider_id is None:
        return "skipped"
    staff = db.session.get(User, order.ordered_by_id)
    client = db.session.get(Client, order.client_id)
    provider = db.session.get(Provider, order.provider_id)
    send_templated(staff.email, "orders/email/accepted_staff.txt", staff.language, f"accepted-staff:{order.id}",
                   order=order, provider=provider, url=_order_url(order.id))
    send_templated(client.email, "orders/email/accepted_client.txt", language_of(client.languages),
                   f"accepted-client:{order.id}", order=order, provider=provider, client=client)
    return "sent"


@_offer_job(OfferStatus.WITHDRAWN)
def send_offer_withdrawn_notification(offer, order, provider) -> str:
    """Tell a provider that an offer it was notified of is no longer open (never
    about an offer it was not told of in the first place)."""
    if db.session.query(OutgoingEmail.id).filter_by(dedupe_key=f"offer:{offer.id}").first() is None:
        return "skipped"
    send_templated(provider.email, "orders/email/withdrawn.txt", language_of(provider.languages),
                   f"withdrawn:{offer.id}", order=order)
    return "sent"


@_offer_job(OfferStatus.DECLINED)
def send_decline_notification(offer, order, provider) -> str:
    """To the ordering staff member: a provider declined, with its reason."""
    staff = db.session.get(User, order.ordered_by_id)
    send_templated(staff.email, "orders/email/declined.txt", staff.language, f"declined:{offer.id}",
                   order=order, provider=provider, reason=offer.decline_reason, url=_order_url(order.id))
    return "sent"


def send_escalation_notification(order_id: int) -> str:
    """To the ordering staff member: nobody took the order; re-offer or cancel."""
    order = db.session.get(ServiceOrder, order_id)
    if order is None or order.status != OrderStatus.ESCALATED:
        return "skipped"
    staff = db.session.get(User, order.ordered_by_id)
    send_templated(staff.email, "orders/email/escalated.txt", staff.language,
                   f"escalated:{order.id}:{order.escalated_at.isoformat()}", order=order, url=_order_url(order.id))
    return "sent"


def send_concern_alert(visit_id: int) -> str:
    """A job recorded before concerns were rows of their own: the alert is now
    ``clients.jobs.send_concern_alert`` (with the concern's text)."""
    from clients.jobs import send_concern_alert as alert
    from clients.models import Concern

    concern_id = db.session.scalar(sa.select(Concern.id).where(Concern.visit_id == visit_id))
    return alert(concern_id) if concern_id else "skipped"


def send_completion_notifications(order_id: int) -> str:
    """To the client: the service is completed, with the one-time feedback link;
    to the ordering staff member: close the loop. The link itself was created with
    the completion (``complete_order``); this finds it again."""
    order = db.session.get(ServiceOrder, order_id)
    if order is None or order.status not in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
        return "skipped"
    client = db.session.get(Client, order.client_id)
    language = language_of(client.languages)
    link, token = issue_feedback_link(order_id=order.id, language=language)
    provider = db.session.get(Provider, order.provider_id)
    send_templated(client.email, "orders/email/completed_client.txt", language, f"completed-client:{order.id}",
                   order=order, provider=provider, feedback_url=absolute_url("feedback.form", token=token),
                   expires_at=link.expires_at)
    staff = db.session.get(User, order.ordered_by_id)
    send_templated(staff.email, "orders/email/completed_staff.txt", staff.language, f"completed-staff:{order.id}",
                   order=order, provider=provider, url=_order_url(order.id))
    return "sent"


def send_cancellation_notifications(order_id: int) -> str:
    """To the providers concerned (offered or winning) and the client."""
    order = db.session.get(ServiceOrder, order_id)
    if order is None or order.status != OrderStatus.CANCELLED:
        return "skipped"
    provider_ids = {o.provider_id for o in order.offers if o.sent_at is not None}
    for provider in db.session.query(Provider).filter(Provider.id.in_(provider_ids)):
        send_templated(provider.email, "orders/email/cancelled_provider.txt", language_of(provider.languages),
                       f"cancelled:{order.id}:{provider.id}", order=order)
    client = db.session.get(Client, order.client_id)
    if order.provider_id is not None:
        send_templated(client.email, "orders/email/cancelled_client.txt", language_of(client.languages),
                       f"cancelled-client:{order.id}", order=order)
    return "sent"
