"""Staffing jobs (RQ, through the outbox): the fan-out of a request to the agencies,
closing a round at its answer time (RQ's scheduler, with a periodic sweep as the
safety net) and the e-mails to agencies and staff.

Jobs take ids, reload their rows, do nothing when the state has moved on, and commit
nothing themselves (``core.jobs.run_outbox_job`` commits, ``run_periodic`` for the
sweep). Every e-mail has a dedupe key naming its event, so a repeated or retried job
never sends one twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from accounts.models import ProviderRole, Role, User
from core.db import utcnow
from core.extensions import db
from core.jobs import enqueue
from core.mail import queue_email
from core.models import OutgoingEmail
from core.templating import fmt_dt
from core.urls import absolute_url
from providers.models import Provider
from staffing import services
from staffing.models import (
    StaffingOffer, StaffingOfferStatus, StaffingRecipient, StaffingRequest, StaffingShift,
    StaffingStatus,
)

LANGUAGES = ("fi", "sv", "en")


# --------------------------------------------------------------------------- fan-out

def fan_out_request(request_id: int, batch_size: int = services.DEFAULT_FANOUT_BATCH) -> dict:
    """Send an open request to every approved agency that covers its qualification
    in its postal code, each exactly once.

    One run handles up to ``batch_size`` agencies that do not have the request yet,
    in one transaction: their ``StaffingRecipient`` rows (the unique pair
    request+agency) and their e-mails (dedupe key per request and agency) are written
    together and committed with the job's outbox row. If the worker dies before that
    commit nothing of the batch exists and RQ's retry does it again; after it, the
    rows say who has it, so a repeated run only looks for agencies still missing.
    When more remain, the run records its own follow-up job in the same transaction,
    so a large round advances in bounded transactions and never loses its place.
    """
    req = db.session.scalar(sa.select(StaffingRequest).where(StaffingRequest.id == request_id).with_for_update())
    if req is None or req.status != StaffingStatus.OPEN:
        return {"sent": 0, "reason": "not open"}
    batch_size = max(1, int(batch_size))
    already = sa.select(StaffingRecipient.id).where(StaffingRecipient.request_id == req.id,
                                                    StaffingRecipient.provider_id == Provider.id)
    agencies = db.session.execute(
        services.matching_agencies(req).with_only_columns(Provider.id, Provider.email, Provider.languages)
        .where(~sa.exists(already)).order_by(Provider.id).limit(batch_size + 1)).all()
    batch, more = agencies[:batch_size], len(agencies) > batch_size
    if not batch:
        return {"sent": 0}
    now = utcnow()
    db.session.execute(sa.insert(StaffingRecipient), [
        {"request_id": req.id, "provider_id": a.id, "created_at": now, "notified_at": now} for a in batch])
    languages = _agency_languages(batch)
    messages: dict[str, tuple[str, str]] = {}
    for agency in batch:
        lang = languages[agency.id]
        if lang not in messages:  # the text depends only on the language: render it once per language
            messages[lang] = _render(lang, "new_request", req=req)
        subject, body = messages[lang]
        queue_email(agency.email, subject, body, lang, dedupe_key=f"staffing:{req.id}:new:{agency.id}")
    if more:
        enqueue(fan_out_request, req.id, batch_size)
    return {"sent": len(batch), "more": more}


def _agency_languages(agencies) -> dict[int, str]:
    """The language of each agency's e-mail: its organisation admin's language (the
    first admin, else the first member), else the organisation's first language."""
    ids = [a.id for a in agencies]
    members = db.session.execute(
        sa.select(User.provider_id, User.language)
        .where(User.provider_id.in_(ids), User.role == Role.PROVIDER, User.active.is_(True))
        .order_by(User.provider_id, sa.case((User.provider_role == ProviderRole.ADMIN, 0), else_=1), User.id)).all()
    chosen: dict[int, str] = {}
    for provider_id, language in members:
        if provider_id not in chosen and language in LANGUAGES:
            chosen[provider_id] = language
    default = current_app.config.get("DEFAULT_LANGUAGE", "fi")
    for a in agencies:
        if a.id not in chosen:
            chosen[a.id] = next((lang for lang in (a.languages or []) if lang in LANGUAGES), default)
    return chosen


# --------------------------------------------------------------------------- closing

