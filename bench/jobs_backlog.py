"""Benchmark: a backlog of notification jobs drained by two workers (DESIGN.md
section 9: 10,000 in under a minute).

The platform's own path is used end to end: ``core.mail.queue_email`` stores each
message and records its ``core.mail.send_email`` job in the outbox; committing pushes
the jobs to RQ's ``mail`` queue. Then two real ``flask worker --burst`` processes drain
the queue, each message going to a real SMTP server (aiosmtpd on loopback, in a
process of its own, counting what it receives) or, with ``--mail stored``, being
stored as without ``MAIL_URL``. Measured per worker class:

- **drain**: from starting the two workers to both having exited (queue empty),
  their start-up included;
- **jobs**: from the first job's start to the last job's end, with the database's
  own timestamps (``outbox_jobs.started_at`` / ``done_at``), and jobs/s over it;
- **workers' CPU per job**: the CPU time of the two worker processes (and their
  work horses), which does not depend on what else the machine is doing;

then it checks that every message was sent exactly once (and, with SMTP, that the
server received each one).

The database and Redis are emptied first, so point them at scratch ones::

    createdb kotiapu_jobs
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kotiapu_jobs REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/jobs_backlog.py --reset [--jobs 10000] [--workers 2] \\
        [--worker-class simple fork] [--mail smtp|stored]

Everything is on loopback, and each drain is bounded (``--timeout``, default 300 s:
the workers are killed and the run is reported as failed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _reset_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    env = dict(os.environ, DATABASE_URL=url)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit("migrations failed:\n" + result.stderr[-3000:])


# --- the SMTP server (a process of its own, so it does not share the bench's GIL) ---


def _smtp_server(port: int, counter, ready) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10 ** 6))
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- one run ----------------------------------------------------------------------


def _empty(conn_redis) -> None:
    import sqlalchemy as sa

    from core.extensions import db

    db.session.execute(sa.text("TRUNCATE outbox_jobs, outgoing_emails RESTART IDENTITY"))
    db.session.commit()
    conn_redis.flushdb()


def _enqueue(jobs: int, batch: int = 500) -> float:
    """``jobs`` notifications through the platform's own path; returns the seconds taken."""
    from core.extensions import db
    from core.mail import queue_email

    t0 = time.monotonic()
    langs = ("fi", "sv", "en")
    for start in range(0, jobs, batch):
        for i in range(start, min(start + batch, jobs)):
            queue_email(f"vastaanottaja{i}@bench.example.fi", f"Uusi henkilöstöpyyntö {i}",
                        f"Hei,\n\nyksikkö Kotihoito Keskusta pyytää lähihoitajaa (pyyntö {i}).\n"
                        "Vastaa palvelussa.\n", language=langs[i % 3], dedupe_key=f"bench:{i}")
        db.session.commit()  # pushes this batch's jobs to RQ
    return time.monotonic() - t0


