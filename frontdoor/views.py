"""Front-door pages: the public "Ask for help at home" form and its receipt, and for
guidance staff the callback queue, a request's page (claim, log a contact, the
self-assessment and its suggestion, close with advice), the conversion into a
client record, requests entered from a phone call or chat, the administrator's
suggestion rules and the report.

Each POST goes through ``core.actions.form_action`` (one service call); a refused
form is shown again with everything typed in it."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from core.access import Purpose, record_access
from core.actions import form_action
from core.errors import ValidationFailed
from core.extensions import csrf
from core.time import local_today
from frontdoor import bp, policy
from frontdoor import services as svc
from frontdoor.forms import (
    AssessmentForm, ButtonForm, ClientForm, CloseForm, ConfirmForm, ContactForm, HelpRequestForm, RuleForm,
    StaffHelpRequestForm,
)
from frontdoor.models import HelpStatus
from frontdoor.report import front_door_report

RECEIPT_KEY = "frontdoor_receipt"
QUEUE_VIEWS = ("queue", "mine", "closed", "converted")


def _user():
    return current_user._get_current_object()


# --------------------------------------------------------------------------- public

@bp.route("/ask-for-help", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token and, if it fails, shows the page again with the text kept
def ask():
    form = HelpRequestForm()
    page_language = str(get_locale() or "fi")  # also keeps a ?lang= choice for the receipt
    if not form.language.data:
        form.language.data = page_language

    def page(status: int):
        return render_template("frontdoor/ask.html", form=form, staff=False), status

    if request.method == "GET":
        return page(200)
    if form.homepage.data:
        # Only a robot fills in the hidden field: it is thanked, and nothing is stored.
        session[RECEIPT_KEY] = {"reference": None}
        return redirect(url_for("frontdoor.received"))
    if not form.validate():  # only the form's CSRF token is checked here
        # The session ended or the page was open very long: keep every answer and
        # let them send it again with a fresh token.
        form.csrf_token.errors = []
        flash(_("The page had been open for a long time. Check your answers and send the form again; nothing was "
                "lost."), "error")
        return page(422)

    def act():
        req, merged = svc.submit_help_request(form.request_data(), address=request.remote_addr,
                                              answers=form.answers())
        session[RECEIPT_KEY] = {"reference": req.reference, "due": req.callback_due.isoformat(),
                                "merged": merged, "phone": bool(req.phone)}
        return req

    return form_action(form, act, next_url=url_for("frontdoor.received"), render=page, validate=False, code=303)


@bp.get("/ask-for-help/received")
def received():
    from datetime import datetime

    receipt = session.get(RECEIPT_KEY)
    if not receipt:
        return redirect(url_for("frontdoor.ask"))
    due = datetime.fromisoformat(receipt["due"]) if receipt.get("due") else None
    return render_template("frontdoor/received.html", receipt=receipt, due=due)


# --------------------------------------------------------------------------- staff: the queue

@bp.get("/front-door")
@role_required(Role.STAFF)
def queue():
    view = request.args.get("view") if request.args.get("view") in QUEUE_VIEWS else "queue"
    user = _user()
    status = {"closed": HelpStatus.CLOSED, "converted": HelpStatus.CONVERTED}.get(view)
    rows = svc.queue(user, status=status, mine=view == "mine")
    return render_template("frontdoor/queue.html", rows=rows, view=view, views=QUEUE_VIEWS,
                           overdue={r.id for r in rows if svc.is_overdue(r)}, button=ButtonForm(),
                           actions={r.id: policy.actions(user, r) for r in rows})


@bp.route("/front-door/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new():
    form = StaffHelpRequestForm()
    if not form.language.data:
        form.language.data = "fi"

    def page(status: int):
        return render_template("frontdoor/ask.html", form=form, staff=True), status

    if request.method == "GET":
        return page(200)
    return form_action(form, lambda: svc.submit_help_request(form.request_data(), actor=_user(),
                                                             answers=form.answers())[0],
                       success=_("Help request saved."),
                       next_url=lambda req: url_for("frontdoor.detail", request_id=req.id), render=page)


def _detail_url(request_id: int, anchor: str | None = None) -> str:
    return url_for("frontdoor.detail", request_id=request_id) + (f"#{anchor}" if anchor else "")


def _detail_page(request_id: int, status: int = 200, **forms):
    user = _user()
    req = svc.get_request(user, request_id)
    if req.client_id:
        record_access(req.client_id, "view", Purpose.GUIDANCE, what="help request")
    assessment = req.assessment
    answers = dict(assessment.answers) if assessment else {}
    confirm = forms.get("confirm_form")
    if confirm is None:
        suggested = assessment.confirmed_segment or assessment.suggested_segment if assessment else None
        ids = (assessment.confirmed_service_type_ids if assessment and assessment.confirmed_service_type_ids
               is not None else (assessment.suggested_service_type_ids if assessment else []))
        confirm = ConfirmForm(formdata=None, segment=suggested, service_type_ids=ids,
                              reason=assessment.reason if assessment else None)
    confirm.service_type_ids.choices = svc.service_type_choices()
    return render_template(
        "frontdoor/detail.html", req=req, actions=policy.actions(user, req), overdue=svc.is_overdue(req),
        events=svc.events(req.id), contacts=svc.contacts(req.id), assessment=assessment, answers=answers,
        button=ButtonForm(), contact_form=forms.get("contact_form") or ContactForm(formdata=None),
        assessment_form=forms.get("assessment_form") or AssessmentForm(formdata=None, **answers),
        confirm_form=confirm, close_form=forms.get("close_form") or CloseForm(formdata=None),
        suggested_services=svc.service_type_names(assessment.suggested_service_type_ids) if assessment else [],
        confirmed_services=svc.service_type_names(assessment.confirmed_service_type_ids or [])
        if assessment else [],
        matched_rules=_rules_by_id(assessment.suggested_rule_ids if assessment else [])), status


def _rules_by_id(ids):
    if not ids:
        return []
    from core.extensions import db
    from frontdoor.models import SuggestionRule

    return [r for r in (db.session.get(SuggestionRule, i) for i in ids) if r is not None]


@bp.get("/front-door/<int:request_id>")
@role_required(Role.STAFF)
def detail(request_id: int):
    return _detail_page(request_id)


def _on_page(request_id: int, name: str, form, anchor: str):
    def render(status: int):
        if status == 422:
            return _detail_page(request_id, 422, **{name: form})
        return redirect(_detail_url(request_id, anchor))
    return render


@bp.post("/front-door/<int:request_id>/claim")
@role_required(Role.STAFF)
def claim(request_id: int):
    back = request.form.get("back")
    target = url_for("frontdoor.queue") if back == "queue" else _detail_url(request_id)
    return form_action(ButtonForm(), lambda: svc.claim(_user(), request_id),
                       success=_("You claimed the request. Call them back and log the contact."),
                       next_url=_detail_url(request_id), back=target)


@bp.post("/front-door/<int:request_id>/release")
@role_required(Role.STAFF)
def release(request_id: int):
    return form_action(ButtonForm(), lambda: svc.release(_user(), request_id),
                       success=_("The request is back in the queue."), next_url=url_for("frontdoor.queue"),
                       back=_detail_url(request_id))


@bp.post("/front-door/<int:request_id>/contact")
@role_required(Role.STAFF)
def contact(request_id: int):
    form = ContactForm()
    return form_action(form, lambda: svc.log_contact(_user(), request_id, channel=form.channel.data,
                                                     outcome=form.outcome.data, minutes=form.minutes.data),
                       success=_("Contact logged."), next_url=_detail_url(request_id, "contacts"),
                       render=_on_page(request_id, "contact_form", form, "contacts"))


@bp.post("/front-door/<int:request_id>/assessment")
@role_required(Role.STAFF)
def assess(request_id: int):
    form = AssessmentForm()
    return form_action(form, lambda: svc.assess(_user(), request_id, form.answers()),
                       success=_("Self-assessment saved. Check the suggestion."),
                       next_url=_detail_url(request_id, "assessment"),
                       render=_on_page(request_id, "assessment_form", form, "assessment"))


@bp.post("/front-door/<int:request_id>/confirm")
@role_required(Role.STAFF)
def confirm(request_id: int):
    form = ConfirmForm()
    form.service_type_ids.choices = svc.service_type_choices()
    return form_action(form, lambda: svc.confirm_suggestion(_user(), request_id, segment=form.segment.data,
                                                            service_type_ids=list(form.service_type_ids.data or []),
                                                            reason=form.reason.data),
                       success=_("Segment and services confirmed."), next_url=_detail_url(request_id, "assessment"),
                       render=_on_page(request_id, "confirm_form", form, "assessment"))


@bp.post("/front-door/<int:request_id>/close")
@role_required(Role.STAFF)
def close(request_id: int):
    form = CloseForm()
    return form_action(form, lambda: svc.close(_user(), request_id, form.advice.data),
                       success=_("Request closed with your advice."), next_url=_detail_url(request_id),
                       render=_on_page(request_id, "close_form", form, "close"))


@bp.route("/front-door/<int:request_id>/convert", methods=["GET", "POST"])
@role_required(Role.STAFF)
def convert(request_id: int):
    req = svc.get_request(_user(), request_id)
    if "convert" not in policy.actions(_user(), req):
        return redirect(_detail_url(request_id))
    if request.method == "GET":
        form = ClientForm(formdata=None, **svc.client_defaults(req))
    else:
        form = ClientForm()

    def page(status: int):
        return render_template("frontdoor/convert.html", form=form, req=req), status

    if request.method == "GET":
        return page(200)
    data = {name: form[name].data for name in form.data if name != "csrf_token"}
    return form_action(form, lambda: svc.convert(_user(), request_id, data),
                       success=_("Client record created from the help request."),
                       next_url=lambda client: url_for("clients.detail", client_id=client.id), render=page)


# --------------------------------------------------------------------------- admin: rules

def _rule_form(rule=None, formdata=True):
    form = RuleForm() if formdata else RuleForm(formdata=None, obj=rule)
    form.service_type_id.choices = [("", _("No service"))] + [(str(i), n) for i, n in svc.service_type_choices()]
    return form


def _rule_data(form) -> dict:
    return {"question": form.question.data, "answer": form.answer.data, "segment": form.segment.data or None,
            "service_type_id": form.service_type_id.data, "note": form.note.data, "active": form.active.data}


@bp.route("/front-door/rules", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def rules():
    form = _rule_form() if request.method == "POST" else _rule_form(formdata=False)

    def page(status: int):
        return render_template("frontdoor/rules.html", rules=svc.all_rules(_user()), form=form, button=ButtonForm(),
                               service_names=dict(svc.service_type_choices())), status

    if request.method == "GET":
        return page(200)
    return form_action(form, lambda: svc.save_rule(_user(), None, _rule_data(form)), success=_("Rule added."),
                       next_url=url_for("frontdoor.rules"), render=page)


@bp.route("/front-door/rules/<int:rule_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_rule(rule_id: int):
    from core.extensions import db
    from frontdoor.models import SuggestionRule

    rule = db.session.get(SuggestionRule, rule_id)
    if rule is None:
        abort(404)
    form = _rule_form() if request.method == "POST" else _rule_form(rule, formdata=False)
    if request.method == "GET":
        form.service_type_id.data = str(rule.service_type_id or "")
        form.segment.data = rule.segment or ""

    def page(status: int):
        return render_template("frontdoor/rule_edit.html", rule=rule, form=form), status

    if request.method == "GET":
        return page(200)
    return form_action(form, lambda: svc.save_rule(_user(), rule_id, _rule_data(form)), success=_("Rule saved."),
                       next_url=url_for("frontdoor.rules"), render=page)


@bp.post("/front-door/rules/<int:rule_id>/delete")
@role_required(Role.ADMIN)
def delete_rule(rule_id: int):
    return form_action(ButtonForm(), lambda: svc.delete_rule(_user(), rule_id), success=_("Rule removed."),
                       next_url=url_for("frontdoor.rules"))


# --------------------------------------------------------------------------- report

def _date_arg(name: str, default: date) -> tuple[date, str | None]:
    raw = request.args.get(name)
    if not raw:
        return default, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return default, _("Write the date as YYYY-MM-DD.")


@bp.get("/front-door/report")
@role_required(Role.STAFF, Role.MANAGER, Role.ADMIN)
def report():
    today = local_today()
    since, e1 = _date_arg("since", today - timedelta(days=30))
    until, e2 = _date_arg("until", today)
    errors = {k: v for k, v in (("since", e1), ("until", e2)) if v}
    status = 422 if errors else 200
    try:
        data = front_door_report(_user(), since, until)
    except ValidationFailed as exc:
        errors.update({k: str(v[0]) for k, v in (exc.fields or {}).items()})
        data = front_door_report(_user(), since, since)
        status = 422
    return render_template("frontdoor/report.html", data=data, errors=errors,
                           plain=str, since=since, until=until), status
