"""Staffing-agency requests: what an agency covers, a home-care unit's request,
the agencies' offers, the staff's selection, the round's closing and the hours
worked.

The only code that changes staffing state. Functions take plain values and the acting
user, flush and never commit (the request's, the job's or the command's unit of work
commits), and raise ``core.errors`` domain errors with a clear message and an API
error ``code``. Notifications go out through jobs recorded in the same transaction
(the outbox). State changes go through the state machines of ``staffing.states``
(guarded conditional UPDATEs, so two people acting at once cannot both win, each
move written as a ``StaffingEvent`` with its actor); who may act is
``staffing.policy``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.api import POSTAL_CODE_RE
from core.db import assign_number, pending_number, utcnow
from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.extensions import db
from core.templating import labeller
from core.jobs import enqueue
from core.time import local_zone
from providers.models import Provider, ProviderKind, ProviderStatus
from staffing.models import (
    OfferAction, Qualification, StaffingAction, StaffingCoverage, StaffingEvent, StaffingOffer, StaffingOfferStatus,
    StaffingRecipient, StaffingRequest, StaffingShift, StaffingStatus,
)
from staffing.policy import agency_of  # noqa: F401  (used by the views, the API and the jobs)
from staffing.policy import require_approved_agency, require_staff, scope_staffing_requests, sees_all_offers
from staffing.states import OFFER_MACHINE, REQUEST_MACHINE, request_refusal

QUALIFICATION_LABELS = {
    Qualification.PRACTICAL_NURSE: _l("Practical nurse"),
    Qualification.REGISTERED_NURSE: _l("Registered nurse"),
    Qualification.HOME_CARE_ASSISTANT: _l("Home-care assistant"),
    Qualification.PHYSIOTHERAPIST: _l("Physiotherapist"),
    Qualification.SOCIAL_CARE_INSTRUCTOR: _l("Social care instructor"),
}

MAX_SHIFTS = 31
MAX_SHIFT_HOURS = 24
MAX_HEADCOUNT = 50
MAX_CANDIDATES = 20
MAX_RATE_CENTS = 100_000       # 1,000 € an hour: anything above is a typing error
MAX_POSTAL_CODES = 500
# Agencies one fan-out job handles in one transaction; a larger round continues in
# a follow-up job (see staffing.jobs.fan_out_request).
DEFAULT_FANOUT_BATCH = 250
# A closed request still unfilled this close to its first shift is escalated again.
UNFILLED_WARNING = timedelta(hours=24)


REQUEST_STATUS_LABELS = {
    StaffingStatus.OPEN: _l("Open for offers"),
    StaffingStatus.CLOSED: _l("Answer time passed: choose"),
    StaffingStatus.FILLED: _l("Filled"),
    StaffingStatus.CANCELLED: _l("Cancelled"),
}
OFFER_STATUS_LABELS = {
    StaffingOfferStatus.OFFERED: _l("Waiting for decision"),
    StaffingOfferStatus.WITHDRAWN: _l("Withdrawn"),
    StaffingOfferStatus.SELECTED: _l("Selected"),
    StaffingOfferStatus.NOT_SELECTED: _l("Not selected"),
}


qualification_label = labeller(QUALIFICATION_LABELS, "qualification_label")
request_status_label = labeller(REQUEST_STATUS_LABELS, "request_status_label")
offer_status_label = labeller(OFFER_STATUS_LABELS, "offer_status_label")


# --------------------------------------------------------------------------- guards
# The rules are in ``staffing.policy``; ``agency_of`` stays importable from here
# for the views, the API and the jobs.
_require_staff = require_staff
_require_approved_agency = require_approved_agency


def visible_request(user, request_id: int, for_update: bool = False) -> StaffingRequest:
    """The request if ``user`` may see it (staff: all; an agency: those sent to it),
    else NotFoundError: another organisation's request does not exist for you."""
    stmt = scope_staffing_requests(sa.select(StaffingRequest).where(StaffingRequest.id == request_id), user)
    if for_update:
        stmt = stmt.with_for_update()
    req = db.session.scalar(stmt)
    if req is None:
        raise NotFoundError(_("Staffing request not found."))
    return req