def close_round(request_id: int, key: str | None = None) -> str:
    """Scheduled at the answer time by RQ's scheduler: close the round if it is still
    open and its time has passed, then tell the staff member the offers or escalate.

    ``key`` names the round the job was scheduled for: a re-opened round has its own
    job, so the old one does nothing. RQ's scheduler counts in whole seconds (a job
    can start up to a second early) and clocks differ a little between machines: a
    job that finds its round's time not yet passed schedules itself again."""
    req = db.session.get(StaffingRequest, request_id)
    if req is None or req.status != StaffingStatus.OPEN:
        return "unchanged"
    if key is not None and services.round_key(req) != key:
        return "superseded"
    if services.close_round(request_id):
        _notify_round_closed(request_id)
        return "closed"
    enqueue(close_round, request_id, services.round_key(req), at=req.respond_by + timedelta(seconds=1))
    return "rescheduled"


def sweep_rounds() -> dict:
    """Periodic safety net (every minute): close every open round whose answer time
    has passed, in case its scheduled job was lost or late, and escalate again a
    closed request still not filled when its first shift is near. Idempotent."""
    now = utcnow()
    closed = 0
    due = db.session.scalars(sa.select(StaffingRequest.id).where(
        StaffingRequest.status == StaffingStatus.OPEN, StaffingRequest.respond_by <= now)
        .order_by(StaffingRequest.id).limit(500)).all()
    for request_id in due:
        if services.close_round(request_id, now):
            _notify_round_closed(request_id)
            closed += 1
    first = (sa.select(StaffingShift.request_id, sa.func.min(StaffingShift.start_at).label("first_start"))
             .group_by(StaffingShift.request_id).subquery())
    near = db.session.scalars(
        sa.select(StaffingRequest).join(first, first.c.request_id == StaffingRequest.id)
        .where(StaffingRequest.status == StaffingStatus.CLOSED, first.c.first_start > now,
               first.c.first_start <= now + services.UNFILLED_WARNING)
        .options(sa.orm.selectinload(StaffingRequest.shifts))
        .order_by(StaffingRequest.id).limit(500)).all()
    warned = sum(1 for req in near if _warn_unfilled(req))
    return {"closed": closed, "warned": warned}


def _notify_round_closed(request_id: int) -> None:
    """The staff member who made the request gets the offers, sorted by price and
    fit; no offers, or too few people offered, is an escalation."""
    req = db.session.get(StaffingRequest, request_id)
    staff = db.session.get(User, req.created_by_id)
    offers = db.session.scalars(sa.select(StaffingOffer).where(StaffingOffer.request_id == req.id)
                                .options(sa.orm.joinedload(StaffingOffer.provider))).all()
    ranked = [r for r in services.rank_offers(req, offers)
              if r.offer.status in (StaffingOfferStatus.OFFERED, StaffingOfferStatus.SELECTED)]
    offered = sum(r.offer.headcount for r in ranked)
    kind = "no_offers" if not ranked else ("too_few" if offered < req.headcount else "offers")
    lang = _user_language(staff)
    subject, body = _render(lang, f"closed_{kind}", req=req, ranked=ranked, offered=offered,
                            recipients=services.recipient_count(req.id))
    queue_email(staff.email, subject, body, lang,
                dedupe_key=f"staffing:{req.id}:closed:{services.round_key(req)}")


def _warn_unfilled(req: StaffingRequest) -> bool:
    staff = db.session.get(User, req.created_by_id)
    first = min(s.start_at for s in req.shifts)
    lang = _user_language(staff)
    key = f"staffing:{req.id}:unfilled:{first.strftime('%Y%m%dT%H%M')}"
    if db.session.scalar(sa.select(OutgoingEmail.id).where(OutgoingEmail.dedupe_key == key)) is not None:
        return False  # warned already: skip rendering
    covered = services.covered_headcount(req.id)
    subject, body = _render(lang, "unfilled", req=req, covered=covered, first=first)
    return queue_email(staff.email, subject, body, lang, dedupe_key=key) is not None


# --------------------------------------------------------------------------- notices

