"""Order pages: the staff list and ordering form, the provider inbox, the order page
with its actions. Each POST is one ``core.actions.form_action``: validate, one
service call, a refusal of the input shown again in place with its errors (the
ordering page and the forms of the order page) or flashed (a refusal that is not
about the input), a redirect after success. The request's unit of work
commits; who sees what and may do what comes from ``orders.policy``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from clients import policy as client_policy
from clients.models import MandateScope
from clients.concerns import CONCERN_TEXT
from clients.services import get_client
from core.access import Purpose, record_access, record_access_many
from core.actions import Confirmation, confirmation_page, form_action, is_confirmed
from core.inputs import query_int, query_str
from feedback.services import feedback_link_status, feedback_url_for_order
from catalogue.services import list_service_types
from orders import bp, policy, queries, services
from orders.queries import concerns_of_order
from core.templating import fmt_date, money, number
from orders.forms import CancelForm, CloseForm, CompleteForm, DeclineForm, OrderForm, ReofferForm, VisitForm
from orders.models import OrderStatus
from vouchers.services import voucher_choices


def _cursor() -> int | None:
    return query_int("cursor")


def _int_arg(name: str) -> int | None:
    return query_int(name)


@bp.get("/")
@role_required(Role.STAFF)
def staff_list():
    # Filters are plain GET parameters; unknown values are ignored, not errors.
    status = request.args.get("status") or None
    filters = queries.OrderFilters(
        status=status if status in set(OrderStatus) else None,
        service_type_id=_int_arg("service_type_id"), worker_id=_int_arg("worker_id"),
        provider=query_str("provider") or None,
        client=query_str("client") or None)
    page = queries.staff_orders(current_user, filters, cursor=_cursor())
    record_access_many([o.client_id for o in page.items], "list", Purpose.ORDERING, what="name in order list")
    workers, service_types = queries.filter_choices()
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return render_template("orders/staff_list.html", filters=filters, page=page, args=args,
                           statuses=list(OrderStatus), service_types=service_types, workers=workers)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new():
    client_id = query_int("client_id")
    if client_id is None:
        flash(_("First find the client the order is for."), "info")
        return redirect(url_for("clients.search"))
    client = get_client(current_user, client_id, Purpose.ORDERING, what="client record for ordering")
    form = OrderForm()
    form.service_type_id.choices = [(t.id, f"{t.category.name()} – {t.name()}") for t in list_service_types()]
    chosen_type = form.service_type_id.data if request.method == "POST" else query_int("service_type_id")
    if request.method == "GET" and chosen_type:
        form.service_type_id.data = chosen_type
    eligible = services.eligible_providers(client, chosen_type) if chosen_type else []
    form.provider_ids.choices = [(e.provider.id, e.provider.name) for e in eligible]
    form.voucher_id.choices = [("", _("No voucher"))] + voucher_choices(client.id)
    if request.method == "GET" and request.args.get("voucher_id"):
        form.voucher_id.data = request.args.get("voucher_id")

    def page(status: int = 200):
        return render_template("orders/new.html", form=form, client=client, eligible=eligible,
                               chosen_type=chosen_type), status

    if request.method == "POST" and request.form.get("step") == "order":
        return form_action(
            form, lambda: services.place_order(
                current_user, client_id=client.id, service_type_id=form.service_type_id.data,
                start_date=form.start_date.data, end_date=form.end_date.data,
                visits_per_week=form.visits_per_week.data, minutes_per_visit=form.minutes_per_visit.data,
                instructions=form.instructions.data or "", funding=form.funding.data,
                provider_ids=form.provider_ids.data or None, mode=form.mode.data,
                voucher_id=int(form.voucher_id.data) if (form.voucher_id.data or "").isdigit() else None),
            success=lambda order: _("Order %(number)s placed and offered.", number=order.number),
            next_url=lambda order: url_for("orders.detail", order_id=order.id), render=page)
    return page()


@bp.get("/inbox")
@role_required(Role.PROVIDER)
def provider_inbox():
    page = queries.provider_inbox(current_user, cursor=_cursor())
    record_access_many([o.client_id for o in page.items], "list", Purpose.SERVICE, what="name in provider inbox")
    return render_template("orders/provider_inbox.html", page=page, statuses=queries.INBOX_ORDER_STATUSES)


def _purpose(order) -> str:
    """The purpose of a read of the order's client: a relative's read is theirs
    (logged with both persons), the client's own their own data."""
    if current_user.role == Role.CLIENT:
        return client_policy.client_side_purpose(current_user, order.client_id)
    return policy.access_purpose(current_user)


@bp.get("/<int:order_id>")
@role_required(Role.STAFF, Role.PROVIDER, Role.CLIENT)
def detail(order_id: int):
    return _detail_page(order_id)