# --------------------------------------------------------------------------- transitions

def transition_request(request_id: int, action: StaffingAction, extra=None, *, actor=None,
                       note: str | None = None, **values) -> bool:
    """Apply ``action`` to a request known by id through the state machine (one
    guarded UPDATE, an event row); True when this call moved the request (its
    current state allowed the action and ``extra`` held), False otherwise."""
    conditions = [StaffingRequest.id == request_id] + ([extra] if extra is not None else [])
    return bool(REQUEST_MACHINE.apply_where(action, *conditions, actor=actor, note=note, values=values))


def transition_offer(offer_id: int, action: OfferAction, *, actor=None, note: str | None = None, **values) -> bool:
    return bool(OFFER_MACHINE.apply_where(action, StaffingOffer.id == offer_id, actor=actor, note=note,
                                          values=values))


def _refuse(req: StaffingRequest, code: str) -> ConflictError:
    refusal = request_refusal(req.status, "")
    refusal.code = code
    return refusal


# --------------------------------------------------------------------------- coverage

def set_coverage(user, qualifications: Iterable[str], postal_codes: Iterable[str]) -> list[StaffingCoverage]:
    """Replace what the user's agency covers: every given qualification in every
    given postal code. Agency members only (PermissionDenied); ValidationFailed for
    unknown qualifications or malformed postal codes. Empty lists stop new requests."""
    agency = agency_of(user)
    qualifications = list(dict.fromkeys(qualifications))
    postal_codes = list(dict.fromkeys(p.strip() for p in postal_codes if p.strip()))
    errors: dict[str, list[str]] = {}
    bad = [q for q in qualifications if q not in set(Qualification)]
    if bad:
        errors["qualifications"] = [_("Unknown qualification: %(values)s.", values=", ".join(bad[:5]))]
    bad = [p for p in postal_codes if not POSTAL_CODE_RE.match(p)]
    if bad:
        errors["postal_codes"] = [_("Not a postal code of five digits: %(values)s.", values=", ".join(bad[:5]))]
    elif len(postal_codes) > MAX_POSTAL_CODES:
        errors["postal_codes"] = [ngettext("At most %(num)s postal code.", "At most %(num)s postal codes.", MAX_POSTAL_CODES)]
    if errors:
        raise ValidationFailed(_("The coverage could not be saved."), fields=errors)
    db.session.execute(sa.delete(StaffingCoverage).where(StaffingCoverage.provider_id == agency.id))
    rows = [StaffingCoverage(provider_id=agency.id, qualification=q, postal_code=p)
            for q in qualifications for p in postal_codes]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def coverage_of(provider_id: int) -> tuple[list[str], list[str]]:
    """(qualifications, postal codes) an agency covers, each sorted."""
    rows = db.session.execute(sa.select(StaffingCoverage.qualification, StaffingCoverage.postal_code)
                              .where(StaffingCoverage.provider_id == provider_id)).all()
    return sorted({q for q, _p in rows}), sorted({p for _q, p in rows})


# --------------------------------------------------------------------------- requests

