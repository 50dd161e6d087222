"""Retention and erasure: the retention sweep and its keep decision, the
client's erasure request, its refusal and the erasure itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext

from accounts.models import User
from clients import jobs, policy
from clients.base import (
    OPEN_ORDER_STATES, SWEEP_LIMIT, _, clean_text, live_client, record_event, required_text, staff_client,
)
from clients.follow_ups import close_open_follow_ups, open_follow_up
from clients.models import Client, ClientEventAction, ClientRepresentative, FollowUpKind, Message, NetworkMember
from core.access import Purpose, record_access
from core.db import utcnow
from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from orders.models import ServiceOrder, VisitReport


def sweep_retention(now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Periodic: flag for erasure every client with no activity for RETENTION_DAYS
    (default two years after the last service) and no open order, with a
    follow-up for the responsible worker; unflag clients whose activity resumed.
    Idempotent; returns how many were flagged."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    open_order = sa.select(ServiceOrder.id).where(ServiceOrder.client_id == Client.id,
                                                  ServiceOrder.status.in_(OPEN_ORDER_STATES)).exists()
    resumed = db.session.scalars(sa.select(Client).where(
        Client.erased_at.is_(None), Client.retention_flagged_at.is_not(None),
        sa.or_(Client.last_activity_at > cutoff, open_order)).limit(limit)).all()
    for client in resumed:
        client.retention_flagged_at = None
        close_open_follow_ups(client.id, FollowUpKind.RETENTION, None, "activity resumed")
    clients = db.session.scalars(sa.select(Client).where(
        Client.erased_at.is_(None), Client.retention_flagged_at.is_(None), Client.last_activity_at <= cutoff,
        ~open_order).order_by(Client.id).limit(limit)).all()
    for client in clients:
        claimed = db.session.execute(
            sa.update(Client).where(Client.id == client.id, Client.retention_flagged_at.is_(None))
            .values(retention_flagged_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue
        record_event(client.id, ClientEventAction.RETENTION_FLAGGED, None, at=now, code="client.no_activity",
                     params={"num": int(current_app.config["RETENTION_DAYS"])})
        open_follow_up(client, FollowUpKind.RETENTION,
                       "No services for the retention period: erase the record, or keep it if still needed",
                       code="retention", params={})
    db.session.flush()
    return len(clients)


def keep_client_record(actor, client_id: int, reason: str) -> Client:
    """Staff decide that a record flagged by the retention sweep is still needed
    (with the reason): the flag is removed and the retention period starts again.
    Raises ValidationFailed, ConflictError (not flagged)."""
    client = staff_client(actor, client_id)
    reason = required_text(reason, "reason", 500, _("Give the reason for keeping the record."))
    if client.retention_flagged_at is None:
        raise ConflictError(_("The record is not flagged for erasure."), code="not_flagged")
    now = utcnow()
    client.retention_flagged_at = None
    client.last_activity_at = now
    close_open_follow_ups(client.id, FollowUpKind.RETENTION, actor, reason)
    record_event(client.id, ClientEventAction.RETENTION_KEPT, actor, note=reason, at=now)
    db.session.flush()
    record_access(client.id, "change", Purpose.GUIDANCE, what="retention decision", actor=actor)
    return client


# -- erasure -------------------------------------------------------------------

def request_erasure(actor, client_id: int, reason: str | None = None) -> Client:
    """The client (their own login; not a relative) or staff on the client's
    behalf ask for the record to be erased. Staff decide: a follow-up goes to the
    responsible worker, who is also told by e-mail. Raises PermissionDenied (a
    relative), ConflictError (already asked), NotFoundError."""
    policy.require_own_or_staff(actor, client_id,
                                refused=_("Only the client or guidance staff can ask for erasure."),
                                denied=_("Only the client themselves can ask for their data to be erased."))
    client = live_client(client_id)
    errors: dict[str, list[str]] = {}
    reason = clean_text(reason, errors, "reason", 1000)
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Client).where(Client.id == client.id, Client.erasure_requested_at.is_(None))
        .values(erasure_requested_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("Erasure has already been asked for; the guidance office will answer."),
                            code="erasure_already_requested")
    db.session.refresh(client)
    record_event(client.id, ClientEventAction.ERASURE_REQUESTED, actor, note=reason, at=now)
    open_follow_up(client, FollowUpKind.ERASURE, "The client asked for their data to be erased: decide",
                   code="erasure", params={})
    record_access(client.id, "change", Purpose.ERASURE, what="erasure request", actor=actor)
    enqueue(jobs.send_erasure_request_notification, client.id, queue="mail")
    return client


def decline_erasure(actor, client_id: int, reason: str) -> Client:
    """Staff decline an erasure request with the reason (e.g. the law requires the
    social-welfare record to be kept); the client sees the answer in their portal
    and gets an e-mail telling them to look. Raises ValidationFailed,
    ConflictError (no request)."""
    client = staff_client(actor, client_id)
    reason = required_text(reason, "reason", 1000, _("Give the reason."))
    if client.erasure_requested_at is None:
        raise ConflictError(_("The client has not asked for erasure."), code="no_erasure_request")
    client.erasure_requested_at = None
    close_open_follow_ups(client.id, FollowUpKind.ERASURE, actor, reason)
    event = record_event(client.id, ClientEventAction.ERASURE_DECLINED, actor, note=reason)
    db.session.flush()
    record_access(client.id, "change", Purpose.ERASURE, what="erasure decision", actor=actor)
    enqueue(jobs.send_erasure_declined_notification, event.id, queue="mail")
    return client


PSEUDONYM_FIRST = "Poistettu"


def erase_client(actor, client_id: int) -> Client:
    """Staff approve erasure (asked for by the client, or flagged by the retention
    sweep). The person is pseudonymised: names become "Poistettu asiakas <id>";
    identity code, birth date, address, phone, e-mail and notes are cleared; the
    postal code, municipality, languages and segment stay for area and service
    statistics. Orders, visits, feedback, guidance contacts and the access log stay
    (report counts do not change); free text about the person (order
    instructions and outcome notes, visit notes, message bodies) is cleared, the
    network is removed, relatives' access ends, and the client's own logins are
    deactivated and pseudonymised. Raises ConflictError (not requested nor
    flagged; orders still open)."""
    client = staff_client(actor, client_id)
    if client.erasure_requested_at is None and client.retention_flagged_at is None:
        raise ConflictError(_("Erase a record only when the client asks for it or the retention period has passed."),
                            code="erasure_not_requested")
    open_orders = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder).where(
        ServiceOrder.client_id == client.id, ServiceOrder.status.in_(OPEN_ORDER_STATES)))
    if open_orders:
        raise ConflictError(ngettext("The client has %(num)s open order: cancel or close it first.",
                                     "The client has %(num)s open orders: cancel or close them first.", open_orders),
                            code="open_orders")
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Client).where(Client.id == client.id, Client.erased_at.is_(None)).values(
            first_name=PSEUDONYM_FIRST, last_name=f"asiakas {client.id}", birth_date=None,
            personal_identity_code=None, address="", phone=None, email=None, notes="", non_disclosure=False,
            consent_to_share=False, erased_at=now, erasure_requested_at=None, retention_flagged_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise NotFoundError(_("Client not found."))
    order_ids = sa.select(ServiceOrder.id).where(ServiceOrder.client_id == client.id).scalar_subquery()
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.client_id == client.id)
                       .values(instructions="", outcome_note=None).execution_options(synchronize_session=False))
    db.session.execute(sa.update(VisitReport).where(VisitReport.order_id.in_(order_ids))
                       .values(note=None).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Message).where(Message.client_id == client.id)
                       .values(body="").execution_options(synchronize_session=False))
    db.session.execute(sa.delete(NetworkMember).where(NetworkMember.client_id == client.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(ClientRepresentative).where(
        ClientRepresentative.client_id == client.id, ClientRepresentative.ended_at.is_(None))
        .values(ended_at=now).execution_options(synchronize_session=False))
    for user in db.session.scalars(sa.select(User).where(User.client_id == client.id)):
        user.active = False
        user.session_version += 1
        user.email = f"erased-{user.id}@erased.invalid"
        user.name = f"Poistettu asiakas {client.id}"
        user.phone = None
        user.password_hash = "!erased"
    close_open_follow_ups(client.id, FollowUpKind.ERASURE, actor, "erased")
    close_open_follow_ups(client.id, FollowUpKind.RETENTION, actor, "erased")
    close_open_follow_ups(client.id, FollowUpKind.SEGMENT_CHECK, actor, "erased")
    record_event(client.id, ClientEventAction.ERASED, actor, at=now)
    db.session.flush()
    db.session.refresh(client)
    record_access(client.id, "erase", Purpose.ERASURE, what="client record", actor=actor)
    return client
