"""Load benchmark of the platform's pages and POSTs against the ceilings of DESIGN.md §9.

    python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/kotiapu_bench

Serves each target with the same gunicorn settings on 127.0.0.1, drives it with
``wrk`` at 16 connections (requests/s, p95) and at one connection (p50), and prints
one Markdown table (with the date, the machine and its load) giving each page's
requests/s as a ratio of the minimal list page, and each POST's as a ratio of the
minimal one-row INSERT endpoint. Pages log in through the real login form (staff,
provider and client users of the seed); the POSTs go through the JSON API with
tokens from ``POST /api/v1/tokens``: placing an order for a client from a provider
that serves their postal code, and accepting pending offers, each offer once (the
POSTs change the data: re-seed for figures that compare exactly). The database must
hold the reference data set (bench/seed.py). Only loopback is used.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GUNICORN = ["--workers", "4", "--worker-class", "sync", "--bind"]
PLATFORM = "app:create_app()"
STAFF, PROVIDER, CLIENT = "staff1@bench.invalid", "provider1@bench.invalid", "client1@bench.invalid"
TARGETS = [
    # (name, gunicorn app, path, login e-mail or None, how: "get", "get-uncached" (the
    # catalogue's cache off) or a POST kind)
    ("hello world (ceiling)", "bench.ceilings:hello_app()", "/", None, "get"),
    ("minimal list page (yardstick)", "bench.ceilings:minimal_app()", "/?category=7", None, "get"),
    ("account page, logged in as staff", PLATFORM, "/account", STAFF, "get"),
    ("staff order list", PLATFORM, "/orders/", STAFF, "get"),
    ("staff dashboard", PLATFORM, "/dashboard", STAFF, "get"),
    ("staff client page", PLATFORM, "/clients/17", STAFF, "get"),
    ("provider inbox", PLATFORM, "/orders/inbox", PROVIDER, "get"),
    ("client portfolio", PLATFORM, "/dashboard", CLIENT, "get"),
    ("public catalogue", PLATFORM, "/services?postal_code=33100", None, "get"),
    # The same page with the catalogue's few-second cache off: every request a first one.
    ("public catalogue, not kept", PLATFORM, "/services?postal_code=33100", None, "get-uncached"),
    ("minimal one-row INSERT (POST yardstick)", "bench.ceilings:insert_app()", "/", None, "insert"),
    # The statements of placing an order (3 reads, 5 INSERTs, 2 UPDATEs) and nothing else.
    ("ten statements in one transaction (floor of the POSTs)", "bench.ceilings:ten_statements_app()", "/", None,
     "insert"),
    ("place an order (API)", PLATFORM, "/api/v1/orders", STAFF, "place"),
    ("accept an offer (API)", PLATFORM, "/api/v1/orders/{id}/accept", PROVIDER, "accept"),
]
PAGE_YARDSTICK = next(t for t in TARGETS if t[0].startswith("minimal list page"))
POST_YARDSTICK = next(t for t in TARGETS if t[0].startswith("minimal one-row INSERT"))
ACCEPTING_PROVIDERS = 100  # each has about 80 pending offers in the reference data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def login(base: str, email: str, password: str) -> str:
    """Log in through the form (with its CSRF token); returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    opener.open(base + "/login", data=data)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookie:
        raise RuntimeError("login failed")
    return cookie


def logout(base: str, cookie: str) -> None:
    """End the session through the logout form: the account page lists the user's live
    sessions, so sessions left open by earlier runs would make it longer in the next."""
    with urllib.request.urlopen(urllib.request.Request(base + "/accessibility", headers={"Cookie": cookie})) as page:
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode())
        fresh = re.search(r"session=([^;]+)", page.headers.get("Set-Cookie", ""))
    if fresh:
        cookie = re.sub(r"session=[^;]+", "session=" + fresh.group(1), cookie)
    data = urllib.parse.urlencode({"csrf_token": found.group(1) if found else ""}).encode()
    urllib.request.urlopen(urllib.request.Request(base + "/logout", data=data, headers={"Cookie": cookie})).close()


