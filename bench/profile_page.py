"""Where a page's time goes, in one process: the mean time per request through
Flask's test client, the SQL statements per request and their time, and (with
``--profile``) the functions that take the most time under cProfile.

    python bench/profile_page.py --database-url postgresql://…/kotiapu_bench \\
        --email staff1@bench.invalid /orders/ /dashboard /clients/17

Use it before and after a change: bench/run.py gives the figures under load, this
gives the reasons. The database must hold the reference data set (bench/seed.py).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--email", default="", help="log in as this bench user first")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="print the top functions by cumulative time")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--yardstick", action="store_true",
                        help="also time the minimal list page (bench/ceilings.py) in this process, in alternating "
                             "rounds with each page, and print the ratio of their CPU per request (steadier than "
                             "absolute figures on a shared machine)")
    parser.add_argument("--callers", default="", help="with --profile: who calls the functions matching this")
    parser.add_argument("--cpu", action="store_true",
                        help="with --profile: count this process's CPU time, not the wall clock (waits for the "
                             "database drop out; steadier on a loaded machine)")
    parser.add_argument("--by-package", action="store_true",
                        help="with --profile: the time spent in each package's own code (tottime summed)")
    parser.add_argument("--callees", default="", help="with --profile: what the functions matching this call")
    parser.add_argument("--sql", action="store_true", help="print each SQL statement of one request and its time")
    parser.add_argument("--buffers", action="store_true",
                        help="with --sql: also the buffers each SELECT reads under the generic plan the page runs "
                             "with (the statement prepared again, EXPLAIN (ANALYZE, BUFFERS) EXECUTE with the "
                             "request's values, PostgreSQL only): the figure that shows whether a statement's work "
                             "grows with the data, whatever the machine's load")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, APP_ENV="production",
                      SECRET_KEY="bench-secret-key-0123456789-0123456789-xx", LOG_LEVEL="WARNING",
                      BASE_URL="http://127.0.0.1", SESSION_COOKIE_SECURE="false",
                      LOGIN_MAX_FAILURES_ADDRESS="1000", REQUIRE_SECOND_FACTOR="false")
    import sqlalchemy as sa

    from app import create_app
    from core.extensions import db

    app = create_app()
    statements: list[float] = []
    texts: list[str] = []
    buffers: list[int | None] = []

    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):
        statements.append(time.perf_counter() - conn.info["t0"].pop())
        texts.append(" ".join(statement.split())[:300])
        if explain and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            buffers.append(_generic_plan_buffers(cursor.connection, statement, parameters))
        elif explain:
            buffers.append(None)

    explain = False
    client = app.test_client()
    yardstick = None
    if args.yardstick:
        from bench.ceilings import minimal_app

        yardstick = minimal_app().test_client()
        for _ in range(20):
            yardstick.get("/")
    if args.email:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        answer = client.post("/login", data={"email": args.email, "password": "bench-password-2026",
                                             "csrf_token": token})
        if answer.status_code != 302:
            raise SystemExit(f"login as {args.email} failed: {answer.status_code}")
    for path in args.paths:
        for _ in range(5):  # warm up caches and the connection pool
            answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code}")
        if yardstick is not None:
            _compare(path, client, yardstick, args.requests)
            continue
        statements.clear()
        profiler = (cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()) if args.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            client.get(path)
        if profiler:
            profiler.disable()
        elapsed = (time.perf_counter() - started) / args.requests
        cpu = (time.process_time() - cpu_started) / args.requests
        print(f"{path}: {elapsed * 1000:.2f} ms per request ({cpu * 1000:.2f} ms of this process's CPU), "
              f"{len(statements) / args.requests:.1f} SQL statements "
              f"taking {sum(statements) / args.requests * 1000:.2f} ms, {len(answer.data) // 1024} KiB")
        if args.sql:
            statements.clear()
            texts.clear()
            client.get(path)
            for took, text in zip(statements, texts):
                print(f"  {took * 1000:7.2f} ms  {text}")
            if args.buffers:
                buffers.clear()
                explain = True
                client.get(path)
                explain = False
                print("  buffers read per statement: " + ", ".join("-" if b is None else str(b) for b in buffers))
        if profiler:
            print_profile(profiler, args)


def _generic_plan_buffers(connection, statement: str, parameters) -> int:
    """The shared buffers a SELECT reads under its generic plan: prepared on the page's
    connection (in its transaction) with PostgreSQL's ``force_generic_plan``, run by
    ``EXPLAIN (ANALYZE, BUFFERS) EXECUTE`` with the request's values, deallocated."""
    import psycopg
    from psycopg import _queries  # psycopg's own %(name)s → $n conversion; no public API does it

    query = _queries.PostgresQuery(psycopg.adapt.Transformer(connection))
    query.convert(statement, parameters)
    with psycopg.ClientCursor(connection) as own:  # the page's cursor still holds its rows
        own.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        own.execute(b"PREPARE bench_buffers AS " + query.query)
        try:
            # The request's values in the order of the $n the statement was given.
            values = ([parameters[name] for name in query._order] if isinstance(parameters, dict)
                      else list(parameters or ()))
            marks = ", ".join(["%s"] * len(values))
            own.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_buffers({marks})"
                        if values else "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_buffers", values)
            plan = own.fetchone()[0][0]["Plan"]
        finally:
            own.execute("DEALLOCATE bench_buffers")
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


def print_profile(profiler, args) -> None:
    """The profile as the options ask (``--callers``, ``--callees``,
    ``--by-package``, else the top ``--top`` by ``--sort``); bench/profile_post.py
    prints its profiles through this too."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
    if getattr(args, "callers", ""):
        stats.print_callers(args.callers)
    elif args.callees:
        stats.print_callees(args.callees)
    elif args.by_package:
        _print_by_package(stats, args.requests)
    else:
        stats.print_stats(args.top)
    print(out.getvalue())


def _print_by_package(stats, requests: int) -> None:
    """Own time per request of each package (site-packages name, the template
    files, or the platform's own top-level package), largest first."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        if "site-packages/" in filename:
            key = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif filename.endswith(".html"):
            key = "templates (compiled Jinja)"
        elif filename.startswith("~") or filename.startswith("<"):
            key = "built-ins"
        else:
            key = Path(filename).parent.name or filename
        totals[key] = totals.get(key, 0.0) + tottime
    for key, seconds in sorted(totals.items(), key=lambda item: -item[1])[:20]:
        print(f"  {seconds / requests * 1000:7.3f} ms  {key}")


def _cpu_per_request(client, path: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        client.get(path)
    return (time.process_time() - started) / requests


def _compare(path: str, client, yardstick, requests: int, rounds: int = 5) -> None:
    """CPU per request of the page and of the minimal list page, measured in
    alternating rounds (a change of the machine's load hits both), best round each."""
    page_cpu, yard_cpu = [], []
    per_round = max(requests // rounds, 10)
    for _ in range(rounds):
        page_cpu.append(_cpu_per_request(client, path, per_round))
        yard_cpu.append(_cpu_per_request(yardstick, "/", per_round * 3))
    page, yard = min(page_cpu), min(yard_cpu)
    print(f"{path}: {page * 1000:.2f} ms CPU per request, minimal list page {yard * 1000:.2f} ms: "
          f"ratio {yard / page:.2f} (best of {rounds} alternating rounds)")


if __name__ == "__main__":
    main()
