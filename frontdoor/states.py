"""The help request's state machine (``core.states.StateMachine`` over
``HELP_REQUEST_TRANSITIONS``). Every move writes a ``HelpRequestEvent`` with its
actor; a refused move is a 409 with a code the API names (``already_claimed`` for
a second claim)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.errors import ConflictError
from core.extensions import db
from core.states import StateMachine
from frontdoor.models import HELP_REQUEST_TRANSITIONS, HelpAction, HelpRequest, HelpRequestEvent, HelpStatus

_STATE_TEXT = {
    HelpStatus.OPEN: _l("Nobody has claimed this request yet."),
    HelpStatus.CLAIMED: _l("Another guidance worker has already claimed this request."),
    HelpStatus.CLOSED: _l("This request has already been closed."),
    HelpStatus.CONVERTED: _l("This request has already become a client record."),
}


def refusal(state: str, action: str) -> ConflictError:
    if action == HelpAction.CLAIM and state == HelpStatus.CLAIMED:
        return ConflictError(str(_STATE_TEXT[HelpStatus.CLAIMED]), code="already_claimed")
    if state in (HelpStatus.CLOSED, HelpStatus.CONVERTED):
        return ConflictError(str(_STATE_TEXT[state]), code="already_done")
    return ConflictError(str(_STATE_TEXT.get(state, state)), code="not_claimed")


def write_event(request_id: int, action: str, from_status: str | None, to_status: str | None, actor, note=None,
                params=None) -> None:
    db.session.add(HelpRequestEvent(request_id=request_id, action=action, from_status=from_status,
                                    to_status=to_status, actor_id=getattr(actor, "id", None), note=note))


HELP_MACHINE = StateMachine(HelpRequest, HELP_REQUEST_TRANSITIONS, event=write_event, refusal=refusal,
                            stamps={HelpStatus.OPEN: None})
