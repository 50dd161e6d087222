"""What the domains plug into core, through their ``init_app``: dashboard sections,
menu entries and status labels. Core knows no domain; a domain that is not
installed simply adds nothing.

- ``register_dashboard(role, section)``: ``section(user) -> dict`` adds its keys to
  the role's dashboard template (``core/dashboard_<role>.html``).
- ``register_navigation(role, endpoint, label, position)``: a menu entry, shown
  once its endpoint exists. ``label`` is a (lazy) string, or a plain function of
  the user returning one (e.g. a relative acting for a client is not addressed
  as the client).
- ``register_status_labels({...})``: the words shown for stored status codes.
- ``register_domain(app, blueprint, ...)``: all of the above and the blueprint at once.
"""

from __future__ import annotations

from collections.abc import Callable

DASHBOARD_SECTIONS: dict[str, list[Callable]] = {}
NAVIGATION: dict[str, list[tuple[int, str, object]]] = {}
STATUS_LABELS: dict[str, object] = {}


def register_dashboard(role: str, section: Callable) -> None:
    sections = DASHBOARD_SECTIONS.setdefault(str(role), [])
    if section not in sections:
        sections.append(section)


def dashboard_context(user) -> dict:
    """Every section registered for the user's role, merged."""
    context: dict = {}
    for section in DASHBOARD_SECTIONS.get(str(user.role), []):
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