def _one_run(worker_class: str, workers: int, jobs: int, mail_url: str | None, timeout: float, conn_redis) -> dict:
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import OutboxJob, OutgoingEmail

    _empty(conn_redis)
    enqueue_s = _enqueue(jobs)
    queued = conn_redis.llen("rq:queue:mail")
    if queued != jobs:
        raise SystemExit(f"{queued} of {jobs} jobs reached the queue")
    env = dict(os.environ, WORKER_CLASS=worker_class, LOG_LEVEL="WARNING")
    env.pop("MAIL_URL", None)
    if mail_url:
        env["MAIL_URL"] = mail_url
    load = os.getloadavg()
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--burst", "--queues", "mail"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True) for _ in range(workers)]
    failed = None
    cpu = 0.0  # the workers' CPU seconds (with their work horses), from wait4()
    try:
        running = list(procs)
        while running:
            for p in list(running):
                pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    p.returncode = os.waitstatus_to_exitcode(status)
                    cpu += usage.ru_utime + usage.ru_stime
                    running.remove(p)
            if time.monotonic() - t0 > timeout:
                failed = f"timed out after {timeout:.0f} s"
                break
            time.sleep(0.02)
    finally:
        for p in procs:
            if p.returncode is None:
                os.killpg(p.pid, 9)
                _, status, usage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
    drain_s = time.monotonic() - t0
    errors = [p.stderr.read().decode()[-2000:] for p in procs if p.returncode]
    first, last, done = db.session.execute(
        sa.select(sa.func.min(OutboxJob.started_at), sa.func.max(OutboxJob.done_at),
                  sa.func.count(OutboxJob.done_at))).one()
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)
                             .where(OutgoingEmail.sent_at.is_not(None)))
    repeated = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob).where(OutboxJob.attempts > 1))
    db.session.rollback()
    jobs_s = (last - first).total_seconds() if first and last else float("nan")
    return {"class": worker_class, "enqueue_s": enqueue_s, "drain_s": drain_s, "jobs_s": jobs_s, "done": done,
            "sent": sent, "repeated": repeated, "worker_cpu_s": cpu, "failed": failed or ("; ".join(errors) if errors else None),
            "load": load, "load_after": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", nargs="+", choices=("simple", "fork"), default=["simple", "fork"])
    parser.add_argument("--mail", choices=("smtp", "stored"), default="smtp",
                        help="deliver to a local SMTP server (default) or store as without MAIL_URL")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a drain may take before it is stopped")
    parser.add_argument("--reset", action="store_true", help="empty DATABASE_URL and REDIS_URL first (required)")
    args = parser.parse_args()
    url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not (url and redis_url and args.reset and url.startswith("postgres")):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL to scratch ones and pass --reset: both are emptied")
    os.environ.setdefault("APP_ENV", "development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("MAIL_URL", None)  # the bench itself only stores and enqueues
    _reset_database(url)

    import redis

    from app import create_app

    server = counter = None
    mail_url = None
    if args.mail == "smtp":
        port = _free_port()
        ctx = multiprocessing.get_context("spawn")
        counter, ready = ctx.Value("i", 0), ctx.Event()
        server = ctx.Process(target=_smtp_server, args=(port, counter, ready), daemon=True)
        server.start()
        if not ready.wait(15):
            raise SystemExit("the SMTP server did not start")
        mail_url = f"smtp://127.0.0.1:{port}"

    conn_redis = redis.Redis.from_url(redis_url)
    results = []
    try:
        app = create_app()
        with app.app_context():
            delivery = f"SMTP on loopback ({mail_url})" if mail_url else "stored (no MAIL_URL)"
            print(f"{args.jobs} notification jobs, {args.workers} workers (flask worker --burst), PostgreSQL, "
                  f"Redis {redis_url}, mail {delivery}, {os.cpu_count()} CPUs", flush=True)
            for worker_class in args.worker_class:
                if counter is not None:
                    counter.value = 0
                r = _one_run(worker_class, args.workers, args.jobs, mail_url, args.timeout, conn_redis)
                r["received"] = counter.value if counter is not None else None
                results.append(r)
                _report(r, args.jobs)
    finally:
        if server is not None:
            server.terminate()
            server.join(10)
    sys.exit(0 if all(_good(r, args.jobs) for r in results) else 1)


def _good(r: dict, jobs: int) -> bool:
    return (not r["failed"] and r["done"] == jobs and r["sent"] == jobs
            and (r["received"] is None or r["received"] == jobs))


def _report(r: dict, jobs: int) -> None:
    checks = f"{r['done']} done, {r['sent']} sent"
    if r["received"] is not None:
        checks += f", {r['received']} received by SMTP"
    if r["repeated"]:
        checks += f", {r['repeated']} run more than once"
    print(f"{r['class']:>6}: drain {r['drain_s']:.1f} s ({r['done'] / r['drain_s']:.0f} jobs/s incl. start-up), "
          f"first job to last {r['jobs_s']:.1f} s ({r['done'] / r['jobs_s']:.0f} jobs/s); {checks}; "
          f"workers' CPU {1000 * r['worker_cpu_s'] / max(r['done'], 1):.1f} ms per job (start-up included); "
          f"enqueue {r['enqueue_s']:.1f} s; load average {r['load'][0]:.2f} before, "
          f"{r['load_after'][0]:.2f} after", flush=True)
    if r["failed"]:
        print(f"        FAILED: {r['failed']}", flush=True)
    elif not _good(r, jobs):
        print(f"        INCOMPLETE: {jobs} jobs expected", flush=True)


if __name__ == "__main__":
    main()
