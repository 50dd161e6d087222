"""Who may see and act on a provider organisation, in one place.

Three kinds of people act on an organisation: platform administrators (decide on
applications, suspend, reinstate; may also manage any organisation), the
organisation's own administrators (profile, members, capacity, rules, documents,
answering a request for more information) and its workers (see the organisation's
page and documents, change nothing). Everyone else sees an approved provider's
public profile only.

The web views, the API, the templates and the services all ask these functions;
the templates receive the set of actions allowed (``admin_actions`` /
``organisation_actions``) and test ``"suspend" in actions`` instead of statuses and
roles.
"""

from __future__ import annotations

from accounts.models import ProviderRole, Role
from core.errors import NotFoundError, PermissionDenied
from providers.common import _
from providers.lifecycle import PROVIDER_MACHINE
from providers.models import Provider, ProviderAction, ProviderStatus

# What a platform administrator decides, and what the organisation's administrators do.
ADMIN_DECISIONS = frozenset({ProviderAction.APPROVE, ProviderAction.REJECT, ProviderAction.REQUEST_INFO,
                             ProviderAction.SUSPEND, ProviderAction.REINSTATE})
ORGANISATION_DECISIONS = frozenset({ProviderAction.RESUBMIT})
# Actions on the organisation's own page that are not lifecycle moves.
MANAGE = "manage"


def is_platform_admin(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", True) and user.role == Role.ADMIN


def is_member(user, provider_id: int | None) -> bool:
    """An active login of the organisation (administrator or worker)."""
    return (user is not None and getattr(user, "is_authenticated", True) and user.role == Role.PROVIDER
            and provider_id is not None and user.provider_id == provider_id)


def can_see_internals(user, provider_id: int | None) -> bool:
    """Documents, members, decisions, a provider that is not approved: platform
    admins and the organisation's members."""
    return is_platform_admin(user) or is_member(user, provider_id)


def can_view(user, provider: Provider | None) -> bool:
    """The profile (web and API): an approved provider is public; any other only for
    platform admins and its members."""
    if provider is None:
        return False
    return provider.status == ProviderStatus.APPROVED or can_see_internals(user, provider.id)


def can_manage(user, provider_id: int | None) -> bool:
    """Change the organisation (profile, members, capacity, rules, documents): a
    platform admin or an administrator of the organisation."""
    return is_platform_admin(user) or (is_member(user, provider_id) and user.provider_role == ProviderRole.ADMIN)


# -- the same rules as refusals, for the services -------------------------------------------


def require_platform_admin(user) -> None:
    if not is_platform_admin(user):
        raise PermissionDenied(_("Only administrators can do this."))


def require_internals(user, provider_id: int) -> None:
    """A platform admin or a member; anyone else is told the provider does not exist."""
    if not can_see_internals(user, provider_id):
        raise NotFoundError(_("No such provider."))


def require_manage(user, provider_id: int) -> None:
    """A platform admin or an administrator of the organisation (a worker: 403;
    an outsider: 404)."""
    require_internals(user, provider_id)
    if not can_manage(user, provider_id):
        raise PermissionDenied(_("Only your organisation's administrators can change this."),
                               code="org_admin_only")


# -- what the templates offer ---------------------------------------------------------------


def admin_actions(user, provider: Provider) -> set[str]:
    """The lifecycle actions a platform administrator may take on ``provider`` now
    (the state machine's table intersected with this policy)."""
    if not is_platform_admin(user):
        return set()
    return {str(a) for a in PROVIDER_MACHINE.actions(provider) & {str(a) for a in ADMIN_DECISIONS}}


def organisation_actions(user, provider: Provider) -> set[str]:
    """What the organisation's page offers ``user``: ``manage`` for administrators,
    and ``resubmit`` while the platform waits for more information."""
    if not can_manage(user, provider.id):
        return set()
    allowed = {MANAGE}
    allowed |= PROVIDER_MACHINE.actions(provider) & {str(a) for a in ORGANISATION_DECISIONS}
    return allowed
