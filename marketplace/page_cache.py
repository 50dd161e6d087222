"""The public catalogue's filters and results kept for a few seconds.

Every visitor who asks ``/services`` with the same query in the same language sees
the same filters and offering cards: public data only (approved providers'
offerings, prices, areas, ratings), nothing of the visitor. This module keeps that
part of the page, rendered, for ``CATALOGUE_CACHE_SECONDS`` (5 by default; 0 turns
it off) in each web process, so that a popular search runs no query and renders no
card while it is kept. What varies by visitor stays outside: the cart, the menu and
the add-to-cart forms' CSRF token (the kept HTML carries a stand-in, replaced with
the visitor's own token on the way out).

A change shows at once in the process that makes it: any write to offerings, their
areas, providers, service types or categories through the ORM session (a flush, or
a bulk ``INSERT``/``UPDATE``/``DELETE`` such as a provider's new rating) drops everything kept
in the process. Another web process shows it within ``CATALOGUE_CACHE_SECONDS``.
At most ``MAX_ENTRIES`` pages are kept per process (the oldest goes first), so
arbitrary queries cannot grow it.
"""

from __future__ import annotations

import secrets
import time
from itertools import chain

import sqlalchemy as sa
from flask import current_app

DEFAULT_SECONDS = 5
MAX_ENTRIES = 256

# What the kept cards' forms carry instead of a CSRF token: random per process, so
# that no provider can write it into a text of an offering.
CSRF_STAND_IN = "csrf-stand-in-" + secrets.token_hex(16)

# The tables whose rows the catalogue page shows.
WATCHED = frozenset({"offerings", "offering_areas", "providers", "service_types", "service_categories"})

_generation = 0


def generation() -> int:
    """The process's count of catalogue changes: take it before reading, give it to ``put``."""
    return _generation


def _changed() -> None:
    global _generation
    _generation += 1


def _seconds() -> float:
    return current_app.config.get("CATALOGUE_CACHE_SECONDS", DEFAULT_SECONDS)


def _store() -> dict:
    return current_app.extensions.setdefault("catalogue_page_cache", {})


def get(key) -> str | None:
    """The kept HTML for ``key``, or None when none is kept, it is too old or the catalogue changed since."""
    if _seconds() <= 0:
        return None
    entry = _store().get(key)
    if entry is None:
        return None
    html, kept_generation, expires = entry
    if kept_generation != _generation or time.monotonic() >= expires:
        return None
    return html


def put(key, html: str, read_generation: int) -> None:
    """Keep ``html`` for ``key``; ``read_generation`` is ``generation()`` from before the rows were read
    (a change in between makes the entry stale at once)."""
    seconds = _seconds()
    if seconds <= 0:
        return
    store = _store()
    if key not in store and len(store) >= MAX_ENTRIES:
        store.pop(next(iter(store)), None)
    store[key] = (html, read_generation, time.monotonic() + seconds)


def with_token(html: str, token: str) -> str:
    return html.replace(CSRF_STAND_IN, token)


# -- dropping what is kept when the catalogue changes in this process -------------

def _table_name(obj) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return table.name if table is not None else None


def _after_flush(session, flush_context) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        if _table_name(obj) in WATCHED:
            _changed()
            return


def _on_execute(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED:
        _changed()


def install() -> None:
    """Listen to every ORM session of the process (once, whatever the number of apps)."""
    if not sa.event.contains(sa.orm.Session, "after_flush", _after_flush):
        sa.event.listen(sa.orm.Session, "after_flush", _after_flush)
        sa.event.listen(sa.orm.Session, "do_orm_execute", _on_execute)
