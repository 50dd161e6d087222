"""The provider services, one import away: this module only re-exports them from
the modules that hold them, split along their seams:

- ``providers.common``: labels, limits and the checks of plain values;
- ``providers.registration``: the application form and ``POST /providers``;
- ``providers.decisions`` (with ``providers.lifecycle``, the state machine):
  approve, reject, ask for more, resubmit, suspend, reinstate;
- ``providers.documents``: attachments, stored files, expiry reminders;
- ``providers.members``: invitations, roles, removal;
- ``providers.profile``: the public profile, capacity, automatic acceptance;
- ``providers.policy``: who may see and act on an organisation.

Services take plain values and the acting user, flush and never commit.
"""

from providers.common import (  # noqa: F401
    ATTACHMENT_LABELS,
    DECISION_LABELS,
    FILE_TYPES,
    IMAGE_TYPES,
    INVITATION_DAYS,
    KIND_LABELS,
    LANGUAGES,
    LOGO_MAX_BYTES,
    MAX_DESCRIPTION,
    MAX_REASONS,
    PROVIDER_ROLE_LABELS,
    REMINDER_DAYS,
    WEEKDAYS,
    _provider,
    _today,
    parse_list,
    provider_language,
    requested_services,
    sanitise_text,
)
from providers.decisions import (  # noqa: F401
    _transition,
    approve_provider,
    decide_application,
    reinstate_provider,
    resubmit_application,
    suspend_provider,
)
from providers.documents import (  # noqa: F401
    NewAttachment,
    Upload,
    _check_file,
    _write_file,
    add_attachment,
    delete_attachment,
    get_attachment,
    remind_expiring_attachments,
    stored_path,
    upload_dir,
    upload_limit,
)
from providers.members import (  # noqa: F401
    _token_hash,
    accept_invitation,
    invitation_for_token,
    invite_member,
    remove_member,
    revoke_invitation,
    set_member_role,
)
from providers.policy import can_manage  # noqa: F401
from providers.profile import (  # noqa: F401
    create_auto_accept_rule,
    delete_auto_accept_rule,
    remove_capacity,
    set_capacity,
    set_rule_active,
    update_profile,
)
from providers.registration import ORGANISATION_FIELDS, create_provider, submit_application  # noqa: F401
