"""Report pages: the manager dashboard with its filters, the list of reports and
the request form (``reports.index``); a report's page with its live progress bar
(``reports.detail``), the small JSON the progress bar polls (``reports.status``)
and the downloads (``reports.download``).

Each route: look up (404 if missing) → permission → one service call; the POST
goes through ``core.actions.form_action`` (validate, the call, a refusal shown on
the form, redirect after success) and the request's unit of work commits."""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from core.actions import form_action
from core.errors import ConflictError, DomainError, NotFoundError, ValidationFailed
from reports import bp, dashboard, policy
from reports import services as svc
from reports.aggregates import FILTER_KEYS, KIND_TITLES, Filters, filter_texts
from reports.forms import FORMAT_LABELS, FilterForm, RequestForm
from reports.serializers import file_response, run_status_json

FIELD_OF_ERROR = {"from": "date_from", "to": "date_to", **{f"filters.{k}": k for k in FILTER_KEYS}}


def _user():
    return current_user._get_current_object()


def _language() -> str:
    return str(get_locale() or "fi")


def _run_or_404(run_id: int):
    try:
        return svc.get_run(_user(), run_id)
    except NotFoundError:
        abort(404)


def _read_filters(form: FilterForm):
    """The period and filters of the dashboard form (defaults: the last twelve
    months, no filters); errors are put on the form's fields."""
    default = dashboard.default_period()
    valid = form.validate()
    start = form.date_from.data or default.start
    end = form.date_to.data or (default.end if not form.date_from.data or form.date_from.data <= default.end
                                else form.date_from.data)
    period, errors = svc.clean_period(start, end)
    filters, filter_errors = svc.clean_filters(form.filters() if valid else {})
    errors.update(filter_errors)
    for name, messages in errors.items():
        field = form[FIELD_OF_ERROR.get(name, "date_to")]
        field.errors = list(field.errors) + list(messages)
    form.date_from.data, form.date_to.data = start, end
    ok = valid and not errors
    return (period if ok else None), (filters if ok else Filters()), ok


def _render_index(request_form: RequestForm | None = None, status: int = 200):
    user = _user()
    language = _language()
    form = FilterForm(formdata=request.args if request.method == "GET" else None)
    if request.method == "POST":
        # The filters come back as the request form's hidden fields.
        form = FilterForm(formdata=None, data=_hidden_values(request_form))
    choices = svc.filter_choices(language)
    form.set_choices(choices["municipalities"], choices["categories"], choices["providers"])
    period, filters, ok = _read_filters(form)
    context = {"form": form, "ok": ok, "runs": svc.recent_runs(user, limit=15), "kind_titles": KIND_TITLES,
               "format_labels": FORMAT_LABELS}
    if ok:
        results = dashboard.results(period, filters, language)
        context.update(period=period, results=results, figures=dashboard.key_figures(results),
                       panels=dashboard.panels(results),
                       generated_at=datetime.fromisoformat(
                           min(r["generated_at"] for r in results.values()).replace("Z", "+00:00")),
                       filters_text=results["orders"]["filters_text"])
    if request_form is None:
        request_form = RequestForm(formdata=None, data={
            "date_from": period.start.isoformat() if ok else "", "date_to": period.end.isoformat() if ok else "",
            **{k: v for k, v in filters.to_dict().items()}})
    context["request_form"] = request_form
    if not ok:
        status = 422
    return render_template("reports/index.html", **context), status


def _hidden_values(form: RequestForm | None) -> dict:
    if form is None:
        return {}
    values = {k: getattr(form, k).data or None for k in FILTER_KEYS}
    for name in ("date_from", "date_to"):
        values[name] = _parse_date(getattr(form, name).data)
    return values


def _parse_date(text) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


@bp.get("/reports/")
@role_required(Role.MANAGER)
def index():
    return _render_index()


@bp.post("/reports/")
@role_required(Role.MANAGER)
def create():
    form = RequestForm()
    return form_action(form, lambda: _request_report(form),
                       success=_("Report requested. Its status is shown below."),
                       next_url=lambda run: url_for("reports.detail", run_id=run.id),
                       render=lambda status: _render_index(request_form=form, status=status))


def _request_report(form: RequestForm):
    """The service call of the request form; a refusal is told on the form's
    report field, whatever field it was about (the period and filters are hidden
    fields there)."""
    values = _hidden_values(form)
    try:
        return svc.request_report(_user(), form.kind.data, values["date_from"], values["date_to"],
                                  form.format.data, {k: values[k] for k in FILTER_KEYS})
    except ValidationFailed as exc:
        messages = [m for ms in (exc.fields or {}).values() for m in ms] or [exc.message]
        raise ValidationFailed(exc.message, fields={"kind": [
            _("The report could not be requested: %(why)s", why=" ".join(messages))]}) from None


@bp.get("/reports/<int:run_id>")
@role_required(Role.MANAGER, Role.ADMIN)
def detail(run_id: int):
    run = _run_or_404(run_id)
    tables = []
    if run.status == "done" and run.result:
        tables = [dashboard.table(s, limit=50) for s in run.result["sections"]]
    # The filters in the page's language (the stored report is in its requester's).
    filters_text = filter_texts(Filters.from_dict(run.filters))
    return render_template("reports/detail.html", run=run, tables=tables, status_text=svc.status_text(run),
                           filters_text=filters_text,
                           actions=policy.run_actions(_user(), run),
                           kind_titles=KIND_TITLES, format_labels=FORMAT_LABELS,
                           formats=("xlsx", "csv", "csv_plain", "json"))


@bp.get("/reports/<int:run_id>/status")
@role_required(Role.MANAGER, Role.ADMIN)
def status(run_id: int):
    """What the progress bar polls (static/js/reports.js)."""
    response = jsonify(run_status_json(_run_or_404(run_id), _user()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reports/<int:run_id>/download/<fmt>")
@role_required(Role.MANAGER, Role.ADMIN)
def download(run_id: int, fmt: str):
    run = _run_or_404(run_id)
    try:
        content, content_type, name = svc.download(run, fmt)
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        raise DomainError(_("The report is not ready yet. Wait until its page says it is ready."),
                          code=exc.code, status=409) from None
    return file_response(content, content_type, name)
