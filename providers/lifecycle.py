"""The provider lifecycle as a ``core.states.StateMachine``: the table
``PROVIDER_TRANSITIONS`` (providers.models), applied with a guarded conditional
UPDATE (two administrators deciding at once: one wins, the other gets a 409), the
``approved_at`` / ``suspended_at`` stamps, and one ``ProviderDecision`` row per move
with the deciding user and the reasons."""

from __future__ import annotations

from core.db import utcnow
from core.errors import ConflictError
from core.extensions import db
from core.states import StateMachine
from providers.common import _, _status_text
from providers.models import (
    DECISION_OF_ACTION,
    PROVIDER_TRANSITIONS,
    Provider,
    ProviderAction,
    ProviderDecision,
    ProviderStatus,
)


def _record_decision(provider_id: int, action: str, from_state: str, to_state: str, actor, note: str | None,
                     params: dict) -> None:
    """The machine's event: the decision row. It is handed back through ``params``
    (``params["decision"]``) to the service that made the move."""
    decision = ProviderDecision(provider_id=provider_id, decision=DECISION_OF_ACTION[ProviderAction(action)],
                                reasons=note or "", decided_by_id=getattr(actor, "id", None), at=utcnow())
    db.session.add(decision)
    params["decision"] = decision


def _refused(state: str, action: str) -> ConflictError:
    return ConflictError(_("This is not possible while the provider's status is “%(status)s”.",
                           status=_status_text(state)), code="invalid_transition")


def _lost(provider: Provider, action: str) -> ConflictError:
    return ConflictError(_("Someone else changed this provider at the same moment. Reload the page."),
                         code="changed_meanwhile")


PROVIDER_MACHINE = StateMachine(
    Provider, PROVIDER_TRANSITIONS, event=_record_decision,
    # approved_at is the first approval (kept on reinstatement): set by ``move``.
    stamps={ProviderStatus.APPROVED.value: None, ProviderStatus.SUSPENDED.value: "suspended_at"},
    refusal=_refused, lost=_lost)


def move(provider: Provider, action: ProviderAction, actor, reasons: str = "") -> ProviderDecision:
    """Apply one action of the table to ``provider`` (as it was read) and return the
    decision recorded. Raises ConflictError ``invalid_transition`` when the table does
    not allow it, ``changed_meanwhile`` when another decision landed first."""
    values: dict = {}
    if PROVIDER_MACHINE.target(provider.status, action) == ProviderStatus.APPROVED:
        values["suspended_at"] = None
        if provider.approved_at is None or action == ProviderAction.APPROVE:
            values["approved_at"] = utcnow()
    params: dict = {"decision": None}  # filled in by _record_decision
    PROVIDER_MACHINE.apply(provider, action, actor, note=reasons or "", params=params, values=values)
    return params["decision"]
