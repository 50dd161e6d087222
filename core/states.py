"""One state-machine helper for every object with a lifecycle (orders, offers,
purchases, providers, staffing requests and offers, report runs).

A ``StateMachine`` holds a transition table ``{(state, action): new state}`` for one
model with a ``status`` column. ``apply`` moves one row with a guarded conditional
UPDATE (``WHERE id = :id AND status = :state``): the row count says who won, so of
two simultaneous changes exactly one takes effect and the other gets a clear
refusal. ``apply_where`` does the same for every row matching a condition (e.g.
withdraw the other providers' pending offers): rows that another transaction has
moved meanwhile (a concurrent decline) are left as they are. Each change stamps the
new state's ``<state>_at`` column when the model has one and writes an event row
with the actor and a note code through the machine's ``event`` function.

Templates receive ``machine.actions(row)`` (what the table allows from the row's
state), intersected with what the domain's policy allows the user, instead of
testing statuses themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from core.db import utcnow
from core.errors import ConflictError, DomainError
from core.extensions import db


class TransitionRefused(ConflictError):
    """The table does not allow the action from the row's state (409)."""

    code = "invalid_state"


def transition_table(moves: dict) -> dict:
    """``{state: {action: next state}}`` (a table written by source state) as the
    ``{(state, action): next state}`` a ``StateMachine`` takes."""
    return {(state, action): target for state, actions in moves.items() for action, target in actions.items()}


# event(row_id, action, from_state, to_state, actor, note, params) -> None
EventWriter = Callable[[int, str, str, str, Any, str | None, dict], None]


