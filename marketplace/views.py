"""Marketplace web pages: the public catalogue and provider pages, the cart and
checkout, the buyer's purchase page, the provider's offerings and purchases, the
admin's service catalogue, and the Stripe webhook.

Thin routes: look up → one service call through ``core.actions.form_action`` →
flash + redirect. They never commit: the request's unit of work does. No Stripe
calls here (services go through ``billing``). The catalogue's services live in the
``catalogue`` package; its pages are served here, where buyers shop.
"""

from __future__ import annotations

import re
import secrets

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf as csrf_token
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice as C

from accounts.models import Role
from accounts.permissions import role_required
from catalogue import admin as catalogue_admin
from catalogue import offerings as offering_services
from catalogue import services as catalogue_services
from catalogue.money import VAT_CHOICES_BP, vat_rate_label
from core.actions import Confirmation, form_action
from core.errors import DomainError, ValidationFailed
from core.extensions import db
from core.i18n import text_of
from core.inputs import query_int, query_page
from core.templating import money
from marketplace import (
    billing,
    bp,
    cart,
    lifecycle,
    page_cache,
    payments,
    purchases,
    stripe_events,
)
from marketplace.checkout import Buyer, buyer_defaults, clients_acted_for
from marketplace.checkout import checkout as make_purchase
from marketplace.connect import start_payment_onboarding
from marketplace.errors import AlreadyCheckedOut, WebhookRejected
from marketplace.forms import (
    ActiveForm,
    AddToCartForm,
    CartLineForm,
    CatalogueSearchForm,
    CategoryForm,
    CheckoutForm,
    ConfirmTimeForm,
    FastLabel,
    NoteForm,
    OfferingForm,
    RefundForm,
    ServiceTypeForm,
)
from marketplace.models import ShopOrderStatus
from marketplace.policy import purchase_actions
from marketplace.pricing import (
    MAX_QUANTITY,
    items_of_provider,
    price_cart_by_provider,
    price_items,
)
from marketplace.storefront import published_feedback
from providers.models import Provider

PER_PAGE = 20


def _language() -> str:
    return str(get_locale() or "fi")


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _page() -> int:
    return query_page()


# --------------------------------------------------------------------------- public catalogue


def _language_choices():
    return [C("", _("Any language")), C("fi", "suomi"), C("sv", "svenska"), C("en", "English")]


@bp.get("/services")
def catalogue():
    # The filters and results are the same for everyone asking the same in the same
    # language: kept for a few seconds (marketplace.page_cache), the visitor's CSRF
    # token put in on the way out.
    key = (_language(), request.full_path)
    body = page_cache.get(key)
    status = 200
    if body is None:
        body, status = _catalogue_body(key)
    # The kept body was rendered by Jinja with autoescape; the token is Flask-WTF's.
    body = Markup(page_cache.with_token(body, csrf_token()))  # nosec B704
    return render_template("marketplace/catalogue.html", body=body, cart_count=cart.count()), status


def _in_language(form: CatalogueSearchForm) -> None:
    """The filters' labels and fixed choices as texts of the request's catalogue: a lazy
    text is looked up by Flask-Babel afresh each time it is shown (an option's twice).
    They stay markup, as a lazy text is shown: the platform's own translations."""
    for field in form:
        field.label = FastLabel(field.id, Markup(text_of(field.label.text)))  # nosec B704
    for field in (form.kind, form.sort):
        field.choices = [C(choice.value, Markup(text_of(choice.label))) for choice in field.choices]  # nosec B704