def check_request(*, unit: str | None, qualification: str | None, postal_code: str | None,
                  shifts: list[tuple[datetime | None, datetime | None]], headcount: int | None,
                  respond_by: datetime | None, note: str | None, now: datetime) -> dict[str, list[str]]:
    """The rules a staffing request must meet, as per-field messages (empty: fine)."""
    errors: dict[str, list[str]] = {}

    def err(name, message):
        errors.setdefault(name, []).append(message)

    if not (unit or "").strip():
        err("unit", _("Name the home-care unit that needs the people."))
    elif len(unit.strip()) > 200:
        err("unit", ngettext("At most %(num)d character.", "At most %(num)d characters.", 200))
    if qualification not in set(Qualification):
        err("qualification", _("Choose the qualification needed."))
    if not postal_code or not POSTAL_CODE_RE.match(postal_code):
        err("postal_code", _("Give the postal code of the workplace: five digits."))
    if headcount is None:
        err("headcount", _("Give the number of people needed."))
    elif headcount < 1:
        err("headcount", _("At least one person must be needed."))
    elif headcount > MAX_HEADCOUNT:
        err("headcount", ngettext("At most %(num)s person in one request.", "At most %(num)s people in one request.", MAX_HEADCOUNT))
    if note and len(note) > 2000:
        err("note", ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000))
    if not shifts:
        err("shifts", _("Give at least one shift."))
    elif len(shifts) > MAX_SHIFTS:
        err("shifts", ngettext("At most %(num)s shift in one request.", "At most %(num)s shifts in one request.", MAX_SHIFTS))
    for number, (start, end) in enumerate(shifts, start=1):
        if start is None or end is None:
            err("shifts", _("Shift %(n)s: give both the start and the end.", n=number))
        elif end <= start:
            err("shifts", _("Shift %(n)s: the end must be after the start.", n=number))
        elif start <= now:
            err("shifts", _("Shift %(n)s starts in the past.", n=number))
        elif end - start > timedelta(hours=MAX_SHIFT_HOURS):
            err("shifts", ngettext("Shift %(n)s is longer than %(num)s hour.", "Shift %(n)s is longer than %(num)s hours.",
                                      MAX_SHIFT_HOURS, n=number))
    # Only well-formed future shifts: a bad shift has its own message already.
    starts = sorted(s for s, e in shifts if s is not None and e is not None and now < s < e)
    if respond_by is None:
        err("respond_by", _("Give the time by which the agencies must answer."))
    elif respond_by <= now:
        err("respond_by", _("The answer time must be in the future."))
    elif starts and respond_by > starts[0]:
        err("respond_by", _("The agencies must answer before the first shift starts."))
    return errors


def create_request(user, *, unit: str, qualification: str, postal_code: str,
                   shifts: list[tuple[datetime, datetime]], headcount: int, respond_by: datetime,
                   note: str | None = None) -> StaffingRequest:
    """Staff open a round: the request is saved as ``open``; a job sends it to every
    approved agency covering the qualification and the postal code, and RQ's
    scheduler closes it at ``respond_by``. Raises PermissionDenied (not staff) and
    ValidationFailed naming each bad field."""
    _require_staff(user)
    now = utcnow()
    errors = check_request(unit=unit, qualification=qualification, postal_code=postal_code, shifts=shifts,
                           headcount=headcount, respond_by=respond_by, note=note, now=now)
    if errors:
        raise ValidationFailed(_("The staffing request could not be saved."), fields=errors)
    req = StaffingRequest(number=pending_number(), created_by_id=user.id, unit=unit.strip(),
                          qualification=qualification, postal_code=postal_code, headcount=headcount,
                          respond_by=respond_by, note=(note or "").strip() or None,
                          status=StaffingStatus.OPEN, created_at=now)
    req.shifts = [StaffingShift(start_at=s, end_at=e) for s, e in sorted(shifts)]
    db.session.add(req)
    assign_number(req, "SR")
    _start_round(req)
    return req


def _start_round(req: StaffingRequest) -> None:
    batch = int(current_app.config.get("STAFFING_FANOUT_BATCH") or DEFAULT_FANOUT_BATCH)
    enqueue("staffing.jobs.fan_out_request", req.id, batch)
    enqueue("staffing.jobs.close_round", req.id, round_key(req), at=req.respond_by)


def reopen_request(user, request_id: int, respond_by: datetime) -> StaffingRequest:
    """Staff give a closed round a new answer time: the request is ``open`` again,
    agencies that now match get it, those that had it are told the new time, offers
    already made stay valid. Raises ValidationFailed for a bad time and
    ConflictError (``not_closed``) unless the request is closed."""
    _require_staff(user)
    req = visible_request(user, request_id, for_update=True)
    if req.status != StaffingStatus.CLOSED:
        raise _refuse(req, "not_closed")
    now = utcnow()
    first = min((s.start_at for s in req.shifts), default=None)
    errors: list[str] = []
    if respond_by is None:
        errors.append(_("Give the new answer time."))
    elif respond_by <= now:
        errors.append(_("The answer time must be in the future."))
    elif first is not None and respond_by > first:
        errors.append(_("The agencies must answer before the first shift starts."))
    if errors:
        raise ValidationFailed(_("The request could not be re-opened."), fields={"respond_by": errors})
    REQUEST_MACHINE.apply(req, StaffingAction.REOPEN, user, values={"respond_by": respond_by, "closed_at": None})
    _start_round(req)
    # Only agencies that had the request before: those found now get the request itself.
    enqueue("staffing.jobs.send_reopen_notices", req.id, round_key(req), now.isoformat())
    return req


