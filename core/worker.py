"""``flask worker``: RQ workers for this app, supervised.

``flask worker`` (without ``--burst``) is a small supervisor process with two children:

* the **job process**: an RQ worker inside the app context, with RQ's scheduler (for
  jobs enqueued to run at a time, and for the retries of failed jobs);
* the **cron process** (unless ``--no-cron``): RQ's cron scheduler, which enqueues
  the periodic sweeps of ``PERIODIC_JOBS`` (the outbox dispatcher among them).

Faults it survives (docs/jobs.md, tests/integration/core/test_faults.py):

* **Redis goes away.** The job process waits for Redis with backoff and starts a new
  RQ worker when it answers; a child that dies anyway is started again by the
  supervisor, with backoff. Nothing has to be restarted by hand, and the outbox
  dispatcher delivers what was committed meanwhile, once.
* **The worker is killed** (SIGKILL, out of memory). Every child, and every work horse
  of the forking worker, asks the kernel to kill it when its parent dies
  (``PR_SET_PDEATHSIG``), so nothing keeps running half-orphaned. The jobs that were
  running are noticed as abandoned within a minute: each running job's heartbeat lives
  ``JOB_HEARTBEAT_SECONDS`` plus a short grace (also in the simple worker, which keeps
  the heartbeat from a thread while the job runs), RQ's maintenance runs every
  ``WORKER_MAINTENANCE_SECONDS``, and a scheduler lock left by a dead scheduler is
  taken over once its heartbeat is ``_STALE_SCHEDULER_SECONDS`` old instead of
  after RQ's 61-second lease.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

import click
import redis
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.scheduler import RQScheduler
from rq.utils import now, utcparse
from rq.worker.base import WorkerStatus

from core.extensions import db
from core.jobs import configured_queues
from core.redis import get_redis, redis_url

log = logging.getLogger(__name__)

# (dotted path, queue, seconds between runs). Domain packages add their sweeps here;
# every one of them is idempotent, so two cron schedulers running is harmless.
PERIODIC_JOBS: list[tuple[str, str, int]] = [
    ("core.jobs.dispatch_pending", "default", 10),
]

# Grace on top of the heartbeat interval before a running job counts as abandoned.
_HEARTBEAT_GRACE = 10
# A worker's heartbeat between jobs is skipped while its keys still live this close
# to what the beat asks for (InProcessWorker.heartbeat).
_HEARTBEAT_SLACK = 5
# A scheduler whose heartbeat (every second) is this old is dead: its lock is free.
_STALE_SCHEDULER_SECONDS = 15
# Supervisor: waits between restarts of a child that keeps dying.
_RESTART_BACKOFF = (1, 2, 4, 8, 15, 30)


def register_periodic(path: str, queue: str, interval: int) -> None:
    if (path, queue, interval) not in PERIODIC_JOBS:
        PERIODIC_JOBS.append((path, queue, interval))


def run_periodic(path: str):
    """Job wrapper for a periodic sweep: runs it and commits."""
    from werkzeug.utils import import_string

    from core.extensions import db

    try:
        result = import_string(path)()
        db.session.commit()
        return result
    finally:
        db.session.remove()


# --- processes that die with their parent ---------------------------------------

_PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere
    a no-op). ``expected_parent``: exit at once if the parent is already gone."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl
            pass
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


class _Heartbeats:
    """Shortened heartbeats, so that a dead worker's job is noticed within a minute
    (and a worker that stops without waiting a minute for its command thread)."""

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.timeout and job.timeout > 0:
            remaining = max(job.timeout - working_time, 1)
            return int(min(remaining, self.job_monitoring_interval)) + _HEARTBEAT_GRACE
        return self.job_monitoring_interval + _HEARTBEAT_GRACE

    def subscribe(self):
        """RQ's command channel, listened to by a thread that wakes every second
        instead of every 60 s: RQ stops that thread with a 1-second join and then
        closes its connection, which waited (measured: 60 s, in about one burst
        worker exit in two under load) for a thread still blocked in its 60-second
        read; a worker then took a minute to exit after its last job."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)

    def run_maintenance_tasks(self):
        _free_stale_scheduler_locks(self.connection, [q.name for q in self.queues])
        super().run_maintenance_tasks()

    def _start_scheduler(self, *args, **kwargs):
        _free_stale_scheduler_locks(self.connection, [q.name for q in self.queues])
        super()._start_scheduler(*args, **kwargs)


def prepare_to_fork() -> None:
    """Do once, in the worker, the work every forked work horse would otherwise
    repeat and throw away with itself: SQLAlchemy configures its mappers (every
    relationship of every model) on the first query of a process, which took about
    180 ms of the 250 ms each job took with the forking worker (docs/jobs.md,
    *Performance*). One connection to the database also lets the dialect learn the
    server's version and settings here rather than in each horse (three more round
    trips per job); it is closed again, so no horse inherits it."""
    sa_orm.configure_mappers()
    try:
        with db.engine.connect():
            pass
    except sa.exc.SQLAlchemyError as exc:  # the database is down: each horse will learn it
        log.warning("database not reachable before forking (%s)", exc.__class__.__name__)
    db.engine.dispose()


