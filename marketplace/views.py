"""Marketplace web pages: the public catalogue and provider pages, the cart and
checkout, the buyer's purchase page, the provider's offerings and purchases, the
admin's service catalogue, and the Stripe webhook.

Thin routes: look up → permission → validate the form → one service call → commit →
flash + redirect. No Stripe calls here (services go through ``billing``).
"""

from __future__ import annotations

import re
import secrets

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice as C

from accounts.models import Role
from accounts.permissions import role_required
from core.errors import DomainError, NotFoundError, ValidationFailed
from core.extensions import db
from marketplace import bp, cart, services
from marketplace.forms import (
    ActiveForm,
    AddToCartForm,
    CartLineForm,
    CatalogueSearchForm,
    CategoryForm,
    CheckoutForm,
    ConfirmTimeForm,
    NoteForm,
    OfferingForm,
    RefundForm,
    ServiceTypeForm,
)
from marketplace.models import ServiceCategory, ServiceType, ShopOrderStatus

PER_PAGE = 20


def _language() -> str:
    return str(get_locale() or "fi")


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _apply_errors(form, exc: ValidationFailed, mapping: dict | None = None) -> list[str]:
    """Put a service's per-field errors on the form's fields; return the rest."""
    rest = []
    for name, messages in (exc.fields or {}).items():
        target = (mapping or {}).get(name, name.removeprefix("buyer."))
        if target in form:
            form[target].errors = list(form[target].errors or []) + list(messages)
        else:
            rest.extend(messages)
    if not exc.fields:
        rest.append(exc.message)
    return rest


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1000))
    except ValueError:
        return 1


# --------------------------------------------------------------------------- public catalogue


def _language_choices():
    return [C("", _("Any language")), C("fi", "suomi"), C("sv", "svenska"), C("en", "English")]


@bp.get("/services")
def catalogue():
    form = CatalogueSearchForm(request.args)
    form.category.choices = [C("", _("All categories"))] + [C(str(c.id), c.name()) for c in services.list_categories()]
    form.language.choices = _language_choices()
    valid = form.validate()
    filters = services.CatalogueFilter(sort=form.sort.data if form.sort.data in services.SORTS else "price")
    if valid:
        filters.q = (form.q.data or "").strip()
        filters.category_id = int(form.category.data) if (form.category.data or "").isdigit() else None
        filters.postal_code = form.postal_code.data or None
        filters.language = form.language.data if form.language.data in ("fi", "sv", "en") else None
        filters.kind = form.kind.data if form.kind.data in services.PROVIDER_KINDS else None
        filters.max_price_cents = form.max_price.data
    service_type = request.args.get("service_type", "")
    filters.service_type_id = int(service_type) if service_type.isdigit() else None
    page = _page()
    offerings, has_next = services.search_catalogue(filters, page=page, per_page=PER_PAGE) if valid else ([], False)
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang")}
    status = 200 if valid else 422
    return render_template("marketplace/catalogue.html", form=form, offerings=offerings, filters=filters, page=page,
                           has_next=has_next, args=args, cart_count=cart.count(), add_form=AddToCartForm(),
                           vat_rate_label=services.vat_rate_label), status


@bp.get("/services/providers/<int:provider_id>")
def provider_page(provider_id: int):
    provider = services.get_public_provider(provider_id)
    return render_template("marketplace/provider.html", provider=provider,
                           offerings=services.provider_shop_offerings(provider.id),
                           areas=services.provider_areas(provider.id),
                           feedback=services.published_feedback(provider.id),
                           add_form=AddToCartForm(), cart_count=cart.count(), vat_rate_label=services.vat_rate_label)


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
    offering = services.sellable_offering(int(form.offering_id.data))
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
    groups, gone = services.price_cart_by_provider(cart.items())
    if gone:
        cart.remove(gone)
        flash(_("Some services are no longer sold and were taken out of the cart."), "warning")
    return render_template("marketplace/cart.html", groups=groups, line_form=CartLineForm(),
                           vat_rate_label=services.vat_rate_label)


