"""Whose data a client-role user is looking at. A client may act for several
clients (their own record and those they represent as a relative); the choice is
made with ``?client=<id>`` on any portal page and remembered in the session.
Another client's id is a 404, as if it did not exist."""

from __future__ import annotations

from flask import abort, g, session

from clients.queries import acting_client_ids
from core.current import unproxied
from core.inputs import query_int

SESSION_KEY = "acting_for_client_id"


def _ids(user) -> list[int]:
    """The clients the user may act for, looked up once per request."""
    user = unproxied(user)
    cache = g.setdefault("acting_client_ids", {})
    if user.id not in cache:
        cache[user.id] = acting_client_ids(user)
    return cache[user.id]


def current_client_id(user) -> int | None:
    """The client the user is acting for now, or None when they act for nobody
    (e.g. a relative whose access has ended). Aborts with 404 for a ``?client=``
    the user may not act for."""
    ids = _ids(user)
    wanted = query_int("client")
    if wanted is not None:
        if wanted not in ids:
            abort(404)
        session[SESSION_KEY] = wanted
        return wanted
    chosen = session.get(SESSION_KEY)
    if chosen in ids:
        return chosen
    return ids[0] if ids else None


def acts_for_several(user) -> bool:
    return len(_ids(user)) > 1