class StateMachine:
    def __init__(self, model, table: dict, *, event: EventWriter | None = None,
                 stamps: dict[str, str | None] | None = None, version_column: str | None = None,
                 refusal: Callable[[str, str], DomainError] | None = None,
                 lost: Callable[[Any, str], DomainError] | None = None):
        self.model = model
        self.table = {(str(k[0]), str(k[1])): str(v) for k, v in table.items()}
        self.event = event
        self._stamps = stamps or {}
        self.version_column = version_column
        self._refusal = refusal
        self._lost = lost

    # -- reading the table -------------------------------------------------------

    def target(self, state: str, action: str) -> str | None:
        return self.table.get((str(state), str(action)))

    def can(self, state: str, action: str) -> bool:
        return self.target(state, action) is not None

    def actions(self, state) -> set[str]:
        """Every action the table allows from ``state`` (a row or a state)."""
        state = str(getattr(state, "status", state))
        return {action for (source, action) in self.table if source == state}

    def sources(self, action: str) -> list[str]:
        return sorted({source for (source, a) in self.table if a == str(action)})

    def stamp_column(self, state: str) -> str | None:
        if state in self._stamps:
            return self._stamps[state]
        name = f"{state}_at"
        return name if hasattr(self.model, name) else None

    def refusal(self, state: str, action: str) -> DomainError:
        if self._refusal is not None:
            return self._refusal(str(state), str(action))
        from core.templating import status_label
        return TransitionRefused(gettext("Not possible now: the status is “%(status)s”.", status=status_label(str(state))))

    # -- moving rows -------------------------------------------------------------

    def apply(self, row, action: str, actor=None, *, note: str | None = None, params: dict | None = None,
              values: dict | None = None) -> str:
        """Move ``row`` by ``action`` from the state it was read in. Returns the new
        state; raises the refusal when the table does not allow it, or when another
        transaction changed the row first (``lost``, else the refusal for the state
        found then). ``values`` are further columns to set in the same UPDATE."""
        current = str(row.status)
        target = self.target(current, action)
        if target is None:
            raise self.refusal(current, action)
        now = utcnow()
        changes = dict(values or {})
        stamp = self.stamp_column(target)
        if stamp and stamp not in changes:
            changes[stamp] = now
        model = self.model
        db.session.flush()
        # The UPDATE returns the row it moved into ``row`` (populate_existing): no
        # second statement to read the new state back. ``touches``: the rows it can
        # change are ``row``'s (watchers such as reports.staleness read them there).
        options = {"synchronize_session": False, "populate_existing": True, "touches": row}
        stmt = self._apply_statement(tuple(changes)) if not any(
            isinstance(v, sa.sql.ClauseElement) for v in changes.values()) else None
        if stmt is not None:
            binds = {"b_id": row.id, "b_status": current, "b_target": target,
                     **{f"b_{key}": value for key, value in changes.items()}}
            if self.version_column:
                binds["b_version"] = getattr(row, self.version_column)
            moved = db.session.scalars(stmt, binds, execution_options=options).all()
        else:  # a value that is an SQL expression: the statement is built for it
            conditions = [model.id == row.id, model.status == current]
            if self.version_column:
                column = getattr(model, self.version_column)
                conditions.append(column == getattr(row, self.version_column))
                changes[self.version_column] = column + 1
            moved = db.session.scalars(
                sa.update(model).where(*conditions).values(status=target, **changes).returning(model)
                .execution_options(**options)).all()
        if len(moved) != 1:
            db.session.refresh(row)
            if self._lost is not None:
                raise self._lost(row, action)
            raise self.refusal(str(row.status), action)
        if self.event is not None:
            self.event(row.id, str(action), current, target, actor, note, params or {})
        db.session.flush()
        return target

    def _apply_statement(self, keys: tuple[str, ...]):
        """``apply``'s guarded ``UPDATE … RETURNING`` for the columns ``keys`` (besides
        the status and the version), with every value bound (``b_id``, ``b_status``,
        ``b_version``, ``b_target`` and ``b_<column>``): built once per set of columns
        and reused. Building the statement and its cache key afresh was a good part
        of a state change's Python (an accept makes two)."""
        statements = self.__dict__.setdefault("_apply_statements", {})
        stmt = statements.get(keys)
        if stmt is None:
            model = self.model
            conditions = [model.id == sa.bindparam("b_id"), model.status == sa.bindparam("b_status")]
            values = {"status": sa.bindparam("b_target", type_=model.status.type)}
            for key in keys:
                values[key] = sa.bindparam(f"b_{key}", type_=getattr(model, key).type)
            if self.version_column:
                column = getattr(model, self.version_column)
                conditions.append(column == sa.bindparam("b_version"))
                values[self.version_column] = column + 1
            stmt = statements[keys] = sa.update(model).where(*conditions).values(**values).returning(model)
        return stmt

    def apply_where(self, action: str, *conditions, actor=None, note: str | None = None,
                    params: dict | None = None, values: dict | None = None, within=None,
                    key: str | None = None, binds: dict | None = None) -> list[int]:
        """Move every row matching ``conditions`` whose state allows ``action``, in
        one guarded UPDATE per source state. Returns the ids that moved; a row that a
        concurrent transaction moved first is not touched. ``within``: a loaded row
        that every matching row belongs to (the order of the offers), for watchers of
        the statements (the ``touches`` option).

        ``key`` names conditions that the caller built once with bound parameters
        (their values in ``binds``; names not those of the model's columns): the
        UPDATEs are then built once per key and reused, as ``apply``'s are."""
        moved: list[int] = []
        model = self.model
        db.session.flush()
        options = {"synchronize_session": False, "touches": within}
        for source in self.sources(action):
            target = self.target(source, action)
            changes = dict(values or {})
            stamp = self.stamp_column(target)
            if stamp and stamp not in changes:
                changes[stamp] = utcnow()
            if key is not None and not any(isinstance(v, sa.sql.ClauseElement) for v in changes.values()):
                stmt = self._where_statement(key, conditions, tuple(changes))
                rows = db.session.execute(stmt, {**(binds or {}), "b_source": source, "b_target": target,
                                                 **{f"b_{k}": v for k, v in changes.items()}},
                                          execution_options=options).all()
            else:
                rows = db.session.execute(
                    sa.update(model).where(model.status == source, *conditions)
                    .values(status=target, **changes).returning(model.id)
                    .execution_options(**options)).all()
            ids = [r[0] for r in rows]
            if self.event is not None:
                for row_id in ids:
                    self.event(row_id, str(action), source, target, actor, note, params or {})
            moved += ids
        if moved:
            db.session.flush()
            for obj in list(db.session.identity_map.values()):
                if isinstance(obj, model) and obj.id in moved:
                    db.session.expire(obj)
        return moved

    def _where_statement(self, key: str, conditions: tuple, columns: tuple[str, ...]):
        """``apply_where``'s UPDATE for the conditions named ``key`` and the columns
        set besides the status, with the source and target states (``b_source``,
        ``b_target``) and the columns' values (``b_<column>``) bound; built once."""
        statements = self.__dict__.setdefault("_where_statements", {})
        found = statements.get((key, columns))
        if found is None:
            model = self.model
            values = {"status": sa.bindparam("b_target", type_=model.status.type)}
            for column in columns:
                values[column] = sa.bindparam(f"b_{column}", type_=getattr(model, column).type)
            found = statements[(key, columns)] = (
                sa.update(model).where(model.status == sa.bindparam("b_source"), *conditions)
                .values(**values).returning(model.id), conditions)
        stmt, built_with = found
        if len(built_with) != len(conditions) or any(a is not b for a, b in zip(built_with, conditions)):
            raise ValueError(f"apply_where key {key!r} names other conditions: build them once")
        return stmt

    def apply_by_id(self, row_id: int, action: str, **kwargs) -> bool:
        """Move one row known only by id, if its state allows ``action``; True if it moved."""
        return bool(self.apply_where(action, self.model.id == row_id, **kwargs))


def allowed_actions(machine: StateMachine, row, permitted: Iterable[str]) -> set[str]:
    """What a template may offer: the table's actions from the row's state that the
    domain's policy also allows the user."""
    return machine.actions(row) & set(permitted)