@bp.post("/cart/<int:offering_id>")
def cart_update(offering_id: int):
    form = CartLineForm()
    if form.validate():
        cart.set_quantity(offering_id, form.quantity.data)
        flash(_("The cart was updated."), "success")
    else:
        flash(_("The quantity must be from 0 to %(max)s.", max=services.MAX_QUANTITY), "error")
    return redirect(url_for("marketplace.cart_view"))


# --------------------------------------------------------------------------- checkout


def _for_client_choices(user):
    """The 'who is the service for' choices of a client who acts for others; else None."""
    if user is None or user.role != Role.CLIENT:
        return None
    clients = services.clients_acted_for(user)
    if not clients or (len(clients) == 1 and clients[0].id == user.client_id):
        return None
    choices = [C("", _("Myself"))] if user.client_id is None else []
    choices += [C(str(c.id), _("Myself") if c.id == user.client_id else c.full_name) for c in clients]
    return choices


def _prefill(form, user) -> None:
    if user is None:
        return
    for name, value in services.buyer_defaults(user).items():
        if value and not form[name].data:
            form[name].data = value
    db.session.commit()  # reading the client's own record is access-logged


@bp.route("/shop/checkout/<int:provider_id>", methods=["GET", "POST"])
def checkout(provider_id: int):
    user = _user()
    provider_items = services.items_of_provider(cart.items(), provider_id)
    if not provider_items:
        flash(_("There is nothing from this provider in your cart."), "info")
        return redirect(url_for("marketplace.cart_view"))
    try:
        priced = services.price_items(provider_items)
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return redirect(url_for("marketplace.cart_view"))
    form = CheckoutForm()
    choices = _for_client_choices(user)
    if choices:
        form.for_client.choices = choices
    else:
        del form.for_client
    options = services.payment_options(priced.provider)
    form.payment.choices = [c for c in form.payment.choices if options[c.value]]
    if request.method == "GET":
        form.payment.data = "card" if options["card"] else "invoice"
        form.submission.data = secrets.token_urlsafe(16)
        _prefill(form, user)
    form.expected_total_cents.data = str(priced.total_cents) if request.method == "GET" else form.expected_total_cents.data
    status, problems = 200, []
    if request.method == "POST":
        status = 422
        if form.validate():
            desired = " ".join(p for p in [form.desired_date.data.isoformat() if form.desired_date.data else "",
                                           (form.desired_time.data or "").strip()] if p)
            buyer = services.Buyer(name=form.name.data, email=form.email.data, postal_code=form.postal_code.data,
                                   phone=form.phone.data, address=form.address.data, desired_time=desired or None,
                                   message=form.message.data)
            expected = form.expected_total_cents.data
            for_client = form.for_client.data if "for_client" in form else ""
            try:
                result = services.checkout(
                    provider_items, buyer, form.payment.data, actor=user,
                    for_client_id=int(for_client) if for_client and for_client.isdigit() else None,
                    language=_language(), expected_total_cents=int(expected) if (expected or "").isdigit() else None,
                    submission_key=f"web:{form.submission.data}" if form.submission.data else None)
            except services.AlreadyCheckedOut as exc:
                db.session.rollback()
                if exc.shop_order is not None:
                    return redirect(services.order_url(exc.shop_order) or url_for("marketplace.my_purchases"))
                flash(exc.message, "info")
                return redirect(url_for("marketplace.cart_view"))
            except ValidationFailed as exc:
                db.session.rollback()
                if exc.code == "outside_service_area":
                    form.postal_code.errors = list(form.postal_code.errors or []) + [exc.message]
                elif exc.code == "amount_mismatch":
                    problems.append(exc.message)
                    form.expected_total_cents.data = str(priced.total_cents)
                else:
                    problems.extend(_apply_errors(form, exc, {"client_id": "for_client"}))
            except DomainError as exc:
                db.session.rollback()
                problems.append(exc.message)
                status = exc.status
            else:
                db.session.commit()
                cart.remove([line.offering.id for line in result.cart.lines])
                for notice in result.cart.notices:
                    flash(notice, "warning")
                if result.checkout_url:
                    return redirect(result.checkout_url, 303)
                flash(_("Thank you! Your order has been sent to %(provider)s. They will confirm the time and send you an invoice.",
                        provider=priced.provider.name), "success")
                return redirect(result.order_url, 303)
    return render_template("marketplace/checkout.html", form=form, cart=priced, options=options, problems=problems,
                           vat_rate_label=services.vat_rate_label), status


