"""Concerns: a worry about a client's wellbeing, raised in a visit report.

``raise_concern`` (called by ``orders.services.record_visit``) stores the text and
the urgency, opens the responsible worker's follow-up (code ``concern``), records
the e-mail job and notes the weak signal. The responsible worker acknowledges it
(``acknowledge_concern``, or by marking the follow-up done). An urgent concern
("contact today") not acknowledged within ``CONCERN_ACK_WORKING_HOURS`` working
hours is escalated by the periodic ``escalate_overdue_concerns`` to the other staff
of the client's area: the active staff members responsible for other clients in
the client's municipality (all other active staff when nobody is).

The text is for staff: the pages that show it log the read (``record_access``
with ``what="concern text"``); the client and relatives never see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from accounts.models import Role, User
from clients import signals
from clients.models import Client, Concern, FollowUp, FollowUpKind, Urgency
from clients.policy import _, require_staff
from core.access import Purpose, record_access
from core.db import utcnow
from core.errors import ConflictError, NotFoundError
from core.extensions import db
from core.jobs import enqueue
from core.time import add_working_hours

CONCERN_TEXT = "concern text"   # the access log's "what" when the text is shown
DESCRIPTION_MAX = 4000
ESCALATION_LIMIT = 200


def ack_hours() -> float:
    return float(current_app.config.get("CONCERN_ACK_WORKING_HOURS", 4.0))


def acknowledge_by(concern: Concern) -> datetime | None:
    """When an urgent concern must be acknowledged by (None for "within a week")."""
    if concern.urgency != Urgency.TODAY:
        return None
    return add_working_hours(concern.created_at, ack_hours())


def raise_concern(actor, *, client: Client, order, visit, description: str, urgency: str) -> Concern:
    """Store a concern from a visit report (the caller validated the text and the
    urgency) and alert the responsible worker (else the staff member who placed
    the order): a follow-up at once, the e-mail through the outbox."""
    now = utcnow()
    concern = Concern(client_id=client.id, order_id=order.id, visit_id=visit.id, provider_id=visit.provider_id,
                      reported_by_id=actor.id, description=description, urgency=urgency, created_at=now)
    db.session.add(concern)
    db.session.flush()
    due = now if urgency == Urgency.TODAY else now + timedelta(days=7)
    db.session.add(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id or order.ordered_by_id,
                            kind=FollowUpKind.CONCERN, order_id=order.id, due_at=due, concern_id=concern.id,
                            code="concern", params={"order": order.number, "urgency": urgency},
                            title=f"Concern in a visit report on order {order.number}"))
    db.session.flush()
    enqueue("clients.jobs.send_concern_alert", concern.id, queue="mail")
    if urgency == Urgency.TODAY:
        # Scheduled at the deadline (RQ's scheduler); the periodic sweep is the safety net.
        enqueue("clients.jobs.check_concern_acknowledged", concern.id, at=acknowledge_by(concern))
    signals.note_signal(client.id, signals.CONCERN, f"provider:{visit.provider_id}", at=now)
    return concern


def acknowledge_concern(actor, concern_id: int) -> Concern:
    """The responsible worker (or any staff member) has read the concern and takes
    it on: it will not be escalated. ConflictError when already acknowledged."""
    require_staff(actor)
    concern = db.session.get(Concern, concern_id) if isinstance(concern_id, int) else None
    if concern is None:
        raise NotFoundError(_("Not found."))
    claimed = db.session.execute(
        sa.update(Concern).where(Concern.id == concern.id, Concern.acknowledged_at.is_(None))
        .values(acknowledged_at=utcnow(), acknowledged_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("This concern is already acknowledged."), code="already_acknowledged")
    db.session.refresh(concern)
    record_access(concern.client_id, "change", Purpose.GUIDANCE, what="follow-up", actor=actor)
    return concern


def acknowledge_quietly(concern_id: int | None, actor) -> None:
    """Marking a concern's follow-up done acknowledges the concern too."""
    if concern_id is None:
        return
    db.session.execute(
        sa.update(Concern).where(Concern.id == concern_id, Concern.acknowledged_at.is_(None))
        .values(acknowledged_at=utcnow(), acknowledged_by_id=getattr(actor, "id", None))
        .execution_options(synchronize_session=False))


def area_staff(client: Client, exclude: set[int]) -> list[User]:
    """The other staff of the client's area: active staff responsible for live
    clients in the same municipality; when there are none, all active staff."""
    active = sa.select(User).where(User.role == Role.STAFF, User.active.is_(True), User.id.not_in(exclude or {0}))
    in_area = db.session.scalars(active.where(User.id.in_(
        sa.select(Client.responsible_worker_id).where(Client.municipality == client.municipality,
                                                      Client.erased_at.is_(None))))
        .order_by(User.id)).all()
    return in_area or db.session.scalars(active.order_by(User.id)).all()


def escalate_overdue_concerns(now: datetime | None = None, limit: int = ESCALATION_LIMIT,
                              concern_id: int | None = None) -> int:
    """Periodic: every urgent concern not acknowledged within the working hours
    goes to the other staff of the client's area (a follow-up each and an
    e-mail). Idempotent: the conditional UPDATE of ``escalated_at`` decides which
    run escalates a concern. Returns how many were escalated."""
    now = now or utcnow()
    candidates = db.session.scalars(sa.select(Concern).where(
        Concern.urgency == Urgency.TODAY, Concern.acknowledged_at.is_(None), Concern.escalated_at.is_(None),
        Concern.created_at <= now - timedelta(hours=ack_hours()),
        *([Concern.id == concern_id] if concern_id is not None else [])).order_by(Concern.id).limit(limit)).all()
    escalated = 0
    for concern in candidates:
        if acknowledge_by(concern) > now:
            continue
        won = db.session.execute(
            sa.update(Concern).where(Concern.id == concern.id, Concern.escalated_at.is_(None),
                                     Concern.acknowledged_at.is_(None))
            .values(escalated_at=now).execution_options(synchronize_session=False)).rowcount
        if won != 1:
            continue
        client = db.session.get(Client, concern.client_id)
        if client is None or client.erased_at is not None:
            continue
        from orders.models import ServiceOrder

        order = db.session.get(ServiceOrder, concern.order_id) if concern.order_id else None
        worker_id = client.responsible_worker_id or (order.ordered_by_id if order else None)
        number = order.number if order else ""
        for user in area_staff(client, {worker_id} if worker_id else set()):
            db.session.add(FollowUp(client_id=client.id, assigned_to_id=user.id, kind=FollowUpKind.CONCERN,
                                    order_id=concern.order_id, due_at=now, concern_id=concern.id,
                                    code="concern_escalated", params={"order": number, "hours": f"{ack_hours():g}"},
                                    title=f"Escalated concern on order {number}"))
            enqueue("clients.jobs.send_concern_escalation", concern.id, user.id, queue="mail")
        escalated += 1
    db.session.flush()
    return escalated


def open_concerns_for(client_id: int) -> list[Concern]:
    return db.session.scalars(sa.select(Concern).where(Concern.client_id == client_id)
                              .order_by(Concern.created_at.desc())).all()