def cancel_request(user, request_id: int) -> StaffingRequest:
    """Staff cancel a request that is open, closed or filled: offers still waiting
    become ``not_selected`` and every agency it was sent to is told. ConflictError
    (``already_cancelled``) when it already was."""
    _require_staff(user)
    req = visible_request(user, request_id, for_update=True)
    REQUEST_MACHINE.apply(req, StaffingAction.CANCEL, user)
    _reject_waiting_offers(req.id, user, "request_cancelled")
    enqueue("staffing.jobs.send_cancellation_notices", req.id)
    return req


def close_round(request_id: int, now: datetime | None = None) -> bool:
    """System (job or sweep): close an open round whose answer time has passed. True
    only for the one call that closed it, so only that call notifies the staff."""
    now = now or utcnow()
    return transition_request(request_id, StaffingAction.CLOSE, extra=StaffingRequest.respond_by <= now,
                              note="answer_time_passed", closed_at=now)


def round_key(req: StaffingRequest) -> str:
    """Names one round of a request (its answer time): e-mails about a round are sent
    once per round, and a re-opened round is a new one."""
    return req.respond_by.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")


# --------------------------------------------------------------------------- offers

def clean_candidates(raw, headcount: int | None) -> tuple[list[dict], list[str]]:
    """Candidates as ``[{name, qualification, description}]`` (name None: anonymous)
    and the problems found."""
    problems: list[str] = []
    if raw is None:
        return [], problems
    if not isinstance(raw, list):
        return [], [_("Give the candidates as a list.")]
    if len(raw) > MAX_CANDIDATES:
        return [], [ngettext("At most %(num)s candidate.", "At most %(num)s candidates.", MAX_CANDIDATES)]
    cleaned = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(_("Candidate %(n)s: give name, qualification and description.", n=number))
            continue
        name, qualification, description = item.get("name"), item.get("qualification"), item.get("description")
        if name is not None and (not isinstance(name, str) or len(name.strip()) > 100):
            problems.append(_("Candidate %(n)s: the name must be text of at most 100 characters.", n=number))
            continue
        if qualification not in set(Qualification):
            problems.append(_("Candidate %(n)s: choose a qualification.", n=number))
            continue
        if description is not None and (not isinstance(description, str) or len(description.strip()) > 300):
            problems.append(_("Candidate %(n)s: the description must be text of at most 300 characters.", n=number))
            continue
        cleaned.append({"name": (name or "").strip() or None, "qualification": qualification,
                        "description": (description or "").strip() or None})
    if headcount is not None and len(cleaned) > headcount:
        problems.append(_("More candidates than people offered."))
    return cleaned, problems


