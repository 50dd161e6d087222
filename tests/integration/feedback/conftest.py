"""Fixtures for the feedback tests: a completed order of a client who has a
responsible worker, and its one-time link (made by the real service)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories as f


@pytest.fixture
def worker(db):
    return f.UserFactory(role="staff", name="Sanna Ohjaaja", email="sanna.ohjaaja@example.fi", language="fi")


@pytest.fixture
def provider(db):
    return f.ProviderFactory(name="Kotiapu Hoiva Oy")


@pytest.fixture
def make_order(db, worker, provider):
    """``make_order(**fields)``: a completed service order by ``provider`` for a
    client whose responsible worker is ``worker``."""

    def make(**kw):
        client_kw = kw.pop("client_kw", {})
        client = kw.pop("client", None) or f.ClientFactory(responsible_worker_id=worker.id, **client_kw)
        kw.setdefault("provider", provider)
        kw.setdefault("status", "completed")
        order = f.ServiceOrderFactory(client=client, **kw)
        return order

    return make


@pytest.fixture
def order(make_order):
    return make_order()


@pytest.fixture
def make_link(db):
    """``make_link(order, language="fi", expired=False)`` → (link, token), committed."""
    from feedback.models import FeedbackLink
    from feedback.services import issue_feedback_link

    def make(order, language="fi", expired=False):
        link, token = issue_feedback_link(order_id=order.id, language=language)
        if expired:
            link.expires_at = link.created_at - timedelta(seconds=1)
        db.session.commit()
        return db.session.get(FeedbackLink, link.id), token

    return make


@pytest.fixture
def count(db):
    """``count(Model, *where)``: rows in the database now."""

    def count_(model, *where):
        db.session.expire_all()
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return count_