def _catalogue_body(key) -> tuple[str, int]:
    read_generation = page_cache.generation()
    form = CatalogueSearchForm(request.args)
    form.category.choices = [C("", _("All categories"))] + [C(str(i), name) for i, name in catalogue_services.category_choices()]
    form.language.choices = _language_choices()
    _in_language(form)
    valid = form.validate()
    filters = catalogue_services.CatalogueFilter(sort=form.sort.data if form.sort.data in catalogue_services.SORTS else "price")
    if valid:
        filters.q = (form.q.data or "").strip()
        filters.category_id = query_int("category")
        filters.postal_code = form.postal_code.data or None
        filters.language = form.language.data if form.language.data in ("fi", "sv", "en") else None
        filters.kind = form.kind.data if form.kind.data in catalogue_services.PROVIDER_KINDS else None
        filters.max_price_cents = form.max_price.data
    filters.service_type_id = query_int("service_type")
    page = _page()
    offerings, has_next = catalogue_services.search_catalogue(filters, page=page, per_page=PER_PAGE) if valid else ([], False)
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang")}
    body = render_template("marketplace/_catalogue_body.html", form=form, offerings=offerings, filters=filters,
                           page=page, has_next=has_next, args=args, next_url=request.full_path, csrf=page_cache.CSRF_STAND_IN).strip()
    if not valid:
        return body, 422
    page_cache.put(key, body, read_generation)
    return body, 200


@bp.get("/services/providers/<int:provider_id>")
def provider_page(provider_id: int):
    provider = catalogue_services.get_public_provider(provider_id)
    offerings = catalogue_services.provider_shop_offerings(provider.id)
    return render_template("marketplace/provider.html", provider=provider,
                           offerings=[catalogue_services.offering_card(o, o.postal_codes) for o in offerings],
                           areas=catalogue_services.provider_areas(provider.id),
                           feedback=published_feedback(provider.id),
                           add_form=AddToCartForm(), cart_count=cart.count())


# --------------------------------------------------------------------------- cart


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.post("/cart/add")
def cart_add():
    form = AddToCartForm()
    back = _safe_next(form.next.data) or url_for("marketplace.catalogue")
    if not form.validate() or not (form.offering_id.data or "").isdigit():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return redirect(back)
    offering = catalogue_services.sellable_offering(int(form.offering_id.data))
    if offering is None:
        flash(_("That service is no longer sold in the shop."), "error")
        return redirect(back)
    if not cart.add(offering.id, form.quantity.data, offering.price_cents):
        flash(_("The cart is full. Check out or remove something first."), "error")
        return redirect(back)
    flash(_("%(service)s by %(provider)s was added to the cart.", service=offering.service_type.name(),
            provider=offering.provider.name), "success")
    return redirect(back)


@bp.get("/cart")
def cart_view():
    groups, gone = price_cart_by_provider(cart.items())
    if gone:
        cart.remove(gone)
        flash(_("Some services are no longer sold and were taken out of the cart."), "warning")
    return render_template("marketplace/cart.html", groups=groups, line_form=CartLineForm(),
                           vat_rate_label=vat_rate_label)


@bp.post("/cart/<int:offering_id>")
def cart_update(offering_id: int):
    form = CartLineForm()
    if form.validate():
        cart.set_quantity(offering_id, form.quantity.data)
        flash(_("The cart was updated."), "success")
    else:
        flash(_("The quantity must be from 0 to %(max)s.", max=MAX_QUANTITY), "error")
    return redirect(url_for("marketplace.cart_view"))


# --------------------------------------------------------------------------- checkout


def _for_client_choices(user):
    """The 'who is the service for' choices of a client who acts for others; else None."""
    if user is None or user.role != Role.CLIENT:
        return None
    clients = clients_acted_for(user)
    if not clients or (len(clients) == 1 and clients[0].id == user.client_id):
        return None
    choices = [C("", _("Myself"))] if user.client_id is None else []
    choices += [C(str(c.id), _("Myself") if c.id == user.client_id else c.full_name) for c in clients]
    return choices


def _prefill(form, user) -> None:
    if user is None:
        return
    for name, value in buyer_defaults(user).items():  # the read of the client's own record is access-logged
        if value and not form[name].data:
            form[name].data = value


# The checkout form's fields named as the service names them.
_BUYER_FIELDS = {f"buyer.{name}": name for name in ("name", "email", "phone", "address", "postal_code",
                                                    "desired_time", "message")}
_CHECKOUT_FIELDS = {**_BUYER_FIELDS, "client_id": "for_client"}