def submit_offer(user, request_id: int, *, headcount: int, hourly_rate_cents: int,
                 candidates: list | None = None, note: str | None = None) -> StaffingOffer:
    """An agency the request was sent to offers people. Raises PermissionDenied (not
    an approved agency), NotFoundError (not sent to it), ConflictError ``not_open``
    (answer time passed, filled or cancelled) or ``already_offered`` (its earlier
    offer still stands: withdraw it first), ValidationFailed for bad values."""
    agency = _require_approved_agency(user)
    req = visible_request(user, request_id, for_update=True)
    now = utcnow()
    if req.status != StaffingStatus.OPEN or req.respond_by <= now:
        raise ConflictError(_("The request is no longer open for offers."), code="not_open")
    errors: dict[str, list[str]] = {}
    if not isinstance(headcount, int) or isinstance(headcount, bool) or headcount < 1:
        errors["headcount"] = [_("Offer at least one person.")]
    elif headcount > req.headcount:
        errors["headcount"] = [ngettext("The request needs %(num)s person at most.", "The request needs %(num)s people at most.",
                                         req.headcount)]
    if not isinstance(hourly_rate_cents, int) or isinstance(hourly_rate_cents, bool) or hourly_rate_cents < 1:
        errors["hourly_rate_cents"] = [_("Give the hourly rate.")]
    elif hourly_rate_cents > MAX_RATE_CENTS:
        errors["hourly_rate_cents"] = [_("The hourly rate is unrealistically high.")]
    cleaned, problems = clean_candidates(candidates, headcount if "headcount" not in errors else None)
    if problems:
        errors["candidates"] = problems
    if note is not None and len(note) > 2000:
        errors["note"] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000)]
    if errors:
        raise ValidationFailed(_("The offer could not be saved."), fields=errors)
    standing = db.session.scalar(sa.select(StaffingOffer.id).where(
        StaffingOffer.request_id == req.id, StaffingOffer.provider_id == agency.id,
        StaffingOffer.status.in_([StaffingOfferStatus.OFFERED, StaffingOfferStatus.SELECTED])))
    if standing is not None:
        raise ConflictError(_("Your organisation already has an offer on this request. Withdraw it to make a new one."),
                            code="already_offered")
    offer = StaffingOffer(request_id=req.id, provider_id=agency.id, created_by_id=user.id, headcount=headcount,
                          hourly_rate_cents=hourly_rate_cents, candidates=cleaned,
                          note=(note or "").strip() or None, status=StaffingOfferStatus.OFFERED, created_at=now)
    db.session.add(offer)
    db.session.flush()
    return offer


def _own_offer(user, request_id: int, offer_id: int) -> StaffingOffer:
    agency = agency_of(user)
    offer = db.session.scalar(sa.select(StaffingOffer).where(
        StaffingOffer.id == offer_id, StaffingOffer.request_id == request_id, StaffingOffer.provider_id == agency.id))
    if offer is None:
        raise NotFoundError(_("Offer not found."))
    return offer


def withdraw_offer(user, request_id: int, offer_id: int) -> StaffingOffer:
    """The agency takes its offer back before staff select it. NotFoundError for
    another organisation's offer; ConflictError ``not_withdrawable`` once selected,
    not selected or already withdrawn."""
    offer = _own_offer(user, request_id, offer_id)
    OFFER_MACHINE.apply(offer, OfferAction.WITHDRAW, user, params={"request_id": offer.request_id})
    return offer


@dataclass
class Selection:
    request: StaffingRequest
    offer: StaffingOffer
    covered: int
    filled: bool


def select_offer(user, request_id: int, offer_id: int) -> Selection:
    """Staff choose an offer. When the chosen offers cover the headcount the request
    becomes ``filled`` and the offers still waiting become ``not_selected``; the
    agencies are told either way. Raises NotFoundError, ConflictError
    ``not_selectable`` (filled or cancelled) or ``offer_not_available`` (withdrawn,
    already decided)."""
    _require_staff(user)
    req = visible_request(user, request_id, for_update=True)
    if not REQUEST_MACHINE.can(req.status, StaffingAction.FILL):
        raise request_refusal(req.status, StaffingAction.FILL)
    offer = db.session.scalar(sa.select(StaffingOffer).where(StaffingOffer.id == offer_id,
                                                              StaffingOffer.request_id == req.id))
    if offer is None:
        raise NotFoundError(_("Offer not found."))
    OFFER_MACHINE.apply(offer, OfferAction.SELECT, user, params={"request_id": req.id})
    covered = covered_headcount(req.id)
    filled = False
    if covered >= req.headcount:
        filled = transition_request(req.id, StaffingAction.FILL, actor=user, note="headcount_covered")
        if filled:
            _reject_waiting_offers(req.id, user, "request_filled")
    db.session.refresh(req)
    enqueue("staffing.jobs.send_selection_notices", req.id)
    return Selection(request=req, offer=offer, covered=covered, filled=filled)


