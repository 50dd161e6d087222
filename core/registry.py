"""What the domains plug into core, through their ``init_app``: dashboard sections,
menu entries and status labels. Core knows no domain; a domain that is not
installed simply adds nothing.

- ``register_dashboard(role, section)``: ``section(user) -> dict`` adds its keys to
  the role's dashboard template (``core/dashboard_<role>.html``), which also gets
  ``now``, the request's instant.
- ``register_dashboard_figures(role, figures)``: ``figures() -> Select`` of one row
  of labelled figures (counts) over the bound parameters ``user_id`` and ``now``.
  Every domain's figures of a role are read in one statement, and their labels
  become keys of the dashboard's template.
- ``register_navigation(role, endpoint, label, position)``: a menu entry, shown
  once its endpoint exists. ``label`` is a (lazy) string, or a plain function of
  the user returning one (e.g. a relative acting for a client is not addressed
  as the client).
- ``register_status_labels({...})``: the words shown for stored status codes.
- ``register_domain(app, blueprint, ...)``: all of the above and the blueprint at once.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

DASHBOARD_SECTIONS: dict[str, list[Callable]] = {}
DASHBOARD_FIGURES: dict[str, list[Callable]] = {}
_FIGURES_STATEMENTS: dict[str, sa.Select] = {}  # per role, built at first use
NAVIGATION: dict[str, list[tuple[int, str, object]]] = {}
STATUS_LABELS: dict[str, object] = {}


def register_dashboard(role: str, section: Callable) -> None:
    sections = DASHBOARD_SECTIONS.setdefault(str(role), [])
    if section not in sections:
        sections.append(section)


def register_dashboard_figures(role: str, figures: Callable) -> None:
    """``figures()`` builds a statement that returns one row of labelled figures (an
    aggregate without ``GROUP BY``, or scalar subqueries) over the bound parameters
    ``user_id`` and ``now``; it is called once per process, at first use."""
    builders = DASHBOARD_FIGURES.setdefault(str(role), [])
    if figures not in builders:
        builders.append(figures)
        _FIGURES_STATEMENTS.pop(str(role), None)


def _figures_statement(role: str) -> sa.Select | None:
    """The role's figures of every domain as one statement: their one-row selects
    joined on true (one row times one row), each column under its own label."""
    builders = DASHBOARD_FIGURES.get(role)
    if not builders:
        return None
    statement = _FIGURES_STATEMENTS.get(role)
    if statement is None:
        parts = [build().subquery(f"figures_{n}") for n, build in enumerate(builders)]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined.join(part, sa.true())
        statement = _FIGURES_STATEMENTS[role] = sa.select(*(c for part in parts for c in part.c)).select_from(joined)
    return statement


def dashboard_context(user) -> dict:
    """The figures of every domain registered for the user's role (one statement),
    then every section, merged."""
    from core.db import utcnow
    from core.extensions import db

    role = str(user.role)
    statement = _figures_statement(role)
    context: dict = {"now": utcnow()}  # one instant for the figures and the sections' lists
    if statement is not None:
        # One row of counts, run on the session's connection as a Core statement (the
        # ORM's execution path around it cost about 60 µs of CPU for nothing).
        context.update(db.session.connection().execute(
            statement, {"user_id": user.id, "now": context["now"]}).one()._mapping)
    for section in DASHBOARD_SECTIONS.get(role, []):
        context.update(section(user))
    return context


def register_navigation(role: str, endpoint: str, label, position: int) -> None:
    entries = NAVIGATION.setdefault(str(role), [])
    if all(e[1] != endpoint for e in entries):
        entries.append((position, endpoint, label))
        entries.sort(key=lambda e: e[0])


def register_status_labels(labels: dict) -> None:
    STATUS_LABELS.update({str(k): v for k, v in labels.items()})


def register_domain(app, blueprint, navigation=(), dashboards=None, status_labels=None) -> None:
    """Registers a domain's ``blueprint`` on ``app``, its menu entries ``(role,
    endpoint, label, position)``, its dashboard section of each role
    (``{role: section}``) and the labels of its statuses."""
    app.register_blueprint(blueprint)
    for role, endpoint, label, position in navigation:
        register_navigation(role, endpoint, label, position)
    for role, section in (dashboards or {}).items():
        register_dashboard(role, section)
    if status_labels:
        register_status_labels(status_labels)
