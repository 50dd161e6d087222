"""One serializer per object: a report run as the API shows it, and the smaller
status the report page's progress bar polls. Both from the same fields."""

from __future__ import annotations

from flask import Response, url_for

from core.api import iso
from core.urls import absolute_url
from reports import services as svc
from reports.models import ReportRun, ReportStatus

FAILED_TEXT = "The report could not be generated. Request it again; if it fails again, tell the administrator."


def run_json(run: ReportRun, user=None, with_result: bool = True) -> dict:
    """``GET /api/v1/reports/{id}`` (and the list, without the result)."""
    body = {"id": run.id, "kind": run.kind, "status": run.status, "progress": run.progress,
            "from": run.period_from.isoformat(), "to": run.period_to.isoformat(), "format": run.format,
            "filters": run.filters or {}, "scheduled": run.scheduled, "created_at": iso(run.created_at),
            "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
            "url": absolute_url("api.get_report", run_id=run.id)}
    if run.status == ReportStatus.DONE:
        body["download_url"] = absolute_url("api.download_report", run_id=run.id)
        if with_result and run.format == "json":
            body["result"] = run.result
    if run.status == ReportStatus.FAILED:
        body["error"] = FAILED_TEXT
    return body


def run_status_json(run: ReportRun, user=None) -> dict:
    """What the report page's progress bar polls (``reports.status``)."""
    body = {"id": run.id, "status": run.status, "progress": run.progress, "text": svc.status_text(run)}
    if run.status == ReportStatus.DONE:
        body["downloads"] = {fmt: url_for("reports.download", run_id=run.id, fmt=fmt) for fmt in svc.FORMATS}
    return body


def file_response(content: bytes, content_type: str, name: str) -> Response:
    """A report file as a download (the pages and the API). Never kept by a
    browser or a proxy cache: ``Cache-Control: no-store``."""
    return Response(content, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
