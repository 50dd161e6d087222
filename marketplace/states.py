"""The purchase's lifecycle on ``core.states.StateMachine``: the table
``SHOP_TRANSITIONS``, its ``*_at`` stamps, an event row per change, and the
refusals the API has always answered (409 ``invalid_state``)."""

from __future__ import annotations

from flask_babel import gettext as _

from core.db import utcnow
from core.errors import ConflictError
from core.extensions import db
from core.states import StateMachine
from core.templating import money, status_label
from marketplace.models import SHOP_TRANSITIONS, STATUS_STAMPS, ShopOrder, ShopOrderEvent


def status_text(status: str) -> str:
    return status_label(status).lower()


def money_text(cents: int) -> str:
    return money(cents)


def write_event(order_id: int, from_status, to_status, actor, note: str | None = None, *,
                code: str | None = None, params: dict | None = None) -> ShopOrderEvent:
    """An event row of the purchase (also for a step that keeps the state). ``code``
    and ``params`` are what the system says (``marketplace.texts``, shown in the
    reader's language); ``note`` is what a person wrote."""
    event = ShopOrderEvent(shop_order_id=order_id, from_status=from_status, to_status=to_status,
                           actor_id=getattr(actor, "id", None), note=note or None, at=utcnow(),
                           code=code, params=(params or {}) if code else None)
    db.session.add(event)
    return event


def _machine_event(row_id, action, from_status, to_status, actor, note, params) -> None:
    write_event(row_id, from_status, to_status, actor, note, code=params.get("code"),
                params=params.get("code_params"))


def _refused(state: str, action: str) -> ConflictError:
    return ConflictError(_("This purchase is %(status)s; that cannot be done now.", status=status_text(state)),
                         code="invalid_state")


def _lost(row, action: str) -> ConflictError:
    return ConflictError(_("The purchase was changed at the same time. Reload the page and check it."),
                         code="invalid_state")


PURCHASES = StateMachine(ShopOrder, SHOP_TRANSITIONS, event=_machine_event, stamps=dict(STATUS_STAMPS),
                         refusal=_refused, lost=_lost)


def transition(order: ShopOrder, action: str, actor, note: str | None = None, *, code: str | None = None,
               code_params: dict | None = None, **values) -> str:
    """Apply ``action`` by the table: one guarded UPDATE from the state read, so of
    two simultaneous changes only one wins (the other gets ConflictError). Stamps
    the new state's ``*_at``, writes the event (``note``: what a person wrote;
    ``code``/``code_params``: what the system says, ``marketplace.texts``), returns
    the new state."""
    return PURCHASES.apply(order, action, actor, note=note, values=values,
                           params={"code": code, "code_params": code_params or {}})
