"""Faults, with real processes: Redis going away under a running ``flask worker``, a
worker killed with SIGKILL in the middle of a job, and the database restarting
while requests are served."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.jobs import enqueue
from core.models import OutgoingEmail
from core.redis import reset_clients
from tests.fixtures import free_port, start_redis, start_worker, stop_worker, wait_for

pytestmark = pytest.mark.slow


def _count(db, subject: str) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).where(OutgoingEmail.subject == subject))


def _children(pid: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.split("/")[2]))
    return found


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_worker_rides_out_a_redis_outage_and_delivers_each_job_once(app, db, own_redis, worker_env, tmp_path):
    env = dict(worker_env, REDIS_URL=app.config["REDIS_URL"])
    worker, log = start_worker(env, tmp_path / "worker.log")
    try:
        enqueue("tests.jobs_for_tests.record_run", "before-outage")
        db.session.commit()
        assert wait_for(lambda: _count(db, "before-outage") == 1, 60, 0.3), "the worker did not start working"

        # Redis dies. Staff go on working: their changes and jobs are kept.
        own_redis["proc"].kill()
        own_redis["proc"].wait(5)
        reset_clients()
        enqueue("tests.jobs_for_tests.record_run", "during-outage")
        db.session.commit()
        time.sleep(4)  # the worker, its scheduler and the cron process all meet the outage
        assert worker.poll() is None, "the worker died with Redis"

        # Redis comes back empty (no persistence), on the same address.
        own_redis["proc"] = start_redis(own_redis["port"])
        reset_clients()
        assert wait_for(lambda: _count(db, "during-outage") == 1, 90, 0.5), \
            "the job committed during the outage was not delivered:\n" + Path(log.name).read_text()[-3000:]
        # New work flows again, and nothing was delivered twice.
        enqueue("tests.jobs_for_tests.record_run", "after-outage")
        db.session.commit()
        assert wait_for(lambda: _count(db, "after-outage") == 1, 60, 0.3)
        time.sleep(11)  # one more round of the dispatcher
        assert (_count(db, "before-outage"), _count(db, "during-outage"), _count(db, "after-outage")) == (1, 1, 1)
        assert worker.poll() is None, "the worker had to be restarted"
    finally:
        stop_worker(worker, log)


@pytest.mark.parametrize("worker_class", ["simple", "fork"])
def test_killed_worker_leaves_no_process_behind_and_its_job_runs_again_within_a_minute(
        app, db, worker_env, tmp_path, worker_class):
    env = dict(worker_env, WORKER_CLASS=worker_class)
    worker, log = start_worker(env, tmp_path / "worker.log")
    second = None
    try:
        enqueue("tests.jobs_for_tests.slow_on_first_run", "killed-mid-job", 300)
        db.session.commit()
        assert wait_for(lambda: _count(db, "killed-mid-job:started") == 1, 60, 0.2), \
            Path(log.name).read_text()[-3000:]
        time.sleep(1)
        family = _descendants(worker.pid)
        assert len(family) >= 2, "expected the job process and the cron process"

        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = time.monotonic()
        assert wait_for(lambda: not any(_alive(p) for p in family), 10, 0.2), \
            f"processes left running after the worker was killed: {[p for p in family if _alive(p)]}"

        # A new worker (as systemd would start) notices the abandoned job and runs it again.
        second, log2 = start_worker(env, tmp_path / "worker2.log")
        assert wait_for(lambda: _count(db, "killed-mid-job") == 1, 75, 0.5), \
            "the abandoned job was not run again:\n" + Path(log2.name).read_text()[-3000:]
        took = time.monotonic() - killed_at
        print(f"abandoned job ({worker_class} worker) ran again {took:.1f} s after the kill")
        assert took < 60, f"the abandoned job ran again only after {took:.0f} s"
        assert _count(db, "killed-mid-job:started") == 2
    finally:
        if worker.poll() is None:
            stop_worker(worker, log)
        else:
            log.close()
        if second is not None:
            stop_worker(second, log2)


# --- the database restarts under load --------------------------------------------


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found and shutil.which("pg_ctl"):
        return Path(shutil.which("pg_ctl")).parent
    assert found, "PostgreSQL's server binaries (pg_ctl, initdb) are needed for this test"
    return Path(found[-1]).parent


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, on a free port, that it can stop."""

    def __init__(self, root: Path):
        self.bin = _pg_bin()
        self.dir = root / "pgdata"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        root.chmod(0o755)
        if self.as_user:
            shutil.chown(root, "postgres")
        self._run("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-w", "-l", str(self.dir.parent / "pg.log"), "-o",
                  f"-p {self.port} -k {self.dir.parent} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-w", "-m", "fast", "stop")


