"""Domain errors and the error handlers: friendly HTML pages for the web UI, the
API.md error shape under ``/api``. Bad input must never turn into a 500."""

from __future__ import annotations

import logging

import redis
import sqlalchemy as sa
from flask import current_app, g, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Raised by services when a rule refuses the request. ``code`` is the API's
    snake_case error code; ``message`` a human sentence; ``fields`` per-field errors.

    A subclass names its HTTP status and code in its bases:
    ``class GoneError(DomainError, status=410, code="gone")``."""

    status = 409
    code = "conflict"

    def __init_subclass__(cls, status: int | None = None, code: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, code: str | None = None, fields: dict | None = None, status: int | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields


class NotFoundError(DomainError, status=404, code="not_found"):
    """The record does not exist, or the user may not know that it does."""


class PermissionDenied(DomainError, status=403, code="forbidden"):
    """The user's role or ownership does not allow the action."""


class ConflictError(DomainError, status=409, code="conflict"):
    """The request clashes with the record's current state."""


class ValidationFailed(DomainError, status=422, code="validation_failed"):
    """The input is malformed; ``fields`` names the bad fields."""


class GoneError(DomainError, status=410, code="gone"):
    """A link or token that was valid once has been used or has expired."""


class RateLimited(DomainError, status=429, code="rate_limited"):
    """Too many attempts in too short a time. ``retry_after``: seconds to wait."""

    retry_after = 60


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited",
    500: "internal_error", 503: "unavailable",
}

_PAGE_TEXT = {
    400: (_l("The request could not be understood"), _l("Something in the request was wrong. Go back and try again.")),
    403: (_l("You do not have access to this page"), _l("Your role does not allow this. If you think it should, contact your administrator.")),
    404: (_l("Page not found"), _l("The page does not exist, or you do not have access to it.")),
    405: (_l("This action is not possible here"), _l("Go back and use the buttons on the page.")),
    410: (_l("This link is no longer valid"), _l("The link has already been used or it has expired.")),
    413: (_l("The file is too large"), _l("Choose a smaller file and try again.")),
    429: (_l("Too many attempts"), _l("Please wait a moment and try again.")),
    500: (_l("Something went wrong on our side"), _l("The error has been recorded. Please try again in a moment.")),
    503: (_l("The service is briefly unavailable"), _l("Nothing was saved. Please try again in a minute.")),
}

# The API's sentence for an HTTP error that werkzeug raised with its own English text.
_API_TEXT = {
    400: _l("The request could not be understood."), 403: _l("You do not have access to this."),
    405: _l("This method is not allowed here."), 410: _l("This is no longer available."),
    413: _l("The request is too large."), 415: _l("The content type is not supported: send JSON."),
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, fields: dict | None = None, retry_after: int | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if status == 429:
        response.headers["Retry-After"] = str(retry_after or 60)
    return response


def _html_error(status: int, message: str | None = None):
    title, text = _PAGE_TEXT.get(status, _PAGE_TEXT[500] if status >= 500 else _PAGE_TEXT[400])
    return render_template("core/error.html", status=status, title=title, text=message or text), status


def _is_outage(exc: Exception) -> bool:
    """Whether a database or Redis error means the service is unreachable for a
    moment (connection refused or lost, server shutting down, pool exhausted, SQLite
    busy), rather than a bug in a statement."""
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, sa.exc.TimeoutError)):
        return True
    if getattr(exc, "connection_invalidated", False) or isinstance(exc, sa.exc.InterfaceError):
        return True
    if isinstance(exc, sa.exc.PendingRollbackError):
        # The connection was lost inside the transaction (and the error was caught
        # by code that renders without the database, e.g. the demo banner).
        return "reconnect" in str(exc)
    orig = getattr(exc, "orig", None)
    module = type(orig).__module__ if orig is not None else ""
    if module.startswith("psycopg"):
        return True  # psycopg's OperationalError: connection failures and server shutdowns
    return "locked" in str(orig) or "unable to open" in str(orig)  # SQLite busy / file gone


def register_error_handlers(app) -> None:
    from core.uow import mark_failed, undo_changes

    # Every handler marks the request as failed: the unit of work (core.uow) then
    # rolls back, and drops the access rows of data the error page does not show.

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        mark_failed()
        if is_api_request():
            return api_error(exc.status, exc.code, exc.message, exc.fields, getattr(exc, "retry_after", None))
        return _html_error(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        mark_failed()
        if is_api_request():
            return api_error(400, "csrf_failed", exc.description)
        return _html_error(400, _l("The form had expired or was sent from elsewhere. Reload the page and send it again; nothing was saved."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        mark_failed()
        status = exc.code or 500
        if is_api_request():
            message = exc.description if status != 404 else gettext("Not found.")
            if status in _API_TEXT and exc.description == type(exc).description:
                message = str(_API_TEXT[status])
            if status == 429:
                message = gettext("Too many requests (the limit is %(limit)s). Wait the seconds in Retry-After.",
                                  limit=exc.description)
            return api_error(status, _HTTP_CODES.get(status, "error"), message)
        response = _html_error(status)
        if status == 405 and exc.valid_methods:
            return response[0], status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    # The database or Redis is unreachable (restarting, failing over): a clean 503
    # that asks to try again, not a crash. The message of such an error may quote
    # SQL with its parameters (personal data), so only the class names are logged.
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.PendingRollbackError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)
    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def unavailable(exc: Exception):
        if not _is_outage(exc):
            return unhandled(exc)  # e.g. SQLite's "no such table": a bug, not an outage
        orig = getattr(exc, "orig", None)
        log.warning("backing service unavailable on %s %s: %s%s", request.method, request.url_rule or "?",
                    exc.__class__.__name__, f" ({orig.__class__.__name__})" if orig is not None else "")
        mark_failed()
        try:
            undo_changes()
        except Exception:  # noqa: BLE001 - the connection is gone; the page must still render
            pass
        # The error page must not touch the database: no user is loaded for it.
        g._login_user = current_app.login_manager.anonymous_user()
        headers = {"Retry-After": "30"}
        if is_api_request():
            response = api_error(503, "unavailable", gettext("The service is briefly unavailable; nothing was saved. Try again."))
            response.headers.update(headers)
            return response
        body, status = _html_error(503)
        return body, status, headers

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        mark_failed()
        try:
            undo_changes()  # before the error page reads anything (the session may be broken)
        except Exception:  # noqa: BLE001 - the session may be unusable; the page must still render
            pass
        if is_api_request():
            return api_error(500, "internal_error", gettext("Internal error. It has been recorded."))
        return _html_error(500)