def _detail_page(order_id: int, status: int = 200, **posted):
    """The order page; ``posted``: a form refused on it (e.g. ``visit_form=form``),
    shown again in place with what was typed and its errors, with ``status``."""
    order = queries.order_page(services.visible_order(current_user, order_id))["order"]
    identity = policy.sees_identity(order, current_user)
    if identity:
        record_access(order.client_id, "view", _purpose(order), what=f"order {order.number}")
    my_offer = policy.my_offer(order, current_user)
    actions = policy.allowed_actions(order, current_user, my_offer)
    reoffer_form = None
    eligible = []
    if "reoffer" in actions:
        # A refused re-offer comes back with what was ticked; the choices are the providers
        # still eligible, each with its rating and price.
        reoffer_form = posted.get("reoffer_form") or ReofferForm(formdata=None)
        eligible = services.eligible_providers(order.client, order.service_type_id,
                                               exclude={o.provider_id for o in order.offers})
        reoffer_form.provider_ids.choices = [(e.provider.id, _provider_choice_text(e)) for e in eligible]
    feedback_url = feedback_link = None
    if current_user.role == Role.CLIENT:
        # The client, or a relative whose mandate covers feedback: the form's link
        # while it is open (the e-mail with it may have gone to the client only).
        if order.status in ("completed", "closed") and client_policy.acts_for(current_user, order.client_id,
                                                                              MandateScope.FEEDBACK):
            feedback_link = feedback_link_status(order_id=order.id)
            feedback_url = feedback_url_for_order(order.id) if feedback_link and feedback_link["state"] == "open" \
                else None
    elif policy.shows_feedback_link(order, current_user):
        feedback_link = feedback_link_status(order_id=order.id)
        # A used or expired link is not handed out again: staff see its state instead.
        feedback_url = feedback_url_for_order(order.id) if feedback_link and feedback_link["state"] == "open" else None
    concerns = concerns_of_order(order, current_user)
    if concerns:
        record_access(order.client_id, "view", _purpose(order), what=CONCERN_TEXT)
    forms = {"decline_form": posted.get("decline_form") or DeclineForm(formdata=None),
             "visit_form": posted.get("visit_form") or VisitForm(formdata=None),
             "close_form": posted.get("close_form") or CloseForm(formdata=None),
             "cancel_form": posted.get("cancel_form") or CancelForm(formdata=None),
             "complete_form": posted.get("complete_form") or CompleteForm(formdata=None)}
    return render_template(
        "orders/detail.html", order=order, identity=identity, my_offer=my_offer, actions=actions,
        **forms, ongoing=policy.is_ongoing(order), concerns=concerns,
        reoffer_form=reoffer_form, eligible=eligible, feedback_url=feedback_url, feedback_link=feedback_link,
        hide_contact=not policy.shows_contact(order, current_user), message_form=posted.get("message_form")), status


def _provider_choice_text(e) -> str:
    parts = [e.provider.name]
    if e.rating:
        parts.append(f"{number(e.rating, 1)}/5")
    parts.append(money(e.offering.price_cents))
    return " – ".join(parts)


def _reoffer_form() -> ReofferForm:
    form = ReofferForm()
    # The ticked providers were listed on the page; the service checks each of them.
    form.provider_ids.choices = [(int(v), v) for v in request.form.getlist("provider_ids") if v.isdigit()]
    return form


def _record_visit(order_id: int, form: VisitForm):
    tasks = [t.strip() for t in (form.tasks.data or "").split(",") if t.strip()]
    return services.record_visit(current_user, order_id, visit_date=form.date.data, minutes=form.minutes.data,
                                 tasks=tasks, note=form.note.data, concern=form.concern.data == "yes",
                                 urgency=form.urgency.data or None, concern_text=form.concern_text.data or "",
                                 missed=form.missed.data == "yes")


def _order_for_confirmation(order_id: int):
    return services.visible_order(current_user, order_id)


def _confirm_complete(order_id: int, form) -> Confirmation:
    order = _order_for_confirmation(order_id)
    ongoing = policy.is_ongoing(order)
    lines = [_("The order %(number)s is marked completed: no more visits can be reported on it.", number=order.number),
             _("The client gets a one-time link to give feedback."),
             _("The ordering worker is asked to confirm that the client got the service."),
             _("This cannot be undone.")]
    notice = None
    if ongoing:
        notice = (_("This order has no end date: the service is ongoing.") if order.end_date is None else
                  _("Visits are still planned until %(date)s.", date=fmt_date(order.end_date))) + " " + \
            _("Completing it now ends the service early. Say why.")
    return Confirmation(title=_("Complete order %(number)s?", number=order.number), consequences=lines,
                        button=_("Yes, complete the order"), back=url_for("orders.detail", order_id=order_id),
                        ask=["reason"] if ongoing else [], notice=notice)


def _confirm_cancel(order_id: int, form) -> Confirmation:
    order = _order_for_confirmation(order_id)
    return Confirmation(
        title=_("Cancel order %(number)s?", number=order.number),
        consequences=[_("The order is cancelled: no provider can accept it or report visits on it."),
                      _("Open offers are withdrawn and the providers concerned are told."),
                      _("Reason given: %(reason)s", reason=form.reason.data), _("This cannot be undone.")],
        button=_("Yes, cancel the order"), back=url_for("orders.detail", order_id=order_id))