# --------------------------------------------------------------------------- the buyer's purchase


def _buyer_order(order_id: int):
    token = request.values.get("token")
    order, is_buyer = services.find_order(_user(), order_id, token)
    return order, is_buyer, token


@bp.get("/shop/orders/<int:order_id>")
def order(order_id: int):
    order, is_buyer, token = _buyer_order(order_id)
    user = _user()
    if user is not None and user.role in (Role.PROVIDER, Role.ADMIN) and not token:
        return redirect(url_for("marketplace.provider_purchase", order_id=order.id))
    db.session.commit()  # an access-log row, if any
    if request.args.get("payment") == "cancelled" and order.status == ShopOrderStatus.PENDING_PAYMENT:
        flash(_("You left the payment page. The order waits for payment: pay now, or cancel it."), "info")
    return render_template("marketplace/order.html", order=order, token=token, is_buyer=is_buyer,
                           events=services.order_events(order), vat_rate_label=services.vat_rate_label)


@bp.get("/shop/orders/<int:order_id>/return")
def checkout_return(order_id: int):
    """Where Stripe sends the buyer after paying. The page asks Stripe itself how the
    payment stands; the redirect alone marks nothing paid."""
    order, _is_buyer, token = _buyer_order(order_id)
    try:
        status = services.sync_checkout(order)
        db.session.commit()
    except DomainError:
        db.session.rollback()
        status = order.status
    if status == ShopOrderStatus.PAID:
        flash(_("Thank you! Your payment has been received. A receipt is on its way to your e-mail."), "success")
    elif status == ShopOrderStatus.PENDING_PAYMENT:
        flash(_("We are confirming your payment. This page shows it as paid once the payment service has told us; "
                "you will also get an e-mail."), "info")
    return redirect(url_for("marketplace.order", order_id=order.id, token=token) if token
                    else url_for("marketplace.order", order_id=order.id))


@bp.post("/shop/orders/<int:order_id>/pay")
def pay(order_id: int):
    order, is_buyer, token = _buyer_order(order_id)
    if not is_buyer:
        abort(404)
    try:
        url = services.resume_card_payment(order)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        url = None
    if url:
        return redirect(url, 303)
    flash(_("This order can no longer be paid by card: see its status below."), "info")
    return redirect(url_for("marketplace.order", order_id=order.id, token=token) if token
                    else url_for("marketplace.order", order_id=order.id))