class ForkingWorker(_Heartbeats, Worker):
    """RQ's forking worker whose work horses die with it, forked from a worker
    that has done the app's one-time set-up (``prepare_to_fork``)."""

    def work(self, *args, **kwargs):
        prepare_to_fork()
        return super().work(*args, **kwargs)

    def setup_work_horse_signals(self):
        super().setup_work_horse_signals()
        die_with_parent()


class InProcessWorker(_Heartbeats, SimpleWorker):
    """RQ's simple worker (jobs in the worker process), keeping the running job's
    heartbeat alive from a thread, as the forking worker does from its main loop.

    Between two jobs RQ beats the worker's keys three times and writes its state
    twice, each its own Redis round trip (docs/jobs.md, *Performance*). Here a beat
    is one round trip, and is skipped while the keys still live (nearly) as long
    as it would make them live; a state already written is not written again; and
    one thread keeps the heartbeats of every job instead of a thread per job."""

    _keys_live_until = 0.0  # time.monotonic() when the worker's keys expire, as last set
    _beat_thread: threading.Thread | None = None

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        timeout = timeout or self.worker_ttl + 60
        started = time.monotonic()
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
        elif self._keys_live_until - started >= timeout - _HEARTBEAT_SLACK:
            return
        else:
            with self.connection.pipeline(transaction=False) as own:
                super().heartbeat(timeout, pipeline=own)
                own.execute()
        self._keys_live_until = started + timeout

    def set_state(self, state: str, pipeline=None):
        if pipeline is None and state == self._state:
            return
        super().set_state(state, pipeline=pipeline)

    def execute_job(self, job, queue):
        if self._beat_thread is None:
            self._beating = None
            self._beat_lock = threading.Lock()
            self._beat_stop = threading.Event()
            self._beat_thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)
            self._beat_thread.start()
        execution = self.prepare_execution(job)
        with self._beat_lock:
            self._beating = (job, execution)
        try:
            self.perform_job(job, queue, execution)
        finally:
            self._stop_beating()
        self.set_state(WorkerStatus.IDLE)

    def _beat(self):
        while not self._beat_stop.wait(self.job_monitoring_interval):
            with self._beat_lock:
                if self._beating is None:
                    continue
                try:
                    self.maintain_heartbeats(*self._beating)
                except redis.exceptions.RedisError:
                    pass  # the job goes on; RQ's own calls report the outage

    def _stop_beating(self):
        if self._beat_thread is not None:
            with self._beat_lock:  # waits for a beat under way
                self._beating = None

    def handle_execution_ended(self, job, queue, heartbeat_ttl: int):
        # No beat once the job has ended: RQ then removes its execution, whose
        # record a late beat would write again. RQ also beats the job's own record here, for
        # its callbacks; outbox jobs have none, so that round trip is saved.
        self._stop_beating()
        if job._success_callback_name or job._failure_callback_name or job._stopped_callback_name:
            return super().handle_execution_ended(job, queue, heartbeat_ttl)
        job.ended_at = now()

    def teardown(self):
        if self._beat_thread is not None:
            self._beat_stop.set()
        super().teardown()


def _free_stale_scheduler_locks(conn: redis.Redis, queue_names: list[str]) -> None:
    """Delete scheduler locks held by a scheduler whose heartbeat has stopped (its
    worker was killed), so that this worker's scheduler takes over at once."""
    try:
        for name in queue_names:
            key = RQScheduler.get_locking_key(name)
            owner = conn.get(key)
            if owner is None:
                continue
            owner = owner.decode() if isinstance(owner, bytes) else owner
            beat = conn.hget(f"rq:scheduler:{owner}", "last_heartbeat")
            if beat is None:
                # Not registered yet (a scheduler that is starting), or its record
                # expired together with the lock it would have had: leave it.
                continue
            age = time.time() - utcparse(beat.decode()).timestamp()
            if age < _STALE_SCHEDULER_SECONDS:
                continue
            # Compare-and-delete: only the dead owner's lock goes.
            conn.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                      1, key, owner)
            log.warning("scheduler lock of queue %s taken from a scheduler that stopped beating", name)
    except redis.exceptions.RedisError:
        pass


def _worker_class():
    return InProcessWorker if current_app.config["WORKER_CLASS"] == "simple" else ForkingWorker


def _make_worker(names: list[str]):
    config = current_app.config
    return _worker_class()(
        names, connection=get_redis(),
        job_monitoring_interval=config["JOB_HEARTBEAT_SECONDS"],
        maintenance_interval=config["WORKER_MAINTENANCE_SECONDS"],
    )