def _checkout_buyer(form) -> Buyer:
    desired = " ".join(p for p in [form.desired_date.data.isoformat() if form.desired_date.data else "",
                                   (form.desired_time.data or "").strip()] if p)
    return Buyer(name=form.name.data, email=form.email.data, postal_code=form.postal_code.data,
                 phone=form.phone.data, address=form.address.data, desired_time=desired or None,
                 message=form.message.data)


def _checkout_refusal(form, exc: ValidationFailed, priced) -> ValidationFailed:
    """Where the checkout page shows a refusal: outside the area at the postal code,
    a changed total as a message (with the new total to confirm)."""
    if exc.code == "outside_service_area":
        return ValidationFailed(exc.message, code=exc.code, fields={"postal_code": [exc.message]})
    if exc.code == "amount_mismatch":
        form.expected_total_cents.data = str(priced.total_cents)
        return ValidationFailed(exc.message, code=exc.code)
    return exc


def _after_checkout(result, provider_name: str) -> str:
    """Where a sent checkout goes: Stripe's payment page or the order; a repeated
    submission to the purchase the first one made."""
    if isinstance(result, AlreadyCheckedOut):
        if result.shop_order is not None:
            return purchases.order_url(result.shop_order) or url_for("marketplace.my_purchases")
        flash(result.message, "info")
        return url_for("marketplace.cart_view")
    cart.remove([line.offering.id for line in result.cart.lines])
    for notice in result.cart.notices:
        flash(notice, "warning")
    if result.checkout_url:
        return result.checkout_url
    flash(_("Thank you! Your order has been sent to %(provider)s. They will confirm the time and send you an invoice.",
            provider=provider_name), "success")
    return result.order_url


@bp.route("/shop/checkout/<int:provider_id>", methods=["GET", "POST"])
def checkout(provider_id: int):
    user = _user()
    provider_items = items_of_provider(cart.items(), provider_id)
    if not provider_items:
        flash(_("There is nothing from this provider in your cart."), "info")
        return redirect(url_for("marketplace.cart_view"))
    try:
        priced = price_items(provider_items)
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return redirect(url_for("marketplace.cart_view"))
    form = CheckoutForm()
    choices = _for_client_choices(user)
    if choices:
        form.for_client.choices = choices
    else:
        del form.for_client
    options = payments.payment_options(priced.provider)
    form.payment.choices = [c for c in form.payment.choices if options[c.value]]

    def page(status=200):
        return render_template("marketplace/checkout.html", form=form, cart=priced, options=options,
                               vat_rate_label=vat_rate_label), status

    if request.method == "GET":
        form.payment.data = "card" if options["card"] else "invoice"
        form.submission.data = secrets.token_urlsafe(16)
        form.expected_total_cents.data = str(priced.total_cents)
        _prefill(form, user)
        return page()

    def send():
        expected = form.expected_total_cents.data
        for_client = form.for_client.data if "for_client" in form else ""
        try:
            return make_purchase(
                provider_items, _checkout_buyer(form), form.payment.data, actor=user,
                for_client_id=int(for_client) if for_client and for_client.isdigit() else None,
                language=_language(), expected_total_cents=int(expected) if (expected or "").isdigit() else None,
                submission_key=f"web:{form.submission.data}" if form.submission.data else None)
        except AlreadyCheckedOut as exc:
            return exc
        except ValidationFailed as exc:
            raise _checkout_refusal(form, exc, priced) from None

    outcome = []

    def action():
        outcome.append(send())
        return outcome[0]

    response = form_action(form, action, next_url=lambda result: _after_checkout(result, priced.provider.name),
                           render=page, aliases=_CHECKOUT_FIELDS)
    if outcome and not isinstance(outcome[0], AlreadyCheckedOut):
        response.status_code = 303  # see other: the order (or Stripe's page), never the form again
    return response


# --------------------------------------------------------------------------- the buyer's purchase


def _buyer_order(order_id: int):
    token = request.values.get("token")
    order, is_buyer = purchases.find_order(_user(), order_id, token)
    return order, is_buyer, token


def _order_page_url(order, token) -> str:
    return url_for("marketplace.order", order_id=order.id, token=token) if token \
        else url_for("marketplace.order", order_id=order.id)


