"""Benchmark: one staffing request fanned out to 200 agencies by one worker
(DESIGN.md section 9: under 5 s).

For each run a staff member's request is committed (which pushes the fan-out job to
Redis) and one real ``flask worker`` process does the rest: the fan-out job records
the 200 recipients and queues their 200 e-mails in one transaction, then the 200
mail jobs deliver them. Measured from the request's commit, with the database's own
timestamps:

- **queued**: the fan-out committed (every agency recorded, every e-mail queued);
- **sent**: the last of the e-mails delivered (stored, as without SMTP);
- **jobs/s**: the jobs of the run (fan-out + e-mails) divided by *sent*.

The database and Redis are emptied first, so point them at scratch ones::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_h8 REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/staffing_fanout.py --reset [--agencies 200] [--runs 5] [--worker-class simple|fork]

The worker runs without the cron scheduler (``--no-cron``), so periodic sweeps do
not share its time; the first (cold) run is reported apart from the warm ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTAL_CODE = "33100"


def _reset_database(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    elif url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    env = dict(os.environ, DATABASE_URL=url)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit("migrations failed:\n" + result.stderr[-3000:])


def _seed(agencies: int) -> object:
    """``agencies`` approved agencies covering practical nurses in 33100 (each with an
    admin member, languages fi/sv/en in turn), as many that do not match, and the
    staff member who asks. Returns the staff member."""
    import sqlalchemy as sa

    from accounts.models import User
    from accounts.services import hash_password
    from core.db import utcnow
    from core.extensions import db
    from providers.models import Provider
    from staffing.models import StaffingCoverage
    from tests.factories import valid_business_id

    now = utcnow()
    password = hash_password("bench-password-123")
    rows = []
    for i in range(2 * agencies):
        rows.append({"name": f"Henkilöstöpalvelu {i} Oy", "business_id": valid_business_id(10_000 + i),
                     "kind": "agency", "status": "approved", "email": f"agency{i}@bench.example.fi",
                     "languages": [("fi", "sv", "en")[i % 3]], "service_areas": [POSTAL_CODE], "description": "",
                     "created_at": now, "approved_at": now})
    db.session.execute(sa.insert(Provider), rows)
    ids = db.session.scalars(sa.select(Provider.id).order_by(Provider.id)).all()
    db.session.execute(sa.insert(User), [
        {"email": f"admin{i}@bench.example.fi", "name": f"Agency admin {i}", "password_hash": password,
         "role": "provider", "provider_id": pid, "provider_role": "admin", "language": ("fi", "sv", "en")[i % 3],
         "active": True, "created_at": now, "session_version": 1} for i, pid in enumerate(ids)])
    coverage = [{"provider_id": pid, "qualification": "practical_nurse", "postal_code": POSTAL_CODE}
                for pid in ids[:agencies]]
    # The others cover something else: the query must pass them by.
    coverage += [{"provider_id": pid, "qualification": "registered_nurse", "postal_code": POSTAL_CODE}
                 for pid in ids[agencies:]]
    coverage += [{"provider_id": pid, "qualification": "practical_nurse", "postal_code": "00100"}
                 for pid in ids[agencies:]]
    db.session.execute(sa.insert(StaffingCoverage), coverage)
    staff = User(email="staff@bench.example.fi", name="Bench Staff", password_hash=password, role="staff",
                 language="fi")
    db.session.add(staff)
    db.session.commit()
    return staff


def _start_worker(worker_class: str) -> subprocess.Popen:
    env = dict(os.environ, WORKER_CLASS=worker_class, LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--no-cron"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_worker(conn, proc, timeout: float = 30) -> None:
    from rq import Worker

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the worker stopped:\n" + proc.stderr.read().decode()[-3000:])
        if Worker.count(connection=conn):
            return
        time.sleep(0.1)
    raise SystemExit("the worker did not start")


def _one_run(staff, postal_code: str, agencies: int, timeout: float = 120) -> dict:
    import sqlalchemy as sa

    from core.db import utcnow
    from core.extensions import db
    from core.models import OutboxJob, OutgoingEmail
    from staffing import services

    start = utcnow() + timedelta(days=2)
    req = services.create_request(staff, unit="Kotihoito Keskusta", qualification="practical_nurse",
                                  postal_code=postal_code, shifts=[(start, start + timedelta(hours=8))], headcount=3,
                                  respond_by=utcnow() + timedelta(hours=12))
    t0 = utcnow()
    db.session.commit()  # pushes the fan-out job: the clock runs from here
    sent_filter = (OutgoingEmail.dedupe_key.like(f"staffing:{req.id}:new:%"), OutgoingEmail.sent_at.is_not(None))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail).where(*sent_filter))
        db.session.rollback()
        if sent >= agencies:
            break
        time.sleep(0.05)
    else:
        raise SystemExit(f"run timed out: {sent} of {agencies} e-mails sent")
    fan_out = [row for row in db.session.scalars(sa.select(OutboxJob).where(
        OutboxJob.func == "staffing.jobs.fan_out_request", OutboxJob.created_at >= t0 - timedelta(seconds=5)))
        if row.args and row.args[0] == req.id]
    queued_at = max(row.done_at for row in fan_out)
    sent_at = db.session.scalar(sa.select(sa.func.max(OutgoingEmail.sent_at)).where(*sent_filter))
    jobs = len(fan_out) + agencies
    db.session.rollback()
    sent_s = (sent_at - t0).total_seconds()
    return {"queued_s": (queued_at - t0).total_seconds(), "sent_s": sent_s, "jobs": jobs,
            "jobs_per_s": jobs / sent_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--worker-class", choices=("simple", "fork"), default="simple")
    parser.add_argument("--reset", action="store_true", help="empty DATABASE_URL and REDIS_URL first (required)")
    args = parser.parse_args()
    url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not (url and redis_url and args.reset):
        raise SystemExit("set DATABASE_URL and REDIS_URL to scratch ones and pass --reset: both are emptied")
    os.environ.setdefault("APP_ENV", "development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _reset_database(url)

    import redis

    from app import create_app

    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    app = create_app()
    with app.app_context():
        staff = _seed(args.agencies)
        worker = _start_worker(args.worker_class)
        try:
            _wait_for_worker(conn, worker)
            results = [_one_run(staff, POSTAL_CODE, args.agencies) for _ in range(args.runs)]
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(30)
    dialect = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{args.agencies} agencies, 1 worker ({args.worker_class}), {dialect}, Redis {redis_url}")
    for i, r in enumerate(results, start=1):
        print(f"run {i}{' (cold)' if i == 1 else ''}: queued {r['queued_s']:.2f} s, sent {r['sent_s']:.2f} s, "
              f"{r['jobs']} jobs, {r['jobs_per_s']:.0f} jobs/s")
    warm = results[1:] or results
    print(f"warm median: queued {statistics.median(r['queued_s'] for r in warm):.2f} s, "
          f"sent {statistics.median(r['sent_s'] for r in warm):.2f} s, "
          f"{statistics.median(r['jobs_per_s'] for r in warm):.0f} jobs/s")


if __name__ == "__main__":
    main()
