"""The staffing request and offer state machines (``core.states.StateMachine`` over
the tables ``STAFFING_TRANSITIONS`` and ``OFFER_TRANSITIONS``). Every move writes a
``StaffingEvent`` with its actor (None: the system) and a note code, and a refused
move raises the same errors, codes and messages as before the machines."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ConflictError
from core.extensions import db
from core.states import StateMachine
from staffing.models import (
    OFFER_TRANSITIONS, STAFFING_TRANSITIONS, OfferAction, StaffingAction, StaffingEvent, StaffingOffer,
    StaffingOfferStatus, StaffingRequest, StaffingStatus,
)

_STATE_TEXT = {
    StaffingStatus.OPEN: _l("The request is still open for offers."),
    StaffingStatus.CLOSED: _l("The answer time of the request has passed."),
    StaffingStatus.FILLED: _l("The request has already been filled."),
    StaffingStatus.CANCELLED: _l("The request has been cancelled."),
}
# The API error code of a refused request action (API.md).
_REQUEST_CODES = {
    StaffingAction.REOPEN: "not_closed",
    StaffingAction.CANCEL: "already_cancelled",
    StaffingAction.FILL: "not_selectable",
    StaffingAction.CLOSE: "not_open",
}


def request_refusal(state: str, action: str) -> ConflictError:
    return ConflictError(str(_STATE_TEXT.get(state, state)), code=_REQUEST_CODES.get(action, "invalid_state"))


def offer_refusal(state: str, action: str) -> ConflictError:
    if action == OfferAction.WITHDRAW:
        return ConflictError(_("Only an offer that is still waiting for the decision can be withdrawn."),
                             code="not_withdrawable")
    if state == StaffingOfferStatus.WITHDRAWN:
        return ConflictError(_("The agency has withdrawn this offer."), code="offer_not_available")
    return ConflictError(_("This offer has already been decided."), code="offer_not_available")


def _actor_id(actor) -> int | None:
    return getattr(actor, "id", None)


def _request_event(row_id, action, from_status, to_status, actor, note, params) -> None:
    db.session.add(StaffingEvent(request_id=row_id, action=action, from_status=from_status, to_status=to_status,
                                 actor_id=_actor_id(actor), note=note))


def _offer_event(row_id, action, from_status, to_status, actor, note, params) -> None:
    request_id = params.get("request_id") or db.session.scalar(
        sa.select(StaffingOffer.request_id).where(StaffingOffer.id == row_id))
    db.session.add(StaffingEvent(request_id=request_id, offer_id=row_id, action=action, from_status=from_status,
                                 to_status=to_status, actor_id=_actor_id(actor), note=note))


REQUEST_MACHINE = StateMachine(StaffingRequest, STAFFING_TRANSITIONS, event=_request_event,
                               refusal=request_refusal)
OFFER_MACHINE = StateMachine(StaffingOffer, OFFER_TRANSITIONS, event=_offer_event, refusal=offer_refusal)