def wrk(url: str, connections: int, seconds: int, cookie: str | None, requests_file: Path | None = None) -> dict:
    threads = min(2, connections)
    script = "requests.lua" if requests_file else "p95.lua"
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", str(ROOT / "bench" / script)]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(url)
    if requests_file:
        cmd += ["--", str(requests_file), str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    for line in re.findall(r"^REFUSED .*$", out, re.M):
        print(f"  {line}", file=sys.stderr, flush=True)
    fields = dict(kv.split("=") for kv in re.search(r"RESULT (.*)", out).group(1).split())
    n = int(fields["requests"])
    return {"requests": n, "errors": int(fields["errors"]), "status_errors": int(fields["status_errors"]),
            "timeouts": int(fields["timeouts"]), "max_ms": round(int(fields["max_us"]) / 1000, 1),
            "rps": round(n / (int(fields["duration_us"]) / 1e6), 1),
            "p50_ms": round(int(fields["p50_us"]) / 1000, 2), "p95_ms": round(int(fields["p95_us"]) / 1000, 2)}


def api_token(base: str, email: str) -> str:
    body = json.dumps({"email": email, "password": "bench-password-2026", "name": "bench"}).encode()
    request = urllib.request.Request(base + "/api/v1/tokens", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))["token"]


def post_requests(kind: str, base: str, database_url: str, folder: Path) -> Path:
    """The request list of a POST target (bench/requests.lua reads it)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1)
                              if database_url.startswith("postgresql://") else database_url)
    lines = []
    with engine.connect() as conn:
        if kind == "insert":
            lines = ["POST\t/\t\t" + json.dumps({"name": "bench row"})]
        elif kind == "place":
            # Clients with an offering of some service type at their postal code: each
            # request orders that service from that one provider.
            # One order per client (clients 1-10 log in for the portfolio and keep theirs).
            rows = conn.execute(sa.text(
                "SELECT DISTINCT ON (c.id) c.id, o.service_type_id, o.provider_id FROM clients c "
                "JOIN offering_areas a ON a.postal_code = c.postal_code JOIN offerings o ON o.id = a.offering_id "
                "WHERE c.id > 10 AND c.id <= 3010 AND c.consent_to_share ORDER BY c.id, o.id")).all()
            token = api_token(base, STAFF)
            start = (datetime.now(timezone.utc) + timedelta(days=7)).date().isoformat()
            lines = ["POST\t/api/v1/orders\t" + token + "\t" + json.dumps(
                {"client_id": c, "service_type_id": st, "provider_ids": [p], "start_date": start,
                 "visits_per_week": 1, "minutes_per_visit": 60, "instructions": "bench"}) for c, st, p in rows]
        elif kind == "accept":
            # One pending offer per still offered order, of the first providers.
            rows = conn.execute(sa.text(
                "SELECT DISTINCT ON (f.order_id) f.order_id, f.provider_id FROM offers f "
                "JOIN service_orders o ON o.id = f.order_id WHERE f.status = 'pending' AND o.status = 'offered' "
                "AND f.provider_id <= :n ORDER BY f.order_id, f.provider_id"), {"n": ACCEPTING_PROVIDERS}).all()
            tokens = {p: api_token(base, f"provider{p}@bench.invalid") for p in {p for _, p in rows}}
            lines = [f"POST\t/api/v1/orders/{order}/accept\t{tokens[p]}\t" for order, p in rows]
    engine.dispose()
    if kind != "insert":
        print(f"  {kind}: {len(lines)} distinct requests", file=sys.stderr, flush=True)
    path = folder / f"{kind}.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


class Server:
    """One gunicorn serving a target on a free loopback port, ready and logged in."""

    def __init__(self, app_spec: str, email: str | None, how: str, env: dict):
        if how == "get-uncached":
            env = dict(env, CATALOGUE_CACHE_SECONDS="0")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN, f"127.0.0.1:{self.port}", app_spec],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if app_spec == PLATFORM:
                wait_ready(self.base + "/healthz")
            elif how.startswith("get"):
                wait_ready(self.base + "/")
            else:
                time.sleep(3)
            self.cookie = login(self.base, email, "bench-password-2026") if email else None
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if getattr(self, "cookie", None):
            try:
                logout(self.base, self.cookie)
            except OSError as exc:
                print(f"  logout at {self.base} failed: {exc}", file=sys.stderr, flush=True)
        self.process.terminate()
        self.process.wait(20)


def _result(name: str, path: str, loaded: list[dict], single: list[dict], kind: str = "page") -> dict:
    """A target's figures: the median of its rounds (each round's are kept too)."""
    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2

    return {"name": name, "path": path, "kind": kind, "rps_16": median([r["rps"] for r in loaded]),
            "p95_ms_16": median([r["p95_ms"] for r in loaded]), "p50_ms_1": median([r["p50_ms"] for r in single]),
            "rps_1": median([r["rps"] for r in single]),
            "errors": sum(r["errors"] for r in loaded + single),
            "status_errors": sum(r["status_errors"] for r in loaded + single),
            "timeouts": sum(r["timeouts"] for r in loaded + single), "max_ms_16": max(r["max_ms"] for r in loaded),
            "requests": sum(r["requests"] for r in loaded + single),
            "rounds_rps_16": [r["rps"] for r in loaded]}


def run_pages(targets: list[tuple], env: dict, seconds: int, rounds: int) -> list[dict]:
    """Every page target served at once (idle servers cost nothing) and driven in
    ``rounds`` rounds, the yardstick first in each: a page's ratio is the median of its
    ratios to the yardstick of the same round, so a change of the machine's speed
    between rounds (a shared machine's neighbours) hits both sides of each ratio."""
    servers = {}
    try:
        for name, app_spec, _path, email, how in targets:
            servers[name] = Server(app_spec, email, how, env)
        for (name, _app, path, _email, _how) in targets:
            # The page itself, not a redirect to the login form (a logged-out run would be fast and wrong).
            request = urllib.request.Request(servers[name].base + path, headers={"Cookie": servers[name].cookie or ""})
            with urllib.request.urlopen(request) as response:
                if response.url != servers[name].base + path or response.status != 200:
                    raise RuntimeError(f"{name}: {path} answered {response.status} at {response.url}")
        for (name, _app, path, _email, _how) in targets:  # warm up every worker
            wrk(servers[name].base + path, 16, 2, servers[name].cookie)
        loaded = {name: [] for name, *_ in targets}
        single = {name: [] for name, *_ in targets}
        for round_number in range(rounds):
            for (name, _app, path, _email, _how) in targets:
                server = servers[name]
                loaded[name].append(wrk(server.base + path, 16, seconds, server.cookie))
                single[name].append(wrk(server.base + path, 1, max(3, seconds // 2), server.cookie))
                print(f"  round {round_number + 1}: {name}: {loaded[name][-1]['rps']} req/s", file=sys.stderr,
                      flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return [_result(name, path, loaded[name], single[name]) for name, _app, path, _email, _how in targets]


def run_post(name, app_spec, path, email, how, env, seconds) -> dict:
    """A POST target, once: the POSTs change the data (an offer is accepted once)."""
    if how == "insert":
        import sqlalchemy as sa

        from bench.ceilings import create_inserts_table

        url = env["DATABASE_URL"]
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                                  if url.startswith("postgresql://") else url)
        create_inserts_table(engine)
        engine.dispose()
    server = Server(app_spec, None, how, env)
    base = server.base
    try:
        with tempfile.TemporaryDirectory() as folder:
            requests_file = post_requests(how, base, env["DATABASE_URL"], Path(folder))
            # No warm-up round for the POSTs: every accepted offer is gone once accepted.
            loaded = wrk(base, 16, seconds, None, requests_file)
            if how != "insert":
                # wrk stops at its time with up to 16 requests still being served: let
                # them commit before the next list is read, or it holds offers they accept.
                time.sleep(2)
            single = wrk(base, 1, max(3, seconds // 2), None, requests_file) if how == "insert" else \
                wrk(base, 1, max(3, seconds // 2), None, post_requests(how, base, env["DATABASE_URL"], Path(folder)))
    finally:
        server.stop()
    return _result(name, path, [loaded], [single], kind="post")


def machine() -> str:
    cpus = os.cpu_count()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpus} × {model}, Python {platform.python_version()}, load average {load}"


def commit_latency(database_url: str, commits: int = 200) -> str:
    """The database's time to commit one small row (waiting for the disk, as a page's
    access-log rows do), p50 and p90 over ``commits`` commits to a temporary table.
    Every page commits once; the minimal list page does not, so this is part of the
    floor under a page's p50 at one connection."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    took = []
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE TEMPORARY TABLE bench_commit_latency (id integer)"))
        conn.commit()
        for i in range(commits):
            started = time.perf_counter()
            conn.execute(sa.text("INSERT INTO bench_commit_latency VALUES (:i)"), {"i": i})
            conn.commit()
            took.append(time.perf_counter() - started)
    engine.dispose()
    took.sort()
    return (f"a one-row commit takes {took[len(took) // 2] * 1000:.1f} ms (p50), "
            f"{took[len(took) * 9 // 10] * 1000:.1f} ms (p90)")


def print_table(results: list[dict], database_url: str) -> None:
    pages = next((r for r in results if r["name"].startswith("minimal list")), None)
    posts = next((r for r in results if r["name"].startswith("minimal one-row")), None)
    print(f"\n{datetime.now(timezone.utc).astimezone().strftime('%Y-%m-%d %H:%M %Z')}; {machine()}; "
          f"database {urllib.parse.urlsplit(database_url).path.lstrip('/')}; {commit_latency(database_url)}\n")
    rounds = len(pages["rounds_rps_16"]) if pages else 1
    print(f"Pages: {rounds} round(s), the minimal list page first in each; req/s, p95 and p50 are the "
          "medians of the rounds, a ratio the median of the ratios to the yardstick of the same round "
          "(lowest-highest in brackets). The POSTs run once each (they change the data).\n")
    print("| page | req/s at 16 conn. | ratio to its yardstick | p95 at 16 (ms) | p50 at 1 (ms) | "
          "non-2xx answers | time-outs (> 2 s) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        yardstick = posts if r["kind"] == "post" else pages
        ratio = "–"
        if yardstick:
            ratios = sorted(a / b for a, b in zip(r["rounds_rps_16"], yardstick["rounds_rps_16"]))
            r["ratio"] = ratios[len(ratios) // 2] if len(ratios) % 2 else \
                (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
            r["ratios"] = [round(x, 3) for x in ratios]
            ratio = f"{r['ratio']:.2f}" + (f" ({ratios[0]:.2f}-{ratios[-1]:.2f})" if len(ratios) > 1 else "")
        print(f"| {r['name']} (`{r['path']}`) | {r['rps_16']:.0f} | {ratio} | {r['p95_ms_16']:.1f} | "
              f"{r['p50_ms_1']:.1f} | {r['status_errors']} | {r['timeouts']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--seconds", type=int, default=6, help="each round's time at 16 connections (half of it at one)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the pages, the yardstick first in each")
    parser.add_argument("--only", default="", help="comma-separated target names to run")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "pages.json"))
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("give --database-url (a database seeded by bench/seed.py)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    env = dict(os.environ, DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, APP_ENV="production",
               SECRET_KEY="bench-secret-key-0123456789-0123456789-xx", LOG_LEVEL="WARNING",
               BASE_URL="http://127.0.0.1", LOGIN_MAX_FAILURES_ADDRESS="1000",
               SESSION_COOKIE_SECURE="false",  # plain http on loopback
               REQUIRE_SECOND_FACTOR="false",  # the bench users have no authenticator app
               API_RATE_LIMIT="1000000/minute", API_ANONYMOUS_RATE_LIMIT="1000000/minute")
    chosen = [t for t in TARGETS if not args.only or any(o.strip() in t[0] for o in args.only.split(","))]
    # The yardsticks run whatever --only says: a ratio needs its yardstick of the same run.
    for kind, yardstick in ((lambda t: t[4].startswith("get"), PAGE_YARDSTICK),
                            (lambda t: not t[4].startswith("get"), POST_YARDSTICK)):
        if any(kind(t) for t in chosen) and yardstick not in chosen:
            chosen.insert(0, yardstick)
    pages = sorted((t for t in chosen if t[4].startswith("get")), key=lambda t: t is not PAGE_YARDSTICK)
    results = run_pages(pages, env, args.seconds, args.rounds) if pages else []
    for result in results:
        print(json.dumps(result), flush=True)
    for name, app_spec, path, email, how in chosen:
        if how.startswith("get"):
            continue
        result = run_post(name, app_spec, path, email, how, env, max(args.seconds, 10))
        results.append(result)
        print(json.dumps(result), flush=True)
    print_table(results, args.database_url)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
