"""Report requests, their lookup, and the monthly reports.

A manager asks for a report (kind, period, filters, file format); the request is a
``ReportRun`` row and a ``reports.jobs.build_report`` job recorded in the same
transaction (the outbox), so the job exists exactly when the row does. The job
builds the figures with ``reports.aggregates`` and stores them. Once a month the
periodic sweep creates the previous month's reports and, when they are done,
e-mails the managers a link. Services flush, never commit.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from accounts.models import Role, User
from core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.mail import send_templated
from core.urls import absolute_url
from reports import export, policy
from reports.aggregates import (
    FILTER_KEYS,
    KINDS,
    MAX_MONTHS,
    Filters,
    Period,
    local_today,
    month_count,
)
from reports.models import ReportFormat, ReportRun, ReportStatus

FORMATS = tuple(str(f) for f in ReportFormat)
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "csv_plain": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SEGMENTS = ("independent", "guidance", "intensive")
_POSTAL_AREA = re.compile(r"^\d{1,5}$")

STATUS_TEXT = {
    "queued": _l("Waiting for a worker."),
    "running": _l("Being generated: %(progress)s %% done."),
    "done": _l("Ready to download."),
    "failed": _l("Generating the report failed."),
}


def _require_manager(actor) -> None:
    if not policy.may_request(actor):
        raise PermissionDenied("Only managers may request reports.", code="forbidden")


def clean_period(start: date | None, end: date | None) -> tuple[Period | None, dict]:
    """The period, or the errors naming the bad field (``from``/``to``)."""
    errors: dict[str, list[str]] = {}
    if start is None:
        errors.setdefault("from", []).append(gettext("This field is required."))
    if end is None:
        errors.setdefault("to", []).append(gettext("This field is required."))
    if errors:
        return None, errors
    if start > end:
        return None, {"to": ["Must not be before the start of the period (from)."]}
    if month_count(start, end) > MAX_MONTHS:
        return None, {"to": [f"A report covers at most {MAX_MONTHS} months."]}
    if start.year < 2000 or end.year > 2100:
        return None, {"from": ["Must be a date between the years 2000 and 2100."]}
    return Period(start, end), {}


def clean_filters(data) -> tuple[Filters, dict]:
    """Filters from a JSON object or form values; unknown keys, wrong types and
    unknown categories or providers are errors keyed ``filters.<name>``."""
    if data in (None, ""):
        return Filters(), {}
    if not isinstance(data, dict):
        return Filters(), {"filters": ["Must be an object."]}
    errors: dict[str, list[str]] = {}
    values: dict = {}
    for key in data:
        if key not in FILTER_KEYS:
            errors[f"filters.{key}"] = [gettext("Unknown filter. Known: %(known)s.", known=", ".join(FILTER_KEYS))]
    municipality = data.get("municipality")
    if municipality not in (None, ""):
        if not isinstance(municipality, str) or len(municipality.strip()) > 100:
            errors["filters.municipality"] = [ngettext("Must be a municipality name of at most %(num)d character.",
                                                        "Must be a municipality name of at most %(num)d characters.", 100)]
        else:
            values["municipality"] = municipality.strip()
    postal = data.get("postal_code")
    if postal not in (None, ""):
        if not isinstance(postal, str) or not _POSTAL_AREA.match(postal.strip()):
            errors["filters.postal_code"] = [gettext("Must be a postal code or its first digits (1 to 5 digits).")]
        else:
            values["postal_code"] = postal.strip()
    segment = data.get("segment")
    if segment not in (None, ""):
        if segment not in SEGMENTS:
            errors["filters.segment"] = [gettext("Must be one of: %(choices)s.", choices=", ".join(SEGMENTS))]
        else:
            values["segment"] = segment
    for key, model in (("category_id", "category"), ("provider_id", "provider")):
        raw = data.get(key)
        if raw in (None, ""):
            continue
        try:
            value = int(raw) if not isinstance(raw, bool) and str(raw).strip().isdigit() else None
        except (TypeError, ValueError):
            value = None
        if value is None:
            errors[f"filters.{key}"] = [gettext("Must be an id (a positive integer).")]
        elif not _exists(model, value):
            errors[f"filters.{key}"] = [gettext("No service category has this id.") if model == "category"
                                          else gettext("No provider has this id.")]
        else:
            values[key] = value
    return Filters(**values), errors


def _exists(model: str, value: int) -> bool:
    if model == "category":
        from catalogue.models import ServiceCategory as M
    else:
        from providers.models import Provider as M
    return db.session.scalar(sa.select(sa.func.count()).select_from(M).where(M.id == value)) > 0


def request_report(actor, kind: str, start: date | None, end: date | None, fmt: str = "json",
                   filters=None) -> ReportRun:
    """A manager asks for a report. Records the queued run and its build job on
    the ``reports`` queue (after commit). Raises PermissionDenied for other roles
    and ValidationFailed (fields ``kind``, ``from``, ``to``, ``format``,
    ``filters.*``) for bad input; nothing is written then."""
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = ["Must be one of: " + ", ".join(KINDS) + "."]
    if fmt not in FORMATS:
        errors["format"] = [gettext("Must be one of: %(choices)s.", choices=", ".join(FORMATS))]
    period, period_errors = clean_period(start, end)
    cleaned, filter_errors = clean_filters(filters)
    errors.update(period_errors)
    errors.update(filter_errors)
    if errors:
        raise ValidationFailed(gettext("Some fields are invalid."), fields=errors)
    run = ReportRun(kind=kind, period_from=period.start, period_to=period.end, filters=cleaned.to_dict(),
                    format=fmt, status=ReportStatus.QUEUED, progress=0, requested_by_id=actor.id, scheduled=False)
    db.session.add(run)
    db.session.flush()
    enqueue("reports.jobs.build_report", run.id, queue="reports")
    return run


def get_run(actor, run_id: int) -> ReportRun:
    """A report for a manager or an administrator (reports are aggregated and
    shared by the county's managers). NotFoundError when missing, PermissionDenied
    for other roles."""
    if not policy.may_read(actor):
        raise PermissionDenied("Reports are for managers.")
    run = db.session.get(ReportRun, run_id)
    if run is None:
        raise NotFoundError(gettext("No such report."))
    return run


def recent_runs(actor, limit: int = 20, cursor: int | None = None) -> list[ReportRun]:
    """The newest reports first (managers and administrators)."""
    if not policy.may_read(actor):
        raise PermissionDenied("Reports are for managers.")
    stmt = sa.select(ReportRun).order_by(ReportRun.id.desc()).limit(limit)
    if cursor:
        stmt = stmt.where(ReportRun.id < cursor)
    return list(db.session.scalars(stmt))


def report_language(run: ReportRun) -> str:
    """The language a report's headings are written in: the requester's, or the
    platform default for the monthly reports."""
    user = db.session.get(User, run.requested_by_id) if run.requested_by_id else None
    if user is not None and user.language in ("fi", "sv", "en"):
        return user.language
    default = current_app.config.get("DEFAULT_LANGUAGE", "fi")
    return default if default in ("fi", "sv", "en") else "fi"


def status_text(run: ReportRun) -> str:
    return str(STATUS_TEXT[run.status]) % {"progress": run.progress}


# --------------------------------------------------------------------------- monthly reports

def previous_month(today: date) -> Period:
    return Period.month_of(today.replace(day=1) - timedelta(days=1))


def schedule_monthly_reports(today: date | None = None) -> list[ReportRun]:
    """On the first day of a month (or the first sweep after it, if the workers
    were down), create last month's report of every kind once and record their
    build jobs. Idempotent: a kind whose scheduled run exists is skipped; the
    partial unique index is the backstop for two sweeps at the same moment.
    Returns the runs created now."""
    today = today or local_today()
    period = previous_month(today)
    existing = set(db.session.scalars(
        sa.select(ReportRun.kind).where(ReportRun.scheduled.is_(True), ReportRun.period_from == period.start,
                                        ReportRun.period_to == period.end)))
    created = []
    for kind in KINDS:
        if kind in existing:
            continue
        run = ReportRun(kind=kind, period_from=period.start, period_to=period.end, filters={},
                        format=ReportFormat.XLSX, status=ReportStatus.QUEUED, progress=0, scheduled=True)
        db.session.add(run)
        db.session.flush()
        enqueue("reports.jobs.build_report", run.id, queue="reports")
        created.append(run)
    return created


def notify_monthly_ready(period_from: date, period_to: date) -> int:
    """When every scheduled report of a month is done, e-mail each active manager
    a link to them, in the manager's language. A dedupe key per manager and month
    makes it once, whichever job or sweep gets here first. Returns the e-mails
    queued now."""
    runs = list(db.session.scalars(
        sa.select(ReportRun).where(ReportRun.scheduled.is_(True), ReportRun.period_from == period_from,
                                   ReportRun.period_to == period_to).order_by(ReportRun.id)))
    if not runs or any(r.status != ReportStatus.DONE for r in runs):
        return 0
    managers = db.session.scalars(
        sa.select(User).where(User.role == Role.MANAGER, User.active.is_(True)).order_by(User.id)).all()
    month = f"{period_from:%Y-%m}"
    links = [(r.kind, absolute_url("reports.detail", run_id=r.id)) for r in runs]
    sent = 0
    for manager in managers:
        lang = manager.language if manager.language in ("fi", "sv", "en") else "fi"
        msg = send_templated(manager.email, "reports/email/monthly_ready.txt", lang,
                             dedupe_key=f"reports:monthly:{month}:{manager.id}", month=month, links=links,
                             index_url=absolute_url("reports.index"))
        sent += 1 if msg is not None else 0
    return sent


def pending_monthly_notifications(today: date | None = None) -> int:
    """The sweep's safety net: send the e-mail of last month's reports if they are
    all done (a build job that finished last may have missed it)."""
    period = previous_month(today or local_today())
    return notify_monthly_ready(period.start, period.end)


def filter_choices(language: str | None = None) -> dict:
    """What the dashboard's filters offer: municipalities of clients, service
    categories and provider organisations (names of organisations, never of people)."""
    from clients.models import Client
    from catalogue.models import ServiceCategory
    from providers.models import Provider

    municipalities = [m for m in db.session.scalars(
        sa.select(Client.municipality).where(Client.municipality != "").distinct().order_by(Client.municipality))]
    categories = [(c.id, c.name(language)) for c in db.session.scalars(
        sa.select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.name_fi))]
    providers = [tuple(r) for r in db.session.execute(
        sa.select(Provider.id, Provider.name).where(Provider.status.in_(("approved", "suspended")))
        .order_by(Provider.name))]
    return {"municipalities": municipalities, "categories": categories, "providers": providers}


def download(run: ReportRun, fmt: str | None = None) -> tuple[bytes, str, str]:
    """The file of a finished report: ``(content, content type, file name)``. The
    file made by the job for its own format; another format is written from the
    stored figures (the same numbers). ConflictError while it is not ready."""
    fmt = fmt or run.format
    if fmt not in FORMATS:
        raise NotFoundError(gettext("No such format."))
    if run.status != ReportStatus.DONE or run.result is None:
        raise ConflictError("The report is not ready yet.", code="report_not_ready")
    content = run.content if fmt == run.format and run.content else export.render(run.result, fmt)
    return content, CONTENT_TYPES[fmt], export.filename(run.result, fmt, run.id)
