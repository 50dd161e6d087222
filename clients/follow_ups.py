"""Follow-ups for the responsible worker and the periodic check-up sweep."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import ngettext

from clients.base import SWEEP_LIMIT, _, live_client, record_event
from clients.models import SEGMENT_CHECK_DAYS, Client, ClientEventAction, FollowUp, FollowUpKind, Segment
from clients.policy import require_staff
from core.access import Purpose, record_access
from core.db import utcnow
from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.extensions import db


def close_open_follow_ups(client_id: int, kind: str, actor, note: str) -> int:
    """Mark the client's open follow-ups of one kind done (conditional UPDATE)."""
    return db.session.execute(
        sa.update(FollowUp).where(FollowUp.client_id == client_id, FollowUp.kind == kind, FollowUp.done_at.is_(None))
        .values(done_at=utcnow(), done_by_id=getattr(actor, "id", None), done_note=note)
        .execution_options(synchronize_session=False)).rowcount


def open_follow_up(client: Client, kind: str, title: str, due_at: datetime | None = None,
                   order_id: int | None = None, code: str | None = None,
                   params: dict | None = None) -> FollowUp | None:
    """Open a follow-up for the client's responsible worker unless one of the same
    kind is already open for the client (returns None then). ``code`` and ``params``
    name the title in ``clients.texts`` (``title``: its English fallback). For the swept kinds a
    partial unique index is the backstop when two sweeps race: the loser's insert
    is rolled back to a savepoint."""
    exists = db.session.scalar(sa.select(FollowUp.id).where(
        FollowUp.client_id == client.id, FollowUp.kind == kind, FollowUp.done_at.is_(None)).limit(1))
    if exists:
        return None
    return insert_follow_up(FollowUp(client_id=client.id, assigned_to_id=client.responsible_worker_id, kind=kind,
                                     title=title, due_at=due_at or utcnow(), order_id=order_id, code=code,
                                     params=params if code else None))


def insert_follow_up(follow: FollowUp) -> FollowUp | None:
    """Insert in a savepoint: when the partial unique index refuses it (another
    sweep opened the same reminder a moment ago) only the savepoint is rolled
    back, the caller's transaction goes on, and None is returned."""
    try:
        with db.session.begin_nested():
            db.session.add(follow)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None
    return follow


def complete_follow_up(actor, follow_up_id: int, note: str | None = None) -> FollowUp:
    """Staff mark a follow-up done, with a note. Done segment check-ups record the
    check (``last_check_at``), so the next one comes after the segment's interval.
    Raises NotFoundError, ConflictError (already done)."""
    require_staff(actor)
    follow = db.session.get(FollowUp, follow_up_id) if isinstance(follow_up_id, int) else None
    if follow is None:
        raise NotFoundError(_("Not found."))
    client = live_client(follow.client_id)
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        raise ValidationFailed(_("The note is too long."), fields={"note": [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]})
    now = utcnow()
    claimed = db.session.execute(
        sa.update(FollowUp).where(FollowUp.id == follow.id, FollowUp.done_at.is_(None))
        .values(done_at=now, done_by_id=actor.id, done_note=note).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ConflictError(_("This follow-up is already done."), code="already_done")
    if follow.concern_id is not None:
        from clients.concerns import acknowledge_quietly

        acknowledge_quietly(follow.concern_id, actor)
    if follow.kind == FollowUpKind.SEGMENT_CHECK:
        client.last_check_at = now
        record_event(client.id, ClientEventAction.CHECKED, actor, at=now)
    db.session.flush()
    db.session.refresh(follow)
    record_access(client.id, "change", Purpose.GUIDANCE, what="follow-up", actor=actor)
    return follow


def sweep_segment_checks(now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Periodic: open a check-up follow-up for every client whose segment's
    interval (SEGMENT_CHECK_DAYS) has passed since the last check (or since
    registration), unless one is open. Idempotent; returns how many were opened."""
    now = now or utcnow()
    due = sa.func.coalesce(Client.last_check_at, Client.created_at)
    open_check = sa.select(FollowUp.id).where(FollowUp.client_id == Client.id, FollowUp.done_at.is_(None),
                                              FollowUp.kind == FollowUpKind.SEGMENT_CHECK).exists()
    per_segment = [sa.and_(Client.segment == segment, due <= now - timedelta(days=days))
                   for segment, days in SEGMENT_CHECK_DAYS.items()]
    clients = db.session.scalars(
        sa.select(Client).where(Client.erased_at.is_(None), sa.or_(*per_segment), ~open_check)
        .order_by(Client.id).limit(limit)).all()
    opened = 0
    for client in clients:
        base = client.last_check_at or client.created_at
        title = {Segment.INDEPENDENT: "Check-up of an independent client (every 180 days)",
                 Segment.GUIDANCE: "Check-up of a client who needs guidance (every 60 days)",
                 Segment.INTENSIVE: "Check-up of a client who needs intensive coordination (every 14 days)",
                 }[Segment(client.segment)]
        if open_follow_up(client, FollowUpKind.SEGMENT_CHECK, title, code=f"segment_check_{client.segment}", params={},
                          due_at=base + timedelta(days=SEGMENT_CHECK_DAYS[Segment(client.segment)])):
            opened += 1
    return opened
