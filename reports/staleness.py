"""Marking kept monthly figures stale when a closed month changes late.

Nothing in the other domains calls this: SQLAlchemy session events in this
package watch the rows the reports read. After each flush, every new, changed or
deleted row of a watched model names the day it counts in (an order: the day
it was placed; a visit report: its date; a purchase: when it was paid or
delivered; ...), and a bulk ``UPDATE``/``DELETE`` through the session names the
days of the rows it matches. Closed months among their months, and the current
month's kept days when one of them changed, are marked stale in the same
transaction (``report_months.stale``, ``changes + 1``; once per month, or kept
day, and transaction): a rollback undoes the mark with the change. Reports compute a stale month live until
``reports.jobs.settle_months`` recomputes and keeps it.

The days come without a query where the session holds them: a new offer's
order loaded in the session gives its day, and a bulk statement run with the
``touches`` execution option (``core.states``' guarded UPDATEs: the row moved, or
the order whose offers are withdrawn) takes them from that row.

Writes that bypass the ORM session (raw SQL) are not seen: after such a repair,
run ``flask reports settle --recompute``.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.time import local_date, local_today
from reports.monthly import current_month

_installed = False


@functools.cache
def _sources() -> dict:
    """model -> (report kinds, the column giving its month, or (parent model, foreign key))."""
    from clients.models import GuidanceContact
    from feedback.models import Feedback
    from marketplace.models import ShopOrder
    from orders.models import Offer, ServiceOrder, VisitReport
    from staffing.models import StaffingOffer, StaffingRequest

    return {
        ServiceOrder: (("orders", "response_times", "delivered_hours"), "created_at"),
        Offer: (("response_times",), (ServiceOrder, "order_id")),
        VisitReport: (("delivered_hours",), "date"),
        Feedback: (("feedback",), "created_at"),
        GuidanceContact: (("guidance_contacts",), "at"),
        ShopOrder: (("shop_sales",), ("paid_at", "fulfilled_at")),
        StaffingRequest: (("staffing",), "created_at"),
        StaffingOffer: (("staffing",), (StaffingRequest, "request_id")),
    }


def day_of(value) -> date | None:
    """The county-time day of a timestamp or a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return local_date(value)
    if isinstance(value, date):
        return value
    return None


def month_of(value) -> date | None:
    """The first day of the county-time month of a timestamp or a date."""
    day = day_of(value)
    return day.replace(day=1) if day else None


def install() -> None:
    """Listen to every session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _bulk_statement)
    event.listen(Session, "after_transaction_end", _forget_marks)
    _installed = True


def _values(obj, attr: str) -> list:
    """The attribute's value now and, if it changed in this flush, before."""
    state = sa.inspect(obj)
    history = state.attrs[attr].history
    values = list(history.added or ()) + list(history.deleted or ()) + list(history.unchanged or ())
    if not values:
        values = [getattr(obj, attr, None)]
    return values


def _loaded_parent(session: Session, parent, key, inserted: dict | None = None):
    """The parent row if this session holds it with its month loaded, else None
    (``inserted``: the rows of the flush being looked at, by type and id: they are
    not in the identity map yet)."""
    obj = session.identity_map.get(identity_key(parent, key))
    if obj is None and inserted:
        obj = inserted.get((parent, key))
    return obj if obj is not None and "created_at" in sa.inspect(obj).dict else None


def _after_flush(session: Session, _context) -> None:
    sources = _sources()
    wanted: dict[str, set[date]] = {}
    parents: dict[tuple, set] = {}
    inserted = {(type(o), sa.inspect(o).dict.get("id")): o for o in session.new}
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        spec = sources.get(type(obj))
        if spec is None:
            continue
        kinds, where = spec
        if isinstance(where, tuple) and len(where) == 2 and isinstance(where[0], type):
            parent, fk = where
            for value in _values(obj, fk):
                if value is None:
                    continue
                # A parent this session has loaded (the order an offer was just
                # added to) gives its day without a query.
                loaded = _loaded_parent(session, parent, value, inserted)
                if loaded is not None:
                    day = day_of(loaded.created_at)
                    for kind in kinds:
                        wanted.setdefault(kind, set()).update({day} if day else set())
                else:
                    parents.setdefault((parent, kinds), set()).add(value)
            continue
        attrs = where if isinstance(where, tuple) else (where,)
        months = {day_of(v) for a in attrs for v in _values(obj, a)}
        for kind in kinds:
            wanted.setdefault(kind, set()).update(m for m in months if m)
    conn = session.connection()
    for (parent, kinds), ids in parents.items():
        months = {day_of(v) for v in conn.execute(
            sa.select(parent.created_at).where(parent.id.in_(sorted(ids)))).scalars()}
        for kind in kinds:
            wanted.setdefault(kind, set()).update(m for m in months if m)
    _mark(session, conn, wanted)


# Execution option of a bulk UPDATE/DELETE: a loaded row such that every row the
# statement changes is that row or one of its children (the offers of an order).
# Its day is then read from the row this session holds instead of a SELECT.
TOUCHES = "touches"


