"""Front-door services: taking in a help request (validation, anti-abuse, merging
duplicates, the callback due time), the callback queue (claim, release, log a
guidance contact, close with advice, turn into a client record), the needs
self-assessment and its suggestion from the administrator's rules, and the rules
themselves. Services check the policy, change rows and flush; they never commit."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays
import redis
import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from accounts.services import normalise_email
from catalogue.models import ServiceType
from clients.models import Segment
from clients.services import create_client, log_guidance_contact
from core.db import utcnow
from core.errors import NotFoundError, RateLimited, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.redis import get_redis
from core.templating import fmt_dt
from core.time import local_zone
from core.validators import valid_postal_code
from frontdoor import policy
from frontdoor.models import (
    ASSESSMENT_QUESTIONS, TOPICS, URGENT_TOPICS, Channel, ForWhom, HelpAction, HelpRequest, HelpRequestContact,
    HelpRequestEvent, HelpStatus, NeedsAssessment, SuggestionRule,
)
from frontdoor.states import HELP_MACHINE, write_event

log = logging.getLogger(__name__)

LANGUAGES = ("fi", "sv", "en")
NAME_MAX, BEST_TIME_MAX, MESSAGE_MAX, ADVICE_MAX, REASON_MAX = 200, 200, 4000, 2000, 1000
MERGE_HOURS = 24
SEGMENT_ORDER = {Segment.INDEPENDENT: 0, Segment.GUIDANCE: 1, Segment.INTENSIVE: 2}
ACTIVE = (HelpStatus.OPEN, HelpStatus.CLAIMED)


def _(text: str, **variables) -> str:
    """gettext that also works outside a request (jobs): English there."""
    try:
        return gettext(text, **variables)
    except RuntimeError:
        return text % variables if variables else text


# --------------------------------------------------------------------------- words

TOPIC_LABELS = {
    "cleaning": _l("Cleaning"), "meals": _l("Meals"), "shopping": _l("Shopping"),
    "moving_about": _l("Moving about"), "loneliness": _l("Loneliness"), "memory": _l("Memory"),
    "safety": _l("Safety at home"), "caring_for_spouse": _l("Caring for a spouse"), "other": _l("Something else"),
}
FOR_WHOM_LABELS = {"self": _l("Myself"), "relative": _l("A relative"), "neighbour": _l("A neighbour or friend")}
CHANNEL_LABELS = {"web": _l("Web form"), "phone": _l("Phone call"), "chat": _l("Chat")}
LANGUAGE_LABELS = {"fi": "suomi", "sv": "svenska", "en": "English"}
SEGMENT_LABELS = {"independent": _l("Independent"), "guidance": _l("Needs guidance"),
                  "intensive": _l("Needs intensive coordination")}
QUESTION_LABELS = {
    "daily_tasks": _l("How do you manage daily tasks at home?"),
    "helpers": _l("Who helps you now?"),
    "worry": _l("What worries you most?"),
    "complexity": _l("Guidance worker's view: how complex is the situation?"),
}
ANSWER_LABELS = {
    "daily_tasks": {"on_my_own": _l("I manage on my own"), "some_help": _l("I need some help"),
                    "help_every_day": _l("I need help every day")},
    "helpers": {"nobody": _l("Nobody"), "family": _l("Family, friends or neighbours"),
                "services": _l("Home care or other services")},
    "worry": {"nothing_much": _l("Nothing much"), "managing_at_home": _l("Managing at home"),
              "health_or_memory": _l("Health or memory"), "being_alone": _l("Being alone"),
              "safety": _l("Safety, for example falling")},
    "complexity": {"low": _l("Simple: advice is enough"), "medium": _l("Some coordination needed"),
                   "high": _l("Complex: many needs or people involved")},
}
EVENT_LABELS = {"received": _l("Request came in"), "merged": _l("A new request from the same person merged"),
                "claim": _l("Claimed"), "release": _l("Given back to the queue"), "contact": _l("Contact logged"),
                "assessed": _l("Self-assessment filled in"), "confirmed": _l("Segment and services confirmed"),
                "escalated": _l("Escalated: callback overdue"), "close": _l("Closed with advice"),
                "convert": _l("Turned into a client record"),
                "erased": _l("Personal details erased after the retention period")}
CONTACT_CHANNEL_LABELS = {"phone": _l("Phone"), "chat": _l("Chat"), "email": _l("E-mail"), "visit": _l("Visit")}
STATUS_LABELS = {"open": _l("Waiting for a callback"), "claimed": _l("Claimed"), "closed": _l("Closed with advice"),
                 "converted": _l("Became a client")}


def answer_label(question: str, answer: str) -> str:
    return str(ANSWER_LABELS.get(question, {}).get(answer, answer))


# --------------------------------------------------------------------------- due time

@lru_cache(maxsize=8)
def _finnish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FI", years=[year, year + 1])


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _finnish_holidays(day.year)


def _next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def callback_due(received: datetime, urgent: bool = False, working_days: int | None = None,
                 hour: int | None = None) -> datetime:
    """When a request received at ``received`` must be called back: the end of the
    working day (``FRONTDOOR_CALLBACK_HOUR``, Helsinki time) that is
    ``FRONTDOOR_CALLBACK_WORKING_DAYS`` working days after the day it counts as
    received (that day itself when it came in on a working day before the hour,
    else the next working day). Weekends and Finnish public holidays are not
    working days. An urgent request (safety at home) is due on the day it counts as
    received."""
    config = current_app.config
    days = int(config.get("FRONTDOOR_CALLBACK_WORKING_DAYS", 1) if working_days is None else working_days)
    hour = int(config.get("FRONTDOOR_CALLBACK_HOUR", 16) if hour is None else hour)
    local = received.astimezone(local_zone())
    day = local.date()
    if not is_working_day(day) or local.hour >= hour:
        day = _next_working_day(day)
    for _i in range(0 if urgent else max(days, 0)):
        day = _next_working_day(day)
    return datetime.combine(day, time(hour), local_zone()).astimezone(timezone.utc)


def urgency_of(topics: list[str]) -> int:
    return max([URGENT_TOPICS.get(t, 0) for t in topics] or [0])


# --------------------------------------------------------------------------- validation

_PHONE_CHARS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?\d{6,15}$")


def normalise_phone(value: str) -> str | None:
    """A phone number without spaces, dashes or brackets; Finnish +358 numbers in
    their national form (040 123 4567 and +358 40 1234567 are the same). None if it
    is not a phone number."""
    cleaned = _PHONE_CHARS.sub("", value or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _PHONE.match(cleaned):
        return None
    if cleaned.startswith("+358"):
        cleaned = "0" + cleaned[4:]
    return cleaned


def _text(data: dict, name: str, limit: int, errors: dict, required: bool = False) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        errors.setdefault(name, []).append(_("Must be text."))
        return None
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(name, []).append(_("This field is required."))
    elif len(value) > limit:
        errors.setdefault(name, []).append(ngettext("At most %(num)d character.", "At most %(num)d characters.", limit))
    return value or None


def validate_help_request(data: dict) -> dict:
    """Check a help request given as plain values (the public form, the staff form
    and the API give the same dict). Returns the clean values or raises
    ValidationFailed naming every bad field; with nothing else wrong, a request with
    neither a phone number nor an e-mail address is ``no_contact``."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for_whom = data.get("for_whom")
    if for_whom not in set(ForWhom):
        errors["for_whom"] = [_("Choose who needs help.")]
    clean["for_whom"] = for_whom
    topics = data.get("topics")
    if not isinstance(topics, list) or not topics or any(not isinstance(t, str) or t not in TOPICS for t in topics):
        errors["topics"] = [_("Choose at least one thing that is hard now.")]
        topics = []
    clean["topics"] = list(dict.fromkeys(topics))
    clean["name"] = _text(data, "name", NAME_MAX, errors, required=True)
    phone = _text(data, "phone", 40, errors)
    email = _text(data, "email", 254, errors)
    clean["phone"] = clean["email"] = None
    if phone:
        clean["phone"] = normalise_phone(phone)
        if clean["phone"] is None:
            errors["phone"] = [_("Write the phone number with digits, for example 040 123 4567.")]
    if email:
        try:
            clean["email"] = normalise_email(email)
        except ValidationFailed:
            errors["email"] = [_("Check the e-mail address, for example name@example.fi.")]
    postal = data.get("postal_code")
    postal = postal.strip() if isinstance(postal, str) else postal
    if not valid_postal_code(postal if isinstance(postal, str) else ""):
        errors["postal_code"] = [_("Write the postal code as five digits, for example 33100.")]
    clean["postal_code"] = postal
    language = data.get("language") or "fi"
    if language not in LANGUAGES:
        errors["language"] = [_("Choose suomi, svenska or English.")]
    clean["language"] = language
    clean["best_time"] = _text(data, "best_time", BEST_TIME_MAX, errors)
    clean["message"] = _text(data, "message", MESSAGE_MAX, errors)
    consent = data.get("consent_to_contact")
    if consent is not True:
        errors["consent_to_contact"] = [_("We can only call you back if you agree to be contacted.")]
    clean["consent_to_contact"] = consent is True
    channel = data.get("channel") or Channel.WEB
    if channel not in set(Channel):
        errors["channel"] = [_("Choose web form, phone call or chat.")]
    clean["channel"] = channel
    no_contact = not phone and not email
    if no_contact:
        message = _("Give a phone number or an e-mail address, so that we can reach you.")
        errors.setdefault("phone", []).append(message)
        errors.setdefault("email", []).append(message)
    if errors:
        only_contact = no_contact and set(errors) == {"phone", "email"}
        raise ValidationFailed(_("Some answers need correcting."), code="no_contact" if only_contact else None,
                               fields=errors)
    return clean


