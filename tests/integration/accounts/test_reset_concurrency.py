"""A reset link used twice at the same moment sets the password exactly once. Runs on
both databases: PostgreSQL with real row locks, SQLite with its single writer."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.smoke


def test_two_concurrent_uses_of_one_link(app, db, make_user):
    user = make_user("staff")
    db.session.commit()
    app.test_client().post("/password/forgot", data={"email": user.email})
    body = db.session.scalars(sa.select(OutgoingEmail.body)).one()
    link = re.search(r"http://kotiapu\.test(/password/new/[A-Za-z0-9_\-]+)", body).group(1)

    barrier = threading.Barrier(2, timeout=10)
    seen = threading.local()

    # Both requests stop just before their claiming UPDATE until both have got there:
    # each has already read the link as unused.
    def wait_at_claim(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE PASSWORD_TOKENS") and not getattr(seen, "done", False):
            seen.done = True
            barrier.wait()

    results: dict[str, int] = {}

    def use(password):
        response = app.test_client().post(link, data={"new": password, "repeat": password})
        results[password] = response.status_code

    sa.event.listen(db.engine, "before_cursor_execute", wait_at_claim)
    try:
        threads = [threading.Thread(target=use, args=(p,)) for p in ("ensimmainen-salasana", "toinen-salasana-x")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", wait_at_claim)

    assert sorted(results.values()) == [302, 410]
    winner = next(p for p, status in results.items() if status == 302)
    loser = next(p for p, status in results.items() if status == 410)
    c = app.test_client()
    assert c.post("/login", data={"email": user.email, "password": loser}).status_code == 401
    assert c.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401
    assert c.post("/login", data={"email": user.email, "password": winner}).status_code == 302
