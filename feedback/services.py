"""Feedback: one-time links, ratings given through them or by phone, provider
responses, moderation, the denormalised provider rating and the managers'
needs-met figures.

Services flush, never commit or roll back: the request's, job's or command's unit
of work (``core.uow``) ends the transaction. Who may act is ``feedback.policy``.

The link token is derived from the server secret, ``base64url(HMAC-SHA256(SECRET_KEY,
"feedback-link:<id>:<nonce>"))``, so the server can show it to staff again; the
database stores only ``sha256(token)``. Using a link is one conditional UPDATE
(``used_at IS NULL AND expires_at > now``) whose row count decides; the unique
``feedback.link_id`` is the backstop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import bleach
import redis
import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext

from accounts.models import Role, User
from catalogue.models import Offering, ServiceType
from clients.models import Client, FollowUp, FollowUpKind
from clients.signals import LOW_FEEDBACK, note_signal
from core.access import Purpose, record_access
from core.db import utcnow
from core.errors import (
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from core.extensions import db
from core.mail import queue_email
from core.redis import get_redis
from core.urls import absolute_url
from core.time import local_zone
from feedback import policy
from feedback.models import Feedback, FeedbackLink, FeedbackModerationEvent
from marketplace.models import ShopOrder, ShopOrderItem
from orders.models import ServiceOrder
from providers.models import Provider

log = logging.getLogger(__name__)

COMMENT_MAX = 2000
RESPONSE_MAX = 2000
REASON_MAX = 500
# Ratings of this or lower, or "needs not met", open a follow-up for the worker.
LOW_RATING = 2
# Groups with fewer distinct clients are not shown to managers.
SMALL_GROUP = 5
# Submissions per client address within the window (both overridable in app.config).
DEFAULT_MAX_ATTEMPTS = 20
DEFAULT_WINDOW_MINUTES = 15
LANGUAGES = ("fi", "sv", "en")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def _(message: str, **values) -> str:
    """gettext in a request (or under force_locale); the English text in jobs and
    CLI commands, where no locale can be chosen."""
    try:
        return gettext(message, **values)
    except RuntimeError:
        return message % values if values else message


class FeedbackError(ConflictError):
    """A feedback rule refused the request (409 unless said otherwise)."""


# --------------------------------------------------------------------------- tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(link: FeedbackLink) -> str:
    """The raw token of a link, derived from SECRET_KEY, the link id and its nonce."""
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"feedback-link:{link.id}:{link.nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _derivable(link: FeedbackLink) -> str | None:
    """The link's token if the stored hash matches what this server derives (not
    the case for a link made elsewhere, or after SECRET_KEY was rotated)."""
    token = link_token(link)
    return token if hmac.compare_digest(token_hash(token), link.token_hash) else None


def _rekey(link: FeedbackLink) -> str:
    link.nonce = secrets.token_hex(16)
    token = link_token(link)
    link.token_hash = token_hash(token)
    db.session.flush()
    return token


# --------------------------------------------------------------------------- links


def issue_feedback_link(*, order_id: int | None = None, shop_order_id: int | None = None,
                        language: str = "fi") -> tuple[FeedbackLink, str]:
    """Create the one-time feedback link of a completed service order or a fulfilled
    purchase and return it with its raw token. Called by the order-completion and
    shop-fulfilment jobs (the caller sends the invitation e-mail).

    Idempotent: a second call for the same order returns the existing link and its
    token (a link whose token this server cannot derive, e.g. after SECRET_KEY was
    rotated, is re-keyed). Exactly one of the ids must be given (ValueError).
    Raises NotFoundError for an unknown order and ConflictError ``no_provider`` when
    the order has no provider."""
    if (order_id is None) == (shop_order_id is None):
        raise ValueError("give exactly one of order_id and shop_order_id")
    existing = _link_for(order_id=order_id, shop_order_id=shop_order_id)
    if existing is not None:
        return existing, _derivable(existing) or _rekey(existing)
    if order_id is not None:
        order = db.session.get(ServiceOrder, order_id)
        if order is None:
            raise NotFoundError(_("No such order."))
        provider_id, client_id = order.provider_id, order.client_id
    else:
        shop = db.session.get(ShopOrder, shop_order_id)
        if shop is None:
            raise NotFoundError(_("No such purchase."))
        provider_id, client_id = shop.provider_id, shop.client_id
    if provider_id is None:
        raise ConflictError(_("The order has no provider to give feedback on."), code="no_provider")
    now = utcnow()
    link = FeedbackLink(order_id=order_id, shop_order_id=shop_order_id, provider_id=provider_id,
                        client_id=client_id, language=language if language in LANGUAGES else "fi",
                        nonce=secrets.token_hex(16), created_at=now,
                        # a unique placeholder until the id (which enters the token) is known
                        token_hash=token_hash(secrets.token_urlsafe(32)),
                        expires_at=now + timedelta(days=current_app.config["FEEDBACK_LINK_DAYS"]))
    # Two simultaneous calls for one order: the unique order_id / shop_order_id makes
    # the second flush fail, its job is retried by RQ and then finds this link.
    db.session.add(link)
    db.session.flush()
    token = link_token(link)
    link.token_hash = token_hash(token)
    db.session.flush()
    return link, token


def _link_for(*, order_id=None, shop_order_id=None) -> FeedbackLink | None:
    if order_id is not None:
        return db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.order_id == order_id))
    return db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.shop_order_id == shop_order_id))


def feedback_url_for_order(order_id: int) -> str | None:
    """The absolute URL of the order's feedback page (``.../feedback/<token>``) for
    staff to read out or post, or None when the order has no link (or its token
    cannot be derived any more because SECRET_KEY was rotated)."""
    link = _link_for(order_id=order_id)
    token = _derivable(link) if link is not None else None
    return absolute_url("feedback.form", token=token) if token else None


def feedback_link_status(order_id: int | None = None, shop_order_id: int | None = None) -> dict | None:
    """What staff see of the one-time link: ``state`` (open, used, expired), when it
    was used or expires. None when there is no link."""
    link = _link_for(order_id=order_id, shop_order_id=shop_order_id)
    if link is None:
        return None
    return {"state": link_state(link), "used_at": link.used_at, "expires_at": link.expires_at}


def feedback_url_for_shop_order(shop_order_id: int) -> str | None:
    """As ``feedback_url_for_order`` for a self-paid purchase."""
    link = _link_for(shop_order_id=shop_order_id)
    token = _derivable(link) if link is not None else None
    return absolute_url("feedback.form", token=token) if token else None


def find_link(token: str) -> FeedbackLink:
    """The link of a raw token. Raises NotFoundError (404, saying nothing more) for a
    malformed, unknown or tampered token."""
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        raise NotFoundError(_("Not found."))
    link = db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.token_hash == token_hash(token)))
    if link is None:
        raise NotFoundError(_("Not found."))
    return link


LINK_OPEN, LINK_USED, LINK_EXPIRED = "open", "used", "expired"


def link_state(link: FeedbackLink, now: datetime | None = None) -> str:
    if link.used_at is not None:
        return LINK_USED
    if link.expires_at <= (now or utcnow()):
        return LINK_EXPIRED
    return LINK_OPEN


def _gone(state: str) -> GoneError:
    if state == LINK_USED:
        return GoneError(_("Feedback has already been given through this link. Thank you!"), code="feedback_already_given")
    return GoneError(_("This feedback link has expired."), code="feedback_link_expired")


def require_open(link: FeedbackLink) -> None:
    """Raise GoneError (410) when the link was used or has expired."""
    state = link_state(link)
    if state != LINK_OPEN:
        raise _gone(state)


@dataclass
class LinkSummary:
    """What the feedback page shows about the service (no personal data)."""

    number: str
    service: str
    provider: str
    provider_id: int


def link_summary(link: FeedbackLink, language: str | None = None) -> LinkSummary:
    provider = db.session.get(Provider, link.provider_id)
    if link.order_id is not None:
        order = db.session.get(ServiceOrder, link.order_id)
        service = order.service_type.name(language)
        number = order.number
    else:
        shop = db.session.get(ShopOrder, link.shop_order_id)
        number = shop.number
        service = ", ".join(i.description for i in shop.items) or number
    return LinkSummary(number=number, service=service, provider=provider.name, provider_id=provider.id)


# --------------------------------------------------------------------------- input


def clean_text(value) -> str | None:
    """User text stored safely: HTML tags and comments removed (bleach), entities
    turned back into characters (pages escape on output), control characters
    dropped, line ends normalised, surrounding space trimmed. None when empty."""
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    # Control characters first: bleach would turn them into "?".
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    for _round in range(3):  # "&lt;b&gt;" becomes "<b>" once unescaped: strip again
        cleaned = html.unescape(bleach.clean(text, tags=set(), attributes={}, strip=True, strip_comments=True))
        if cleaned == text:
            break
        text = cleaned
    else:
        text = text.replace("<", "‹").replace(">", "›")
    text = text.strip()
    return text or None


def _check_text(name: str, value, maximum: int, errors: dict, required: bool = False) -> str | None:
    if value is not None and not isinstance(value, str):
        errors[name] = [_("Must be text.")]
        return None
    if value is not None and len(value) > maximum * 10:
        # Far too long: refuse before cleaning, which costs time on huge input.
        errors[name] = [ngettext("The text is too long: at most %(num)d character. Please shorten it.",
                                 "The text is too long: at most %(num)d characters. Please shorten it.", maximum)]
        return None
    text = clean_text(value)
    if text is not None and len(text) > maximum:
        errors[name] = [ngettext("The text is too long: %(n)d characters, at most %(num)d allowed. Please shorten it.",
                                 "The text is too long: %(n)d characters, at most %(num)d allowed. Please shorten it.",
                                 maximum, n=len(text))]
        return None
    if required and not text:
        errors[name] = [_("This field is required.")]
    return text


def validate_feedback(rating, needs_met, comment) -> tuple[int, bool, str | None]:
    """Check the answers; raises ValidationFailed (422) naming each bad field."""
    errors: dict[str, list[str]] = {}
    if isinstance(rating, bool) or not isinstance(rating, int):
        errors["rating"] = [_("Choose a rating from 1 to 5.")]
    elif not 1 <= rating <= 5:
        errors["rating"] = [_("The rating must be from 1 to 5.")]
    if not isinstance(needs_met, bool):
        errors["needs_met"] = [_("Answer yes or no.")]
    text = _check_text("comment", comment, COMMENT_MAX, errors)
    if errors:
        raise ValidationFailed(_("Some answers need correcting."), fields=errors)
    return rating, needs_met, text


# --------------------------------------------------------------------------- rate limit


def check_submission_rate(address: str | None) -> None:
    """Count one feedback submission from ``address`` and raise RateLimited (429)
    when there have been too many within the window. Counted in Redis (a sorted set
    per address), so every web process and worker shares the count. If Redis does
    not answer, the submission is let through: a token cannot be guessed anyway."""
    limit = int(current_app.config.get("FEEDBACK_MAX_ATTEMPTS_PER_ADDRESS", DEFAULT_MAX_ATTEMPTS))
    window = 60 * int(current_app.config.get("FEEDBACK_ATTEMPT_WINDOW_MINUTES", DEFAULT_WINDOW_MINUTES))
    key = f"kotiapu:feedback:attempts:{(address or 'unknown')[:64]}"
    now = time.time()
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.zremrangebyscore(key, 0, now - window)
        pipe.zadd(key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.zcard(key)
        pipe.expire(key, window + 60)
        count = pipe.execute()[2]
    except redis.exceptions.RedisError as exc:
        log.warning("feedback rate limit not checked, redis unavailable: %s", exc.__class__.__name__)
        return
    if count > limit:
        raise RateLimited(ngettext("Too many feedback submissions from your address. Please wait %(num)d minute "
                                   "and try again.",
                                   "Too many feedback submissions from your address. Please wait %(num)d minutes "
                                   "and try again.", max(1, window // 60)))


# --------------------------------------------------------------------------- giving feedback


def submit_feedback(token: str, *, rating, needs_met, comment=None) -> Feedback:
    """Anyone holding the link gives feedback once. Raises NotFoundError (unknown
    token), GoneError (used or expired; also for the loser of two simultaneous
    submissions) and ValidationFailed (bad answers). Published at once; a low rating
    or "needs not met" opens a follow-up for the client's responsible worker."""
    link = find_link(token)
    require_open(link)
    rating, needs_met, comment = validate_feedback(rating, needs_met, comment)
    _claim(link, respect_expiry=True)
    return _store(link, rating, needs_met, comment, recorded_by=None)