@pytest.fixture
def private_postgres():
    # Not under pytest's temporary folder: the server runs as the postgres user when
    # the tests run as root, and that folder is private to root.
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="kotiapu-pg-"))
    pg = PrivatePostgres(root)
    pg.start()
    yield pg
    try:
        pg.stop()
    except AssertionError:
        pass
    shutil.rmtree(root, ignore_errors=True)


def test_requests_fail_cleanly_while_the_database_restarts_and_recover_without_a_restart(
        private_postgres, redis_url):
    from app import create_app
    from tests.conftest import RequestIsolatingClient, _migrate

    _migrate(private_postgres.url)
    # The catalogue's few-second cache off: every request goes to the database.
    app = create_app({"DATABASE_URL": private_postgres.url, "REDIS_URL": redis_url, "SERVER_NAME": "kotiapu.test",
                      "BASE_URL": "http://kotiapu.test", "TESTING": True, "CATALOGUE_CACHE_SECONDS": 0})
    app.test_client_class = RequestIsolatingClient
    statuses: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def load():
        client = app.test_client()
        while not stop.is_set():
            response = client.get("/services?postal_code=33100")
            statuses.append((time.monotonic(), response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        down_at = time.monotonic()
        private_postgres.stop()
        time.sleep(3)
        up_at = time.monotonic()
        private_postgres.start()
        time.sleep(4)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        with app.app_context():
            from core.extensions import db

            db.engine.dispose()

    codes = {code for _, code, _ in statuses}
    assert codes <= {200, 503}, f"unexpected answers: {sorted(codes)}"
    before = [code for at, code, _ in statuses if at < down_at]
    during = [(code, body) for at, code, body in statuses if down_at + 0.5 < at < up_at]
    after = [code for at, code, _ in statuses if at > up_at + 2]
    assert before and set(before) == {200}
    assert during and {code for code, _ in during} == {503}
    assert "Palvelu on hetken poissa käytöstä" in during[0][1]
    assert after and set(after) == {200}, "the app did not recover after the database came back"


# --- a pooled connection whose server process ended ------------------------------


def _pool_app(private_postgres, redis_url):
    from app import create_app

    return create_app({"DATABASE_URL": private_postgres.url, "REDIS_URL": redis_url, "SERVER_NAME": "kotiapu.test",
                       "BASE_URL": "http://kotiapu.test", "TESTING": True})


def _backend_pid(db) -> int:
    pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.commit()
    db.session.remove()  # the connection goes back to the pool
    return pid


def _terminate(private_postgres, pid: int) -> None:
    import psycopg

    with psycopg.connect(private_postgres.url, autocommit=True) as killer:
        assert killer.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]


def test_a_connection_that_died_while_idle_in_the_pool_is_replaced_before_use(private_postgres, redis_url,
                                                                              monkeypatch):
    import core.db
    from core.extensions import db

    app = _pool_app(private_postgres, redis_url)
    with app.app_context():
        first = _backend_pid(db)
        _terminate(private_postgres, first)
        # The connection has now been idle longer than the threshold (as after a night).
        monkeypatch.setattr(core.db, "PING_AFTER_IDLE_SECONDS", 0.0)
        second = _backend_pid(db)  # no error: the pool checked it and connected afresh
        assert second != first
        db.engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_dead_one_fails_one_statement_only(
        private_postgres, redis_url):
    """The trade-off of core.db.install_idle_ping: no ping (no round trip) for a
    connection returned to the pool a moment ago. Its death is met by the statement
    that uses it (a request answers 503, see the restart test above), and the pool
    then connects afresh for the next one."""
    from core.extensions import db

    app = _pool_app(private_postgres, redis_url)
    with app.app_context():
        first = _backend_pid(db)
        _terminate(private_postgres, first)
        with pytest.raises(sa.exc.OperationalError) as failed:
            db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        assert failed.value.connection_invalidated
        db.session.rollback()
        db.session.remove()
        assert _backend_pid(db) != first
        db.engine.dispose()