def send_selection_notices(request_id: int) -> int:
    """Tell agencies the decision on their offers: selected ones at once, the others
    when the request is filled. One e-mail per offer and decision."""
    req = db.session.get(StaffingRequest, request_id)
    if req is None:
        return 0
    sent = 0
    offers = db.session.scalars(sa.select(StaffingOffer).where(
        StaffingOffer.request_id == req.id,
        StaffingOffer.status.in_([StaffingOfferStatus.SELECTED, StaffingOfferStatus.NOT_SELECTED]))
        .options(sa.orm.joinedload(StaffingOffer.provider))).all()
    if req.status == StaffingStatus.CANCELLED:
        return 0  # the cancellation notice says it all
    languages = _agency_languages([o.provider for o in offers]) if offers else {}
    for offer in offers:
        lang = languages[offer.provider_id]
        template = "offer_selected" if offer.status == StaffingOfferStatus.SELECTED else "offer_not_selected"
        subject, body = _render(lang, template, req=req, offer=offer)
        if queue_email(offer.provider.email, subject, body, lang,
                       dedupe_key=f"staffing-offer:{offer.id}:{offer.status}") is not None:
            sent += 1
    return sent


def send_reopen_notices(request_id: int, key: str, reopened_at: str) -> int:
    """Tell the agencies that had the request before it was re-opened its new answer
    time (once per round). Nothing when the round has moved on meanwhile."""
    req = db.session.get(StaffingRequest, request_id)
    if req is None or req.status != StaffingStatus.OPEN or services.round_key(req) != key:
        return 0
    return _to_recipients(req, "reopened", f"reopened-{key}", before=datetime.fromisoformat(reopened_at))


def send_cancellation_notices(request_id: int) -> int:
    """Tell every agency the request was sent to that it was cancelled."""
    req = db.session.get(StaffingRequest, request_id)
    if req is None or req.status != StaffingStatus.CANCELLED:
        return 0
    return _to_recipients(req, "cancelled", "cancelled")


def _to_recipients(req: StaffingRequest, template: str, event: str, before: datetime | None = None) -> int:
    stmt = (sa.select(Provider.id, Provider.email, Provider.languages)
            .join(StaffingRecipient, StaffingRecipient.provider_id == Provider.id)
            .where(StaffingRecipient.request_id == req.id).order_by(Provider.id))
    if before is not None:
        stmt = stmt.where(StaffingRecipient.created_at <= before)
    agencies = db.session.execute(stmt).all()
    if not agencies:
        return 0
    languages = _agency_languages(agencies)
    rendered: dict[str, tuple[str, str]] = {}
    sent = 0
    for agency in agencies:
        lang = languages[agency.id]
        if lang not in rendered:
            rendered[lang] = _render(lang, template, req=req)
        subject, body = rendered[lang]
        if queue_email(agency.email, subject, body, lang,
                       dedupe_key=f"staffing:{req.id}:{event}:{agency.id}") is not None:
            sent += 1
    return sent


# --------------------------------------------------------------------------- rendering

def _user_language(user) -> str:
    lang = getattr(user, "language", None)
    return lang if lang in LANGUAGES else current_app.config.get("DEFAULT_LANGUAGE", "fi")


_SUBJECTS = {
    "new_request": lambda req: _("New staffing request %(number)s: answer by %(time)s", number=req.number,
                                 time=_fmt(req.respond_by)),
    "reopened": lambda req: _("Staffing request %(number)s is open again: answer by %(time)s", number=req.number,
                              time=_fmt(req.respond_by)),
    "cancelled": lambda req: _("Staffing request %(number)s has been cancelled", number=req.number),
    "closed_offers": lambda req: _("Offers for staffing request %(number)s: please choose", number=req.number),
    "closed_too_few": lambda req: _("Not enough people offered for staffing request %(number)s", number=req.number),
    "closed_no_offers": lambda req: _("No offers for staffing request %(number)s", number=req.number),
    "unfilled": lambda req: _("Staffing request %(number)s is still not filled", number=req.number),
    "offer_selected": lambda req: _("Your offer for staffing request %(number)s was selected", number=req.number),
    "offer_not_selected": lambda req: _("Your offer for staffing request %(number)s was not selected",
                                        number=req.number),
}


def _fmt(value) -> str:
    return fmt_dt(value)


def _render(lang: str, template: str, req: StaffingRequest, **context) -> tuple[str, str]:
    """Subject and body of one e-mail in ``lang``."""
    with force_locale(lang):
        subject = _SUBJECTS[template](req)
        body = render_template(f"staffing/email/{template}.txt", req=req,
                               url=absolute_url("staffing.detail", request_id=req.id),
                               qualification=services.qualification_label(req.qualification), **context)
    return subject, body
