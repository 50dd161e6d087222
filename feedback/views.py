"""Feedback web pages: the public one-time feedback form (no login, in the link's
language), the provider's feedback list with responses, the administrators'
moderation, staff pages (an order's feedback link, feedback by phone, a feedback
item) and the managers' needs-met table."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required, scope_provider_owned
from orders.scopes import scope_orders
from clients.models import Client
from core.access import Purpose, record_access
from core.errors import (
    DomainError,
    GoneError,
    NotFoundError,
    RateLimited,
    ValidationFailed,
)
from core.extensions import db
from feedback import bp, services
from feedback.forms import FeedbackForm, HideForm, ResponseForm
from feedback.models import Feedback, FeedbackLink, FeedbackModerationEvent
from orders.models import OrderStatus, ServiceOrder
from providers.models import Provider, ProviderStatus

PAGE_SIZE = 50


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
        status = 200
        if form.validate_on_submit():
            try:
                services.submit_feedback(token, rating=form.rating.data, needs_met=form.needs_met_value(),
                                         comment=form.comment.data)
            except GoneError:
                db.session.rollback()
                db.session.refresh(link)
                return _closed_page(link, services.link_state(link), lang)
            except ValidationFailed as exc:
                db.session.rollback()
                _attach_errors(form, exc)
                status = 422
            else:
                db.session.commit()
                return redirect(url_for("feedback.thanks", token=token, **_lang_args()), 303)
        elif request.method == "POST":
            status = 422
        summary = services.link_summary(link, lang)
        return render_template("feedback/form.html", form=form, summary=summary, link=link), status


def _attach_errors(form, exc: ValidationFailed) -> None:
    for name, messages in (exc.fields or {}).items():
        if name in form:
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            flash(" ".join(messages), "error")


@bp.get("/feedback/<token>/thanks")
def thanks(token: str):
    link = _quiet_find(token)
    if link is None:
        abort(404)
    if link.used_at is None:
        return redirect(url_for("feedback.form", token=token, **_lang_args()))
    lang = _language(link)
    feedback = db.session.scalar(sa.select(Feedback).where(Feedback.link_id == link.id))
    follow_up = feedback is not None and feedback.client_id is not None and \
        (feedback.rating <= services.LOW_RATING or not feedback.needs_met)
    with force_locale(lang):
        return render_template("feedback/thanks.html", summary=services.link_summary(link, lang), follow_up=follow_up)


# --------------------------------------------------------------------------- public provider page


@bp.get("/feedback/providers/<int:provider_id>")
def provider_public(provider_id: int):
    """A provider's published feedback with its responses (anyone)."""
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.status not in (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED):
        abort(404)
    before = request.args.get("before", type=int)
    rows = services.published_feedback(provider.id, limit=PAGE_SIZE + 1, before_id=before)
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template("feedback/provider_public.html", provider=provider, items=rows[:PAGE_SIZE], older=older)


# --------------------------------------------------------------------------- provider


