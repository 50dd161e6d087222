"""PostgreSQL keeps one generic plan for a statement prepared on a connection
(core.db.install_plan_cache_mode), unless DATABASE_PLAN_CACHE_MODE says otherwise."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import IS_POSTGRES


def _mode(db) -> str | None:
    if not IS_POSTGRES:
        return None
    return db.session.execute(sa.text("SHOW plan_cache_mode")).scalar_one()


def test_every_connection_keeps_generic_plans_by_default(app, db):
    assert app.config["DATABASE_PLAN_CACHE_MODE"] == "force_generic_plan"
    if not IS_POSTGRES:
        # SQLite has no plan cache: nothing is set and nothing fails.
        assert db.session.execute(sa.text("SELECT 1")).scalar_one() == 1
        return
    assert _mode(db) == "force_generic_plan"
    # A statement run five times is prepared by psycopg; from then on its plan is kept.
    stmt = sa.text("SELECT count(*) FROM users WHERE id > :floor AND role = :role")
    for floor in range(8):
        db.session.execute(stmt, {"floor": floor, "role": "staff"}).scalar_one()
    generic, custom = db.session.execute(sa.text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE 'SELECT count(*) FROM users WHERE id > %'")).one()
    assert generic >= 1 and custom == 0


def test_a_new_connection_after_a_disconnect_gets_the_mode_too(app, db):
    if not IS_POSTGRES:
        return
    db.engine.dispose()  # every pooled connection closed: the next one is new
    assert _mode(db) == "force_generic_plan"


def test_auto_leaves_postgresql_default(database_url, redis_url):
    from app import create_app
    from core.extensions import db

    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "TESTING": True,
                      "DATABASE_PLAN_CACHE_MODE": "auto"})
    with app.app_context():
        try:
            assert app.config["DATABASE_PLAN_CACHE_MODE"] == "auto"
            if IS_POSTGRES:
                assert _mode(db) == "auto"
        finally:
            db.session.remove()
            db.engine.dispose()