def _confirm_decline(order_id: int, form) -> Confirmation:
    order = _order_for_confirmation(order_id)
    return Confirmation(
        title=_("Decline order %(number)s?", number=order.number),
        consequences=[_("Your organisation's offer is declined and cannot be accepted later."),
                      _("The guidance worker reads your reason: %(reason)s", reason=form.reason.data),
                      _("The order may go to the next provider.")],
        button=_("Yes, decline the order"), back=url_for("orders.detail", order_id=order_id))


def _confirm_close(order_id: int, form) -> Confirmation:
    order = _order_for_confirmation(order_id)
    received = form.outcome.data == "received"
    return Confirmation(
        title=_("Close order %(number)s?", number=order.number),
        consequences=[_("The loop is closed with the outcome: %(outcome)s.",
                        outcome=_("the client got the service") if received else _("the client did not get the service")),
                      *([] if received else [_("A follow-up is opened for the client's responsible worker.")]),
                      _("This cannot be undone.")],
        button=_("Yes, close the order"), back=url_for("orders.detail", order_id=order_id), danger=False)


# The buttons of the order page: (path, endpoint, role, the form's factory, the service call,
# the message after success, the confirmation step of an irreversible one). Each
# is one form_action: a refusal of the input is shown in place (``_SHOWN_AGAIN``), any
# other refusal is flashed and the user comes back to the order page.
_BUTTONS = [
    ("accept", "accept", Role.PROVIDER, None, lambda oid, form: services.accept_offer(current_user, oid),
     _l("You accepted the order. The client's contact details are now shown."), None),
    ("decline", "decline", Role.PROVIDER, DeclineForm,
     lambda oid, form: services.decline_offer(current_user, oid, form.reason.data), _l("You declined the order."),
     _confirm_decline),
    ("visits", "visit", Role.PROVIDER, VisitForm, _record_visit, _l("Visit reported."), None),
    ("complete", "complete", Role.PROVIDER, CompleteForm,
     lambda oid, form: services.complete_order(current_user, oid, form.reason.data),
     _l("Order completed. The client gets a link to give feedback."), _confirm_complete),
    ("close", "close", Role.STAFF, CloseForm,
     lambda oid, form: services.close_order(current_user, oid, form.outcome.data, form.note.data),
     _l("Order closed. Thank you for closing the loop."), _confirm_close),
    ("cancel", "cancel", Role.STAFF, CancelForm,
     lambda oid, form: services.cancel_order(current_user, oid, form.reason.data), _l("Order cancelled."),
     _confirm_cancel),
    ("reoffer", "reoffer", Role.STAFF, _reoffer_form,
     lambda oid, form: services.reoffer_order(current_user, oid, form.provider_ids.data or None, form.mode.data),
     _l("The order was offered again."), None),
]


# The forms of the order page that are shown again in place (with what was typed, an
# error summary and the errors at their fields, status 422) when their input is refused;
# the name is the template's variable for the form.
_SHOWN_AGAIN = {"decline": "decline_form", "visit": "visit_form", "complete": "complete_form",
                "close": "close_form", "cancel": "cancel_form", "reoffer": "reoffer_form"}


def _button_view(endpoint, make_form, call, message, confirm):
    def view(order_id: int):
        form = make_form() if make_form is not None else None
        if confirm is not None:
            # Ask again only for what the user may do now; anything else is refused at once.
            order = services.visible_order(current_user, order_id)
            if endpoint not in policy.allowed_actions(order, current_user, policy.my_offer(order, current_user)):
                confirm_step = None
            else:
                confirm_step = lambda: confirm(order_id, form)  # noqa: E731
        else:
            confirm_step = None
        back = url_for("orders.detail", order_id=order_id)
        render = None
        if endpoint in _SHOWN_AGAIN and form is not None:
            def render(status: int):
                # The form is shown again in place, on the order page, when the page still
                # has it; otherwise (the action is no longer open) its errors are flashed.
                if confirm_step is not None and is_confirmed():
                    # Refused on the confirmation page: the fields asked there are shown there again.
                    asked = confirm_step()
                    wrong = [f.name for f in form if f.errors]
                    if asked.ask and all(name in asked.ask for name in wrong):
                        return confirmation_page(form, asked, status)
                order = services.visible_order(current_user, order_id)
                if endpoint not in policy.allowed_actions(order, current_user, policy.my_offer(order, current_user)):
                    for f in form:
                        for error in f.errors:
                            flash(f"{f.label.text}: {error}", "error")
                    return redirect(back)
                return _detail_page(order_id, status, **{_SHOWN_AGAIN[endpoint]: form})
        return form_action(form, lambda: call(order_id, form), success=str(message), next_url=back,
                           render=render, back=back, refusals_go_back=True, confirm=confirm_step)

    return view


for _path, _endpoint, _role, _form, _call, _message, _confirm in _BUTTONS:
    bp.add_url_rule("/<int:order_id>/" + _path, _endpoint,
                    role_required(_role)(_button_view(_endpoint, _form, _call, _message, _confirm)), methods=["POST"])


# The message form at the end of the order page is clients' (templates/clients/_order_messages.html,
# posted to clients.order_message); it shows a refused message on this page through the app.
bp.record_once(lambda state: state.app.extensions.__setitem__("kotiapu.order_page", _detail_page))