def _reject_waiting_offers(request_id: int, actor, note: str) -> list[int]:
    """The offers still waiting become ``not_selected`` (one guarded UPDATE: an offer
    withdrawn meanwhile stays withdrawn), each with its event."""
    return OFFER_MACHINE.apply_where(OfferAction.REJECT, StaffingOffer.request_id == request_id, actor=actor,
                                     note=note, params={"request_id": request_id})


def covered_headcount(request_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(StaffingOffer.headcount), 0)).where(
        StaffingOffer.request_id == request_id, StaffingOffer.status == StaffingOfferStatus.SELECTED)))


# --------------------------------------------------------------------------- hours

def scheduled_minutes(req: StaffingRequest) -> int:
    return sum(int((s.end_at - s.start_at).total_seconds() // 60) for s in req.shifts)


def hours_due(req: StaffingRequest, now: datetime | None = None) -> bool:
    """The last shift has ended: the agency may report the hours worked."""
    last = max((s.end_at for s in req.shifts), default=None)
    return last is not None and last <= (now or utcnow())


def report_hours(user, request_id: int, offer_id: int, minutes_worked: int) -> StaffingOffer:
    """The agency reports the minutes its people actually worked on a selected offer,
    after the last shift has ended (a later report corrects the earlier one).
    ConflictError ``not_selected`` / ``shifts_not_over`` / ``request_cancelled``;
    ValidationFailed when the figure is negative or more than the offered people
    could have worked in the scheduled shifts."""
    offer = _own_offer(user, request_id, offer_id)
    req = db.session.get(StaffingRequest, request_id)
    if offer.status != StaffingOfferStatus.SELECTED:
        raise ConflictError(_("Hours can be reported only for a selected offer."), code="not_selected")
    if req.status == StaffingStatus.CANCELLED:
        raise ConflictError(_("The request has been cancelled."), code="request_cancelled")
    if not hours_due(req):
        raise ConflictError(_("Hours can be reported after the last shift has ended."), code="shifts_not_over")
    ceiling = offer.headcount * scheduled_minutes(req)
    if not isinstance(minutes_worked, int) or isinstance(minutes_worked, bool) or minutes_worked < 0:
        raise ValidationFailed(_("The hours could not be saved."),
                               fields={"minutes_worked": [_("Give the time worked; it cannot be negative.")]})
    if minutes_worked > ceiling:
        raise ValidationFailed(_("The hours could not be saved."), fields={"minutes_worked": [
            _("At most %(hours)s hours: %(people)s people in shifts of %(scheduled)s hours in all.",
              hours=hours_text(ceiling), people=offer.headcount, scheduled=hours_text(scheduled_minutes(req)))]})
    offer.minutes_worked = minutes_worked
    offer.hours_reported_at = utcnow()
    db.session.flush()
    return offer


def hours_text(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h}" if not m else f"{h}:{m:02d}"


# --------------------------------------------------------------------------- reading

@dataclass
class RankedOffer:
    offer: StaffingOffer
    covers: int          # people of this offer the request can still use
    qualified: int       # candidates named with the qualification asked for
    named: int           # candidates with a name
    full: bool           # covers the whole remaining need alone

    @property
    def rate(self) -> int:
        return self.offer.hourly_rate_cents


_ACTIVE = (StaffingOfferStatus.SELECTED, StaffingOfferStatus.OFFERED)


def candidate_rows(offer: StaffingOffer) -> list[dict]:
    """Candidates for display; the demo's older free-text form is shown as description."""
    rows = []
    for c in offer.candidates or []:
        if isinstance(c, dict):
            rows.append({"name": c.get("name"), "qualification": c.get("qualification"),
                         "description": c.get("description")})
        else:
            rows.append({"name": None, "qualification": None, "description": str(c)})
    return rows


def rank_offers(req: StaffingRequest, offers: Iterable[StaffingOffer]) -> list[RankedOffer]:
    """Offers sorted by price and fit: selected first, then waiting offers by hourly
    rate (cheapest first) and, at the same rate, by fit (covers the remaining need,
    more candidates with the asked qualification, more named candidates, earlier);
    withdrawn and not selected last."""
    offers = list(offers)
    selected = sum(o.headcount for o in offers if o.status == StaffingOfferStatus.SELECTED)
    need = max(req.headcount - selected, 0)
    ranked = []
    for o in offers:
        rows = candidate_rows(o)
        ranked.append(RankedOffer(
            offer=o, covers=min(o.headcount, need) if o.status == StaffingOfferStatus.OFFERED else o.headcount,
            qualified=sum(1 for c in rows if c["qualification"] == req.qualification),
            named=sum(1 for c in rows if c["name"]), full=need > 0 and o.headcount >= need))

    def key(r: RankedOffer):
        group = _ACTIVE.index(r.offer.status) if r.offer.status in _ACTIVE else 2
        return (group, r.rate, -r.covers, -r.qualified, -r.named, r.offer.created_at, r.offer.id)

    return sorted(ranked, key=key)


def offers_for(user, req: StaffingRequest) -> list[StaffingOffer]:
    """Staff see every offer; an agency only its own."""
    stmt = sa.select(StaffingOffer).where(StaffingOffer.request_id == req.id).options(
        sa.orm.joinedload(StaffingOffer.provider)).order_by(StaffingOffer.id)
    if not sees_all_offers(user):
        stmt = stmt.where(StaffingOffer.provider_id == user.provider_id)
    return list(db.session.scalars(stmt))


def request_events(request_id: int) -> list[StaffingEvent]:
    """The request's timeline, oldest first (staff's page)."""
    return list(db.session.scalars(
        sa.select(StaffingEvent).where(StaffingEvent.request_id == request_id)
        .options(sa.orm.joinedload(StaffingEvent.actor),
                 sa.orm.joinedload(StaffingEvent.offer).joinedload(StaffingOffer.provider))
        .order_by(StaffingEvent.at, StaffingEvent.id)))


def matching_agencies(req: StaffingRequest):
    """Select of the approved agencies that cover the request's qualification and
    postal code (the fan-out's audience)."""
    return (sa.select(Provider.id)
            .join(StaffingCoverage, StaffingCoverage.provider_id == Provider.id)
            .where(StaffingCoverage.qualification == req.qualification,
                   StaffingCoverage.postal_code == req.postal_code,
                   Provider.kind == ProviderKind.AGENCY, Provider.status == ProviderStatus.APPROVED))


def matching_count(req: StaffingRequest) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(matching_agencies(req).subquery())))


