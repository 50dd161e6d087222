"""The client services, one import away. Each seam lives in its own module:

- ``clients.records``: registering, reading, searching and editing clients,
  consent, the responsible worker and handovers;
- ``clients.relatives``: the network, relatives acting for the client, logins and
  their invitations;
- ``clients.guidance``: guidance contacts;
- ``clients.follow_ups``: follow-ups and the check-up sweep;
- ``clients.erasure``: the retention sweep, erasure requests and erasure;
- ``clients.messaging``: messages;
- ``clients.policy``: who may see and do what (the rules, in one place).

Every read or change of a client's personal data writes an access-log row
(``core.access.record_access``); services flush, never commit (the request's unit
of work, the job runner or the command does). Notes written to the record history
(``ClientEvent``) never hold the client's personal data: they survive erasure.
Other packages import from here (``from clients.services import get_client``).
"""

from __future__ import annotations

from clients.base import (  # noqa: F401
    ACTIVE_ORDER_STATES, INVITATION_DAYS, LANGUAGES, MESSAGE_MAX, OPEN_ORDER_STATES, SWEEP_LIMIT, ClientError,
)
from clients.erasure import (  # noqa: F401
    PSEUDONYM_FIRST, decline_erasure, erase_client, keep_client_record, request_erasure, sweep_retention,
)
from clients.follow_ups import complete_follow_up, insert_follow_up, open_follow_up, sweep_segment_checks  # noqa: F401
from clients.guidance import GUIDANCE_TOPICS, guidance_contacts, log_guidance_contact  # noqa: F401
from clients.messaging import mark_messages_read, send_message, unread_message_count  # noqa: F401
from clients.policy import RELATIVE_PURPOSE, client_side_purpose, is_own_record, shows_contact  # noqa: F401
from clients.records import (  # noqa: F401
    client_for_portal, create_client, get_client, hand_over_client, lookup_client, lookup_portal_client,
    search_clients, set_consent, staff_choices, update_client, validate_client_fields,
)
from clients.relatives import (  # noqa: F401
    accept_invitation, add_network_member, add_representative, end_network_member, end_representative,
    give_client_login, invitation_token, revoke_mandate, update_mandate, user_for_invitation,
)
from clients.serializers import client_json as client_summary  # noqa: F401
