"""Where a JSON API POST's time goes, in one process: the CPU per request through
Flask's test client with a bearer token, the SQL statements per request and their
time, and (with ``--profile``) the functions that take the most time under cProfile.

    python bench/profile_post.py --database-url postgresql://…/kotiapu_bench place accept
    python bench/profile_post.py --database-url … --sql place        # each statement of one request

``place`` is ``POST /api/v1/orders`` as bench/run.py drives it (staff1 orders, for a
client, a service from one provider that offers it at the client's postal code);
``accept`` is ``POST /api/v1/orders/{id}/accept`` (providers 1-100 accept pending
offers of still offered orders, oldest first as bench/run.py takes them, each once). The POSTs change the data: each run
uses clients and offers the previous runs have not (re-seed for figures that
compare exactly). The database must hold the reference data set (bench/seed.py).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="+", choices=("place", "accept"))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--sql", action="store_true", help="print each SQL statement of one request")
    parser.add_argument("--callees", help="with --profile: what the functions matching this pattern call")
    parser.add_argument("--by-package", action="store_true",
                        help="with --profile: the time spent in each package's own code (tottime summed)")
    parser.add_argument("--cpu", action="store_true", help="profile the process's CPU time, not the wall clock")
    parser.add_argument("--yardstick", action="store_true",
                        help="also serve the minimal one-row INSERT endpoint (bench/ceilings.py) in this "
                             "process and print the ratio of CPU per request, in alternating rounds")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, APP_ENV="production",
                      SECRET_KEY="bench-secret-key-0123456789-0123456789-xx", LOG_LEVEL="WARNING",
                      BASE_URL="http://127.0.0.1", SESSION_COOKIE_SECURE="false",
                      LOGIN_MAX_FAILURES_ADDRESS="1000", REQUIRE_SECOND_FACTOR="false",
                      API_RATE_LIMIT="1000000/minute", API_ANONYMOUS_RATE_LIMIT="1000000/minute")
    import sqlalchemy as sa

    from app import create_app
    from core.extensions import db

    app = create_app()
    statements: list[float] = []
    texts: list[str] = []

    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):
        statements.append(time.perf_counter() - conn.info["t0"].pop())
        texts.append(" ".join(statement.split())[:300])

    client = app.test_client()
    yardstick = None
    if args.yardstick:
        from bench.ceilings import create_inserts_table, insert_app

        insert = insert_app()
        with app.app_context():
            create_inserts_table(db.engine)
        yardstick = insert.test_client()
        for _ in range(20):
            yardstick.post("/", json={"name": "warm"})

    def token(email: str) -> str:
        answer = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD, "name": "profile"})
        if answer.status_code != 201:
            raise SystemExit(f"token for {email}: {answer.status_code} {answer.get_data(as_text=True)[:200]}")
        return answer.get_json()["token"]

    for kind in args.kinds:
        needed = args.requests + 5 + (1 if args.sql else 0)
        with app.app_context():
            if kind == "place":
                # Clients without an order of this script yet (instructions mark them).
                rows = db.session.execute(sa.text(
                    "SELECT DISTINCT ON (c.id) c.id, o.service_type_id, o.provider_id FROM clients c "
                    "JOIN offering_areas a ON a.postal_code = c.postal_code "
                    "JOIN offerings o ON o.id = a.offering_id "
                    "WHERE c.id > 3010 AND c.consent_to_share AND NOT EXISTS (SELECT 1 FROM service_orders s "
                    "WHERE s.client_id = c.id AND s.instructions = 'profile') ORDER BY c.id, o.id LIMIT :n"),
                    {"n": needed}).all()
            else:
                rows = db.session.execute(sa.text(
                    "SELECT DISTINCT ON (f.order_id) f.order_id, f.provider_id FROM offers f "
                    "JOIN service_orders o ON o.id = f.order_id WHERE f.status = 'pending' "
                    "AND o.status = 'offered' AND f.provider_id <= 100 ORDER BY f.order_id, f.provider_id "
                    "LIMIT :n"), {"n": needed}).all()
        if len(rows) < needed:
            raise SystemExit(f"{kind}: only {len(rows)} unused requests left; re-seed")
        if kind == "place":
            bearer = token("staff1@bench.invalid")
            start = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
            requests = [("/api/v1/orders", bearer, {"client_id": c, "service_type_id": st, "provider_ids": [p],
                                                   "start_date": start, "visits_per_week": 1,
                                                   "minutes_per_visit": 60, "instructions": "profile"}, 201)
                        for c, st, p in rows]
        else:
            tokens = {p: token(f"provider{p}@bench.invalid") for p in {p for _, p in rows}}
            requests = [(f"/api/v1/orders/{o}/accept", tokens[p], None, 200) for o, p in rows]

        def send(path, bearer, body, expected):
            answer = client.post(path, headers={"Authorization": f"Bearer {bearer}"},
                                 data=json.dumps(body) if body is not None else None,
                                 content_type="application/json")
            if answer.status_code != expected:
                raise SystemExit(f"{path}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
            return answer

        for request in requests[:5]:  # warm up caches and the connection pool
            send(*request)
        requests = requests[5:]
        if yardstick is not None:
            _compare(kind, send, requests[:args.requests], yardstick)
            continue
        statements.clear()
        profiler = (cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()) if args.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for request in requests[:args.requests]:
            send(*request)
        if profiler:
            profiler.disable()
        elapsed = (time.perf_counter() - started) / args.requests
        cpu = (time.process_time() - cpu_started) / args.requests
        print(f"{kind}: {elapsed * 1000:.2f} ms per request ({cpu * 1000:.2f} ms of this process's CPU), "
              f"{len(statements) / args.requests:.1f} SQL statements taking "
              f"{sum(statements) / args.requests * 1000:.2f} ms; load average "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.sql:
            statements.clear()
            texts.clear()
            send(*requests[args.requests])
            for took, text in zip(statements, texts):
                print(f"  {took * 1000:7.2f} ms  {text}")
            kinds = Counter(t.split()[0] for t in texts)
            print("  " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
        if profiler:
            from bench.profile_page import print_profile

            print_profile(profiler, args)


def _compare(kind: str, send, requests: list, yardstick, rounds: int = 5) -> None:
    """CPU per request of the POST and of the minimal INSERT endpoint, in alternating
    rounds (a change of the machine's load hits both), best round each."""
    post_cpu, yard_cpu = [], []
    per_round = max(len(requests) // rounds, 1)
    for number in range(rounds):
        started = time.process_time()
        for request in requests[number * per_round:(number + 1) * per_round]:
            send(*request)
        post_cpu.append((time.process_time() - started) / per_round)
        started = time.process_time()
        for _ in range(per_round * 3):
            yardstick.post("/", json={"name": "yardstick"})
        yard_cpu.append((time.process_time() - started) / (per_round * 3))
    post, yard = min(post_cpu), min(yard_cpu)
    print(f"{kind}: {post * 1000:.2f} ms CPU per request, minimal INSERT endpoint {yard * 1000:.2f} ms: "
          f"ratio {yard / post:.2f} (best of {rounds} alternating rounds of {per_round}; load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
