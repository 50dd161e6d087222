"""Values kept for a few seconds in a web process, dropped at once when this
process writes a table they were read from.

For what every request of a page reads and what changes seldom: the staff order
list's filter choices (the guidance workers, the service types) and the public
catalogue's rendered results (``marketplace.page_cache``). A ``Kept``
names the tables its values come from; any write to one of them through an ORM
session of this process (a flush, or a bulk ``INSERT``/``UPDATE``/``DELETE``)
makes everything it keeps stale, so the process that makes a change shows it at
once; the other web processes show it within the kept time. The values live on the
application (``app.extensions``), so that every app, and every test's app, has its
own, and at most ``max_entries`` keys are kept (the oldest goes first).

Keep nothing personal about the reader here, and nothing of a client: what is kept
is shown to everyone who asks with the same key.
"""

from __future__ import annotations

import time
from itertools import chain

import sqlalchemy as sa
from flask import current_app

_watchers: list[Kept] = []


class Kept:
    """``seconds``: how long a value is kept, or a function of no arguments giving it
    (read in the app's context, e.g. from a setting; 0 or less keeps nothing)."""

    def __init__(self, name: str, tables: set[str], seconds=5, max_entries: int = 64):
        self.name, self.tables, self.seconds, self.max_entries = name, frozenset(tables), seconds, max_entries
        self.generation = 0  # this process's count of writes to the tables
        _watchers.append(self)
        _install()

    def _store(self) -> dict:
        return current_app.extensions.setdefault(f"kept:{self.name}", {})

    def _seconds(self) -> float:
        return self.seconds() if callable(self.seconds) else self.seconds

    def get(self, key):
        """The value kept for ``key``; None when none is, it is too old or a table changed since."""
        if self._seconds() <= 0:
            return None
        entry = self._store().get(key)
        if entry is None:
            return None
        value, generation, expires = entry
        if generation != self.generation or time.monotonic() >= expires:
            return None
        return value

    def put(self, key, value, generation: int) -> None:
        """Keep ``value``; ``generation`` is ``self.generation`` from before it was read
        (a write in between makes it stale at once)."""
        seconds = self._seconds()
        if seconds <= 0:
            return
        store = self._store()
        if key not in store and len(store) >= self.max_entries:
            store.pop(next(iter(store)), None)
        store[key] = (value, generation, time.monotonic() + seconds)

    def value(self, key, read):
        """The kept value for ``key``, or ``read()``'s, kept."""
        found = self.get(key)
        if found is None:
            generation = self.generation
            found = read()
            self.put(key, found, generation)
        return found


def _changed(table_names) -> None:
    for kept in _watchers:
        if kept.tables & table_names:
            kept.generation += 1


def _table_name(obj) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return table.name if table is not None else None


def _after_flush(session, flush_context) -> None:
    _changed({_table_name(obj) for obj in chain(session.new, session.dirty, session.deleted)})


def _on_execute(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _changed({getattr(getattr(state.statement, "table", None), "name", None)})


def _install() -> None:
    """Listen to every ORM session of the process, once."""
    if not sa.event.contains(sa.orm.Session, "after_flush", _after_flush):
        sa.event.listen(sa.orm.Session, "after_flush", _after_flush)
        sa.event.listen(sa.orm.Session, "do_orm_execute", _on_execute)
