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

from flask import current_app

from core.kept import Kept

DEFAULT_SECONDS = 5
MAX_ENTRIES = 256

# What the kept cards' forms carry instead of a CSRF token: random per process, so
# that no provider can write it into a text of an offering.
CSRF_STAND_IN = "csrf-stand-in-" + secrets.token_hex(16)

# The tables whose rows the catalogue page shows.
WATCHED = frozenset({"offerings", "offering_areas", "providers", "service_types", "service_categories"})


def _seconds() -> float:
    return current_app.config.get("CATALOGUE_CACHE_SECONDS", DEFAULT_SECONDS)


# core.kept drops what is kept when this process writes one of the tables.
_pages = Kept("catalogue-pages", WATCHED, seconds=_seconds, max_entries=MAX_ENTRIES)


def generation() -> int:
    """The process's count of catalogue changes: take it before reading, give it to ``put``."""
    return _pages.generation


def get(key) -> str | None:
    """The kept HTML for ``key``, or None when none is kept, it is too old or the catalogue changed since."""
    return _pages.get(key)


def put(key, html: str, read_generation: int) -> None:
    """Keep ``html`` for ``key``; ``read_generation`` is ``generation()`` from before the rows were read
    (a change in between makes the entry stale at once)."""
    _pages.put(key, html, read_generation)


def with_token(html: str, token: str) -> str:
    return html.replace(CSRF_STAND_IN, token)
