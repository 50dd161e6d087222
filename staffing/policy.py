"""Who may do what with staffing requests and offers, in one place: the web pages,
the API, the templates and the jobs ask here.

- The home-care staff (guidance staff) open requests, select offers, re-open and
  cancel requests; they see every request and every offer.
- A staffing agency (a provider organisation of kind ``agency``) sees the requests
  sent to it and its own offers; an approved agency offers people on an open
  request, withdraws its waiting offer and reports the hours of a selected one.
- Nobody else (admins, managers, clients, other providers) sees staffing requests.

Templates receive ``request_actions`` / ``offer_actions``: what the state machines
allow from the row's state intersected with what the user may do.
"""

from __future__ import annotations

from flask_babel import gettext as _

from core.db import utcnow
from core.errors import PermissionDenied
from core.extensions import db
from core.roles import Role
from providers.models import Provider, ProviderKind, ProviderStatus
from staffing.models import OfferAction, StaffingAction, StaffingOfferStatus, StaffingStatus
from staffing.scopes import scope_staffing_requests  # noqa: F401  (the visibility rule)
from staffing.states import OFFER_MACHINE, REQUEST_MACHINE

# What staff may do to a request themselves (``close`` and ``fill`` are the system's).
STAFF_REQUEST_ACTIONS = {StaffingAction.REOPEN, StaffingAction.CANCEL}
# Web/API actions that are not state moves.
OFFER = "offer"                # an agency offers people on a request
REPORT_HOURS = "report_hours"  # an agency reports the hours of its selected offer


def is_staff(user) -> bool:
    return user is not None and user.role == Role.STAFF


def require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied(_("Only guidance staff can do this."), code="staff_only")


def agency_of(user) -> Provider:
    """The agency organisation of a provider member; PermissionDenied for anyone
    else (other roles, members of organisations that are not agencies)."""
    provider = db.session.get(Provider, user.provider_id) if user is not None and user.role == Role.PROVIDER else None
    if provider is None or provider.kind != ProviderKind.AGENCY:
        raise PermissionDenied(_("Only staffing agencies can do this."), code="not_agency")
    return provider


def require_approved_agency(user) -> Provider:
    agency = agency_of(user)
    if agency.status != ProviderStatus.APPROVED:
        raise PermissionDenied(_("Your organisation is not approved at the moment, so it cannot answer requests."),
                               code="agency_not_approved")
    return agency


def sees_all_offers(user) -> bool:
    """Staff see every offer on a request; an agency only its own."""
    return is_staff(user)


def may_offer(user, req, offers) -> bool:
    """An approved agency the request was sent to (the caller has checked that) may
    offer while the request is open and its answer time has not passed, unless its
    earlier offer still stands (``offers``: the agency's offers on the request)."""
    if user is None or user.role != Role.PROVIDER:
        return False
    provider = db.session.get(Provider, user.provider_id)
    if provider is None or provider.kind != ProviderKind.AGENCY or provider.status != ProviderStatus.APPROVED:
        return False
    standing = any(o.status in (StaffingOfferStatus.OFFERED, StaffingOfferStatus.SELECTED) for o in offers
                   if o.provider_id == user.provider_id)
    return req.status == StaffingStatus.OPEN and req.respond_by > utcnow() and not standing


def request_actions(user, req, offers=()) -> set[str]:
    """What ``user`` may do to the request ``req`` now (``offers``: the offers the
    user sees on it)."""
    if is_staff(user):
        return REQUEST_MACHINE.actions(req) & {str(a) for a in STAFF_REQUEST_ACTIONS}
    return {OFFER} if may_offer(user, req, offers) else set()


def offer_actions(user, req, offer) -> set[str]:
    """What ``user`` may do to ``offer`` on ``req`` now."""
    if is_staff(user):
        # Staff select a waiting offer while the request can still be filled.
        if REQUEST_MACHINE.can(req.status, StaffingAction.FILL):
            return OFFER_MACHINE.actions(offer) & {str(OfferAction.SELECT)}
        return set()
    if user is None or user.role != Role.PROVIDER or offer.provider_id != user.provider_id:
        return set()
    actions = OFFER_MACHINE.actions(offer) & {str(OfferAction.WITHDRAW)}
    if offer.status == StaffingOfferStatus.SELECTED and req.status != StaffingStatus.CANCELLED:
        actions.add(REPORT_HOURS)
    return actions