def recipient_count(request_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(StaffingRecipient)
                                 .where(StaffingRecipient.request_id == request_id)))


@dataclass
class RequestRow:
    request: StaffingRequest
    first_start: datetime | None
    offers: int
    covered: int


def list_requests(user, status: str | None = None, limit: int = 50, cursor: int | None = None) -> list[RequestRow]:
    """Requests the user may see, newest first (``cursor``: the last id seen), each
    with its first shift, the number of offers (an agency: its own) and the people
    covered by selected offers; ``limit + 1`` rows to tell whether more exist. A fixed
    number of queries however many rows."""
    first = (sa.select(sa.func.min(StaffingShift.start_at)).where(StaffingShift.request_id == StaffingRequest.id)
             .correlate(StaffingRequest).scalar_subquery())
    offers = sa.select(sa.func.count(StaffingOffer.id)).where(StaffingOffer.request_id == StaffingRequest.id,
                                                              StaffingOffer.status != StaffingOfferStatus.WITHDRAWN)
    if not sees_all_offers(user):
        offers = offers.where(StaffingOffer.provider_id == user.provider_id)
    covered = (sa.select(sa.func.coalesce(sa.func.sum(StaffingOffer.headcount), 0))
               .where(StaffingOffer.request_id == StaffingRequest.id,
                      StaffingOffer.status == StaffingOfferStatus.SELECTED)
               .correlate(StaffingRequest).scalar_subquery())
    stmt = scope_staffing_requests(
        sa.select(StaffingRequest, first, offers.correlate(StaffingRequest).scalar_subquery(), covered), user)
    if status:
        stmt = stmt.where(StaffingRequest.status == status)
    if cursor:
        stmt = stmt.where(StaffingRequest.id < cursor)
    stmt = stmt.options(sa.orm.selectinload(StaffingRequest.shifts))
    rows = db.session.execute(stmt.order_by(StaffingRequest.id.desc()).limit(limit + 1)).all()
    return [RequestRow(request=r, first_start=f, offers=n or 0, covered=int(c or 0)) for r, f, n, c in rows]