@bp.get("/shop/orders/<int:order_id>")
def order(order_id: int):
    order, is_buyer, token = _buyer_order(order_id)
    user = _user()
    if user is not None and user.role in (Role.PROVIDER, Role.ADMIN) and not token:
        return redirect(url_for("marketplace.provider_purchase", order_id=order.id))
    if is_buyer:
        purchases.record_buyer_view(user, order)
    if request.args.get("payment") == "cancelled" and order.status == ShopOrderStatus.PENDING_PAYMENT:
        flash(_("You left the payment page. The order waits for payment: pay now, or cancel it."), "info")
    return render_template("marketplace/order.html", order=order, token=token, is_buyer=is_buyer,
                           actions=purchase_actions(user, order, is_buyer=is_buyer),
                           events=purchases.order_events(order), vat_rate_label=vat_rate_label)


@bp.get("/shop/orders/<int:order_id>/return")
def checkout_return(order_id: int):
    """Where Stripe sends the buyer after paying. The page asks Stripe itself how the
    payment stands; the redirect alone marks nothing paid."""
    order, _is_buyer, token = _buyer_order(order_id)
    try:
        with db.session.begin_nested():  # Stripe unreachable: keep nothing, show the status as it was
            status = payments.sync_checkout(order)
    except DomainError:
        status = order.status
    if status == ShopOrderStatus.PAID:
        flash(_("Thank you! Your payment has been received. A receipt is on its way to your e-mail."), "success")
    elif status == ShopOrderStatus.PENDING_PAYMENT:
        flash(_("We are confirming your payment. This page shows it as paid once the payment service has told us; "
                "you will also get an e-mail."), "info")
    return redirect(_order_page_url(order, token))


def _cancel_confirmation(order, back: str) -> Confirmation:
    paid = order.status == "paid"
    return Confirmation(
        title=_("Cancel purchase %(number)s?", number=order.number),
        consequences=[_("The purchase is cancelled: the service will not be delivered."),
                      *([_("The payment is refunded in full.")] if paid else []),
                      _("The other party is told by e-mail."), _("This cannot be undone.")],
        button=_("Yes, cancel the purchase"), back=back)


def _buyer_action(order_id: int, act, **kwargs):
    order, is_buyer, token = _buyer_order(order_id)
    if not is_buyer:
        abort(404)
    return form_action(None, lambda: act(order), next_url=lambda url: url or _order_page_url(order, token),
                       back=_order_page_url(order, token), **kwargs)


@bp.post("/shop/orders/<int:order_id>/pay")
def pay(order_id: int):
    def resume(order):
        url = payments.resume_card_payment(order)
        if not url:
            flash(_("This order can no longer be paid by card: see its status below."), "info")
        return url

    response = _buyer_action(order_id, resume)
    if response.status_code == 302 and not response.location.startswith("/"):
        response.status_code = 303  # on to Stripe's payment page
    return response


@bp.post("/shop/orders/<int:order_id>/cancel")
def buyer_cancel(order_id: int):
    form = NoteForm()
    form.validate()

    def cancel(order):
        lifecycle.cancel(_user(), order, form.note.data or "", by_buyer=True)

    order, _is_buyer, token = _buyer_order(order_id)
    return _buyer_action(order_id, cancel, success=_("The order was cancelled."),
                         confirm=lambda: _cancel_confirmation(order, _order_page_url(order, token)))


@bp.get("/my/purchases")
@role_required(Role.CLIENT)
def my_purchases():
    rows, has_next = purchases.list_purchases(current_user, page=_page())
    return render_template("marketplace/my_purchases.html", purchases=rows, has_next=has_next, page=_page())


# --------------------------------------------------------------------------- provider: offerings


def _split(text: str) -> list[str]:
    return [p for p in re.split(r"[\s,;]+", text or "") if p]


