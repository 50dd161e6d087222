"""Single use under two simultaneous submissions: exactly one is stored, the other
is told the link was used. Runs on both databases: PostgreSQL with real row locks,
SQLite with its single writer (the second UPDATE waits for the first to commit)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.smoke


def _race(db, listener, submit, ratings) -> None:
    """Calls ``submit(rating)`` for each rating at once, each in a thread of its own,
    with ``listener`` seeing every SQL statement until the threads are done."""
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        threads = [threading.Thread(target=submit, args=(r,)) for r in ratings]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def test_two_concurrent_submissions_store_exactly_one(app, db, order, make_link):
    from feedback.models import Feedback
    from providers.models import Provider

    _, token = make_link(order)
    barrier = threading.Barrier(2, timeout=10)

    # Both requests stop just before their claiming UPDATE until both have got
    # there: each has already seen the link as unused.
    def wait_at_claim(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE FEEDBACK_LINKS"):
            barrier.wait()

    results: list = []

    def submit(rating):
        web = app.test_client()
        response = web.post(f"/api/v1/feedback/{token}", json={"rating": rating, "needs_met": True})
        results.append(response.status_code)

    _race(db, wait_at_claim, submit, (5, 1))
    assert sorted(results) == [201, 410]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 1
    provider = db.session.get(Provider, order.provider_id)
    assert provider.rating_count == 1


def test_two_concurrent_service_calls_in_their_own_sessions(app, db, order, make_link):
    """The same through the service layer, each thread with its own app context and
    session, committing as a request would."""
    from core.errors import GoneError
    from feedback.models import Feedback
    from feedback.services import submit_feedback

    _, token = make_link(order)
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list = []
    inserts: list = []

    def wait_at_claim(conn, cursor, statement, parameters, context, executemany):
        sql = statement.lstrip().upper()
        if sql.startswith("UPDATE FEEDBACK_LINKS"):
            barrier.wait()
        if sql.startswith("INSERT INTO FEEDBACK "):
            inserts.append(threading.current_thread().name)


    def submit(rating):
        with app.app_context():
            try:
                submit_feedback(token, rating=rating, needs_met=False)
                db.session.commit()
                outcomes.append("stored")
            except GoneError:
                db.session.rollback()
                outcomes.append("gone")
            finally:
                db.session.remove()

    _race(db, wait_at_claim, submit, (2, 4))
    assert sorted(outcomes) == ["gone", "stored"]
    # The claim decided, not the unique index: the loser never tried to insert.
    assert len(inserts) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 1
