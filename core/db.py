"""Column types and helpers shared by every model module."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Now, aware UTC: the platform's one clock (core.time.now, which tests can freeze)."""
    from core.time import now

    return now()


# A pooled connection idle for longer than this is checked before use (see install_idle_ping).
PING_AFTER_IDLE_SECONDS = 2.0


def install_idle_ping(engine: sa.Engine) -> None:
    """Check a pooled PostgreSQL connection before use only when it has been idle for
    more than ``PING_AFTER_IDLE_SECONDS``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip per
    request (of four for the logged-in shell), and the server's work for it, although a
    connection in use a moment ago is all but certainly alive. A connection that sat in
    the pool while the database may have restarted is still checked; a dead one is
    replaced before the request uses it (raising ``DisconnectionError`` in ``checkout``
    makes the pool connect afresh). A restart within the last two seconds is met by
    SQLAlchemy's disconnect handling: the request that meets the dead connection gets
    the 503 page (core.errors), and the pool drops every connection older than the
    failure, so the next requests connect afresh.
    """
    if engine.dialect.name == "sqlite":
        return  # a local file: nothing to reconnect to
    dialect = engine.dialect

    @sa.event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError("the pooled connection is gone") from exc
        if not alive:
            raise sa.exc.DisconnectionError("the pooled connection is gone")


PLAN_CACHE_MODES = ("auto", "force_generic_plan", "force_custom_plan")


def install_plan_cache_mode(engine: sa.Engine, mode: str) -> None:
    """Set PostgreSQL's ``plan_cache_mode`` on every new connection of ``engine``.

    psycopg prepares a statement on the server once a connection has run it five
    times, so a page's statements are prepared in every pooled connection. With
    PostgreSQL's default (``auto``) a prepared statement is still planned afresh for
    each execution whenever its generic plan is estimated costlier than the plans made
    for the actual values, which for the pages' statements (bound limits, statuses and
    user ids) is nearly always; measured on the reference data, the staff dashboard's
    lists took 1.07 ms per execution planned afresh and 0.56 ms with the kept generic
    plan. ``force_generic_plan`` keeps the one plan. A statement run fewer than five
    times on a connection (a report's, a migration's) is planned for its values as
    before. Set with ``SET`` on connecting (not as a startup option, which a
    connection pooler such as PgBouncer may refuse).
    """
    if engine.dialect.name != "postgresql" or mode == "auto":
        return
    if mode not in PLAN_CACHE_MODES:
        raise ValueError(f"unknown plan_cache_mode {mode!r}")

    @sa.event.listens_for(engine, "connect", insert=True)
    def _set_plan_cache_mode(dbapi_connection, record) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside any transaction: it lasts for the session
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET plan_cache_mode = {mode}")  # nosec B608 - one of PLAN_CACHE_MODES
        finally:
            dbapi_connection.autocommit = autocommit


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite stores the naive UTC value. Reading gives
    back an aware datetime on both, so comparisons never mix naive and aware values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def created_at_column():
    return sa.orm.mapped_column(UTCDateTime(), nullable=False, default=utcnow)


def where_given(stmt, *conditions):
    """``stmt`` narrowed by ``column == value`` for each ``(column, value)`` whose
    value is given (a list filter the user left empty narrows nothing)."""
    for column, value in conditions:
        if value:
            stmt = stmt.where(column == value)
    return stmt


def sql_code(value: str):
    """A code (a status, a role: lowercase letters and underscores) written into a
    statement as a string literal, not bound: a statement's generic plan (see
    install_plan_cache_mode) can then use a partial index whose predicate names the
    code, and estimates its rows from the code's own frequency."""
    import re

    if not re.fullmatch(r"[a-z_]+", value):
        raise ValueError(f"not a code: {value!r}")
    return sa.literal_column(f"'{value}'", sa.String)


def sql_number(value: int):
    """A whole number (a list's limit) written into a statement, not bound: the
    generic plan of a statement with a bound limit assumes it returns a tenth of the
    rows it filters."""
    return sa.literal_column(str(int(value)), sa.Integer)


def assign_number(obj, prefix: str) -> str:
    """Give a flushed row a human-readable number from its id, e.g. ``SO-2026-000123``.

    Call after adding the object with a placeholder number (``pending_number()``);
    flushes to obtain the id. Ids are unique, so numbers are unique without a
    counter table or a lock.
    """
    from core.extensions import db

    db.session.flush()
    obj.number = number_for(prefix, obj.id)
    return obj.number


def next_id_column(model):
    """On PostgreSQL, a column expression taking ``model``'s next id from its table's
    sequence, for a query the caller makes anyway: the row then goes in with its id
    and its number (``number_for``) in one INSERT, without ``assign_number``'s
    UPDATE. None on other databases (SQLite has no sequence: ``assign_number``).
    An id taken for a request that then fails is skipped, as ids of rolled-back
    INSERTs are."""
    from core.extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return None
    table = model.__table__
    return sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, table.c.id.name)).label("next_id")


def number_for(prefix: str, row_id: int) -> str:
    """The human-readable number of the row with this id (as ``assign_number``)."""
    from core.time import local_today

    return f"{prefix}-{local_today().year}-{row_id:06d}"


def pending_number() -> str:
    """A unique placeholder for a NOT NULL number column until ``assign_number``."""
    import uuid

    return "tmp-" + uuid.uuid4().hex[:16]