def _hinted_months(state, table, spec) -> set | None:
    """The days of a bulk statement's rows from its ``touches`` row, or None
    when the session does not hold what is needed (then they are queried)."""
    hint = state.execution_options.get(TOUCHES)
    if hint is None:
        return None
    _kinds, where = spec
    if isinstance(where, tuple) and len(where) == 2 and isinstance(where[0], type):
        parent, fk = where
        if isinstance(hint, parent):
            obj = hint if "created_at" in sa.inspect(hint).dict else None
        elif isinstance(hint, table) and sa.inspect(hint).dict.get(fk) is not None:
            obj = _loaded_parent(state.session, parent, sa.inspect(hint).dict[fk])
        else:
            return None
        return None if obj is None else {day_of(obj.created_at)}
    if not isinstance(hint, table):
        return None
    loaded = sa.inspect(hint).dict
    attrs = where if isinstance(where, tuple) else (where,)
    if any(a not in loaded for a in attrs):
        return None
    # As the query's coalesce(): the first of the columns that has a value.
    return {day_of(next((loaded[a] for a in attrs if loaded[a] is not None), None))}


def _bulk_statement(state) -> None:
    """An ORM-enabled bulk UPDATE or DELETE of a watched model: mark the days of
    the rows it matches (read before the statement runs, or from its ``touches``
    row)."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None:
        return
    spec = _sources().get(mapper.class_)
    if spec is None:
        return
    kinds, where = spec
    table = mapper.class_
    conn = state.session.connection()
    days = _hinted_months(state, table, spec)
    if days is None:
        whereclause = getattr(state.statement, "whereclause", None)
        if isinstance(where, tuple) and len(where) == 2 and isinstance(where[0], type):
            parent, fk = where
            column = sa.select(parent.created_at).where(parent.id == getattr(table, fk)).scalar_subquery()
        elif isinstance(where, tuple):
            column = sa.func.coalesce(*(getattr(table, a) for a in where))
        else:
            column = getattr(table, where)
        stmt = sa.select(column).select_from(table).distinct()
        if whereclause is not None:
            stmt = stmt.where(whereclause)
        # The statement's bound values (core.states builds its UPDATEs once, with
        # every value bound) are this SELECT's too.
        params = state.parameters if isinstance(state.parameters, dict) else {}
        days = {day_of(v) for v in conn.execute(stmt, params).scalars()}
    _mark(state.session, conn, {kind: {d for d in days if d} for kind in kinds})


# What this session's transaction has marked already, as (kind, closed month) and
# (kind, earliest kept day of the current month): marked once per transaction (an
# accept changes the order and two sets of its offers, all of one day: one UPDATE,
# not three). ``changes`` still moves with the commit, which is what a racing
# recomputation looks at. Forgotten when the transaction ends (commit, rollback or
# close) and when a savepoint ends (a rolled back one takes its marks with it).
_MARKED = "reports_marked_months"


def _forget_marks(session, transaction) -> None:
    if transaction.parent is None or transaction.nested:
        session.info.pop(_MARKED, None)


def _mark(session: Session, conn, wanted: dict[str, set[date]]) -> None:
    """Mark stale the kept figures that the changed rows' days (``{kind: days}``)
    count in: a closed month, or the current month's kept days when one of
    those days changed (a row of today changes nothing kept)."""
    wanted = {k: v for k, v in wanted.items() if v}
    if not wanted:
        return
    this_month = current_month()
    today = local_today()
    marked = session.info.setdefault(_MARKED, set())
    # Kinds with the same closed months share one statement (a change to an order
    # touches three kinds' months: one round trip, not three).
    by_months: dict[tuple[date, ...], list[str]] = {}
    by_day: dict[date, list[str]] = {}
    for kind, days in wanted.items():
        months = {d.replace(day=1) for d in days}
        closed = tuple(sorted(m for m in months if m < this_month and (kind, m) not in marked))
        if closed:
            by_months.setdefault(closed, []).append(kind)
        # Kept days run up to yesterday (``through`` is today at most): a row of
        # today, the usual case of a new order or visit, has nothing kept to mark.
        current = [d for d in days if d.replace(day=1) == this_month and d < today]
        if current and (kind, min(current)) not in marked:
            by_day.setdefault(min(current), []).append(kind)
    closed_stmt, day_stmt = _mark_statements()
    for closed, kinds in by_months.items():
        conn.execute(closed_stmt, {"b_kinds": sorted(kinds), "b_months": list(closed)})
        marked.update((kind, month) for kind in kinds for month in closed)
    for earliest, kinds in by_day.items():
        conn.execute(day_stmt, {"b_kinds": sorted(kinds), "b_month": this_month, "b_earliest": earliest})
        marked.update((kind, earliest) for kind in kinds)


@functools.cache
def _mark_statements() -> tuple:
    """The two marking UPDATEs with their values bound, built once (building them
    was a fair share of an accept's own Python): closed ``b_months`` of ``b_kinds``,
    and the current ``b_month``'s kept days of ``b_kinds`` from after
    ``b_earliest`` (an UPDATE's parameters may not be named as its columns)."""
    from reports.models import ReportMonth

    table = ReportMonth.__table__
    kinds = table.c.kind.in_(sa.bindparam("b_kinds", expanding=True))
    closed = (sa.update(table).where(kinds, table.c.month.in_(sa.bindparam("b_months", expanding=True)))
              .values(stale=True, changes=table.c.changes + 1))
    day = (sa.update(table)
           .where(kinds, table.c.month == sa.bindparam("b_month", type_=table.c.month.type),
                  table.c.through > sa.bindparam("b_earliest", type_=table.c.through.type))
           .values(stale=True, changes=table.c.changes + 1))
    return closed, day
