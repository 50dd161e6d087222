"""Feedback web pages: the public one-time feedback form (no login, in the link's
language), the provider's feedback list with responses, the administrators'
moderation, staff pages (an order's feedback link, feedback by phone, a feedback
item) and the managers' needs-met table.

Every POST goes through ``core.actions.form_action`` (see ``_act``); the request's
unit of work commits. Who may do what is ``feedback.policy``; the pages receive
the allowed actions."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required, scope_provider_owned
from orders.scopes import scope_orders
from clients import policy as client_policy
from clients.models import Client
from core.access import Purpose, record_access
from core.actions import form_action
from core.errors import NotFoundError, RateLimited
from core.extensions import db
from core.inputs import query_int
from feedback import bp, policy, services
from feedback.forms import FeedbackForm, HideForm, ResponseForm
from feedback.models import Feedback, FeedbackLink, FeedbackModerationEvent
from orders.models import ServiceOrder
from providers.models import Provider

PAGE_SIZE = 50


def _act(form, action, **options):
    """These pages answer a success with 303 See Other, and send a refusal that is
    not about the form's input back to the page it came from."""
    return form_action(form, action, code=303, refusals_go_back=True, **options)


def _page(rows: list) -> tuple[list, int | None]:
    """One page of ``PAGE_SIZE + 1`` rows fetched newest first, and the cursor of
    the older page (None on the last)."""
    return rows[:PAGE_SIZE], (rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None)


def _field_errors(form) -> list[str]:
    return [str(e) for field in form for e in field.errors]


# --------------------------------------------------------------------------- the public form


def _language(link: FeedbackLink | None) -> str:
    """The link's language unless the visitor chose another with ``?lang=``."""
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    if link is not None and link.language in current_app.config["LANGUAGES"]:
        return link.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _lang_args() -> dict:
    chosen = request.args.get("lang")
    return {"lang": chosen} if chosen in current_app.config["LANGUAGES"] else {}


def _quiet_find(token: str) -> FeedbackLink | None:
    try:
        return services.find_link(token)
    except NotFoundError:
        return None


def _closed_page(link: FeedbackLink, state: str, lang: str):
    summary = services.link_summary(link, lang)
    template = "feedback/already_given.html" if state == services.LINK_USED else "feedback/expired.html"
    return render_template(template, link=link, summary=summary), 410


def _relative_for(link: FeedbackLink) -> Client | None:
    """The client of the link when a logged-in relative acting for them opens it:
    the pages then address the relative and name the client. None for the client
    themselves and for anyone not logged in (the link alone is addressed to the client)."""
    user = current_user
    if link.client_id is None or not getattr(user, "is_authenticated", False) or user.role != Role.CLIENT \
            or client_policy.is_own_record(user, link.client_id) or not client_policy.acts_for(user, link.client_id, None):
        return None
    return db.session.get(Client, link.client_id)


def _log_act_under_mandate(link: FeedbackLink, feedback):
    """Feedback sent by a logged-in client or relative acting for the link's client
    is logged with both persons (the relative as the actor, for the client)."""
    user = current_user
    if link.client_id is not None and getattr(user, "is_authenticated", False) and user.role == Role.CLIENT \
            and client_policy.acts_for(user, link.client_id, None):
        record_access(link.client_id, "feedback", client_policy.client_side_purpose(user, link.client_id),
                      what="feedback", actor=user)
    return feedback


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def form(token: str):
    """The one-time feedback form. 404 for an unknown token (saying nothing more),
    410 when already used or expired, 429 when the address sends too much."""
    link = _quiet_find(token)
    lang = _language(link)
    with force_locale(lang):
        if request.method == "POST":
            try:
                services.check_submission_rate(request.remote_addr)
            except RateLimited as exc:
                return render_template("feedback/rate_limited.html", message=exc.message), 429
        if link is None:
            abort(404)
        state = services.link_state(link)
        if state != services.LINK_OPEN:
            return _closed_page(link, state, lang)
        form = FeedbackForm()

        def page(status):
            if status == 410:
                # Another submission used the link first: the closed page says so
                # itself, without the refusal's flashed message.
                session.pop("_flashes", None)
                return _closed_page(link, services.link_state(link), lang)
            other = _relative_for(link)
            if other is not None:  # the questions are about the client, put to the relative
                form.rating.label.text = _("How satisfied was the client with the service?")
                form.needs_met.label.text = _("Did the client get what they needed?")
            return render_template("feedback/form.html", form=form, summary=services.link_summary(link, lang),
                                   link=link, acting_for_client=other), status

        if request.method == "POST":
            return _act(form, lambda: _log_act_under_mandate(link, services.submit_feedback(
                token, rating=form.rating.data, needs_met=form.needs_met_value(), comment=form.comment.data)),
                next_url=url_for("feedback.thanks", token=token, **_lang_args()), render=page)
        return page(200)


