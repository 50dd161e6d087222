"""Guidance contacts: advice given to a client or an anonymous caller, and
their counts for reporting."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from clients.base import _, clean_text, live_client
from clients.follow_ups import close_open_follow_ups
from clients.models import GUIDANCE_TOPICS, ContactChannel, FollowUpKind, GuidanceContact
from clients.policy import require_staff
from core.access import Purpose, record_access, record_access_many
from core.db import utcnow
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db


def log_guidance_contact(actor, *, channel: str, topic: str, outcome: str = "", referral: str | None = None,
                         municipality: str | None = None, minutes: int | None = None,
                         client_id: int | None = None, at: datetime | None = None) -> GuidanceContact:
    """Staff log a piece of advice given (channel, topic, outcome, referral), for a
    client or an anonymous caller (``client_id`` None). A contact with a client
    counts as checking on them: it closes an open segment check-up. Raises
    ValidationFailed, NotFoundError."""
    require_staff(actor)
    errors: dict[str, list[str]] = {}
    if channel not in set(ContactChannel):
        errors["channel"] = [_("Choose phone, visit, chat or e-mail.")]
    if topic not in GUIDANCE_TOPICS:
        errors["topic"] = [_("Choose one of the topics: %(codes)s.", codes=", ".join(GUIDANCE_TOPICS))]
    outcome = clean_text(outcome, errors, "outcome", 300) or ""
    referral = clean_text(referral, errors, "referral", 200)
    municipality = clean_text(municipality, errors, "municipality", 100)
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 600):
        errors["minutes"] = [_("Between 1 and 600 minutes.")]
    now = utcnow()
    if at is not None and (not isinstance(at, datetime) or at.tzinfo is None or at > now + timedelta(minutes=5)):
        errors["at"] = [_("Cannot be in the future.")]
    client = None
    if client_id is not None:
        try:
            client = live_client(client_id)
        except NotFoundError:
            errors["client_id"] = [_("No such client.")]
    if errors:
        raise ValidationFailed(_("Some details are invalid."), fields=errors)
    contact = GuidanceContact(client_id=client.id if client else None, staff_id=actor.id, at=at or now,
                              channel=channel, topic=topic, outcome=outcome, referral=referral,
                              municipality=municipality or (client.municipality if client else None), minutes=minutes)
    db.session.add(contact)
    if client is not None:
        client.last_activity_at = max(client.last_activity_at, now)
        client.last_check_at = now
        close_open_follow_ups(client.id, FollowUpKind.SEGMENT_CHECK, actor, "guidance contact logged")
        db.session.flush()
        record_access(client.id, "change", Purpose.GUIDANCE, what="guidance contact", actor=actor)
    db.session.flush()
    return contact


def guidance_contacts(actor, *, since: date | None = None, until: date | None = None, channel: str | None = None,
                      topic: str | None = None, mine: bool = False, client_id: int | None = None,
                      limit: int = 100, logged: set[int] | None = None) -> tuple[list[GuidanceContact], dict]:
    """Logged contacts for staff, newest first, and counts by channel and by topic
    over the same filters (for reporting). Clients named in the list are logged as
    listed (except those in ``logged``: the page already logged them)."""
    require_staff(actor)
    conditions = []
    if since:
        conditions.append(GuidanceContact.at >= datetime(since.year, since.month, since.day, tzinfo=utcnow().tzinfo))
    if until:
        end = until + timedelta(days=1)
        conditions.append(GuidanceContact.at < datetime(end.year, end.month, end.day, tzinfo=utcnow().tzinfo))
    if channel in set(ContactChannel):
        conditions.append(GuidanceContact.channel == channel)
    if topic:
        conditions.append(GuidanceContact.topic == topic)
    if mine:
        conditions.append(GuidanceContact.staff_id == actor.id)
    if client_id:
        conditions.append(GuidanceContact.client_id == client_id)
    rows = db.session.scalars(
        sa.select(GuidanceContact).where(*conditions)
        .options(sa.orm.joinedload(GuidanceContact.client), sa.orm.joinedload(GuidanceContact.staff))
        .order_by(GuidanceContact.at.desc(), GuidanceContact.id.desc()).limit(limit)).all()
    by_channel = dict(db.session.execute(sa.select(GuidanceContact.channel, sa.func.count())
                                         .where(*conditions).group_by(GuidanceContact.channel)).all())
    by_topic = db.session.execute(sa.select(GuidanceContact.topic, sa.func.count()).where(*conditions)
                                  .group_by(GuidanceContact.topic).order_by(sa.func.count().desc(),
                                                                            GuidanceContact.topic)).all()
    anonymous = db.session.scalar(sa.select(sa.func.count()).select_from(GuidanceContact)
                                  .where(*conditions, GuidanceContact.client_id.is_(None)))
    referrals = db.session.scalar(sa.select(sa.func.count()).select_from(GuidanceContact)
                                  .where(*conditions, GuidanceContact.referral.is_not(None)))
    record_access_many([r.client_id for r in rows if r.client_id and r.client and r.client.erased_at is None
                        and r.client_id not in (logged or set())],
                       "list", Purpose.GUIDANCE, what="name in guidance contacts", actor=actor)
    total = sum(by_channel.values())
    return list(rows), {"total": total, "by_channel": by_channel, "by_topic": list(by_topic),
                        "anonymous": anonymous, "referrals": referrals}
