"""Who may see and do what with a client record: the one place for these rules.

Web pages, the API, the templates, the data export and the other domains (the order
page shows the client's contact details to the provider serving them) all ask here.

- Contact details under the safety non-disclosure marking (turvakielto): the
  address and phone are shown only to the responsible worker, the client
  themselves and the provider of an active order (``serving_provider=True``).
  A relative acting for the client does not see them.
- Lists: the postal code of a protected client is shown only to their
  responsible worker (and a protected client is found by postal code only by them).
- The record: staff see every client; a client-role user the clients they may act
  for (their own record and those they represent as a relative under a mandate in
  force, for the mandate's scopes: see the services, send messages, buy, give
  feedback; ``clients.models.MandateScope``).
  Only the client themselves (not a relative) downloads all their data or asks
  for erasure.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext

from accounts.models import Role
from clients.scopes import ANY, can_act_for_client
from clients.models import Client, MandateScope
from core.access import Purpose
from core.errors import NotFoundError, PermissionDenied

# Purpose of a relative's reads, shown to the client in their access log.
RELATIVE_PURPOSE = "a relative acting for the client"


def _(text: str, **variables) -> str:
    """gettext that also works outside a request (jobs): English there."""
    try:
        return gettext(text, **variables)
    except RuntimeError:
        return text % variables if variables else text


# -- who the user is to the client ------------------------------------------------

def is_staff(user) -> bool:
    return user is not None and getattr(user, "role", None) == Role.STAFF


def is_own_record(user, client_id: int) -> bool:
    """The user is the client themselves (their own login)."""
    return user is not None and user.role == Role.CLIENT and user.client_id == client_id


def is_responsible_worker(user, client) -> bool:
    return user is not None and client.responsible_worker_id is not None and user.id == client.responsible_worker_id


def acts_for(user, client_id: int, scope: str | None = MandateScope.SERVICES) -> bool:
    """A client-role user acting for the client: their own record or one they
    represent as a relative under a mandate in force covering ``scope`` (any
    scope when ``ANY``)."""
    return user is not None and user.role == Role.CLIENT and can_act_for_client(user, client_id, scope)


def is_relative_of(user, client_id: int) -> bool:
    """A client-role user acting for someone else than themselves."""
    return user is not None and user.role == Role.CLIENT and user.client_id != client_id


def mandate_scopes(user, client_id: int) -> set[str]:
    """The scopes the user has for the client now: all for the client themselves."""
    if is_own_record(user, client_id):
        return set(MandateScope)
    return {scope for scope in MandateScope if acts_for(user, client_id, scope)}


def client_side_purpose(user, client_id: int) -> str:
    """The purpose logged when a client-role user reads a client's data: their own
    data, or a relative acting for the client."""
    return Purpose.OWN_DATA if getattr(user, "client_id", None) == client_id else RELATIVE_PURPOSE


def read_purpose(user, client_id: int) -> str:
    """The purpose of a read of the record: guidance for staff, the client side's
    own purpose otherwise."""
    return Purpose.GUIDANCE if is_staff(user) else client_side_purpose(user, client_id)


# -- what of the record is shown ----------------------------------------------------

def shows_contact(client, user, *, serving_provider: bool = False) -> bool:
    """Whether ``user`` sees the client's address and phone. Under the safety
    non-disclosure marking only the responsible worker, the client themselves and
    the provider of an active order (the caller says so with
    ``serving_provider=True``); without the marking everyone who may see the
    client."""
    if not client.non_disclosure:
        return True
    if serving_provider:
        return True
    return user is not None and (is_responsible_worker(user, client) or is_own_record(user, client.id))


def shows_postal_code_in_lists(client, user) -> bool:
    """A protected client's postal code is not shown in lists (search results)
    except to their responsible worker."""
    return not client.non_disclosure or is_responsible_worker(user, client)


def postal_code_searchable(user):
    """The same rule as a query condition: a protected client is found by postal
    code only by their responsible worker."""
    return sa.or_(Client.non_disclosure.is_(False), Client.responsible_worker_id == user.id)


# -- who may act -----------------------------------------------------------------------

def require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied(_("Only guidance staff can do this."))


def require_client_side(user, client_id: int, scope: str | None = MandateScope.SERVICES) -> None:
    """A client-role user acting for the client within ``scope``; a relative whose
    mandate does not cover it gets PermissionDenied (``outside_mandate``), anyone
    else NotFoundError (another client's id looks as if it did not exist)."""
    if acts_for(user, client_id, scope):
        return
    if scope is not None and acts_for(user, client_id, ANY):
        raise PermissionDenied(outside_mandate_message(scope), code="outside_mandate")
    raise NotFoundError(_("Client not found."))


def outside_mandate_message(scope: str) -> str:
    """Why a relative is refused: what their mandate does not cover."""
    return {
        MandateScope.SERVICES: _("Your mandate does not include seeing this person's services and data."),
        MandateScope.MESSAGES: _("Your mandate does not include messages on this person's behalf."),
        MandateScope.BUY: _("Your mandate does not include buying services for this person."),
        MandateScope.FEEDBACK: _("Your mandate does not include giving feedback for this person."),
    }.get(scope, _("Your mandate does not cover this."))


def require_own_or_staff(user, client_id: int, *, refused: str, denied: str, code: str = "own_data_only") -> None:
    """Staff, or the client themselves: a relative gets PermissionDenied
    (``code``), another client NotFoundError, other roles PermissionDenied."""
    if user is None or user.role not in (Role.STAFF, Role.CLIENT):
        raise PermissionDenied(refused)
    if user.role == Role.CLIENT:
        require_client_side(user, client_id)
        if not is_own_record(user, client_id):
            raise PermissionDenied(denied, code=code)


def may_export(user, client_id: int) -> bool:
    """Staff, or the client themselves (not a relative)."""
    return is_staff(user) or is_own_record(user, client_id)


def staff_actions(client, logins=()) -> set[str]:
    """What guidance staff may do on a client's record page, from its state
    (``logins``: the client's own logins)."""
    actions = {"edit", "handover", "consent", "network", "relatives", "message", "export", "contact"}
    if not any(u.active for u in logins):
        actions.add("give_login")
    if client.consent_to_share:
        actions.add("order")
    if client.retention_flagged_at is not None:
        actions.add("keep")
    if client.erasure_requested_at is not None:
        actions.add("decline_erasure")
    if client.erasure_requested_at is not None or client.retention_flagged_at is not None:
        actions.add("erase")
    return actions


def portal_actions(user, client) -> set[str]:
    """What the client side may do with the client's data in the portal."""
    actions = set()
    if is_own_record(user, client.id):
        actions.add("export")
        if client.erasure_requested_at is None:
            actions.add("request_erasure")
    return actions