def _offering_input(form) -> offering_services.OfferingInput:
    return offering_services.OfferingInput(
        service_type_id=form.service_type_id.data, postal_codes=_split(form.postal_codes.data),
        languages=_split(form.languages.data), unit=form.unit.data, price_cents=form.price.data,
        vat_rate_bp=form.vat_rate_bp.data, self_paid=form.self_paid.data,
        household_deduction=form.household_deduction.data, labour_share_percent=form.labour_share_percent.data,
        description=form.description.data or "")


_OFFERING_FIELDS = {"price_cents": "price", "vat_rate": "vat_rate_bp"}


def _offering_form_page(offering):
    offering_services.require_offering_manager(current_user)  # a worker: 403, on the page as in the service
    form = OfferingForm(obj=offering if request.method == "GET" else None)
    form.service_type_id.choices = [C(t.id, f"{t.category.name()} – {t.name()}") for t in catalogue_services.list_service_types()]
    form.vat_rate_bp.choices = [C(bp_, f"{vat_rate_label(bp_)} %") for bp_ in VAT_CHOICES_BP]

    def page(status=200):
        return render_template("marketplace/offering_form.html", form=form, offering=offering), status

    if request.method == "POST":
        if offering is None:
            def save():
                return offering_services.create_offering(current_user, _offering_input(form))
        else:
            def save():
                return offering_services.update_offering(current_user, offering, _offering_input(form))
        return form_action(form, save, success=_("The offering was saved."),
                           next_url=url_for("marketplace.provider_offerings"), render=page, aliases=_OFFERING_FIELDS)
    if offering is None:
        form.vat_rate_bp.data = 2550
    else:
        form.price.data = offering.price_cents
        form.postal_codes.data = " ".join(offering.postal_codes)
        form.languages.data = ", ".join(offering.languages or [])
    return page()


@bp.get("/provider/offerings")
@role_required(Role.PROVIDER)
def provider_offerings():
    if request.args.get("onboarding") == "done":
        flash(_("Welcome back from Stripe. Card payments start once Stripe has checked your details."), "info")
    return render_template("marketplace/provider_offerings.html",
                           offerings=offering_services.own_offerings(current_user),
                           provider=db.session.get(Provider, current_user.provider_id),
                           can_manage=offering_services.can_manage_offerings(current_user),
                           card_enabled=billing.configured(), active_form=ActiveForm(),
                           onboarding_form=NoteForm(), vat_rate_label=vat_rate_label)