@bp.post("/shop/orders/<int:order_id>/cancel")
def buyer_cancel(order_id: int):
    order, is_buyer, token = _buyer_order(order_id)
    if not is_buyer:
        abort(404)
    form = NoteForm()
    form.validate()
    try:
        services.cancel(_user(), order, form.note.data or "", by_buyer=True)
        db.session.commit()
        flash(_("The order was cancelled."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("marketplace.order", order_id=order.id, token=token) if token
                    else url_for("marketplace.order", order_id=order.id))


@bp.get("/my/purchases")
@role_required(Role.CLIENT)
def my_purchases():
    purchases, has_next = services.list_purchases(current_user, page=_page())
    return render_template("marketplace/my_purchases.html", purchases=purchases, has_next=has_next, page=_page())


# --------------------------------------------------------------------------- provider: offerings


def _split(text: str) -> list[str]:
    return [p for p in re.split(r"[\s,;]+", text or "") if p]


def _offering_input(form) -> services.OfferingInput:
    return services.OfferingInput(
        service_type_id=form.service_type_id.data, postal_codes=_split(form.postal_codes.data),
        languages=_split(form.languages.data), unit=form.unit.data, price_cents=form.price.data,
        vat_rate_bp=form.vat_rate_bp.data, self_paid=form.self_paid.data,
        household_deduction=form.household_deduction.data, labour_share_percent=form.labour_share_percent.data,
        description=form.description.data or "")


def _offering_choices(form) -> None:
    form.service_type_id.choices = [C(t.id, f"{t.category.name()} – {t.name()}") for t in services.list_service_types()]
    form.vat_rate_bp.choices = [C(bp_, f"{services.vat_rate_label(bp_)} %") for bp_ in services.VAT_CHOICES_BP]


_OFFERING_FIELDS = {"price_cents": "price", "vat_rate": "vat_rate_bp"}


@bp.get("/provider/offerings")
@role_required(Role.PROVIDER)
def provider_offerings():
    from providers.models import Provider

    if request.args.get("onboarding") == "done":
        flash(_("Welcome back from Stripe. Card payments start once Stripe has checked your details."), "info")
    return render_template("marketplace/provider_offerings.html", offerings=services.own_offerings(current_user),
                           provider=db.session.get(Provider, current_user.provider_id),
                           card_enabled=services.billing.configured(), active_form=ActiveForm(),
                           onboarding_form=NoteForm(), vat_rate_label=services.vat_rate_label)


@bp.route("/provider/offerings/new", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def offering_new():
    form = OfferingForm()
    _offering_choices(form)
    if request.method == "GET":
        form.vat_rate_bp.data = 2550
    problems, status = [], 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                services.create_offering(current_user, _offering_input(form))
            except ValidationFailed as exc:
                db.session.rollback()
                problems = _apply_errors(form, exc, _OFFERING_FIELDS)
            else:
                db.session.commit()
                flash(_("The offering was saved."), "success")
                return redirect(url_for("marketplace.provider_offerings"))
    return render_template("marketplace/offering_form.html", form=form, offering=None, problems=problems), status


@bp.route("/provider/offerings/<int:offering_id>", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def offering_edit(offering_id: int):
    offering = services.get_own_offering(current_user, offering_id)
    form = OfferingForm(obj=offering if request.method == "GET" else None)
    _offering_choices(form)
    if request.method == "GET":
        form.price.data = offering.price_cents
        form.postal_codes.data = " ".join(offering.postal_codes)
        form.languages.data = ", ".join(offering.languages or [])
    problems, status = [], 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                services.update_offering(current_user, offering, _offering_input(form))
            except ValidationFailed as exc:
                db.session.rollback()
                problems = _apply_errors(form, exc, _OFFERING_FIELDS)
            else:
                db.session.commit()
                flash(_("The offering was saved."), "success")
                return redirect(url_for("marketplace.provider_offerings"))
    return render_template("marketplace/offering_form.html", form=form, offering=offering, problems=problems), status


@bp.post("/provider/offerings/<int:offering_id>/active")
@role_required(Role.PROVIDER)
def offering_active(offering_id: int):
    offering = services.get_own_offering(current_user, offering_id)
    form = ActiveForm()
    form.validate()
    services.set_offering_active(current_user, offering, form.active.data == "1")
    db.session.commit()
    flash(_("The offering is on sale again.") if offering.active else _("The offering was taken off sale."), "success")
    return redirect(url_for("marketplace.provider_offerings"))


@bp.post("/provider/payments/onboard")
@role_required(Role.PROVIDER)
def payment_onboarding():
    """Connect the organisation to Stripe; the page links on to Stripe's own form."""
    NoteForm().validate()
    try:
        url = services.start_payment_onboarding(current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("marketplace.provider_offerings"))
    db.session.commit()
    return render_template("marketplace/onboarding.html", url=url)


# --------------------------------------------------------------------------- provider: purchases


@bp.get("/provider/purchases")
@role_required(Role.PROVIDER, Role.ADMIN)
def provider_purchases():
    status = request.args.get("status") or None
    if status not in (None, *ShopOrderStatus):
        status = None
    purchases, has_next = services.list_purchases(current_user, status=status, page=_page())
    return render_template("marketplace/provider_purchases.html", purchases=purchases, has_next=has_next,
                           page=_page(), status=status, statuses=list(ShopOrderStatus))


def _purchase_page(order, status=200, **forms):
    defaults = {
        "time_form": ConfirmTimeForm(prefix="time", confirmed_time=order.confirmed_time or order.desired_time),
        "note_form": NoteForm(prefix="note"),
        "refund_form": RefundForm(prefix="refund", refunded_before=str(order.refunded_cents)),
    }
    defaults.update(forms)
    return render_template("marketplace/provider_purchase.html", order=order, events=services.order_events(order),
                           remaining=order.total_cents - order.refunded_cents, vat_rate_label=services.vat_rate_label,
                           **defaults), status


@bp.get("/provider/purchases/<int:order_id>")
@role_required(Role.PROVIDER, Role.ADMIN)
def provider_purchase(order_id: int):
    order = services.get_order_for(current_user, order_id)
    db.session.commit()  # the access-log row
    return _purchase_page(order)[0]


def _purchase_action(order_id: int, action):
    order = services.get_order_for(current_user, order_id)
    try:
        message = action(order)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("marketplace.provider_purchase", order_id=order_id))


@bp.post("/provider/purchases/<int:order_id>/time")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_confirm_time(order_id: int):
    form = ConfirmTimeForm(prefix="time")
    if not form.validate():
        order = services.get_order_for(current_user, order_id)
        return _purchase_page(order, 422, time_form=form)

    def act(order):
        services.confirm_time(current_user, order, form.confirmed_time.data)
        return _("The time was confirmed and the buyer told.")
    return _purchase_action(order_id, act)


@bp.post("/provider/purchases/<int:order_id>/paid")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_mark_paid(order_id: int):
    NoteForm(prefix="note").validate()

    def act(order):
        services.mark_invoice_paid(current_user, order)
        return _("The invoice was recorded as paid.")
    return _purchase_action(order_id, act)


@bp.post("/provider/purchases/<int:order_id>/fulfil")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_fulfil(order_id: int):
    form = NoteForm(prefix="note")
    form.validate()

    def act(order):
        services.fulfil(current_user, order, form.note.data)
        return _("Marked delivered. The buyer gets a link to give feedback.")
    return _purchase_action(order_id, act)


@bp.post("/provider/purchases/<int:order_id>/cancel")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_cancel(order_id: int):
    form = NoteForm(prefix="note")
    form.validate()

    def act(order):
        services.cancel(current_user, order, form.note.data or "")
        return _("The purchase was cancelled and the buyer told.")
    return _purchase_action(order_id, act)


@bp.post("/provider/purchases/<int:order_id>/refund")
@role_required(Role.PROVIDER, Role.ADMIN)
def purchase_refund(order_id: int):
    form = RefundForm(prefix="refund")
    if not form.validate():
        order = services.get_order_for(current_user, order_id)
        return _purchase_page(order, 422, refund_form=form)
    before = form.refunded_before.data

    def act(order):
        services.refund(current_user, order, form.amount.data, form.reason.data or "",
                        expected_refunded_cents=int(before) if (before or "").isdigit() else None)
        return _("The refund was made and the buyer told.")
    return _purchase_action(order_id, act)


# --------------------------------------------------------------------------- admin: service catalogue


@bp.get("/admin/catalogue")
@role_required(Role.ADMIN)
def admin_catalogue():
    return render_template("marketplace/admin_catalogue.html", categories=services.list_categories(),
                           types=services.list_service_types(active_only=False), active_form=ActiveForm())


def _category_form_page(category):
    form = CategoryForm(obj=category)
    problems, status = [], 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                services.save_category(current_user, slug=form.slug.data, name_fi=form.name_fi.data,
                                       name_sv=form.name_sv.data, name_en=form.name_en.data,
                                       position=form.position.data or 0, category=category)
            except ValidationFailed as exc:
                db.session.rollback()
                problems = _apply_errors(form, exc)
            else:
                db.session.commit()
                flash(_("The category was saved."), "success")
                return redirect(url_for("marketplace.admin_catalogue"))
    return render_template("marketplace/admin_category_form.html", form=form, category=category,
                           problems=problems), status


@bp.route("/admin/catalogue/categories/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_category_new():
    return _category_form_page(None)


@bp.route("/admin/catalogue/categories/<int:category_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_category_edit(category_id: int):
    category = db.session.get(ServiceCategory, category_id)
    if category is None:
        raise NotFoundError(_("No such category."))
    return _category_form_page(category)


def _type_form_page(service_type):
    form = ServiceTypeForm(obj=service_type)
    form.category_id.choices = [C(c.id, c.name()) for c in services.list_categories()]
    problems, status = [], 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                services.save_service_type(
                    current_user, category_id=form.category_id.data, slug=form.slug.data, name_fi=form.name_fi.data,
                    name_sv=form.name_sv.data, name_en=form.name_en.data, description_fi=form.description_fi.data,
                    self_paid_allowed=form.self_paid_allowed.data, needs_soteri=form.needs_soteri.data,
                    default_unit=form.default_unit.data, service_type=service_type)
            except ValidationFailed as exc:
                db.session.rollback()
                problems = _apply_errors(form, exc)
            else:
                db.session.commit()
                flash(_("The service type was saved."), "success")
                return redirect(url_for("marketplace.admin_catalogue"))
    return render_template("marketplace/admin_type_form.html", form=form, service_type=service_type,
                           problems=problems), status


@bp.route("/admin/catalogue/types/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_type_new():
    return _type_form_page(None)


@bp.route("/admin/catalogue/types/<int:type_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_type_edit(type_id: int):
    service_type = db.session.get(ServiceType, type_id)
    if service_type is None:
        raise NotFoundError(_("No such service type."))
    return _type_form_page(service_type)


@bp.post("/admin/catalogue/types/<int:type_id>/active")
@role_required(Role.ADMIN)
def admin_type_active(type_id: int):
    service_type = db.session.get(ServiceType, type_id)
    if service_type is None:
        raise NotFoundError(_("No such service type."))
    form = ActiveForm()
    form.validate()
    services.set_service_type_active(current_user, service_type, form.active.data == "1")
    db.session.commit()
    flash(_("%(name)s is in use again.", name=service_type.name()) if service_type.active
          else _("%(name)s was deactivated.", name=service_type.name()), "success")
    return redirect(url_for("marketplace.admin_catalogue"))


# --------------------------------------------------------------------------- Stripe webhook


@bp.post("/stripe/webhook")
def stripe_webhook():
    """Stripe's events. Verified by signature (400 otherwise); each event applied once
    (a repeat answers 200 ``duplicate``); a temporary failure answers 503 so that
    Stripe delivers the event again later."""
    try:
        event = services.verify_stripe_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    except services.WebhookRejected as exc:
        return jsonify({"error": {"code": exc.code, "message": exc.message}}), 400
    try:
        result = services.handle_stripe_event(event)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return jsonify({"error": {"code": exc.code, "message": exc.message}}), 503
    return jsonify({"received": True, "result": result})
