"""A request never holds two pooled database connections at once.

Twenty providers accepting the same order at the same moment once waited 30 seconds
for each other and got "service unavailable": each request held its connection and
asked the pool (of twenty) for a second one to note when its token was used, and the
outbox pushed its jobs while the committed transaction still held its connection.
These tests watch the pool while real requests run and check that the side writes
(token last used, failed login, jobs pushed to Redis) still happen.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from accounts.models import ApiToken, LoginFailure
from core.models import OutboxJob

pytestmark = pytest.mark.smoke


class PoolWatch:
    """Connections this thread has checked out of the pool, and the most at once."""

    def __init__(self, engine):
        self.engine = engine
        self.thread = threading.get_ident()
        self.now = 0
        self.most = 0

    def _out(self, *_):
        if threading.get_ident() == self.thread:
            self.now += 1
            self.most = max(self.most, self.now)

    def _in(self, *_):
        if threading.get_ident() == self.thread:
            self.now -= 1

    def __enter__(self):
        sa.event.listen(self.engine, "checkout", self._out)
        sa.event.listen(self.engine, "checkin", self._in)
        return self

    def __exit__(self, *_):
        sa.event.remove(self.engine, "checkout", self._out)
        sa.event.remove(self.engine, "checkin", self._in)


def _released(db):
    """The test's own session gives its connection back (its objects stay usable)."""
    db.session.commit()


def test_first_use_of_a_token_and_a_placed_order_use_one_connection(client, db, market, api_token):
    headers = api_token(market.staff)
    db.session.execute(sa.update(ApiToken).values(last_used_at=None))
    _released(db)
    body = {"client_id": market.client.id, "service_type_id": market.service_type.id,
            "start_date": (date.today() + timedelta(days=2)).isoformat(), "visits_per_week": 1,
            "minutes_per_visit": 60}
    jobs_before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob))
    _released(db)
    with PoolWatch(db.engine) as watch:
        response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert watch.most == 1
    # The side writes still happened, after the request's own transaction.
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None
    new_jobs = db.session.scalars(sa.select(OutboxJob).order_by(OutboxJob.id).offset(jobs_before)).all()
    assert new_jobs, "placing an order records its notifications as jobs"
    assert all(job.pushed_at is not None for job in new_jobs)


def test_a_refused_login_uses_one_connection_and_is_still_counted(client, db, make_user):
    email = make_user("staff").email
    _released(db)
    with PoolWatch(db.engine) as watch:
        response = client.post("/login", data={"email": email, "password": "wrong-wrong-wrong"})
    assert response.status_code < 500
    assert watch.most == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)
                             .where(LoginFailure.email == email)) == 1