@bp.get("/feedback/<token>/thanks")
def thanks(token: str):
    link = _quiet_find(token)
    if link is None:
        abort(404)
    if link.used_at is None:
        return redirect(url_for("feedback.form", token=token, **_lang_args()))
    lang = _language(link)
    feedback = db.session.scalar(sa.select(Feedback).where(Feedback.link_id == link.id))
    follow_up = feedback is not None and feedback.client_id is not None and services.needs_follow_up(feedback)
    with force_locale(lang):
        return render_template("feedback/thanks.html", summary=services.link_summary(link, lang), follow_up=follow_up,
                               acting_for_client=_relative_for(link))


# --------------------------------------------------------------------------- public provider page


@bp.get("/feedback/providers/<int:provider_id>")
def provider_public(provider_id: int):
    """A provider's published feedback with its responses (anyone)."""
    provider = db.session.get(Provider, provider_id)
    if not policy.shows_feedback_of(provider):
        abort(404)
    items, older = _page(services.published_feedback(provider.id, limit=PAGE_SIZE + 1,
                                                     before_id=query_int("before")))
    return render_template("feedback/provider_public.html", provider=provider, items=items, older=older)


# --------------------------------------------------------------------------- provider


def _provider_page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    before = query_int("before")
    stmt = scope_provider_owned(sa.select(Feedback), current_user, Feedback.provider_id)
    if before is not None:
        stmt = stmt.where(Feedback.id < before)
    items, older = _page(db.session.scalars(stmt.options(sa.orm.joinedload(Feedback.service_type))
                                            .order_by(Feedback.id.desc()).limit(PAGE_SIZE + 1)).all())
    provider = db.session.get(Provider, current_user.provider_id)
    return render_template("feedback/provider_list.html", provider=provider, items=items, older=older,
                           actions=policy.actions_by_item(current_user, items),
                           errors=errors or {}, typed=typed or {}), status


@bp.get("/feedback/provider")
@role_required(Role.PROVIDER)
def provider_feedback():
    """The organisation's own feedback (hidden items without their comment), each
    with a form for the one public response."""
    return _provider_page()


@bp.post("/feedback/provider/<int:feedback_id>/response")
@role_required(Role.PROVIDER)
def respond(feedback_id: int):
    feedback = db.session.scalar(scope_provider_owned(sa.select(Feedback).where(Feedback.id == feedback_id),
                                                      current_user, Feedback.provider_id))
    if feedback is None:
        abort(404)
    form = ResponseForm()
    return _act(form, lambda: services.respond_to_feedback(feedback.id, form.response.data, current_user),
                success=_("Your response has been published."),
                next_url=url_for("feedback.provider_feedback") + f"#feedback-{feedback.id}",
                render=lambda status: _provider_page({feedback.id: _field_errors(form)},
                                                     {feedback.id: form.response.data or ""}, status),
                back=url_for("feedback.provider_feedback"))


# --------------------------------------------------------------------------- moderation


MODERATION_FILTERS = ("comments", "hidden", "all")


def _moderation_page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    show = request.args.get("show", "comments")
    if show not in MODERATION_FILTERS:
        show = "comments"
    before = query_int("before")
    stmt = sa.select(Feedback).options(sa.orm.joinedload(Feedback.provider), sa.orm.joinedload(Feedback.service_type),
                                       sa.orm.joinedload(Feedback.hidden_by))
    if show == "comments":
        stmt = stmt.where(sa.or_(Feedback.comment.is_not(None), Feedback.response.is_not(None)))
    elif show == "hidden":
        stmt = stmt.where(Feedback.hidden_at.is_not(None))
    if before is not None:
        stmt = stmt.where(Feedback.id < before)
    items, older = _page(db.session.scalars(stmt.order_by(Feedback.id.desc()).limit(PAGE_SIZE + 1)).all())
    history = {}
    if items:
        for event in db.session.scalars(
                sa.select(FeedbackModerationEvent).where(FeedbackModerationEvent.feedback_id.in_([f.id for f in items]))
                .options(sa.orm.joinedload(FeedbackModerationEvent.actor)).order_by(FeedbackModerationEvent.id)):
            history.setdefault(event.feedback_id, []).append(event)
    return render_template("feedback/moderation.html", items=items, older=older, show=show, history=history,
                           actions=policy.actions_by_item(current_user, items),
                           errors=errors or {}, typed=typed or {}), status


@bp.get("/feedback/moderation")
@role_required(Role.ADMIN)
def moderation():
    """Administrators read feedback and hide an abusive item (with a reason) or
    publish it again."""
    return _moderation_page()


def _moderated(feedback_id: int) -> int:
    if db.session.get(Feedback, feedback_id) is None:
        abort(404)
    return feedback_id


