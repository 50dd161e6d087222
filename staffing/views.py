"""Staffing web pages: the staff's requests (list, new request, detail with the
offers sorted by price and fit, select, re-open, cancel) and the agencies' inbox
(coverage, offers, withdrawal, hours worked).

Each route: look up (404 if not visible) → permission → validate the form → one
service call → commit → flash + redirect; a refused request re-renders the form with
the service's messages and a 4xx status, with nothing written."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from accounts.models import Role
from accounts.permissions import role_required
from core.db import utcnow
from core.errors import ConflictError, DomainError, ValidationFailed
from core.extensions import db
from staffing import bp
from staffing import services as svc
from staffing.forms import CoverageForm, HoursForm, OfferForm, ReopenForm, RequestForm, local_to_utc
from staffing.models import StaffingOfferStatus, StaffingStatus

PAGE_SIZE = 50
STATUS_FILTERS = ("open", "closed", "filled", "cancelled")


def _user():
    return current_user._get_current_object()


def _place_errors(form, exc: DomainError, aliases: dict | None = None) -> list[str]:
    """Put a service's per-field errors on the form's fields; returns the rest."""
    rest = []
    for name, messages in (exc.fields or {}).items():
        name = (aliases or {}).get(name, name)
        if name in form and name != "shifts":
            form[name].errors = list(form[name].errors) + [str(m) for m in messages]
        else:
            rest.extend(str(m) for m in messages)
    form._errors = None  # WTForms caches form.errors
    if not exc.fields:
        rest.append(exc.message)
    return rest


def _context(user, req) -> dict:
    """What both detail pages show: the offers the user may see, sorted by price and
    fit, the people covered and whether the hours are due."""
    return {"req": req, "ranked": svc.rank_offers(req, svc.offers_for(user, req)),
            "covered": svc.covered_headcount(req.id), "hours_due": svc.hours_due(req),
            "scheduled_minutes": svc.scheduled_minutes(req), "action_form": FlaskForm()}


def _agency_or_403():
    try:
        return svc.agency_of(_user())
    except DomainError:
        abort(403)


# --------------------------------------------------------------------------- staff

@bp.get("/staffing")
@role_required(Role.STAFF)
def staff_list():
    status = request.args.get("status") or None
    if status not in (None, *STATUS_FILTERS):
        status = None
    cursor = request.args.get("cursor", type=int)
    rows = svc.list_requests(_user(), status=status, limit=PAGE_SIZE, cursor=cursor)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    decide = svc.list_requests(_user(), status=StaffingStatus.CLOSED, limit=50) if status is None and not cursor else []
    return render_template("staffing/staff_list.html", rows=rows, status=status, filters=STATUS_FILTERS,
                           decide=decide, next_cursor=rows[-1].request.id if more and rows else None)


@bp.route("/staffing/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_request():
    form = RequestForm()
    shift_errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        try:
            req = svc.create_request(_user(), unit=form.unit.data, qualification=form.qualification.data,
                                     postal_code=(form.postal_code.data or "").strip(), shifts=form.shift_pairs(),
                                     headcount=form.headcount.data, respond_by=local_to_utc(form.respond_by.data),
                                     note=form.note.data)
        except ValidationFailed as exc:
            db.session.rollback()
            shift_errors = _place_errors(form, exc)
            status = 422
        else:
            db.session.commit()
            flash(_("Staffing request %(number)s saved. The agencies that cover it are being told.",
                    number=req.number), "success")
            return redirect(url_for("staffing.detail", request_id=req.id))
    elif request.method == "POST":
        status = 422
    return render_template("staffing/new_request.html", form=form, shift_errors=shift_errors), status


@bp.get("/staffing/<int:request_id>")
@role_required(Role.STAFF, Role.PROVIDER)
def detail(request_id: int):
    user = _user()
    req = svc.visible_request(user, request_id)
    context = _context(user, req)
    if user.role == Role.STAFF:
        return render_template("staffing/detail_staff.html", reopen_form=ReopenForm(formdata=None),
                               recipients=svc.recipient_count(req.id), matching=svc.matching_count(req), **context)
    agency = _agency_or_403()
    return _agency_detail(req, agency, context)


def _agency_detail(req, agency, context, offer_form=None, hours_forms=None, status=200):
    standing = [o for o in context["ranked"] if o.offer.status in (StaffingOfferStatus.OFFERED,
                                                                     StaffingOfferStatus.SELECTED)]
    can_offer = (req.status == StaffingStatus.OPEN and req.respond_by > utcnow() and not standing
                 and agency.status == "approved")
    if offer_form is None and can_offer:
        offer_form = OfferForm(formdata=None, headcount=req.headcount)
    hours_forms = hours_forms or {}
    for r in context["ranked"]:
        o = r.offer
        if o.status == StaffingOfferStatus.SELECTED and o.id not in hours_forms:
            hours = None if o.minutes_worked is None else f"{o.minutes_worked / 60:g}".replace(".", ",")
            hours_forms[o.id] = HoursForm(formdata=None, prefix=f"h{o.id}", hours=hours)
    return render_template("staffing/detail_agency.html", agency=agency, can_offer=can_offer, offer_form=offer_form,
                           hours_forms=hours_forms, **context), status


@bp.post("/staffing/<int:request_id>/offers/<int:offer_id>/select")
@role_required(Role.STAFF)
def select(request_id: int, offer_id: int):
    svc.visible_request(_user(), request_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        result = svc.select_offer(_user(), request_id, offer_id)
    except ConflictError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("staffing.detail", request_id=request_id))
    db.session.commit()
    if result.filled:
        flash(_("Offer selected. The request is now filled; the agencies are being told."), "success")
    else:
        flash(_("Offer selected. %(covered)s of %(needed)s people are covered.", covered=result.covered,
                needed=result.request.headcount), "success")
    return redirect(url_for("staffing.detail", request_id=request_id))


@bp.post("/staffing/<int:request_id>/reopen")
@role_required(Role.STAFF)
def reopen(request_id: int):
    user = _user()
    req = svc.visible_request(user, request_id)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            svc.reopen_request(user, request_id, local_to_utc(form.respond_by.data))
        except ValidationFailed as exc:
            db.session.rollback()
            for message in _place_errors(form, exc):
                flash(message, "error")
        except ConflictError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("staffing.detail", request_id=request_id))
        else:
            db.session.commit()
            flash(_("The request is open again. The agencies are told the new answer time."), "success")
            return redirect(url_for("staffing.detail", request_id=request_id))
    req = svc.visible_request(user, request_id)
    return render_template("staffing/detail_staff.html", reopen_form=form, recipients=svc.recipient_count(req.id),
                           matching=svc.matching_count(req), **_context(user, req)), 422


@bp.post("/staffing/<int:request_id>/cancel")
@role_required(Role.STAFF)
def cancel(request_id: int):
    svc.visible_request(_user(), request_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        svc.cancel_request(_user(), request_id)
    except ConflictError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The request has been cancelled. The agencies are being told."), "success")
    return redirect(url_for("staffing.detail", request_id=request_id))


# --------------------------------------------------------------------------- agencies

@bp.get("/staffing/inbox")
@role_required(Role.PROVIDER)
def agency_inbox():
    _agency_or_403()
    return render_template("staffing/agency_inbox.html", **svc.agency_inbox(_user()))


@bp.route("/staffing/coverage", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def coverage():
    agency = _agency_or_403()
    qualifications, postal_codes = svc.coverage_of(agency.id)
    form = CoverageForm(qualifications=qualifications, postal_codes=" ".join(postal_codes))
    status = 200
    if form.validate_on_submit():
        try:
            svc.set_coverage(_user(), form.qualifications.data or [], form.postal_code_list())
        except ValidationFailed as exc:
            db.session.rollback()
            for message in _place_errors(form, exc):
                flash(message, "error")
            status = 422
        else:
            db.session.commit()
            flash(_("Coverage saved. New requests for these qualifications and areas come to your inbox."), "success")
            return redirect(url_for("staffing.agency_inbox"))
    elif request.method == "POST":
        status = 422
    return render_template("staffing/coverage.html", form=form, agency=agency), status


@bp.post("/staffing/<int:request_id>/offers")
@role_required(Role.PROVIDER)
def submit_offer(request_id: int):
    user = _user()
    agency = _agency_or_403()
    req = svc.visible_request(user, request_id)
    form = OfferForm()
    if form.validate_on_submit():
        try:
            svc.submit_offer(user, request_id, headcount=form.headcount.data, hourly_rate_cents=form.rate_cents(),
                             candidates=form.candidate_list(), note=form.note.data)
        except ValidationFailed as exc:
            db.session.rollback()
            for message in _place_errors(form, exc, aliases={"hourly_rate_cents": "hourly_rate"}):
                flash(message, "error")
        except ConflictError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("staffing.detail", request_id=request_id))
        else:
            db.session.commit()
            flash(_("Your offer has been sent. The unit decides after the answer time."), "success")
            return redirect(url_for("staffing.detail", request_id=request_id))
    req = svc.visible_request(user, request_id)
    context = _context(user, req)
    return _agency_detail(req, agency, context, offer_form=form, status=422)


@bp.post("/staffing/<int:request_id>/offers/<int:offer_id>/withdraw")
@role_required(Role.PROVIDER)
def withdraw(request_id: int, offer_id: int):
    _agency_or_403()
    svc.visible_request(_user(), request_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        svc.withdraw_offer(_user(), request_id, offer_id)
    except ConflictError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Your offer has been withdrawn."), "success")
    return redirect(url_for("staffing.detail", request_id=request_id))


@bp.post("/staffing/<int:request_id>/offers/<int:offer_id>/hours")
@role_required(Role.PROVIDER)
def report_hours(request_id: int, offer_id: int):
    user = _user()
    agency = _agency_or_403()
    req = svc.visible_request(user, request_id)
    form = HoursForm(prefix=f"h{offer_id}")
    if form.validate_on_submit():
        try:
            svc.report_hours(user, request_id, offer_id, form.minutes())
        except ValidationFailed as exc:
            db.session.rollback()
            for message in _place_errors(form, exc, aliases={"minutes_worked": "hours"}):
                flash(message, "error")
        except ConflictError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("staffing.detail", request_id=request_id))
        else:
            db.session.commit()
            flash(_("Hours saved. Thank you."), "success")
            return redirect(url_for("staffing.detail", request_id=request_id))
    req = svc.visible_request(user, request_id)
    context = _context(user, req)
    return _agency_detail(req, agency, context, hours_forms={offer_id: form}, status=422)