@bp.route("/provider/offerings/new", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def offering_new():
    return _offering_form_page(None)


@bp.route("/provider/offerings/<int:offering_id>", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def offering_edit(offering_id: int):
    return _offering_form_page(offering_services.get_own_offering(current_user, offering_id))


@bp.post("/provider/offerings/<int:offering_id>/active")
@role_required(Role.PROVIDER)
def offering_active(offering_id: int):
    offering = offering_services.get_own_offering(current_user, offering_id)
    form = ActiveForm()
    form.validate()
    return form_action(
        form, lambda: offering_services.set_offering_active(current_user, offering, form.active.data == "1"),
        validate=False, next_url=url_for("marketplace.provider_offerings"),
        success=lambda o: _("The offering is on sale again.") if o.active else _("The offering was taken off sale."))


@bp.post("/provider/payments/onboard")
@role_required(Role.PROVIDER)
def payment_onboarding():
    """Connect the organisation to Stripe; the page links on to Stripe's own form."""
    NoteForm().validate()
    try:
        with db.session.begin_nested():  # refused: keep nothing of the attempt
            url = start_payment_onboarding(current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("marketplace.provider_offerings"))
    return render_template("marketplace/onboarding.html", url=url)


# --------------------------------------------------------------------------- provider: purchases


@bp.get("/provider/purchases")
@role_required(Role.PROVIDER, Role.ADMIN)
def provider_purchases():
    status = request.args.get("status") or None
    if status not in (None, *ShopOrderStatus):
        status = None
    rows, has_next = purchases.list_purchases(current_user, status=status, page=_page())
    return render_template("marketplace/provider_purchases.html", purchases=rows, has_next=has_next,
                           page=_page(), status=status, statuses=list(ShopOrderStatus))


def _purchase_page(order, status=200, **forms):
    defaults = {
        "time_form": ConfirmTimeForm(prefix="time", confirmed_time=order.confirmed_time or order.desired_time),
        "note_form": NoteForm(prefix="note"),
        "refund_form": RefundForm(prefix="refund", refunded_before=str(order.refunded_cents)),
    }
    defaults.update(forms)
    return render_template("marketplace/provider_purchase.html", order=order, events=purchases.order_events(order),
                           remaining=order.total_cents - order.refunded_cents, vat_rate_label=vat_rate_label,
                           actions=purchase_actions(current_user, order), **defaults), status


@bp.get("/provider/purchases/<int:order_id>")
@role_required(Role.PROVIDER, Role.ADMIN)
def provider_purchase(order_id: int):
    return _purchase_page(purchases.get_order_for(current_user, order_id))[0]


def _purchase_action(order_id: int, form, act, success: str, form_name: str | None = None, confirm=None):
    """A seller's button on the purchase page: a form with fields of its own shows
    its errors on the page (422); a refusal is flashed on the page it came from."""
    order = purchases.get_order_for(current_user, order_id)
    if form_name and not form.validate():
        return _purchase_page(order, 422, **{form_name: form})
    if not form_name:
        form.validate()
    return form_action(form, lambda: act(order), validate=False, success=success,
                       next_url=url_for("marketplace.provider_purchase", order_id=order_id),
                       confirm=(lambda: confirm(order)) if confirm else None)


@bp.post("/provider/purchases/<int:order_id>/time")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_confirm_time(order_id: int):
    form = ConfirmTimeForm(prefix="time")
    return _purchase_action(order_id, form, lambda order: lifecycle.confirm_time(
        current_user, order, form.confirmed_time.data), _("The time was confirmed and the buyer told."), "time_form")


@bp.post("/provider/purchases/<int:order_id>/paid")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_mark_paid(order_id: int):
    return _purchase_action(order_id, NoteForm(prefix="note"), lambda order: lifecycle.mark_invoice_paid(
        current_user, order), _("The invoice was recorded as paid."))


@bp.post("/provider/purchases/<int:order_id>/fulfil")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_fulfil(order_id: int):
    form = NoteForm(prefix="note")
    return _purchase_action(order_id, form, lambda order: lifecycle.fulfil(current_user, order, form.note.data),
                            _("Marked delivered. The buyer gets a link to give feedback."))


@bp.post("/provider/purchases/<int:order_id>/cancel")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_cancel(order_id: int):
    form = NoteForm(prefix="note")
    return _purchase_action(order_id, form, lambda order: lifecycle.cancel(current_user, order, form.note.data or ""),
                            _("The purchase was cancelled and the buyer told."),
                            confirm=lambda order: _cancel_confirmation(
                                order, url_for("marketplace.provider_purchase", order_id=order_id)))


@bp.post("/provider/purchases/<int:order_id>/refund")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_refund(order_id: int):
    form = RefundForm(prefix="refund")

    def refund(order):
        before = form.refunded_before.data
        lifecycle.refund(current_user, order, form.amount.data, form.reason.data or "",
                         expected_refunded_cents=int(before) if (before or "").isdigit() else None)
    return _purchase_action(order_id, form, refund, _("The refund was made and the buyer told."), "refund_form",
                            confirm=lambda order: Confirmation(
                                title=_("Refund %(amount)s of purchase %(number)s?", amount=money(form.amount.data),
                                        number=order.number),
                                consequences=[_("The money is returned to the buyer."),
                                              _("The buyer is told, with your reason: %(reason)s",
                                                reason=form.reason.data or "–"),
                                              _("A refund cannot be taken back.")],
                                button=_("Yes, make the refund"),
                                back=url_for("marketplace.provider_purchase", order_id=order_id)))


# --------------------------------------------------------------------------- admin: service catalogue


@bp.get("/admin/catalogue")
@role_required(Role.ADMIN)
def admin_catalogue():
    return render_template("marketplace/admin_catalogue.html", categories=catalogue_services.list_categories(),
                           types=catalogue_services.list_service_types(active_only=False), active_form=ActiveForm())


def _admin_form_page(form, template: str, save, success: str, **context):
    """A category's or a service type's form: shown, or saved and back to the catalogue."""
    def page(status=200):
        return render_template(template, form=form, **context), status

    if request.method == "POST":
        return form_action(form, save, success=success, next_url=url_for("marketplace.admin_catalogue"), render=page)
    return page()


def _category_form_page(category):
    form = CategoryForm(obj=category)
    return _admin_form_page(form, "marketplace/admin_category_form.html", lambda: catalogue_admin.save_category(
        current_user, slug=form.slug.data, name_fi=form.name_fi.data, name_sv=form.name_sv.data,
        name_en=form.name_en.data, position=form.position.data or 0, category=category),
        _("The category was saved."), category=category)


def _admin_add_and_edit(kind: str, path: str, id_name: str, form_page, load) -> None:
    """The admin's pages adding a catalogue item (``{path}/new``, endpoint ``admin_{kind}_new``) and editing one
    (``{path}/<id>``, ``admin_{kind}_edit``), both ``form_page``: with None, or with the item ``load`` finds."""

    def add():
        return form_page(None)

    def change(**ids):
        return form_page(load(ids[id_name]))

    for rule, endpoint, view in ((f"{path}/new", f"admin_{kind}_new", add),
                                 (f"{path}/<int:{id_name}>", f"admin_{kind}_edit", change)):
        bp.add_url_rule(rule, endpoint, role_required(Role.ADMIN)(view), methods=["GET", "POST"])


_admin_add_and_edit("category", "/admin/catalogue/categories", "category_id", _category_form_page,
                    catalogue_services.get_category)


def _type_form_page(service_type):
    form = ServiceTypeForm(obj=service_type)
    form.category_id.choices = [C(c.id, c.name()) for c in catalogue_services.list_categories()]
    return _admin_form_page(form, "marketplace/admin_type_form.html", lambda: catalogue_admin.save_service_type(
        current_user, category_id=form.category_id.data, slug=form.slug.data, name_fi=form.name_fi.data,
        name_sv=form.name_sv.data, name_en=form.name_en.data, description_fi=form.description_fi.data,
        self_paid_allowed=form.self_paid_allowed.data, needs_soteri=form.needs_soteri.data,
        default_unit=form.default_unit.data, service_type=service_type),
        _("The service type was saved."), service_type=service_type)


_admin_add_and_edit("type", "/admin/catalogue/types", "type_id", _type_form_page, catalogue_services.get_service_type)


@bp.post("/admin/catalogue/types/<int:type_id>/active")
@role_required(Role.ADMIN)
def admin_type_active(type_id: int):
    service_type = catalogue_services.get_service_type(type_id)
    form = ActiveForm()
    form.validate()
    return form_action(
        form, lambda: catalogue_admin.set_service_type_active(current_user, service_type, form.active.data == "1"),
        validate=False, next_url=url_for("marketplace.admin_catalogue"),
        success=lambda t: _("%(name)s is in use again.", name=t.name()) if t.active
        else _("%(name)s was deactivated.", name=t.name()))


# --------------------------------------------------------------------------- Stripe webhook


def _webhook_error(exc: DomainError, status: int):
    return jsonify({"error": {"code": exc.code, "message": exc.message}}), status


@bp.post("/stripe/webhook")
def stripe_webhook():
    """Stripe's events. Verified by signature (400 otherwise); each event applied once
    (a repeat answers 200 ``duplicate``); a temporary failure answers 503 so that
    Stripe delivers the event again later. The unit of work commits the event's
    claim with its changes below 400 and rolls both back otherwise, so a failed
    event is claimed by its next delivery."""
    try:
        event = stripe_events.verify_stripe_event(request.get_data(cache=False),
                                                  request.headers.get("Stripe-Signature"))
    except WebhookRejected as exc:
        return _webhook_error(exc, 400)
    try:
        result = stripe_events.handle_stripe_event(event)
    except DomainError as exc:
        return _webhook_error(exc, 503)
    return jsonify({"received": True, "result": result})