def _claim(link: FeedbackLink, *, respect_expiry: bool) -> None:
    """Use the link: one conditional UPDATE; whoever changes the row won."""
    now = utcnow()
    conditions = [FeedbackLink.id == link.id, FeedbackLink.used_at.is_(None)]
    if respect_expiry:
        conditions.append(FeedbackLink.expires_at > now)
    won = db.session.execute(
        sa.update(FeedbackLink).where(*conditions).values(used_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(link)
    if won != 1:
        raise _gone(LINK_USED if link.used_at is not None else LINK_EXPIRED)


def _service_type_of(link: FeedbackLink) -> int | None:
    if link.order_id is not None:
        return db.session.scalar(sa.select(ServiceOrder.service_type_id).where(ServiceOrder.id == link.order_id))
    return db.session.scalar(
        sa.select(Offering.service_type_id).join(ShopOrderItem, ShopOrderItem.offering_id == Offering.id)
        .where(ShopOrderItem.shop_order_id == link.shop_order_id).order_by(ShopOrderItem.id).limit(1))


def needs_follow_up(feedback: Feedback) -> bool:
    """A low rating or "needs not met" opens a follow-up for the client's worker."""
    return feedback.rating <= LOW_RATING or not feedback.needs_met


def _store(link: FeedbackLink, rating: int, needs_met: bool, comment: str | None, recorded_by) -> Feedback:
    feedback = Feedback(link_id=link.id, provider_id=link.provider_id, order_id=link.order_id,
                        shop_order_id=link.shop_order_id, client_id=link.client_id,
                        service_type_id=_service_type_of(link), rating=rating, needs_met=needs_met,
                        comment=comment, recorded_by_id=getattr(recorded_by, "id", None), created_at=utcnow())
    try:
        # The claim (``_claim``: one guarded UPDATE, committed with the request's
        # unit of work) decides who uses the link. The unique link_id is only the
        # backstop: should it ever fire, the savepoint keeps the transaction usable
        # (services never roll back) and the caller is told the link was used.
        with db.session.begin_nested():
            db.session.add(feedback)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise _gone(LINK_USED) from None
    _add_to_rating(link.provider_id, rating, +1)
    if needs_follow_up(feedback):
        _open_follow_up(feedback)
        if feedback.client_id is not None:
            note_signal(feedback.client_id, LOW_FEEDBACK, "client")
    return feedback


def _add_to_rating(provider_id: int, rating: int, sign: int) -> None:
    """Keep Provider.rating_sum / rating_count in step with published feedback, in
    the same transaction and without read-modify-write."""
    db.session.execute(
        sa.update(Provider).where(Provider.id == provider_id)
        .values(rating_sum=Provider.rating_sum + sign * rating, rating_count=Provider.rating_count + sign)
        .execution_options(synchronize_session=False))
    provider = db.session.get(Provider, provider_id)
    if provider is not None:
        db.session.expire(provider, ["rating_sum", "rating_count"])


def _open_follow_up(feedback: Feedback) -> FollowUp | None:
    """Closed loop: a follow-up for the client's responsible worker (else the staff
    member who placed the order) and an e-mail to them without the comment."""
    if feedback.client_id is None:
        return None  # a guest's purchase: no client record, nobody to follow up
    client = db.session.get(Client, feedback.client_id)
    order = db.session.get(ServiceOrder, feedback.order_id) if feedback.order_id else None
    worker_id = client.responsible_worker_id or (order.ordered_by_id if order else None)
    worker = db.session.get(User, worker_id) if worker_id else None
    number = order.number if order else db.session.get(ShopOrder, feedback.shop_order_id).number
    language = worker.language if worker is not None and worker.language in LANGUAGES else "fi"
    # The title is a code (clients.texts), shown in the reader's language; the English
    # sentence is the fallback of the column.
    met = "yes" if feedback.needs_met else "no"
    follow_up = FollowUp(client_id=client.id, assigned_to_id=worker_id, kind=FollowUpKind.FEEDBACK,
                         title=f"Feedback on {number} needs attention: rating {feedback.rating}/5, needs met: {met}",
                         code="feedback", params={"order": number, "rating": feedback.rating, "met": met},
                         order_id=feedback.order_id, due_at=utcnow() + timedelta(days=2))
    db.session.add(follow_up)
    db.session.flush()
    if worker is not None and worker.email and worker.active:
        # No comment or rating in the e-mail: only that feedback needs attention.
        url = absolute_url("feedback.staff_item", feedback_id=feedback.id)
        with force_locale(language):
            subject = _("Client feedback needs your attention")
            body = render_template("feedback/email/attention.txt", number=number, url=url)
        queue_email(worker.email, subject, body.strip() + "\n", language=language,
                    dedupe_key=f"feedback-attention:{feedback.id}")
    return follow_up


def record_feedback_by_phone(order_id: int, rating, needs_met, comment, actor) -> Feedback:
    """Staff type in feedback the client gave by phone (or letter), marked as such
    (``recorded_by_id``). Works for a completed or closed order whether or not the
    link has expired; uses the order's link (creating one, without e-mail, if the
    order has none) so that an order still gets feedback only once.
    Raises PermissionDenied (not staff), NotFoundError, ConflictError
    ``order_not_completed``, GoneError ``feedback_already_given``, ValidationFailed."""
    if not policy.may_record_by_phone(actor):
        raise PermissionDenied("Only guidance staff record feedback on a client's behalf.")
    order = db.session.get(ServiceOrder, order_id)
    if order is None:
        raise NotFoundError(_("No such order."))
    if not policy.order_takes_feedback(order):
        raise FeedbackError(_("Feedback can be recorded once the order is completed."), code="order_not_completed")
    rating, needs_met, comment = validate_feedback(rating, needs_met, comment)
    link = _link_for(order_id=order.id)
    if link is None:
        client = db.session.get(Client, order.client_id)
        language = next((lang for lang in client.languages or [] if lang in LANGUAGES), "fi")
        link, _token = issue_feedback_link(order_id=order.id, language=language)
    _claim(link, respect_expiry=False)
    feedback = _store(link, rating, needs_met, comment, recorded_by=actor)
    record_access(order.client_id, "create", Purpose.FEEDBACK, what="feedback given by phone", actor=actor)
    return feedback


# --------------------------------------------------------------------------- responses and moderation


def respond_to_feedback(feedback_id: int, text, actor) -> Feedback:
    """A member of the provider organisation writes its one public response to a
    feedback item. Raises NotFoundError (not its own), ValidationFailed (empty or too
    long) and ConflictError ``already_responded``."""
    if getattr(actor, "role", None) != Role.PROVIDER:
        raise PermissionDenied("Only the provider organisation responds to its feedback.")
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None or not policy.is_provider_of(actor, feedback):
        raise NotFoundError(gettext("No such feedback."))
    errors: dict = {}
    response = _check_text("response", text, RESPONSE_MAX, errors, required=True)
    if errors:
        raise ValidationFailed(_("The response needs correcting."), fields=errors)
    done = db.session.execute(
        sa.update(Feedback).where(Feedback.id == feedback.id, Feedback.response.is_(None))
        .values(response=response, responded_at=utcnow(), responded_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(feedback)
    if done != 1:
        raise FeedbackError(_("This feedback already has your organisation's response."), code="already_responded")
    return feedback


def hide_feedback(feedback_id: int, reason, actor) -> Feedback:
    """An administrator hides an abusive item: it leaves the public list and the
    provider's average; the text is kept with who hid it and why.
    Raises PermissionDenied, NotFoundError, ValidationFailed (no reason) and
    ConflictError ``already_hidden``."""
    _require_admin(actor)
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None:
        raise NotFoundError(gettext("No such feedback."))
    errors: dict = {}
    reason = _check_text("reason", reason, REASON_MAX, errors, required=True)
    if errors:
        raise ValidationFailed(_("Give the reason for hiding."), fields=errors)
    now = utcnow()
    done = db.session.execute(
        sa.update(Feedback).where(Feedback.id == feedback.id, Feedback.hidden_at.is_(None))
        .values(hidden_at=now, hidden_by_id=actor.id, hidden_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise FeedbackError(_("The feedback is already hidden."), code="already_hidden")
    _add_to_rating(feedback.provider_id, feedback.rating, -1)
    db.session.add(FeedbackModerationEvent(feedback_id=feedback.id, action="hide", reason=reason, actor_id=actor.id, at=now))
    db.session.flush()
    db.session.refresh(feedback)
    return feedback


def unhide_feedback(feedback_id: int, actor) -> Feedback:
    """An administrator publishes a hidden item again (back in the average).
    Raises PermissionDenied, NotFoundError and ConflictError ``not_hidden``."""
    _require_admin(actor)
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None:
        raise NotFoundError(gettext("No such feedback."))
    done = db.session.execute(
        sa.update(Feedback).where(Feedback.id == feedback.id, Feedback.hidden_at.is_not(None))
        .values(hidden_at=None, hidden_by_id=None, hidden_reason=None)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise FeedbackError(_("The feedback is not hidden."), code="not_hidden")
    _add_to_rating(feedback.provider_id, feedback.rating, +1)
    db.session.add(FeedbackModerationEvent(feedback_id=feedback.id, action="unhide", actor_id=actor.id))
    db.session.flush()
    db.session.refresh(feedback)
    return feedback


def _require_admin(actor) -> None:
    if not policy.may_moderate(actor):
        raise PermissionDenied("Only administrators moderate feedback.")


# --------------------------------------------------------------------------- reading


def published(stmt: sa.Select) -> sa.Select:
    """Only feedback that is public (not hidden by an administrator)."""
    return stmt.where(Feedback.hidden_at.is_(None))


def published_feedback(provider_id: int, limit: int = 50, before_id: int | None = None) -> list[Feedback]:
    """A provider's published feedback, newest first; ``limit + 1`` rows are
    fetched by callers that page (cursor: the last id seen)."""
    stmt = published(sa.select(Feedback).where(Feedback.provider_id == provider_id))
    if before_id is not None:
        stmt = stmt.where(Feedback.id < before_id)
    return list(db.session.scalars(stmt.options(sa.orm.joinedload(Feedback.service_type))
                                   .order_by(Feedback.id.desc()).limit(limit)))


def provider_rating(provider_id: int) -> dict:
    """``{"average": 4.25 | None, "count": n}`` of published feedback (from the
    denormalised columns: no aggregate query)."""
    row = db.session.execute(sa.select(Provider.rating_sum, Provider.rating_count)
                             .where(Provider.id == provider_id)).first()
    if row is None:
        return {"average": None, "count": 0}
    return rating_of(row.rating_sum, row.rating_count)


def rating_of(rating_sum: int, rating_count: int) -> dict:
    return {"average": round(rating_sum / rating_count, 2) if rating_count else None, "count": rating_count}


def rating_json(provider: Provider) -> dict:
    """The API's ``rating: {average, count}`` of a loaded provider row."""
    return rating_of(provider.rating_sum, provider.rating_count)


def rating_order_by() -> list:
    """ORDER BY clauses sorting providers best-rated first, unrated last, on both
    databases: ``stmt.order_by(*rating_order_by(), Provider.name)``."""
    average = sa.cast(Provider.rating_sum, sa.Float) / sa.func.nullif(Provider.rating_count, 0)
    return [sa.case((Provider.rating_count == 0, 1), else_=0), average.desc(), Provider.rating_count.desc()]


def recount_ratings() -> int:
    """Recompute every provider's rating_sum / rating_count from published feedback
    (a repair tool: ``flask feedback recount-ratings``). Returns providers changed."""
    sums = {pid: (s, c) for pid, s, c in db.session.execute(
        published(sa.select(Feedback.provider_id, sa.func.coalesce(sa.func.sum(Feedback.rating), 0), sa.func.count())
                  .group_by(Feedback.provider_id))).all()}
    changed = 0
    for provider in db.session.scalars(sa.select(Provider)):
        s, c = sums.get(provider.id, (0, 0))
        if (provider.rating_sum, provider.rating_count) != (int(s), int(c)):
            provider.rating_sum, provider.rating_count = int(s), int(c)
            changed += 1
    db.session.flush()
    return changed


@dataclass
class NeedsMetRow:
    provider_id: int
    provider: str
    service_type_id: int | None
    service_type: str
    clients: int
    answers: int
    needs_met: int
    average_rating: float

    @property
    def rate(self) -> float:
        return self.needs_met / self.answers if self.answers else 0.0


def needs_met_rates(since: date | None = None, until: date | None = None) -> tuple[list[NeedsMetRow], int]:
    """The managers' "needs met" rate per provider and service type: one SQL
    aggregation over all answers given in the period (hidden items included: hiding
    concerns the public comment, not the client's answer). Groups with fewer than
    SMALL_GROUP distinct clients are suppressed. Returns (rows, suppressed groups)."""
    # A guest purchase has no client record: each such answer counts as one person.
    people = (sa.func.count(sa.distinct(Feedback.client_id))
              + sa.func.sum(sa.case((Feedback.client_id.is_(None), 1), else_=0)))
    stmt = (sa.select(Feedback.provider_id, Provider.name, Feedback.service_type_id, people.label("clients"),
                      sa.func.count().label("answers"),
                      sa.func.sum(sa.case((Feedback.needs_met.is_(True), 1), else_=0)).label("met"),
                      sa.func.avg(Feedback.rating).label("average"))
            .join(Provider, Provider.id == Feedback.provider_id)
            .group_by(Feedback.provider_id, Provider.name, Feedback.service_type_id))
    if since is not None:
        stmt = stmt.where(Feedback.created_at >= _day_start(since))
    if until is not None:
        stmt = stmt.where(Feedback.created_at < _day_start(until + timedelta(days=1)))
    rows = db.session.execute(stmt).all()
    type_ids = {r.service_type_id for r in rows if r.service_type_id is not None}
    types = {t.id: t for t in db.session.scalars(sa.select(ServiceType).where(ServiceType.id.in_(type_ids)))} \
        if type_ids else {}
    out, suppressed = [], 0
    for r in rows:
        if int(r.clients) < SMALL_GROUP:
            suppressed += 1
            continue
        t = types.get(r.service_type_id)
        out.append(NeedsMetRow(provider_id=r.provider_id, provider=r.name, service_type_id=r.service_type_id,
                               service_type=t.name() if t is not None else _("Self-paid purchases"),
                               clients=int(r.clients), answers=int(r.answers), needs_met=int(r.met or 0),
                               average_rating=round(float(r.average), 2)))
    out.sort(key=lambda row: (row.provider.lower(), row.service_type.lower()))
    return out, suppressed


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=local_zone())