def _provider_page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    before = request.args.get("before", type=int)
    stmt = scope_provider_owned(sa.select(Feedback), current_user, Feedback.provider_id)
    if before is not None:
        stmt = stmt.where(Feedback.id < before)
    rows = db.session.scalars(stmt.options(sa.orm.joinedload(Feedback.service_type))
                              .order_by(Feedback.id.desc()).limit(PAGE_SIZE + 1)).all()
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    provider = db.session.get(Provider, current_user.provider_id)
    return render_template("feedback/provider_list.html", provider=provider, items=rows[:PAGE_SIZE], older=older,
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
    if not form.validate_on_submit():
        return _provider_page({feedback.id: [e for errs in form.errors.values() for e in errs]},
                              {feedback.id: form.response.data or ""}, 422)
    try:
        services.respond_to_feedback(feedback.id, form.response.data, current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        return _provider_page({feedback.id: [m for ms in (exc.fields or {}).values() for m in ms]},
                              {feedback.id: form.response.data or ""}, 422)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("feedback.provider_feedback"))
    db.session.commit()
    flash(_("Your response has been published."), "success")
    return redirect(url_for("feedback.provider_feedback") + f"#feedback-{feedback.id}", 303)


# --------------------------------------------------------------------------- moderation


MODERATION_FILTERS = ("comments", "hidden", "all")


def _moderation_page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    show = request.args.get("show", "comments")
    if show not in MODERATION_FILTERS:
        show = "comments"
    before = request.args.get("before", type=int)
    stmt = sa.select(Feedback).options(sa.orm.joinedload(Feedback.provider), sa.orm.joinedload(Feedback.service_type),
                                       sa.orm.joinedload(Feedback.hidden_by))
    if show == "comments":
        stmt = stmt.where(sa.or_(Feedback.comment.is_not(None), Feedback.response.is_not(None)))
    elif show == "hidden":
        stmt = stmt.where(Feedback.hidden_at.is_not(None))
    if before is not None:
        stmt = stmt.where(Feedback.id < before)
    rows = db.session.scalars(stmt.order_by(Feedback.id.desc()).limit(PAGE_SIZE + 1)).all()
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    items = rows[:PAGE_SIZE]
    history = {}
    if items:
        for event in db.session.scalars(
                sa.select(FeedbackModerationEvent).where(FeedbackModerationEvent.feedback_id.in_([f.id for f in items]))
                .options(sa.orm.joinedload(FeedbackModerationEvent.actor)).order_by(FeedbackModerationEvent.id)):
            history.setdefault(event.feedback_id, []).append(event)
    return render_template("feedback/moderation.html", items=items, older=older, show=show, history=history,
                           errors=errors or {}, typed=typed or {}), status


@bp.get("/feedback/moderation")
@role_required(Role.ADMIN)
def moderation():
    """Administrators read feedback and hide an abusive item (with a reason) or
    publish it again."""
    return _moderation_page()


@bp.post("/feedback/moderation/<int:feedback_id>/hide")
@role_required(Role.ADMIN)
def hide(feedback_id: int):
    if db.session.get(Feedback, feedback_id) is None:
        abort(404)
    form = HideForm()
    if not form.validate_on_submit():
        return _moderation_page({feedback_id: [e for errs in form.errors.values() for e in errs]},
                                {feedback_id: form.reason.data or ""}, 422)
    try:
        services.hide_feedback(feedback_id, form.reason.data, current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        return _moderation_page({feedback_id: [m for ms in (exc.fields or {}).values() for m in ms]},
                                {feedback_id: form.reason.data or ""}, 422)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back_to_moderation())
    db.session.commit()
    flash(_("The feedback is hidden. It no longer shows publicly or counts in the provider's rating."), "success")
    return redirect(_back_to_moderation(), 303)


@bp.post("/feedback/moderation/<int:feedback_id>/unhide")
@role_required(Role.ADMIN)
def unhide(feedback_id: int):
    if db.session.get(Feedback, feedback_id) is None:
        abort(404)
    try:
        services.unhide_feedback(feedback_id, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back_to_moderation())
    db.session.commit()
    flash(_("The feedback is published again."), "success")
    return redirect(_back_to_moderation(), 303)


def _back_to_moderation() -> str:
    show = request.args.get("show")
    return url_for("feedback.moderation", show=show if show in MODERATION_FILTERS else None)


# --------------------------------------------------------------------------- staff


def _staff_order(order_id: int) -> ServiceOrder:
    order = db.session.scalar(scope_orders(sa.select(ServiceOrder).where(ServiceOrder.id == order_id), current_user))
    if order is None:
        abort(404)
    return order


@bp.get("/feedback/orders/<int:order_id>")
@role_required(Role.STAFF)
def order_feedback(order_id: int):
    """Staff: the order's feedback link (to read out or post to a client without
    e-mail), whether it has been used, and the feedback if given."""
    order = _staff_order(order_id)
    link = db.session.scalar(sa.select(FeedbackLink).where(FeedbackLink.order_id == order.id))
    feedback = db.session.scalar(sa.select(Feedback).where(Feedback.order_id == order.id).order_by(Feedback.id))
    client = db.session.get(Client, order.client_id)
    record_access(client.id, "view", Purpose.GUIDANCE, what=f"feedback on order {order.number}")
    db.session.commit()
    return render_template("feedback/order_feedback.html", order=order, client=client, link=link,
                           state=services.link_state(link) if link else None, feedback=feedback,
                           url=services.feedback_url_for_order(order.id) if link else None,
                           can_record=feedback is None and order.status in (OrderStatus.COMPLETED, OrderStatus.CLOSED))


@bp.route("/feedback/orders/<int:order_id>/by-phone", methods=["GET", "POST"])
@role_required(Role.STAFF)
def by_phone(order_id: int):
    """Staff record feedback the client gave by phone or letter, on their behalf."""
    order = _staff_order(order_id)
    if db.session.scalar(sa.select(Feedback.id).where(Feedback.order_id == order.id)) is not None:
        flash(_("Feedback on this order has already been given."), "info")
        return redirect(url_for("feedback.order_feedback", order_id=order.id))
    client = db.session.get(Client, order.client_id)
    form = FeedbackForm()
    status = 200
    if order.status not in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
        status = 409
    elif form.validate_on_submit():
        try:
            services.record_feedback_by_phone(order.id, form.rating.data, form.needs_met_value(), form.comment.data,
                                              current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            _attach_errors(form, exc)
            status = 422
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("feedback.order_feedback", order_id=order.id))
        else:
            db.session.commit()
            flash(_("The client's feedback is saved, marked as given by phone."), "success")
            return redirect(url_for("feedback.order_feedback", order_id=order.id), 303)
    elif request.method == "POST":
        status = 422
    record_access(client.id, "view", Purpose.FEEDBACK, what=f"name, for feedback on order {order.number}")
    db.session.commit()
    return render_template("feedback/by_phone.html", order=order, client=client, form=form), status


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
    db.session.commit()
    return render_template("feedback/staff_item.html", feedback=feedback, order=order, client=client)


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
