"""Weak signals about a client, noticed together.

Four kinds of signal come from different places: a concern raised in a visit
report, a provider's reason for declining an order, a visit the provider could not
make (the client was not reached), and low feedback from the client (a rating of 2
or less, or "needs not met"). ``timeline`` puts every one of them of the last
``SIGNAL_TIMELINE_DAYS`` from all providers on one list for the client's page.

``note_signal`` is called by the service that records a signal, in its
transaction: when another signal about the same client came from a *different
source* (another provider, or the client's own feedback against a provider's
report) within ``SIGNAL_WINDOW_DAYS``, the client's open signal follow-ups get a
raised priority and the coded reason (which two signals, from whom, when); when
none is open, one is opened for the responsible worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from clients.models import Client, Concern, FollowUp, FollowUpKind
from core.db import utcnow
from core.extensions import db
from core.time import local_date

CONCERN, DECLINE, MISSED_VISIT, LOW_FEEDBACK = "concern", "decline", "missed_visit", "low_feedback"
LOW_RATING = 2  # as feedback.services.LOW_RATING: the same "needs attention" line
# The follow-ups a second signal raises: those opened by signals.
SIGNAL_FOLLOW_UP_KINDS = (FollowUpKind.CONCERN, FollowUpKind.FEEDBACK, FollowUpKind.SIGNALS)


@dataclass
class Signal:
    kind: str
    at: datetime
    source: str            # "provider:<id>" or "client": two signals differ in source when this differs
    source_name: str       # the provider's name, or "client"
    order_id: int | None
    order_number: str | None
    text: str | None = None        # concern text or decline reason (staff only)
    urgency: str | None = None     # concerns
    rating: int | None = None      # low feedback


def _window_days() -> int:
    return int(current_app.config.get("SIGNAL_WINDOW_DAYS", 30))


_KINDS = (CONCERN, DECLINE, MISSED_VISIT, LOW_FEEDBACK)


def _constant(value: int):
    """An integer written into the statement (not a bound parameter)."""
    return sa.literal_column(str(int(value)), sa.Integer)


def _signals_query():
    """The four kinds of signal as one ``UNION ALL`` of plain rows, for the bound
    ``client_id`` and ``since``; built once.

    Every other value (the kinds, the declined status, the low rating) is written
    into the statement, not bound: PostgreSQL plans a prepared statement afresh on
    each run while it has a bound value whose selectivity the generic plan cannot
    know (the offers' status), and planning this ten-table union took about 1 ms,
    five times as long as running it. With only the client and the date bound, it
    keeps one generic plan (the same plan) after five runs on a connection."""
    from feedback.models import Feedback
    from orders.models import Offer, OfferStatus, ServiceOrder, VisitReport
    from providers.models import Provider

    client_id = sa.bindparam("client_id", type_=sa.Integer)
    since = sa.bindparam("since", type_=Concern.created_at.type)
    no_text, no_number = sa.cast(sa.null(), sa.Text), sa.cast(sa.null(), sa.Integer)
    concerns = (sa.select(_constant(0).label("kind"), Concern.created_at.label("at"),
                          Concern.provider_id.label("provider_id"), Provider.name.label("provider_name"),
                          Concern.order_id.label("order_id"), ServiceOrder.number.label("number"),
                          Concern.description.label("text"), Concern.urgency.label("urgency"),
                          no_number.label("rating"))
                .outerjoin(ServiceOrder, ServiceOrder.id == Concern.order_id)
                .outerjoin(Provider, Provider.id == Concern.provider_id)
                .where(Concern.client_id == client_id, Concern.created_at >= since))
    declines = (sa.select(_constant(1), Offer.answered_at, Offer.provider_id, Provider.name,
                          Offer.order_id, ServiceOrder.number, Offer.decline_reason, no_text, no_number)
                .join(ServiceOrder, ServiceOrder.id == Offer.order_id)
                .join(Provider, Provider.id == Offer.provider_id)
                .where(ServiceOrder.client_id == client_id, Offer.status == sa.literal_column(f"'{OfferStatus.DECLINED.value}'", sa.String),
                       Offer.answered_at >= since))
    missed = (sa.select(_constant(2), VisitReport.created_at, VisitReport.provider_id, Provider.name,
                        VisitReport.order_id, ServiceOrder.number, VisitReport.note, no_text, no_number)
              .join(ServiceOrder, ServiceOrder.id == VisitReport.order_id)
              .join(Provider, Provider.id == VisitReport.provider_id)
              .where(ServiceOrder.client_id == client_id, VisitReport.missed.is_(True),
                     VisitReport.created_at >= since))
    feedback = (sa.select(_constant(3), Feedback.created_at, no_number, no_text, Feedback.order_id,
                          ServiceOrder.number, no_text, no_text, Feedback.rating)
                .outerjoin(ServiceOrder, ServiceOrder.id == Feedback.order_id)
                .where(Feedback.client_id == client_id, Feedback.created_at >= since,
                       sa.or_(Feedback.rating <= _constant(LOW_RATING), Feedback.needs_met.is_(False))))
    return sa.union_all(concerns, declines, missed, feedback).order_by(sa.text("kind"))


_query = []  # the statement, once built


def signals_since(client_id: int, since: datetime) -> list[Signal]:
    """Every signal about the client from ``since`` on, newest first (of the same
    instant: concerns, declines, missed visits, feedback). One query: the four
    kinds as one ``UNION ALL`` of plain rows."""
    if not _query:
        _query.append(_signals_query())
    found: list[Signal] = []
    # On the session's connection as a Core statement (plain columns; see clients.queries._core_rows).
    for kind, at, provider_id, name, order_id, number, body, urgency, rating in db.session.connection().execute(
            _query[0], {"client_id": client_id, "since": since}).all():
        kind = _KINDS[kind]
        if kind == LOW_FEEDBACK:
            found.append(Signal(kind, at, "client", "client", order_id, number, rating=rating))
        else:
            found.append(Signal(kind, at, f"provider:{provider_id}", name or "", order_id, number, text=body,
                                urgency=urgency))
    found.sort(key=lambda s: s.at, reverse=True)
    return found


def timeline(client_id: int, now: datetime | None = None) -> list[Signal]:
    """The client's signals of the last SIGNAL_TIMELINE_DAYS, newest first."""
    days = int(current_app.config.get("SIGNAL_TIMELINE_DAYS", 180))
    return signals_since(client_id, (now or utcnow()) - timedelta(days=days))


def _source_param(signal: Signal) -> str:
    return "client" if signal.source == "client" else signal.source_name


def note_signal(client_id: int, kind: str, source: str, at: datetime | None = None) -> bool:
    """A signal of ``kind`` from ``source`` was just recorded (flushed). If a signal
    from another source came within the window, raise the priority of the client's
    open signal follow-ups (or open one) and say why. True if it did."""
    client = db.session.get(Client, client_id)
    if client is None or client.erased_at is not None:
        return False
    at = at or utcnow()
    recent = signals_since(client_id, at - timedelta(days=_window_days()))
    this = next((s for s in recent if s.kind == kind and s.source == source), None)
    other = next((s for s in recent if s.source != source), None)
    if this is None or other is None:
        return False
    params = {"first": other.kind, "first_source": _source_param(other), "first_at": local_date(other.at).isoformat(),
              "second": this.kind, "second_source": _source_param(this), "second_at": local_date(this.at).isoformat(),
              "days": _window_days()}
    open_follow_ups = db.session.scalars(sa.select(FollowUp).where(
        FollowUp.client_id == client_id, FollowUp.done_at.is_(None),
        FollowUp.kind.in_(SIGNAL_FOLLOW_UP_KINDS))).all()
    if not open_follow_ups:
        db.session.add(FollowUp(client_id=client_id, assigned_to_id=client.responsible_worker_id,
                                kind=FollowUpKind.SIGNALS, code="signals", params={},
                                title="Several weak signals about the client", due_at=utcnow(), priority=1,
                                priority_code="second_signal", priority_params=params))
    for follow in open_follow_ups:
        follow.priority, follow.priority_code, follow.priority_params = 1, "second_signal", params
    db.session.flush()
    return True
