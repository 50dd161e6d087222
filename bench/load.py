"""The load test of issue 16 (point 7): 50 simulated users for 2 minutes on loopback.

    .venv/bin/python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/kotiapu_load \\
        --redis-url redis://127.0.0.1:6379/15 [--users 50 --minutes 2]

It empties the given database (it must be one for this purpose: everything in it is
dropped), migrates it and loads the demo data, serves the app with gunicorn on
127.0.0.1, runs locust headless with bench/locustfile.py, and then checks:

- no 5xx answer (locust's failures);
- no lost order: every order the API answered 201 for is in the database, once;
- no doubled order: no marker is in the database more than once, and no order exists
  that the API did not report;
- one winner per order: at most one accepted offer per order, that provider is the
  order's provider, and at most one accept got a 200.

Prints the figures and exits non-zero when a check fails. Not part of the default
pytest run (it takes about three minutes); docs/security.md has the last figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def prepare(env: dict, database_url: str) -> dict:
    """Empty the database, migrate, load the demo; return the plan for the locustfile."""
    if database_url.startswith("postgres"):
        import psycopg

        url = database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
    code = r'''
import json, sys
import sqlalchemy as sa
from app import create_app
from demo import DEMO_LOGINS, DEMO_PASSWORD
from accounts.models import User
from clients.models import Client
from catalogue.models import ServiceType
from orders.eligibility import eligible_providers
app = create_app()
with app.app_context():
    from core.extensions import db
    logins = {e: r for r, e, _ in DEMO_LOGINS}
    provider_users = db.session.scalars(sa.select(User).where(User.email.in_([e for e, r in logins.items() if r == "provider"]))).all()
    orgs = {u.provider_id for u in provider_users}
    pairs = []
    for client in db.session.scalars(sa.select(Client).where(Client.consent_to_share.is_(True), Client.erased_at.is_(None))).all():
        for st in db.session.scalars(sa.select(ServiceType)).all():
            found = {e.provider.id for e in eligible_providers(client, st.id)}
            if len(found & orgs) >= 2:
                pairs.append([client.id, st.id])
    json.dump({"password": DEMO_PASSWORD,
               "staff": [e for e, r in logins.items() if r == "staff"],
               "providers": [u.email for u in provider_users],
               "clients": [e for e, r in logins.items() if r == "client"],
               "provider_ids": sorted(orgs), "pairs": pairs}, sys.stdout)
'''
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    plan = json.loads(out.stdout)
    plan["start_date"] = (date.today() + timedelta(days=14)).isoformat()
    if not plan["pairs"]:
        raise SystemExit("no (client, service type) with two eligible demo organisations")
    return plan


def verify(env: dict, result: dict) -> dict:
    code = r'''
import json, sys
import sqlalchemy as sa
from app import create_app
from orders.models import Offer, ServiceOrder
app = create_app()
result = json.load(sys.stdin)
with app.app_context():
    from core.extensions import db
    rows = db.session.execute(sa.select(ServiceOrder.id, ServiceOrder.instructions, ServiceOrder.provider_id)
                              .where(ServiceOrder.instructions.like("load-%"))).all()
    by_marker = {}
    for oid, marker, _ in rows:
        by_marker.setdefault(marker, []).append(oid)
    created = result["created"]
    lost = [m for m, oid in created.items() if by_marker.get(m) != [oid]]
    doubled = [m for m, ids in by_marker.items() if len(ids) > 1]
    unreported = [m for m in by_marker if m not in created]
    winners = db.session.execute(sa.select(Offer.order_id, sa.func.count()).where(Offer.status == "accepted")
                                 .group_by(Offer.order_id)).all()
    many_winners = [oid for oid, n in winners if n > 1]
    provider_of = {oid: pid for oid, _, pid in rows}
    accepted = dict(db.session.execute(sa.select(Offer.order_id, Offer.provider_id).where(Offer.status == "accepted")).all())
    wrong_winner = [oid for oid, pid in accepted.items() if oid in provider_of and provider_of[oid] != pid]
    two_200s = [oid for oid, pids in result["accepted"].items() if len(pids) > 1]
    won = sum(1 for oid in provider_of if provider_of[oid] is not None)
    json.dump({"orders_created": len(created), "orders_in_db": len(rows), "orders_won": won,
               "lost": lost, "doubled": doubled, "unreported": unreported, "many_winners": many_winners,
               "wrong_winner": wrong_winner, "two_accept_200s": two_200s}, sys.stdout)
'''
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, input=json.dumps(result),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a database for this test only: it is emptied")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4 threads each)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kotiapu-load-"))
    port = free_port()
    env = dict(os.environ, APP_ENV="development", DATABASE_URL=args.database_url, REDIS_URL=args.redis_url,
               INSTANCE_PATH=str(work / "instance"), LOG_LEVEL="WARNING", BASE_URL=f"http://127.0.0.1:{port}",
               LOGIN_MAX_FAILURES_ADDRESS="100000")
    plan = prepare(env, args.database_url)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", "4",
                               "--bind", f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env,
                              stdout=open(work / "gunicorn.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        result_path = work / "result.json"
        started = time.monotonic()
        subprocess.run([str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(args.users), "-r", str(max(1, args.users // 10)), "-t", f"{int(args.minutes * 60)}s",
                        "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "stats"), "--only-summary", "--stop-timeout", "60"],
                       cwd=ROOT, env=dict(env, KOTIAPU_LOAD_PLAN=json.dumps(plan), KOTIAPU_LOAD_RESULT=str(result_path)),
                       check=False)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    with open(work / "stats_stats.csv") as f:
        total = [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"][0]
    checks = verify(env, json.loads(result_path.read_text()))
    requests = int(total["Request Count"])
    failures = no_answer = 0
    with open(work / "stats_failures.csv") as f:
        for row in csv.DictReader(f):
            if "server error" in row["Error"]:
                failures += int(row["Occurrences"])
            else:
                no_answer += int(row["Occurrences"])
    print(f"\n{args.users} users, {elapsed:.0f} s: {requests} requests ({float(total['Requests/s']):.1f}/s), "
          f"{failures} server errors (5xx), {no_answer} without an answer, median {total['Median Response Time']} ms, "
          f"p95 {total['95%']} ms, p99 {total['99%']} ms")
    print(f"orders created {checks['orders_created']}, in the database {checks['orders_in_db']}, "
          f"won {checks['orders_won']}")
    problems = {k: v for k, v in checks.items() if isinstance(v, list) and v}
    for name, items in problems.items():
        print(f"FAIL {name}: {items[:10]}")
    if failures:
        print(f"FAIL {failures} server errors (see {work / 'gunicorn.log'})")
    ok = not problems and not failures and checks["orders_created"] > 0
    print("load test:", "pass" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