@bp.post("/feedback/moderation/<int:feedback_id>/hide")
@role_required(Role.ADMIN)
def hide(feedback_id: int):
    feedback_id = _moderated(feedback_id)
    form = HideForm()
    return _act(form, lambda: services.hide_feedback(feedback_id, form.reason.data, current_user),
                success=_("The feedback is hidden. It no longer shows publicly or counts in the provider's rating."),
                next_url=_back_to_moderation(),
                render=lambda status: _moderation_page({feedback_id: _field_errors(form)},
                                                       {feedback_id: form.reason.data or ""}, status),
                back=_back_to_moderation())


@bp.post("/feedback/moderation/<int:feedback_id>/unhide")
@role_required(Role.ADMIN)
def unhide(feedback_id: int):
    feedback_id = _moderated(feedback_id)
    return _act(None, lambda: services.unhide_feedback(feedback_id, current_user),
                success=_("The feedback is published again."), next_url=_back_to_moderation())


def _back_to_moderation() -> str:
    show = request.args.get("show")
    return url_for("feedback.moderation", show=show if show in MODERATION_FILTERS else None)


# --------------------------------------------------------------------------- staff


def _staff_order(order_id: int) -> tuple[ServiceOrder, Client]:
    order = db.session.scalar(scope_orders(sa.select(ServiceOrder).where(ServiceOrder.id == order_id), current_user))
    if order is None:
        abort(404)
    return order, db.session.get(Client, order.client_id)


def _order_feedback(order: ServiceOrder) -> Feedback | None:
    return db.session.scalar(sa.select(Feedback).where(Feedback.order_id == order.id).order_by(Feedback.id))


@bp.get("/feedback/orders/<int:order_id>")
@role_required(Role.STAFF)
def order_feedback(order_id: int):
    """Staff: the order's feedback link (to read out or post to a client without
    e-mail), whether it has been used, and the feedback if given."""
    order, client = _staff_order(order_id)
    link = db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.order_id == order.id))
    feedback = _order_feedback(order)
    record_access(client.id, "view", Purpose.GUIDANCE, what=f"feedback on order {order.number}")
    return render_template("feedback/order_feedback.html", order=order, client=client, link=link,
                           state=services.link_state(link) if link else None, feedback=feedback,
                           url=services.feedback_url_for_order(order.id) if link else None,
                           actions=policy.order_actions(current_user, order, feedback))


@bp.route("/feedback/orders/<int:order_id>/by-phone", methods=["GET", "POST"])
@role_required(Role.STAFF)
def by_phone(order_id: int):
    """Staff record feedback the client gave by phone or letter, on their behalf."""
    order, client = _staff_order(order_id)
    back = url_for("feedback.order_feedback", order_id=order.id)
    if _order_feedback(order) is not None:
        flash(_("Feedback on this order has already been given."), "info")
        return redirect(back)
    form = FeedbackForm()
    actions = policy.order_actions(current_user, order, None)

    def page(status):
        record_access(client.id, "view", Purpose.FEEDBACK, what=f"name, for feedback on order {order.number}")
        return render_template("feedback/by_phone.html", order=order, client=client, form=form,
                               actions=actions), status

    if policy.RECORD_BY_PHONE not in actions:
        return page(409)
    if request.method == "POST":
        return _act(form, lambda: services.record_feedback_by_phone(
            order.id, form.rating.data, form.needs_met_value(), form.comment.data, current_user),
            success=_("The client's feedback is saved, marked as given by phone."),
            next_url=back, render=page, back=back)
    return page(200)


@bp.get("/feedback/items/<int:feedback_id>")
@role_required(Role.STAFF)
def staff_item(feedback_id: int):
    """Staff: one feedback item in full (the link in the worker's e-mail)."""
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None:
        abort(404)
    order = db.session.get(ServiceOrder, feedback.order_id) if feedback.order_id else None
    client = db.session.get(Client, feedback.client_id) if feedback.client_id else None
    if client is not None:
        record_access(client.id, "view", Purpose.GUIDANCE, what="feedback")
    return render_template("feedback/staff_item.html", feedback=feedback, order=order, client=client,
                           follow_up=services.needs_follow_up(feedback))


# --------------------------------------------------------------------------- managers


def _date_arg(name: str) -> tuple[date | None, str | None]:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, _("Give the date as YYYY-MM-DD.")


@bp.get("/feedback/needs-met")
@role_required(Role.MANAGER, Role.ADMIN)
def needs_met():
    """Managers: the share of clients whose needs were met, per provider and service
    type (groups of fewer than five clients are not shown)."""
    since, since_error = _date_arg("from")
    until, until_error = _date_arg("to")
    rows, suppressed = services.needs_met_rates(since, until)
    return render_template("feedback/needs_met.html", rows=rows, suppressed=suppressed, since=since, until=until,
                           errors={"from": since_error, "to": until_error}, small_group=services.SMALL_GROUP), \
        422 if since_error or until_error else 200
