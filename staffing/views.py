"""Staffing web pages: the staff's requests (list, new request, detail with the
offers sorted by price and fit, select, re-open, cancel) and the agencies' inbox
(coverage, offers, withdrawal, hours worked).

Each POST goes through ``core.actions.form_action``: validate the form, one service
call, flash + redirect; a refused form is shown again with the service's messages
and a 4xx status, and a refused button is flashed on the request's page. The
request's unit of work commits (``core.uow``); no view commits or rolls back."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from core.actions import Confirmation, form_action
from core.errors import DomainError
from core.inputs import query_int
from staffing import bp
from staffing import policy
from staffing import services as svc
from staffing.forms import CoverageForm, HoursForm, OfferForm, ReopenForm, RequestForm, local_to_utc
from staffing.models import StaffingOfferStatus, StaffingStatus

PAGE_SIZE = 50
STATUS_FILTERS = ("open", "closed", "filled", "cancelled")


def _user():
    return current_user._get_current_object()


def _detail_url(request_id: int) -> str:
    return url_for("staffing.detail", request_id=request_id)


def _agency_or_403():
    try:
        return svc.agency_of(_user())
    except DomainError:
        abort(403)


def _context(user, req) -> dict:
    """What both detail pages show: the offers the user may see, sorted by price and
    fit, the people covered, whether the hours are due and what the user may do."""
    offers = svc.offers_for(user, req)
    ranked = svc.rank_offers(req, offers)
    return {"req": req, "ranked": ranked, "covered": svc.covered_headcount(req.id), "hours_due": svc.hours_due(req),
            "scheduled_minutes": svc.scheduled_minutes(req), "actions": policy.request_actions(user, req, offers),
            "offer_actions": {r.offer.id: policy.offer_actions(user, req, r.offer) for r in ranked}}


def _page(request_id: int, status: int = 200, **forms):
    """The request's page for the current user (staff or agency), with the forms
    given (a refused form shown again) and the status."""
    user = _user()
    req = svc.visible_request(user, request_id)
    context = _context(user, req)
    if user.role == Role.STAFF:
        return render_template("staffing/detail_staff.html", reopen_form=forms.get("reopen_form")
                               or ReopenForm(formdata=None), events=svc.request_events(req.id),
                               recipients=svc.recipient_count(req.id), matching=svc.matching_count(req),
                               **context), status
    agency = _agency_or_403()
    offer_form = forms.get("offer_form")
    if offer_form is None and "offer" in context["actions"]:
        offer_form = OfferForm(formdata=None, headcount=req.headcount)
    hours_forms = dict(forms.get("hours_forms") or {})
    for r in context["ranked"]:
        o = r.offer
        if o.status == StaffingOfferStatus.SELECTED and o.id not in hours_forms:
            hours = None if o.minutes_worked is None else f"{o.minutes_worked / 60:g}".replace(".", ",")
            hours_forms[o.id] = HoursForm(formdata=None, prefix=f"h{o.id}", hours=hours)
    return render_template("staffing/detail_agency.html", agency=agency, offer_form=offer_form,
                           hours_forms=hours_forms, **context), status


def _on_page(request_id: int, **forms):
    """``render`` for a form on the request's page: a refused form (422) is shown
    again there; any other refusal is flashed on the page after a redirect."""
    def render(status: int):
        if status == 422:
            return _page(request_id, 422, **forms)
        return redirect(_detail_url(request_id))
    return render


def _button(request_id: int, action, success, confirm=None):
    """A button on the request's page (select, cancel, withdraw); ``confirm``: the
    second step of an irreversible one."""
    return form_action(None, action, success=success, next_url=_detail_url(request_id), confirm=confirm)


# --------------------------------------------------------------------------- staff

@bp.get("/staffing")
@role_required(Role.STAFF)
def staff_list():
    status = request.args.get("status") or None
    if status not in (None, *STATUS_FILTERS):
        status = None
    cursor = query_int("cursor")
    rows = svc.list_requests(_user(), status=status, limit=PAGE_SIZE, cursor=cursor)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    decide = svc.list_requests(_user(), status=StaffingStatus.CLOSED, limit=50) if status is None and not cursor else []
    return render_template("staffing/staff_list.html", rows=rows, status=status, filters=STATUS_FILTERS,
                           decide=decide, next_cursor=rows[-1].request.id if more and rows else None)


def _new_request_page(form, status: int):
    shift_errors = [str(e) for e in form.shifts.errors if isinstance(e, str)]
    return render_template("staffing/new_request.html", form=form, shift_errors=shift_errors), status


@bp.route("/staffing/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_request():
    form = RequestForm()
    if request.method == "POST":
        return form_action(
            form, lambda: svc.create_request(
                _user(), unit=form.unit.data, qualification=form.qualification.data,
                postal_code=(form.postal_code.data or "").strip(), shifts=form.shift_pairs(),
                headcount=form.headcount.data, respond_by=local_to_utc(form.respond_by.data), note=form.note.data),
            success=lambda req: _("Staffing request %(number)s saved. The agencies that cover it are being told.",
                                  number=req.number),
            next_url=lambda req: _detail_url(req.id), render=lambda status: _new_request_page(form, status))
    return _new_request_page(form, 200)


@bp.get("/staffing/<int:request_id>")
@role_required(Role.STAFF, Role.PROVIDER)
def detail(request_id: int):
    return _page(request_id)


def _selected_message(result) -> str:
    if result.filled:
        return _("Offer selected. The request is now filled; the agencies are being told.")
    return _("Offer selected. %(covered)s of %(needed)s people are covered.", covered=result.covered,
             needed=result.request.headcount)


@bp.post("/staffing/<int:request_id>/offers/<int:offer_id>/select")
@role_required(Role.STAFF)
def select(request_id: int, offer_id: int):
    svc.visible_request(_user(), request_id)
    return _button(request_id, lambda: svc.select_offer(_user(), request_id, offer_id), _selected_message)


@bp.post("/staffing/<int:request_id>/reopen")
@role_required(Role.STAFF)
def reopen(request_id: int):
    svc.visible_request(_user(), request_id)
    form = ReopenForm()
    return form_action(form, lambda: svc.reopen_request(_user(), request_id, local_to_utc(form.respond_by.data)),
                       success=_("The request is open again. The agencies are told the new answer time."),
                       next_url=_detail_url(request_id), render=_on_page(request_id, reopen_form=form))


@bp.post("/staffing/<int:request_id>/cancel")
@role_required(Role.STAFF)
def cancel(request_id: int):
    svc.visible_request(_user(), request_id)
    return _button(request_id, lambda: svc.cancel_request(_user(), request_id),
                   _("The request has been cancelled. The agencies are being told."),
                   confirm=lambda: Confirmation(
                       title=_("Cancel this staffing request?"),
                       consequences=[_("No agency can offer on the request any more, and open offers end."),
                                     _("The agencies are told by e-mail."), _("This cannot be undone.")],
                       button=_("Yes, cancel the request"), back=_detail_url(request_id)))


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

    def page(status: int):
        return render_template("staffing/coverage.html", form=form, agency=agency), status

    if request.method == "POST":
        return form_action(
            form, lambda: svc.set_coverage(_user(), form.qualifications.data or [], form.postal_code_list()),
            success=_("Coverage saved. New requests for these qualifications and areas come to your inbox."),
            next_url=url_for("staffing.agency_inbox"), render=page)
    return page(200)


@bp.post("/staffing/<int:request_id>/offers")
@role_required(Role.PROVIDER)
def submit_offer(request_id: int):
    _agency_or_403()
    svc.visible_request(_user(), request_id)
    form = OfferForm()
    return form_action(
        form, lambda: svc.submit_offer(_user(), request_id, headcount=form.headcount.data,
                                       hourly_rate_cents=form.rate_cents(), candidates=form.candidate_list(),
                                       note=form.note.data),
        success=_("Your offer has been sent. The unit decides after the answer time."),
        next_url=_detail_url(request_id), render=_on_page(request_id, offer_form=form),
        aliases={"hourly_rate_cents": "hourly_rate"})


@bp.post("/staffing/<int:request_id>/offers/<int:offer_id>/withdraw")
@role_required(Role.PROVIDER)
def withdraw(request_id: int, offer_id: int):
    _agency_or_403()
    svc.visible_request(_user(), request_id)
    return _button(request_id, lambda: svc.withdraw_offer(_user(), request_id, offer_id),
                   _("Your offer has been withdrawn."))


@bp.post("/staffing/<int:request_id>/offers/<int:offer_id>/hours")
@role_required(Role.PROVIDER)
def report_hours(request_id: int, offer_id: int):
    _agency_or_403()
    svc.visible_request(_user(), request_id)
    form = HoursForm(prefix=f"h{offer_id}")
    return form_action(form, lambda: svc.report_hours(_user(), request_id, offer_id, form.minutes()),
                       success=_("Hours saved. Thank you."), next_url=_detail_url(request_id),
                       render=_on_page(request_id, hours_forms={offer_id: form}),
                       aliases={"minutes_worked": "hours"})
