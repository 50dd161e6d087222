"""Who may do what with reports: the one place for these rules. Services enforce
them; pages receive the allowed ``actions``.

Reports are aggregated (no personal data) and shared by the county's managers:
managers request them, managers and administrators read and download them.
"""

from __future__ import annotations

from accounts.models import Role
from reports.models import ReportStatus

REQUEST, DOWNLOAD = "request", "download"


def _role(user):
    return getattr(user, "role", None) if getattr(user, "is_authenticated", True) else None


def may_request(user) -> bool:
    return _role(user) == Role.MANAGER


def may_read(user) -> bool:
    return _role(user) in (Role.MANAGER, Role.ADMIN)


def run_actions(user, run) -> set[str]:
    """What ``user`` may do from a run's page: request reports (back to the
    reports page) and download the run's files once it is done."""
    allowed = set()
    if may_request(user):
        allowed.add(REQUEST)
    if may_read(user) and run.status == ReportStatus.DONE:
        allowed.add(DOWNLOAD)
    return allowed
