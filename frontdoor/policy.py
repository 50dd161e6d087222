"""Who may do what at the front door (one place for pages, API and templates).

- Anyone (no login) sends a help request; nobody outside staff reads one.
- Guidance staff see the queue and claim requests. Only the worker who claimed a
  request logs contacts on it, closes it, turns it into a client record or gives it
  back to the queue.
- Administrators keep the suggestion rules; staff and managers read the report.
"""

from __future__ import annotations

from core.errors import PermissionDenied
from core.roles import Role
from frontdoor.models import HelpStatus
from frontdoor.states import HELP_MACHINE


def is_staff(user) -> bool:
    return user is not None and getattr(user, "role", None) == Role.STAFF


def require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied("Only guidance staff handle help requests.")


def is_owner(user, req) -> bool:
    return is_staff(user) and req.status == HelpStatus.CLAIMED and req.claimed_by_id == user.id


def require_owner(user, req) -> None:
    require_staff(user)
    if req.status == HelpStatus.CLAIMED and req.claimed_by_id != user.id:
        raise PermissionDenied("Only the guidance worker who claimed this request can do this.")


def actions(user, req) -> set[str]:
    """What the user may do with the request now (the buttons a page shows)."""
    if not is_staff(user):
        return set()
    allowed = HELP_MACHINE.actions(req)
    if req.status == HelpStatus.CLAIMED and req.claimed_by_id != user.id:
        return set()
    extra = {"log_contact", "assess"} if is_owner(user, req) else set()
    return allowed | extra


def may_keep_rules(user) -> bool:
    return user is not None and getattr(user, "role", None) == Role.ADMIN


def require_rule_keeper(user) -> None:
    if not may_keep_rules(user):
        raise PermissionDenied("Only administrators change the suggestion rules.")


def may_see_report(user) -> bool:
    return user is not None and getattr(user, "role", None) in (Role.STAFF, Role.MANAGER, Role.ADMIN)
