"""Who may see and act on an organisation (providers.policy), and what the pages
offer: the state machine's actions intersected with the policy."""

from types import SimpleNamespace

import pytest

from providers import policy
from providers.models import PROVIDER_TRANSITIONS, ProviderStatus

pytestmark = pytest.mark.smoke


def user(role, provider_id=None, provider_role=None):
    return SimpleNamespace(role=role, provider_id=provider_id, provider_role=provider_role, is_authenticated=True)


ADMIN = user("admin")
ORG_ADMIN = user("provider", 1, "admin")
WORKER = user("provider", 1, "worker")
OTHER_ORG = user("provider", 2, "admin")
STAFF = user("staff")
ANONYMOUS = SimpleNamespace(is_authenticated=False, role=None, provider_id=None, provider_role=None)


def org(status):
    return SimpleNamespace(id=1, status=status)


@pytest.mark.parametrize("who,sees,manages", [
    (ADMIN, True, True), (ORG_ADMIN, True, True), (WORKER, True, False), (OTHER_ORG, False, False),
    (STAFF, False, False), (ANONYMOUS, False, False), (None, False, False),
])
def test_internals_and_management(who, sees, manages):
    assert policy.can_see_internals(who, 1) is sees
    assert policy.can_manage(who, 1) is manages


@pytest.mark.parametrize("status", list(ProviderStatus))
def test_public_profile_only_when_approved(status):
    assert policy.can_view(ANONYMOUS, org(status)) is (status == ProviderStatus.APPROVED)
    assert policy.can_view(WORKER, org(status)) and policy.can_view(ADMIN, org(status))
    assert not policy.can_view(ADMIN, None)


@pytest.mark.parametrize("status", list(ProviderStatus))
def test_admin_actions_are_the_tables_minus_the_organisations_own(status):
    table = {str(a) for (s, a) in PROVIDER_TRANSITIONS if s == status}
    assert policy.admin_actions(ADMIN, org(status)) == table - {"resubmit"}
    assert policy.admin_actions(ORG_ADMIN, org(status)) == set()


@pytest.mark.parametrize("status", list(ProviderStatus))
def test_organisation_actions(status):
    expected = {"manage"} | ({"resubmit"} if status == ProviderStatus.INFO_REQUESTED else set())
    assert policy.organisation_actions(ORG_ADMIN, org(status)) == expected
    assert policy.organisation_actions(ADMIN, org(status)) == expected
    assert policy.organisation_actions(WORKER, org(status)) == set()
