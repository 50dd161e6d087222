"""``flask worker``: an RQ worker inside the app context, with RQ's scheduler (for
jobs enqueued to run at a time) and, unless ``--no-cron``, RQ's cron scheduler in a
child process for the periodic sweeps listed in ``PERIODIC_JOBS``."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker
from rq.cron import CronScheduler

from core.jobs import configured_queues
from core.redis import get_redis, redis_url

log = logging.getLogger(__name__)

# (dotted path, queue, seconds between runs). Domain packages add their sweeps here;
# every one of them is idempotent, so two cron schedulers running is harmless.
PERIODIC_JOBS: list[tuple[str, str, int]] = [
    ("core.jobs.dispatch_pending", "default", 10),
]


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


def _cron_process(url: str, jobs: list[tuple[str, str, int]]) -> None:
    import redis

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    conn = redis.Redis.from_url(url)
    cron = CronScheduler(connection=conn, logging_level="WARNING")
    for path, queue, interval in jobs:
        cron.register(run_periodic, queue, args=(path,), interval=interval, name=path, result_ttl=60)
    cron.start()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are queued now, then stop.")
@click.option("--no-cron", is_flag=True, help="Do not start the cron scheduler for periodic sweeps.")
@click.option("--queues", default=None, help="Comma-separated queues (default: JOB_QUEUES).")
@with_appcontext
def worker_command(burst: bool, no_cron: bool, queues: str | None):
    """Run an RQ worker for this app."""
    names = [q.strip() for q in queues.split(",")] if queues else configured_queues()
    conn = get_redis()
    cls = SimpleWorker if current_app.config["WORKER_CLASS"] == "simple" else Worker
    cron_proc = None
    if not no_cron and not burst:
        ctx = multiprocessing.get_context("spawn")
        cron_proc = ctx.Process(target=_cron_process, args=(redis_url(), list(PERIODIC_JOBS)), daemon=True)
        cron_proc.start()
    worker = cls(names, connection=conn)
    click.echo(f"worker {worker.name} ({cls.__name__}) on {', '.join(names)}, pid {os.getpid()}")
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level=current_app.config["LOG_LEVEL"])
    finally:
        if cron_proc is not None and cron_proc.is_alive():
            cron_proc.terminate()
            cron_proc.join(5)