def validate_answers(data: dict, staff: bool = False) -> dict:
    """The self-assessment answers given (each optional); ``complexity`` only from staff."""
    answers, errors = {}, {}
    for question, choices in ASSESSMENT_QUESTIONS.items():
        if question == "complexity" and not staff:
            continue
        value = data.get(question)
        if value in (None, ""):
            continue
        if value not in choices:
            errors[question] = [_("Choose one of the answers.")]
        else:
            answers[question] = value
    if errors:
        raise ValidationFailed(_("Some answers need correcting."), fields=errors)
    return answers


# --------------------------------------------------------------------------- anti-abuse

def _hit(key: str, window: int) -> int:
    """Count one hit on ``key`` in a fixed window of ``window`` seconds (Redis, so
    every web process shares it)."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.set(key, 0, ex=window, nx=True)  # the window starts with the first hit
    pipe.incr(key)
    return pipe.execute()[1]


def _digest(value: str) -> str:
    # Keys in Redis never hold an address or a phone number as such.
    secret = current_app.config["SECRET_KEY"].encode()
    return hashlib.blake2b(value.encode(), key=secret[:64], digest_size=16).hexdigest()


def check_rate(address: str | None, contact: str | None) -> None:
    """Count one help request from the network ``address`` (per hour) and for the
    ``contact`` (phone or e-mail, per day); RateLimited (429) over either limit. If
    Redis does not answer the request is let through: nobody in need is refused
    because of an outage."""
    config = current_app.config
    try:
        if address:
            per_address = _hit(f"kotiapu:frontdoor:addr:{_digest(address)}", 3600)
            if per_address > int(config.get("FRONTDOOR_MAX_PER_ADDRESS_HOUR", 10)):
                raise RateLimited(_("Too many help requests have been sent from your connection. Please try again "
                                    "in an hour, or call the guidance service."))
        if contact:
            per_contact = _hit(f"kotiapu:frontdoor:contact:{_digest(contact)}", 86400)
            if per_contact > int(config.get("FRONTDOOR_MAX_PER_CONTACT_DAY", 5)):
                raise RateLimited(_("We have already received several requests with this phone number or e-mail "
                                    "address today. We will contact you; there is no need to send more."))
    except redis.exceptions.RedisError as exc:
        log.warning("front door rate limit not checked, redis unavailable: %s", exc.__class__.__name__)


# --------------------------------------------------------------------------- taking in

_REF_ALPHABET = "ACDEFHJKLMNPRTUVWXY3479"


def _new_reference() -> str:
    while True:
        ref = "AP-" + "".join(secrets.choice(_REF_ALPHABET) for _i in range(6))
        if not db.session.scalar(sa.select(HelpRequest.id).where(HelpRequest.reference == ref)):
            return ref


def _duplicate_of(clean: dict, now: datetime) -> HelpRequest | None:
    same = []
    if clean["phone"]:
        same.append(HelpRequest.phone == clean["phone"])
    if clean["email"]:
        same.append(HelpRequest.email == clean["email"])
    return db.session.scalar(
        sa.select(HelpRequest).where(sa.or_(*same), HelpRequest.status.in_(ACTIVE),
                                     HelpRequest.created_at >= now - timedelta(hours=MERGE_HOURS))
        .order_by(HelpRequest.created_at).limit(1).with_for_update())


def _merge(existing: HelpRequest, clean: dict, actor) -> HelpRequest:
    existing.topics = list(dict.fromkeys([*existing.topics, *clean["topics"]]))
    if clean["message"] and clean["message"] not in (existing.message or ""):
        existing.message = f"{existing.message}\n\n{clean['message']}" if existing.message else clean["message"]
        existing.message = existing.message[-MESSAGE_MAX * 2:]
    for name in ("phone", "email", "best_time"):
        if clean[name] and not getattr(existing, name):
            setattr(existing, name, clean[name])
    existing.urgency = max(existing.urgency, urgency_of(existing.topics))
    existing.merged_count += 1
    write_event(existing.id, "merged", existing.status, existing.status, actor, note=clean["channel"])
    db.session.flush()
    return existing


def submit_help_request(data: dict, *, actor=None, address: str | None = None,
                        answers: dict | None = None) -> tuple[HelpRequest, bool]:
    """Take in a help request from the public (``actor`` None: rate-limited per
    address and contact) or from staff entering a phone call or chat. A request from
    a contact (the same phone number or e-mail address) that already has an open
    request from the last 24 hours is merged into it. Returns (request, merged).
    Raises ValidationFailed (``no_contact``), RateLimited."""
    if actor is not None:
        policy.require_staff(actor)
    elif data.get("channel") not in (None, "", Channel.WEB):
        raise ValidationFailed(_("Some answers need correcting."),
                               fields={"channel": [_("Only guidance staff enter phone calls and chats.")]})
    try:
        clean = validate_help_request(data)
    except ValidationFailed as exc:
        try:
            validate_answers(answers or {}, staff=actor is not None)
        except ValidationFailed as more:  # one refusal names every bad field
            raise ValidationFailed(exc.message, fields={**(exc.fields or {}), **(more.fields or {})}) from None
        raise
    answers = validate_answers(answers or {}, staff=actor is not None)
    if actor is None:
        check_rate(address, clean["phone"] or clean["email"])
    now = utcnow()
    existing = _duplicate_of(clean, now)
    if existing is not None:
        req = _merge(existing, clean, actor)
        if answers:
            save_assessment(req, answers, actor)
        return req, True
    urgency = urgency_of(clean["topics"])
    req = HelpRequest(reference=_new_reference(), channel=clean["channel"], for_whom=clean["for_whom"],
                      topics=clean["topics"], name=clean["name"], phone=clean["phone"], email=clean["email"],
                      contact_key=clean["phone"] or clean["email"], postal_code=clean["postal_code"],
                      language=clean["language"], best_time=clean["best_time"], message=clean["message"],
                      consent_to_contact=True, urgency=urgency, status=HelpStatus.OPEN, created_at=now,
                      callback_due=callback_due(now, urgent=urgency >= 2),
                      created_by_id=getattr(actor, "id", None))
    db.session.add(req)
    db.session.flush()
    write_event(req.id, "received", None, HelpStatus.OPEN, actor, note=clean["channel"])
    if answers:
        save_assessment(req, answers, actor)
    # The escalation job runs when the callback falls due (RQ's scheduler); the
    # periodic sweep is the safety net if it is lost.
    enqueue("frontdoor.jobs.escalate_if_overdue", req.id, at=req.callback_due + timedelta(seconds=1))
    db.session.flush()
    return req, False


# --------------------------------------------------------------------------- the queue

def queue(actor, status: str | None = None, mine: bool = False, limit: int = 200,
          offset: int = 0) -> list[HelpRequest]:
    """Help requests for staff, most urgent and oldest first: the callback queue
    (open and claimed) unless a ``status`` is given."""
    policy.require_staff(actor)
    stmt = sa.select(HelpRequest)
    if status in set(HelpStatus):
        stmt = stmt.where(HelpRequest.status == status)
    else:
        stmt = stmt.where(HelpRequest.status.in_(ACTIVE))
    if mine:
        stmt = stmt.where(HelpRequest.claimed_by_id == actor.id)
    stmt = stmt.order_by(HelpRequest.urgency.desc(), HelpRequest.created_at, HelpRequest.id)
    return list(db.session.scalars(stmt.offset(offset).limit(limit)))


def get_request(actor, request_id: int) -> HelpRequest:
    policy.require_staff(actor)
    req = db.session.get(HelpRequest, request_id) if isinstance(request_id, int) else None
    if req is None:
        raise NotFoundError(_("No such help request."))
    return req


def events(request_id: int) -> list[HelpRequestEvent]:
    return list(db.session.scalars(sa.select(HelpRequestEvent).where(HelpRequestEvent.request_id == request_id)
                                   .order_by(HelpRequestEvent.at, HelpRequestEvent.id)))


def contacts(request_id: int) -> list:
    return [link.contact for link in db.session.scalars(
        sa.select(HelpRequestContact).where(HelpRequestContact.request_id == request_id)
        .order_by(HelpRequestContact.id))]


def is_overdue(req: HelpRequest, now: datetime | None = None) -> bool:
    return req.status in ACTIVE and req.called_back_at is None and req.callback_due < (now or utcnow())


def claim(actor, request_id: int) -> HelpRequest:
    """One owner at a time: of two simultaneous claims exactly one wins (a guarded
    UPDATE); the other gets 409 ``already_claimed``."""
    req = get_request(actor, request_id)
    HELP_MACHINE.apply(req, HelpAction.CLAIM, actor, values={"claimed_by_id": actor.id})
    return req


def release(actor, request_id: int) -> HelpRequest:
    req = get_request(actor, request_id)
    policy.require_owner(actor, req)
    HELP_MACHINE.apply(req, HelpAction.RELEASE, actor, values={"claimed_by_id": None, "claimed_at": None})
    return req


def _owned(actor, request_id: int) -> HelpRequest:
    req = get_request(actor, request_id)
    policy.require_owner(actor, req)
    if req.status != HelpStatus.CLAIMED:
        raise HELP_MACHINE.refusal(req.status, HelpAction.CLOSE)
    return req


def log_contact(actor, request_id: int, *, channel: str, outcome: str, minutes: int | None = None):
    """The owner logs a guidance contact on the request (a call back, a chat): a
    guidance contact of the clients package (anonymous until the person becomes a
    client, with the request's first topic); the first one marks the request as
    called back."""
    req = _owned(actor, request_id)
    if not (outcome or "").strip():
        raise ValidationFailed(_("Write what was discussed."), fields={"outcome": [_("This field is required.")]})
    contact = log_guidance_contact(actor, channel=channel, topic=_guidance_topic(req), outcome=outcome,
                                   minutes=minutes, client_id=req.client_id)
    db.session.add(HelpRequestContact(request_id=req.id, guidance_contact_id=contact.id))
    if req.called_back_at is None:
        req.called_back_at = contact.at
    write_event(req.id, "contact", req.status, req.status, actor, note=channel)
    db.session.flush()
    return contact


_TOPIC_TO_GUIDANCE = {"moving_about": "transport", "safety": "safety_phone", "caring_for_spouse": "carer_support"}


def _guidance_topic(req: HelpRequest) -> str:
    first = (req.topics or ["other"])[0]
    return _TOPIC_TO_GUIDANCE.get(first, first)


def close(actor, request_id: int, advice: str) -> HelpRequest:
    """The owner closes the request with the advice given (required)."""
    req = _owned(actor, request_id)
    advice = (advice or "").strip() if isinstance(advice, str) else ""
    if not advice or len(advice) > ADVICE_MAX:
        raise ValidationFailed(ngettext("Write the advice you gave (at most %(num)d character).", "Write the advice you gave (at most %(num)d characters).", ADVICE_MAX),
                               fields={"advice": [_("This field is required.") if not advice
                                                  else ngettext("At most %(num)d character.", "At most %(num)d characters.", ADVICE_MAX)]})
    HELP_MACHINE.apply(req, HelpAction.CLOSE, actor, values={"advice": advice})
    return req


def split_name(name: str) -> tuple[str, str]:
    """"Aino Kaarina Virtanen" as ("Aino Kaarina", "Virtanen")."""
    parts = (name or "").split()
    if len(parts) < 2:
        return (parts[0] if parts else ""), ""
    return " ".join(parts[:-1]), parts[-1]


def client_defaults(req: HelpRequest) -> dict:
    """What the request already says about the person, as client record fields."""
    first, last = split_name(req.name)
    segment = None
    if req.assessment is not None:
        segment = req.assessment.confirmed_segment or req.assessment.suggested_segment
    return {"first_name": first, "last_name": last, "phone": req.phone, "email": req.email,
            "postal_code": req.postal_code, "languages": [req.language], "segment": segment or Segment.GUIDANCE}


def convert(actor, request_id: int, data: dict):
    """The owner turns the request into a client record: what was typed in comes
    from the request (``client_defaults``), ``data`` adds or corrects fields (the
    address, municipality, consent to share). The client record is created by the
    clients package's own service (validation, history, access log). Returns the
    client. Raises ValidationFailed with the client fields' errors."""
    req = _owned(actor, request_id)
    values = client_defaults(req)
    values.update({k: v for k, v in data.items() if v is not None})
    client = create_client(actor, values)
    HELP_MACHINE.apply(req, HelpAction.CONVERT, actor, values={"client_id": client.id}, note=None)
    # The anonymous guidance contacts logged on the request now belong to the client.
    ids = [c.id for c in contacts(req.id)]
    if ids:
        from clients.models import GuidanceContact

        db.session.execute(sa.update(GuidanceContact).where(GuidanceContact.id.in_(ids))
                           .values(client_id=client.id).execution_options(synchronize_session=False))
    db.session.flush()
    return client


# --------------------------------------------------------------------------- self-assessment

def active_rules() -> list[SuggestionRule]:
    return list(db.session.scalars(sa.select(SuggestionRule).where(SuggestionRule.active.is_(True))
                                   .order_by(SuggestionRule.question, SuggestionRule.answer, SuggestionRule.id)))


def suggest(answers: dict, rules: list[SuggestionRule] | None = None) -> dict:
    """What the rules suggest for the answers: the most intensive segment of the
    matching rules (independent when none matches), the service types of the
    matching rules (active ones, in catalogue order), and the rules that matched."""
    rules = active_rules() if rules is None else rules
    matched = [r for r in rules if answers.get(r.question) == r.answer]
    segment = Segment.INDEPENDENT
    for r in matched:
        if r.segment and SEGMENT_ORDER.get(r.segment, 0) > SEGMENT_ORDER[segment]:
            segment = Segment(r.segment)
    type_ids = list(dict.fromkeys(r.service_type_id for r in matched if r.service_type_id))
    if type_ids:
        active = set(db.session.scalars(sa.select(ServiceType.id).where(ServiceType.id.in_(type_ids),
                                                                         ServiceType.active.is_(True))))
        type_ids = [i for i in type_ids if i in active]
    return {"segment": str(segment), "service_type_ids": type_ids, "rule_ids": [r.id for r in matched]}


def save_assessment(req: HelpRequest, answers: dict, actor=None) -> NeedsAssessment:
    """Store the answers (merged with earlier ones) and the suggestion they give now."""
    assessment = req.assessment or NeedsAssessment(request_id=req.id, answers={})
    if assessment.id is None:
        db.session.add(assessment)
        req.assessment = assessment
    merged = {**(assessment.answers or {}), **answers}
    suggestion = suggest(merged)
    assessment.answers = merged
    assessment.suggested_segment = suggestion["segment"]
    assessment.suggested_service_type_ids = suggestion["service_type_ids"]
    assessment.suggested_rule_ids = suggestion["rule_ids"]
    assessment.updated_at = utcnow()
    db.session.flush()
    return assessment


def assess(actor, request_id: int, data: dict) -> NeedsAssessment:
    """Staff fill in (or correct) the self-assessment with the person, with their own
    view of how complex the situation is."""
    req = _owned(actor, request_id)
    answers = validate_answers(data, staff=True)
    assessment = save_assessment(req, answers, actor)
    write_event(req.id, "assessed", req.status, req.status, actor)
    return assessment


def confirm_suggestion(actor, request_id: int, *, segment: str, service_type_ids: list[int],
                       reason: str | None) -> NeedsAssessment:
    """Staff confirm the suggested segment and services, or change them; a change
    needs a reason, which is kept."""
    req = _owned(actor, request_id)
    assessment = req.assessment
    if assessment is None:
        raise ValidationFailed(_("Fill in the self-assessment first."), code="no_assessment",
                               fields={"segment": [_("Fill in the self-assessment first.")]})
    errors: dict[str, list[str]] = {}
    if segment not in set(Segment):
        errors["segment"] = [_("Choose a segment.")]
    ids = [i for i in service_type_ids if isinstance(i, int)]
    known = set(db.session.scalars(sa.select(ServiceType.id).where(ServiceType.id.in_(ids)))) if ids else set()
    if len(known) != len(set(ids)):
        errors["service_type_ids"] = [_("Choose services from the catalogue.")]
    reason = (reason or "").strip() or None
    changed = segment != assessment.suggested_segment or sorted(set(ids)) != sorted(
        assessment.suggested_service_type_ids or [])
    if changed and not reason:
        errors["reason"] = [_("Say why you chose differently from the suggestion.")]
    if reason and len(reason) > REASON_MAX:
        errors["reason"] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", REASON_MAX)]
    if errors:
        raise ValidationFailed(_("Some answers need correcting."), fields=errors)
    assessment.confirmed_segment = segment
    assessment.confirmed_service_type_ids = list(dict.fromkeys(ids))
    assessment.reason = reason
    assessment.confirmed_by_id = actor.id
    assessment.confirmed_at = utcnow()
    write_event(req.id, "confirmed", req.status, req.status, actor, note="changed" if changed else "as suggested")
    db.session.flush()
    return assessment


def service_type_names(ids: list[int]) -> list[str]:
    if not ids:
        return []
    rows = {t.id: t for t in db.session.scalars(sa.select(ServiceType).where(ServiceType.id.in_(ids)))}
    return [rows[i].name() for i in ids if i in rows]


def service_type_choices() -> list[tuple[int, str]]:
    return [(t.id, t.name()) for t in db.session.scalars(
        sa.select(ServiceType).where(ServiceType.active.is_(True)).order_by(ServiceType.name_fi))]


# --------------------------------------------------------------------------- the rules

def all_rules(actor) -> list[SuggestionRule]:
    policy.require_rule_keeper(actor)
    return list(db.session.scalars(sa.select(SuggestionRule).order_by(SuggestionRule.question, SuggestionRule.answer,
                                                                      SuggestionRule.id)))


def save_rule(actor, rule_id: int | None, data: dict) -> SuggestionRule:
    """An administrator adds or changes a rule. Raises ValidationFailed, NotFoundError."""
    policy.require_rule_keeper(actor)
    rule = None
    if rule_id is not None:
        rule = db.session.get(SuggestionRule, rule_id)
        if rule is None:
            raise NotFoundError(_("No such rule."))
    errors: dict[str, list[str]] = {}
    question, answer = data.get("question"), data.get("answer")
    if question not in ASSESSMENT_QUESTIONS:
        errors["question"] = [_("Choose a question.")]
    elif answer not in ASSESSMENT_QUESTIONS[question]:
        errors["answer"] = [_("Choose one of the answers to this question.")]
    segment = data.get("segment") or None
    if segment is not None and segment not in set(Segment):
        errors["segment"] = [_("Choose a segment.")]
    service_type_id = data.get("service_type_id") or None
    if service_type_id is not None and db.session.get(ServiceType, service_type_id) is None:
        errors["service_type_id"] = [_("Choose a service from the catalogue.")]
    if segment is None and service_type_id is None and "segment" not in errors:
        errors["segment"] = [_("A rule suggests a segment, a service or both.")]
    note = (data.get("note") or "").strip()
    if len(note) > 300:
        errors["note"] = [ngettext("At most %(num)d character.", "At most %(num)d characters.", 300)]
    if errors:
        raise ValidationFailed(_("Some answers need correcting."), fields=errors)
    if rule is None:
        rule = SuggestionRule()
        db.session.add(rule)
    rule.question, rule.answer, rule.segment, rule.service_type_id = question, answer, segment, service_type_id
    rule.note, rule.active = note, bool(data.get("active", True))
    rule.updated_at, rule.updated_by_id = utcnow(), actor.id
    db.session.flush()
    return rule


def delete_rule(actor, rule_id: int) -> None:
    policy.require_rule_keeper(actor)
    rule = db.session.get(SuggestionRule, rule_id)
    if rule is None:
        raise NotFoundError(_("No such rule."))
    db.session.delete(rule)
    db.session.flush()


# --------------------------------------------------------------------------- escalation

def escalate_overdue(request_ids: list[int] | None = None, now: datetime | None = None) -> list[int]:
    """Mark open or claimed requests not called back by their due time as escalated
    (one guarded UPDATE: a request called back meanwhile is left alone), write the
    event and tell the team address (FRONTDOOR_ESCALATION_EMAIL) and the worker who
    claimed it. Idempotent: an escalated request is not escalated again."""
    from core.mail import queue_email

    now = now or utcnow()
    conditions = [HelpRequest.status.in_(ACTIVE), HelpRequest.called_back_at.is_(None),
                  HelpRequest.escalated_at.is_(None), HelpRequest.callback_due <= now]
    if request_ids is not None:
        conditions.append(HelpRequest.id.in_(request_ids))
    ids = [r[0] for r in db.session.execute(
        sa.update(HelpRequest).where(*conditions).values(escalated_at=now).returning(HelpRequest.id)
        .execution_options(synchronize_session=False)).all()]
    team = current_app.config.get("FRONTDOOR_ESCALATION_EMAIL") or ""
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    for row in db.session.scalars(sa.select(HelpRequest).where(HelpRequest.id.in_(ids))):
        db.session.refresh(row)
        write_event(row.id, "escalated", row.status, row.status, None)
        owner = row.claimed_by.email if row.claimed_by is not None else None
        with force_locale("fi"):
            subject = _("Callback overdue: help request %(ref)s", ref=row.reference)
            body = _("The help request %(ref)s was due to be called back by %(due)s and nobody has logged a "
                     "contact yet.", ref=row.reference,
                     due=fmt_dt(row.callback_due))
            body += f"\n\n{base}/front-door/{row.id}\n"
        for to in dict.fromkeys(a for a in (team, owner) if a):
            queue_email(to, subject, body, language="fi", dedupe_key=f"frontdoor:{row.id}:escalated:{to}")
    db.session.flush()
    return ids


# --------------------------------------------------------------------------- retention

ERASED = "–"


def erase_finished(now: datetime | None = None) -> int:
    """Erase the personal details of help requests closed or converted more than
    ``FRONTDOOR_RETENTION_DAYS`` ago: the name, phone, e-mail, best time, message and
    advice (a converted request's person lives on in the client record). What the
    report counts stays: channel, topics, postal code, times, status. Idempotent."""
    days = int(current_app.config.get("FRONTDOOR_RETENTION_DAYS", 365))
    cutoff = (now or utcnow()) - timedelta(days=days)
    finished = sa.func.coalesce(HelpRequest.closed_at, HelpRequest.converted_at)
    ids = [r[0] for r in db.session.execute(
        sa.update(HelpRequest).where(HelpRequest.status.in_((HelpStatus.CLOSED, HelpStatus.CONVERTED)),
                                     finished < cutoff, HelpRequest.name != ERASED)
        .values(name=ERASED, phone=None, email=None, contact_key=ERASED, best_time=None, message=None, advice=None)
        .returning(HelpRequest.id).execution_options(synchronize_session=False)).all()]
    for row_id in ids:
        write_event(row_id, "erased", None, None, None)
    db.session.flush()
    return len(ids)
