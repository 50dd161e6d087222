"""The client access log: every read or change of a client's personal data goes
through ``record_access``. Rows are never updated or deleted (database triggers
refuse it); staff search them, and a client sees who has looked at their data."""

from __future__ import annotations

from flask import has_request_context, request

from core.current import request_user
from core.db import utcnow
from core.uow import defer_access_rows, insert_access_rows


class Purpose:
    """Plain-language purposes, shown to the client as they are."""

    GUIDANCE = "client guidance"
    ORDERING = "placing or following a service order"
    SERVICE = "providing the ordered service"
    OWN_DATA = "the client viewing their own data"
    EXPORT = "data export on request"
    ERASURE = "erasure on request"
    FEEDBACK = "recording feedback"
    LOGINS = "managing the client's login"


def _actor_and_channel(actor):
    if actor is None and has_request_context():
        user = request_user()
        if user and user.is_authenticated:
            actor = user
    channel = "system"
    if has_request_context():
        channel = "api" if request.path.startswith("/api/") else "web"
    return actor, channel


def _rows(client_ids, action: str, purpose: str, what: str, actor) -> list[dict]:
    actor, channel = _actor_and_channel(actor)
    now = utcnow()
    # Read once, not per row: the actor is usually ``current_user``, a proxy that
    # looks the user up again for every attribute (a list page logs dozens of rows).
    actor_id, actor_role = getattr(actor, "id", None), getattr(actor, "role", "system")
    what, purpose = what[:200], purpose[:200]
    return [{"at": now, "actor_id": actor_id, "actor_role": actor_role, "client_id": cid, "action": action,
             "what": what, "purpose": purpose, "channel": channel}
            for cid in client_ids]


def record_access(client_id: int, action: str, purpose: str, what: str = "", actor=None) -> None:
    """Log one read or change of a client's data.

    ``actor`` defaults to the logged-in user; jobs pass ``actor=None`` outside a
    request and are logged as the system. ``what`` names the data (e.g. ``contact
    details``), never its content. In a request the row is written when the request
    ends, and it survives a rollback of the request's own changes (``core.uow``).
    """
    record_access_many([client_id], action, purpose, what, actor)


def record_access_many(client_ids, action: str, purpose: str, what: str = "", actor=None) -> int:
    """One access-log row per client shown in a list, written in one statement."""
    ids = sorted(set(client_ids))
    if not ids:
        return 0
    rows = _rows(ids, action, purpose, what, actor)
    if not defer_access_rows(rows):
        insert_access_rows(rows)
    return len(ids)