# --- the children ---------------------------------------------------------------


def _wait_for_redis(conn: redis.Redis, stop: threading.Event | None = None) -> None:
    delay = 0.5
    while True:
        try:
            conn.ping()
            return
        except redis.exceptions.RedisError as exc:
            log.warning("redis unavailable (%s); trying again in %.0f s", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30)


def _job_process(parent: int, names: list[str]) -> None:
    """Child: RQ workers one after another, for as long as the supervisor lives. A
    worker that stops because Redis went away is replaced once Redis answers."""
    die_with_parent(parent)
    # RQ's scheduler process and the forking worker's work horses die with this one.
    os.register_at_fork(after_in_child=die_with_parent)
    from app import create_app

    app = create_app()
    with app.app_context():
        stopping = {"now": False}
        while not stopping["now"]:
            _wait_for_redis(get_redis())
            worker = _make_worker(names)
            log.info("worker %s (%s) on %s, pid %s", worker.name, type(worker).__name__, ", ".join(names), os.getpid())
            try:
                worker.work(with_scheduler=True, logging_level=app.config["LOG_LEVEL"])
            except redis.exceptions.RedisError as exc:
                log.warning("worker %s stopped: redis unavailable (%s)", worker.name, exc.__class__.__name__)
            if worker._stop_requested:
                stopping["now"] = True
            else:
                time.sleep(1)


def _cron_process(parent: int, url: str, jobs: list[tuple[str, str, int]]) -> None:
    """Child: RQ's cron scheduler for the periodic sweeps (restarted by the supervisor
    when it dies, e.g. on a Redis outage)."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    conn = redis.Redis.from_url(url)
    _wait_for_redis(conn)
    cron = CronScheduler(connection=conn, logging_level="WARNING")
    for path, queue, interval in jobs:
        cron.register(run_periodic, queue, args=(path,), interval=interval, name=path, result_ttl=60)
    cron.start()


class Supervisor:
    """Keeps the children running: starts each again (with backoff) when it exits,
    and stops them all on SIGTERM/SIGINT."""

    def __init__(self, children: dict[str, tuple]):
        self.specs = children
        self.ctx = multiprocessing.get_context("spawn")
        self.procs: dict[str, multiprocessing.Process] = {}
        self.failures: dict[str, int] = {name: 0 for name in children}
        self.started_at: dict[str, float] = {}
        self.due: dict[str, float] = {name: 0.0 for name in children}
        self.stopping = False

    def _start(self, name: str) -> None:
        target, args = self.specs[name]
        proc = self.ctx.Process(target=target, args=(os.getpid(), *args), name=f"kotiapu-{name}")
        proc.start()
        self.procs[name] = proc
        self.started_at[name] = time.monotonic()
        log.info("started %s process, pid %s", name, proc.pid)

    def _stop(self, signum=None, frame=None) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        while not self.stopping:
            now = time.monotonic()
            for name in self.specs:
                proc = self.procs.get(name)
                if proc is not None and proc.is_alive():
                    if now - self.started_at[name] > 60:
                        self.failures[name] = 0  # healthy for a minute: forget earlier failures
                    continue
                if proc is not None:
                    proc.join(0)
                    self.procs.pop(name)
                    wait = _RESTART_BACKOFF[min(self.failures[name], len(_RESTART_BACKOFF) - 1)]
                    self.failures[name] += 1
                    self.due[name] = now + wait
                    log.warning("%s process exited (code %s); starting it again in %s s", name, proc.exitcode, wait)
                if now >= self.due[name]:
                    self._start(name)
            time.sleep(0.2)
        self.shutdown()

    def shutdown(self) -> None:
        for proc in self.procs.values():
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            proc.join(max(deadline - time.monotonic(), 0))
            if proc.is_alive():
                proc.kill()
                proc.join(5)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are queued now, then stop.")
@click.option("--no-cron", is_flag=True, help="Do not start the cron scheduler for periodic sweeps.")
@click.option("--queues", default=None, help="Comma-separated queues (default: JOB_QUEUES).")
@with_appcontext
def worker_command(burst: bool, no_cron: bool, queues: str | None):
    """Run a supervised RQ worker (and the cron scheduler) for this app."""
    names = [q.strip() for q in queues.split(",")] if queues else configured_queues()
    if burst:
        worker = _make_worker(names)
        click.echo(f"worker {worker.name} ({type(worker).__name__}) on {', '.join(names)}, pid {os.getpid()}")
        worker.work(burst=True, with_scheduler=True, logging_level=current_app.config["LOG_LEVEL"])
        return
    children: dict[str, tuple] = {"jobs": (_job_process, (names,))}
    if not no_cron:
        children["cron"] = (_cron_process, (redis_url(), list(PERIODIC_JOBS)))
    click.echo(f"supervisor pid {os.getpid()}: {', '.join(children)} on {', '.join(names)}")
    Supervisor(children).run()
