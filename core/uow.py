"""One unit of work per request, per job and per command.

A request commits once, after its view has returned a response below 400, and rolls
back otherwise (the models: indico's ``RH.process`` and warehouse's request-bound
transaction). Views, API routes, services and template helpers never commit or roll
back: they change the session and return; this module ends the transaction.

The access log is the exception to "all or nothing": a read of client data that was
shown must stay logged even when the request's own changes are rolled back (a refused
form shows the client again). ``core.access`` keeps a request's access rows here,
outside the session, and they are written:

- with the request's changes, in the same commit, when the response is below 400;
- after the rollback, in a transaction of their own, when the view itself answered
  4xx (a form shown again with its errors: the page and its data were shown);
- never when an error handler made the response (a domain error, an HTTP error or a
  crash): the page that would have shown the data was not shown.

Jobs end with ``run_outbox_job`` (core.jobs) and the periodic sweeps with
``run_periodic`` (core.worker); CLI commands use ``unit_of_work()``.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from enum import Enum

import sqlalchemy as sa
from flask import g, has_request_context

from core.extensions import db

log = logging.getLogger(__name__)

_ROWS = "_uow_access_rows"
_FAILED = "_uow_failed"
_AFTER = "_uow_after"


def after_unit_of_work(func, *args) -> None:
    """Run ``func(*args)`` once the request's transaction has ended (committed or
    rolled back) and its database connection is back in the pool; at once outside a
    request. For writes that must not be part of the request's changes (a refused
    call still counts as a use of its token; a refused login is still a failure)
    and must not hold a second connection while the request holds its own: twenty
    concurrent requests each waiting for a second connection from a pool of twenty
    would wait for each other until the pool's time-out."""
    if not has_request_context():
        func(*args)
        return
    pending = getattr(g, _AFTER, None)
    if pending is None:
        pending = []
        setattr(g, _AFTER, pending)
    pending.append((func, args))


def _run_after(callbacks) -> None:
    for func, args in callbacks:
        try:
            func(*args)
        except Exception as exc:  # noqa: BLE001 - bookkeeping must not fail the answer
            db.session.rollback()
            log.warning("after-request write %s failed: %s", getattr(func, "__name__", func),
                        exc.__class__.__name__)


def mark_failed() -> None:
    """Called by the error handlers: the response is an error page, not the view's."""
    if has_request_context():
        setattr(g, _FAILED, True)


def defer_access_rows(rows: list[dict]) -> bool:
    """Keep access-log rows for the end of the request. False outside a request (a
    job or a command), where the caller adds them to the session itself."""
    if not has_request_context():
        return False
    pending = getattr(g, _ROWS, None)
    if pending is None:
        pending = []
        setattr(g, _ROWS, pending)
    pending.extend(rows)
    return True


_ACCESS_COLUMNS = ("at", "actor_id", "actor_role", "client_id", "action", "what", "purpose", "channel")
# One statement of fixed shape whatever the number of rows (PostgreSQL): the columns
# go as eight arrays. A ``.values(rows)`` INSERT is compiled afresh for every number
# of rows (8 ms of a list page's CPU for 45 rows, against under 1 ms for this).
_ACCESS_UNNEST = sa.text(
    "INSERT INTO access_log (at, actor_id, actor_role, client_id, action, what, purpose, channel) "
    "SELECT * FROM unnest(CAST(:at AS timestamptz[]), CAST(:actor_id AS integer[]), "
    "CAST(:actor_role AS varchar[]), CAST(:client_id AS integer[]), CAST(:action AS varchar[]), "
    "CAST(:what AS varchar[]), CAST(:purpose AS varchar[]), CAST(:channel AS varchar[]))")


def array_literal(values) -> str:
    """A PostgreSQL array literal (``{1,NULL,"a \\"b\\""}``) of ints, strings and
    datetimes, for a ``CAST(:param AS type[])``. psycopg adapts a Python list element
    by element in Python (0.5 ms of a page's CPU for the 65 access-log rows of the
    staff dashboard); one string is adapted at once (0.14 ms). Every value but an int
    and None is written double-quoted with its backslashes and double quotes escaped,
    which is all the array syntax asks (so ``"NULL"`` stays a string)."""
    quoted: dict = {}  # the columns repeat a few values
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif type(value) is int:
            parts.append(str(value))
        else:
            text = quoted.get(value)
            if text is None:
                text = quoted[value] = '"' + str(value.value if isinstance(value, Enum) else value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(text)
    return "{" + ",".join(parts) + "}"


def insert_access_rows(rows: list[dict]) -> None:
    """Write access-log rows (dicts of ``_ACCESS_COLUMNS``) in one round trip."""
    from core.models import AccessLogEntry

    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_ACCESS_UNNEST, {k: array_literal([row[k] for row in rows]) for k in _ACCESS_COLUMNS})
    else:  # SQLite: an executemany of one compiled statement
        db.session.execute(sa.insert(AccessLogEntry), rows)


def write_access_rows_now() -> None:
    """Write the access rows the request has recorded so far into the session now,
    as part of the request's changes: for a page that lists the access log itself,
    so that its own read is in the list. (Such rows are lost if the request then
    fails; the page was not shown then.)"""
    rows = g.pop(_ROWS, None) if has_request_context() else None
    insert_access_rows(rows or [])


def finish_request(response):
    """``after_request``: commit or roll back the request's unit of work. A commit
    that fails (the database went away after the view ran) replaces the response
    with the error page of that failure: the page the view made (e.g. "saved")
    would be untrue, and so would the messages it flashed."""
    request_globals = g._get_current_object().__dict__  # g once: every request ends here
    rows = request_globals.pop(_ROWS, None) or []
    failed = request_globals.pop(_FAILED, False)
    after = request_globals.pop(_AFTER, None) or []
    session = db.session
    try:
        if not failed and response.status_code < 400:
            insert_access_rows(rows)
            session.commit()
            _run_after(after)
            return response
        session.rollback()
        if rows and not failed:
            # The view showed the page (a form with its errors): its reads stay logged.
            insert_access_rows(rows)
            session.commit()
        _run_after(after)
        return response
    except Exception as exc:  # noqa: BLE001 - answered by the error handlers below
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone
            pass
        from flask import current_app, session as cookie_session

        cookie_session.pop("_flashes", None)
        return current_app.make_response(current_app.handle_user_exception(exc))


def init_unit_of_work(app) -> None:
    app.after_request(finish_request)


@contextmanager
def unit_of_work():
    """Commit at the end of the block, roll back on an exception: for CLI commands
    and scripts (requests and jobs have theirs already)."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def undo_changes() -> None:
    """Throw away the session's uncommitted changes, keeping the access rows the
    request has recorded (they are outside the session). Called by
    ``core.actions.form_action`` when a service refused an action, and by the crash
    handler before it renders the error page."""
    db.session.rollback()
