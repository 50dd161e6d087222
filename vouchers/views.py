"""Voucher web pages: staff grant, follow and close vouchers and review the
service events (one by one or in bulk); providers record events on their
voucher-funded orders, resubmit refused ones, correct settled ones and download
their statements; the client (or a relative with a mandate) sees their vouchers,
the month's balance and each provider's price on top; the administrator settles
months, marks them paid and sets which services are free to the client.

Each POST is one ``core.actions.form_action`` around one service call; the
request's unit of work commits."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from catalogue.services import list_service_types
from clients.services import get_client
from core.access import Purpose, record_access, record_access_many
from core.actions import form_action
from core.time import local_today
from vouchers import bp, policy
from vouchers import services as svc
from vouchers.forms import (
    BulkApproveForm, CloseForm, CorrectForm, EventForm, FreeServicesForm, GrantForm, MarkPaidForm, RefuseForm,
    SettleForm, quantity_of,
)
from vouchers.models import VoucherStatus
from vouchers.statements import county_response, statement_response


def _user():
    return current_user._get_current_object()


def _detail_url(voucher_id: int) -> str:
    return url_for("vouchers.detail", voucher_id=voucher_id)


# --------------------------------------------------------------------------- staff

@bp.get("/")
@role_required(Role.STAFF)
def staff_list():
    status = request.args.get("status")
    status = status if status in set(VoucherStatus) else None
    vouchers = svc.list_vouchers(_user(), status=status)
    record_access_many([v.client_id for v in vouchers], "list", Purpose.GUIDANCE, what="vouchers list")
    return render_template("vouchers/staff_list.html", vouchers=vouchers, status=status,
                           waiting=len(svc.review_queue(_user())), balance=svc.balance)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new():
    client_id = request.args.get("client_id", type=int)
    if client_id is None:
        abort(404)
    client = get_client(_user(), client_id, Purpose.GUIDANCE, what="client record for a service voucher")
    form = GrantForm()
    form.service_type_id.choices = [(t.id, f"{t.category.name()} – {t.name()}") for t in list_service_types()]

    def page(status: int = 200):
        return render_template("vouchers/new.html", form=form, client=client), status

    if request.method == "POST":
        def grant():
            amount, value = form.amounts()
            return svc.grant_voucher(_user(), client_id=client.id, service_type_id=form.service_type_id.data,
                                     unit=form.unit.data, monthly_amount=amount, value_cents_per_unit=value,
                                     valid_from=form.valid_from.data, valid_to=form.valid_to.data,
                                     renews=form.renews.data)
        return form_action(form, grant, success=_("Voucher granted."),
                           next_url=lambda v: _detail_url(v.id), render=page,
                           aliases={"value_cents_per_unit": "value", "client_id": "service_type_id"})
    return page()


@bp.get("/<int:voucher_id>")
@role_required(Role.STAFF, Role.PROVIDER, Role.CLIENT)
def detail(voucher_id: int):
    return _detail_page(voucher_id)


def _detail_page(voucher_id: int, status: int = 200, close_form=None):
    user = _user()
    voucher = svc.visible_voucher(user, voucher_id)
    record_access(voucher.client_id, "view", policy.access_purpose(user, voucher.client_id),
                  what=f"service voucher {voucher.id}")
    events = svc.events_of_voucher(voucher.id)
    if policy.is_provider(user):
        events = [e for e in events if e.provider_id == user.provider_id]
    today = local_today()
    return render_template(
        "vouchers/detail.html", voucher=voucher, balance=svc.balance(voucher, today), events=events,
        orders=svc.voucher_orders(voucher.id) if policy.is_staff(user) else [],
        choices=svc.provider_choices(voucher) if not policy.is_provider(user) else [],
        free=svc.free_to_client(voucher.service_type_id), timeline=svc.voucher_timeline(voucher.id)
        if policy.is_staff(user) else [], is_staff=policy.is_staff(user),
        close_form=close_form or (CloseForm(formdata=None) if policy.is_staff(user)
                                  and voucher.status != VoucherStatus.CLOSED else None)), status


@bp.post("/<int:voucher_id>/close")
@role_required(Role.STAFF)
def close(voucher_id: int):
    form = CloseForm()
    return form_action(form, lambda: svc.close_voucher(_user(), voucher_id, form.reason.data),
                       success=_("Voucher closed."), next_url=_detail_url(voucher_id),
                       render=lambda status: _detail_page(voucher_id, status, close_form=form))


@bp.get("/review")
@role_required(Role.STAFF)
def review():
    events = svc.review_queue(_user())
    record_access_many([e.voucher.client_id for e in events], "list", Purpose.GUIDANCE, what="voucher events to review")
    form = BulkApproveForm(formdata=None)
    form.event_ids.choices = [(e.id, str(e.id)) for e in events]
    return render_template("vouchers/review.html", events=events, form=form, refuse_form=RefuseForm(formdata=None))


@bp.post("/review/approve")
@role_required(Role.STAFF)
def bulk_approve():
    form = BulkApproveForm()
    form.event_ids.choices = [(e.id, str(e.id)) for e in svc.review_queue(_user())]
    return form_action(form, lambda: svc.approve_events(_user(), form.event_ids.data or []),
                       success=lambda ids: ngettext("%(num)s event approved.", "%(num)s events approved.", len(ids)),
                       next_url=url_for("vouchers.review"))


def _back() -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/vouchers/") and "//" not in target else url_for("vouchers.review")


@bp.post("/events/<int:event_id>/<any(approve, review):action>")
@role_required(Role.STAFF)
def event_button(event_id: int, action: str):
    call = svc.approve_event if action == "approve" else svc.review_event
    message = _("Event approved.") if action == "approve" else _("Event taken under review.")
    return form_action(MarkPaidForm(), lambda: call(_user(), event_id), success=message, next_url=_back())


@bp.post("/events/<int:event_id>/refuse")
@role_required(Role.STAFF)
def refuse(event_id: int):
    form = RefuseForm()
    return form_action(form, lambda: svc.refuse_event(_user(), event_id, form.reason.data),
                       success=_("Event refused and sent back to the provider."), next_url=_back(), back=_back())


# --------------------------------------------------------------------------- provider

@bp.get("/provider")
@role_required(Role.PROVIDER)
def provider_events():
    user = _user()
    orders = svc.provider_voucher_orders(user)
    events = svc.provider_events(user)
    record_access_many([o.client_id for o in orders], "list", Purpose.SERVICE, what="voucher-funded orders")
    vouchers = {o.id: svc.visible_voucher(user, o.voucher_id) for o in orders}
    return render_template(
        "vouchers/provider.html", orders=orders, vouchers=vouchers, events=events,
        balances={o.id: svc.balance(vouchers[o.id]) for o in orders},
        event_forms={o.id: EventForm(formdata=None, prefix=f"o{o.id}") for o in orders},
        correctable={e.id: svc.correctable(e) for e in events},
        settlements=svc.list_settlements(user), earliest=svc.earliest_recordable())


@bp.post("/orders/<int:order_id>/events")
@role_required(Role.PROVIDER)
def record(order_id: int):
    form = EventForm(prefix=f"o{order_id}")
    user = _user()

    def action():
        unit = svc.order_voucher(user, order_id).unit
        return svc.record_event(user, order_id, event_date=form.date.data, quantity=form.integer(unit))
    return form_action(form, action, success=_("Service event recorded."), next_url=url_for("vouchers.provider_events"))


@bp.post("/events/<int:event_id>/resubmit")
@role_required(Role.PROVIDER)
def resubmit(event_id: int):
    form = EventForm(prefix=f"e{event_id}")
    user = _user()

    def action():
        event = svc.visible_event(user, event_id)
        return svc.resubmit_event(user, event_id, event_date=form.date.data,
                                  quantity=form.integer(event.voucher.unit))
    return form_action(form, action, success=_("Event sent for review again."),
                       next_url=url_for("vouchers.provider_events"))


@bp.post("/events/<int:event_id>/correct")
@role_required(Role.PROVIDER, Role.STAFF)
def correct(event_id: int):
    form = CorrectForm(prefix=f"c{event_id}")
    user = _user()
    back = url_for("vouchers.provider_events") if policy.is_provider(user) else _back()

    def action():
        event = svc.visible_event(user, event_id)
        return svc.correct_event(user, event_id, quantity=quantity_of(event.voucher.unit, form.quantity.data),
                                 reason=form.reason.data)
    return form_action(form, action, success=_("Correction recorded; it is settled in the next settlement."),
                       next_url=back, back=back)


# --------------------------------------------------------------------------- client

@bp.get("/mine")
@role_required(Role.CLIENT)
def my_vouchers():
    """The vouchers of the client and of everyone the user acts for as a relative."""
    from clients.models import Client
    from clients.scopes import represented_client_ids
    from core.extensions import db

    user = _user()
    ids = sorted(i for i in db.session.scalars(represented_client_ids(user)) if i is not None and i > 0)
    today = local_today()
    people = []
    for client_id in ids:
        client = db.session.get(Client, client_id)
        if client is None or client.erased_at is not None:
            continue
        vouchers = svc.vouchers_of_client(user, client_id)
        record_access(client_id, "view", policy.access_purpose(user, client_id), what="service vouchers")
        people.append({"client": client, "own": client_id == user.client_id, "vouchers": vouchers,
                       "balances": {v.id: svc.balance(v, today) for v in vouchers},
                       "choices": {v.id: svc.provider_choices(v) for v in vouchers},
                       "summary": svc.client_year_summary(client_id, today.year)})
    return render_template("vouchers/mine.html", people=people)


# --------------------------------------------------------------------------- settlements

@bp.route("/settlements", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.PROVIDER)
def settlements():
    user = _user()
    form = SettleForm() if policy.is_admin(user) else None
    free_form = None
    if policy.is_admin(user):
        settings = svc.service_settings()
        free_form = FreeServicesForm(formdata=None, service_type_ids=[t.id for t, free in settings if free])
        free_form.service_type_ids.choices = [(t.id, t.name()) for t, _free in settings]

    def page(status: int = 200):
        return render_template("vouchers/settlements.html", settlements=svc.list_settlements(user), form=form,
                               free_form=free_form, due=svc.settlement_due_month()), status

    if request.method == "POST":
        if not policy.is_admin(user):
            abort(403)
        return form_action(form, lambda: svc.settle_month(user, svc.parse_month(form.month.data.strip())),
                           success=_("The month is settled."), render=page,
                           next_url=lambda s: url_for("vouchers.settlement", settlement_id=s.id))
    if form is not None and not form.month.data:
        previous = svc.month_start(svc.month_start(local_today()) - timedelta(days=1))
        form.month.data = f"{previous:%Y-%m}"
    return page()


@bp.post("/settings/free-services")
@role_required(Role.ADMIN)
def free_services():
    form = FreeServicesForm()
    form.service_type_ids.choices = [(t.id, t.name()) for t, _free in svc.service_settings()]
    return form_action(form, lambda: svc.set_free_services(_user(), form.service_type_ids.data or []),
                       success=_("Saved."), next_url=url_for("vouchers.settlements"))


@bp.get("/settlements/<int:settlement_id>")
@role_required(Role.ADMIN, Role.PROVIDER)
def settlement(settlement_id: int):
    user = _user()
    settlement = svc.visible_settlement(user, settlement_id)
    lines = svc.visible_lines(user, settlement)
    if policy.is_provider(user) and not lines:
        abort(404)
    rows = {line.id: svc.statement_rows(line) for line in lines} if policy.is_provider(user) else {}
    return render_template("vouchers/settlement.html", settlement=settlement, lines=lines, rows=rows,
                           is_admin=policy.is_admin(user), paid_form=MarkPaidForm(formdata=None))


@bp.post("/settlements/<int:settlement_id>/paid")
@role_required(Role.ADMIN)
def mark_paid(settlement_id: int):
    return form_action(MarkPaidForm(), lambda: svc.mark_paid(_user(), settlement_id),
                       success=_("The settlement is marked paid."),
                       next_url=url_for("vouchers.settlement", settlement_id=settlement_id))


@bp.get("/settlements/<int:settlement_id>/statements/<int:provider_id>.<any(pdf, csv):ext>")
@role_required(Role.ADMIN, Role.PROVIDER)
def statement(settlement_id: int, provider_id: int, ext: str):
    user = _user()
    line = svc.visible_line(user, settlement_id, provider_id)
    return statement_response(svc.visible_settlement(user, settlement_id), line, ext)


@bp.get("/settlements/<int:settlement_id>/county.json")
@role_required(Role.ADMIN)
def county(settlement_id: int):
    user = _user()
    settlement = svc.visible_settlement(user, settlement_id)
    return county_response(settlement, svc.visible_lines(user, settlement))


# --------------------------------------------------------------------------- figures

@bp.get("/figures")
@role_required(Role.MANAGER, Role.ADMIN)
def figures():
    from vouchers.figures import voucher_figures

    today = local_today()
    end = svc.parse_month(request.args.get("to", "")) or svc.month_start(today)
    start = svc.parse_month(request.args.get("from", "")) or svc.month_start(end - timedelta(days=150))
    if start > end:
        start = end
    return render_template("vouchers/figures.html", figures=voucher_figures(start, end), start=start, end=end)
