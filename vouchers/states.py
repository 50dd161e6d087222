"""The voucher and service-event state machines (``core.states.StateMachine`` over
``VOUCHER_TRANSITIONS`` and ``EVENT_TRANSITIONS``). Every move writes a
``VoucherEvent`` with its actor (None: the system or a rule) and a note; a refused
move is a 409 with a message saying why."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.errors import ConflictError
from core.extensions import db
from core.states import StateMachine
from vouchers.models import (
    EVENT_TRANSITIONS, VOUCHER_TRANSITIONS, EventAction, EventStatus, ServiceEvent, ServiceVoucher, VoucherEvent,
    VoucherStatus,
)

_EVENT_STATE_TEXT = {
    EventStatus.RECORDED: _l("The service event is waiting for review."),
    EventStatus.UNDER_REVIEW: _l("The service event is under review."),
    EventStatus.APPROVED: _l("The service event has already been approved."),
    EventStatus.SETTLED: _l("The service event has been settled; correct it with a correction instead."),
    EventStatus.PAID: _l("The service event has been paid; correct it with a correction instead."),
    EventStatus.REFUSED: _l("The service event was refused; the provider can correct it and send it again."),
}
_VOUCHER_STATE_TEXT = {
    VoucherStatus.GRANTED: _l("The voucher has not been used yet."),
    VoucherStatus.OPEN: _l("The voucher is in use."),
    VoucherStatus.CLOSED: _l("The voucher is closed."),
}
# The API error code of a refused event action.
_EVENT_CODES = {EventAction.APPROVE: "not_approvable", EventAction.REFUSE: "not_refusable",
                EventAction.REVIEW: "not_reviewable", EventAction.RESUBMIT: "not_refused",
                EventAction.SETTLE: "not_settleable", EventAction.PAY: "not_payable"}


def event_refusal(state: str, action: str) -> ConflictError:
    return ConflictError(str(_EVENT_STATE_TEXT.get(state, state)), code=_EVENT_CODES.get(action, "invalid_state"))


def voucher_refusal(state: str, action: str) -> ConflictError:
    return ConflictError(str(_VOUCHER_STATE_TEXT.get(state, state)), code="voucher_" + str(state))


def _voucher_event(row_id, action, from_status, to_status, actor, note, params) -> None:
    db.session.add(VoucherEvent(voucher_id=row_id, action=action, from_status=from_status, to_status=to_status,
                                actor_id=getattr(actor, "id", None), note=note))


def _service_event(row_id, action, from_status, to_status, actor, note, params) -> None:
    db.session.add(VoucherEvent(voucher_id=params.get("voucher_id"), service_event_id=row_id, action=action,
                                from_status=from_status, to_status=to_status, actor_id=getattr(actor, "id", None),
                                note=note))


VOUCHER_MACHINE = StateMachine(ServiceVoucher, VOUCHER_TRANSITIONS, event=_voucher_event, refusal=voucher_refusal)
EVENT_MACHINE = StateMachine(ServiceEvent, EVENT_TRANSITIONS, event=_service_event, refusal=event_refusal)