def agency_inbox(user) -> dict:
    """What an agency has to act on: open requests sent to it without its offer,
    its offers (newest first) and selected offers whose hours are due."""
    agency = agency_of(user)
    now = utcnow()
    mine = sa.select(StaffingOffer.request_id).where(
        StaffingOffer.provider_id == agency.id,
        StaffingOffer.status.in_([StaffingOfferStatus.OFFERED, StaffingOfferStatus.SELECTED]))
    open_rows = [row for row in list_requests(user, status=StaffingStatus.OPEN, limit=200)
                 if row.request.respond_by > now]
    answered = set(db.session.scalars(mine))
    waiting = [row for row in open_rows if row.request.id not in answered]
    offers = list(db.session.scalars(
        sa.select(StaffingOffer).where(StaffingOffer.provider_id == agency.id)
        .options(sa.orm.joinedload(StaffingOffer.provider))
        .order_by(StaffingOffer.id.desc()).limit(100)))
    requests = {r.id: r for r in db.session.scalars(
        sa.select(StaffingRequest).where(StaffingRequest.id.in_({o.request_id for o in offers}))
        .options(sa.orm.selectinload(StaffingRequest.shifts)))}
    hours_to_report = [o for o in offers if o.status == StaffingOfferStatus.SELECTED and o.hours_reported_at is None
                       and requests[o.request_id].status != StaffingStatus.CANCELLED
                       and hours_due(requests[o.request_id], now)]
    return {"agency": agency, "waiting": waiting, "offers": offers, "requests": requests,
            "hours_to_report": hours_to_report}


def hours_summary(period_from: date, period_to: date) -> list[dict]:
    """For the staffing report: per qualification and agency, the selected offers
    whose last shift ended in the period (Finnish dates), the people, the hours
    reported and their cost in cents (hours x hourly rate). Offers whose hours are not
    reported yet count in ``offers`` but not in the hours."""
    tz = local_zone()
    start = datetime.combine(period_from, time.min, tz).astimezone(timezone.utc)
    end = datetime.combine(period_to + timedelta(days=1), time.min, tz).astimezone(timezone.utc)
    last_end = (sa.select(StaffingShift.request_id, sa.func.max(StaffingShift.end_at).label("last_end"))
                .group_by(StaffingShift.request_id).subquery())
    rows = db.session.execute(
        sa.select(StaffingRequest.qualification, StaffingOffer.provider_id, Provider.name,
                  sa.func.count(StaffingOffer.id), sa.func.sum(StaffingOffer.headcount),
                  sa.func.count(StaffingOffer.hours_reported_at),
                  sa.func.coalesce(sa.func.sum(StaffingOffer.minutes_worked), 0),
                  sa.func.coalesce(sa.func.sum(sa.cast(StaffingOffer.minutes_worked, sa.BigInteger)
                                               * StaffingOffer.hourly_rate_cents), 0))
        .join(StaffingOffer, StaffingOffer.request_id == StaffingRequest.id)
        .join(Provider, Provider.id == StaffingOffer.provider_id)
        .join(last_end, last_end.c.request_id == StaffingRequest.id)
        .where(StaffingOffer.status == StaffingOfferStatus.SELECTED,
               StaffingRequest.status != StaffingStatus.CANCELLED,
               last_end.c.last_end >= start, last_end.c.last_end < end)
        .group_by(StaffingRequest.qualification, StaffingOffer.provider_id, Provider.name)
        .order_by(StaffingRequest.qualification, Provider.name)).all()
    return [{"qualification": q, "provider_id": pid, "provider": name, "offers": n, "people": int(people or 0),
             "reported": reported, "minutes_worked": int(minutes), "cost_cents": int(round(cost / 60))}
            for q, pid, name, n, people, reported, minutes, cost in rows]
