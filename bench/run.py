"""Load benchmark of the platform's pages against the two ceilings (DESIGN.md §9).

    python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/kotiapu_bench

Serves each target with the same gunicorn settings on 127.0.0.1, drives it with
``wrk`` at 16 connections (requests/s, p95) and at one connection (p50), and prints
a Markdown table with each page's requests/s as a ratio of the minimal list page.
Logged-in pages use a session cookie obtained through the real login form. The
database must hold the reference data set (bench/seed.py). Only loopback is used.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ["--workers", "4", "--worker-class", "sync", "--bind"]
TARGETS = [
    # (name, gunicorn app, path, login e-mail or None)
    ("hello world (ceiling)", "bench.ceilings:hello_app()", "/", None),
    ("minimal list page (yardstick)", "bench.ceilings:minimal_app()", "/?category=7", None),
    ("staff order list", "app:create_app()", "/orders/", "staff1@bench.invalid"),
    ("provider inbox", "app:create_app()", "/orders/inbox", "provider1@bench.invalid"),
]


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


def wrk(url: str, connections: int, seconds: int, cookie: str | None) -> dict:
    cmd = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s",
           "-s", str(ROOT / "bench" / "p95.lua")]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    fields = dict(kv.split("=") for kv in re.search(r"RESULT (.*)", out).group(1).split())
    n = int(fields["requests"])
    return {"requests": n, "errors": int(fields["errors"]),
            "rps": round(n / (int(fields["duration_us"]) / 1e6), 1),
            "p50_ms": round(int(fields["p50_us"]) / 1000, 2), "p95_ms": round(int(fields["p95_us"]) / 1000, 2)}


def run_target(name, app_spec, path, email, env, seconds) -> dict:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", *GUNICORN, f"127.0.0.1:{port}", app_spec],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + ("/healthz" if app_spec.startswith("app:") else "/"))
        cookie = login(base, email, "bench-password-2026") if email else None
        wrk(base + path, 16, 2, cookie)  # warm up every worker
        loaded = wrk(base + path, 16, seconds, cookie)
        single = wrk(base + path, 1, max(3, seconds // 2), cookie)
    finally:
        server.terminate()
        server.wait(20)
    return {"name": name, "path": path, "rps_16": loaded["rps"], "p95_ms_16": loaded["p95_ms"],
            "errors": loaded["errors"] + single["errors"], "p50_ms_1": single["p50_ms"], "rps_1": single["rps"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--seconds", type=int, default=10)
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
               SESSION_COOKIE_SECURE="false")  # plain http on loopback
    results = []
    for name, app_spec, path, email in TARGETS:
        if args.only and not any(o.strip() in name for o in args.only.split(",")):
            continue
        result = run_target(name, app_spec, path, email, env, args.seconds)
        results.append(result)
        print(json.dumps(result), flush=True)
    yardstick = next((r for r in results if r["name"].startswith("minimal")), None)
    print("\n| page | req/s at 16 conn. | ratio to minimal list page | p95 at 16 (ms) | p50 at 1 (ms) | errors |")
    print("|---|---|---|---|---|---|")
    for r in results:
        ratio = f"{r['rps_16'] / yardstick['rps_16']:.2f}" if yardstick else "–"
        print(f"| {r['name']} (`{r['path']}`) | {r['rps_16']:.0f} | {ratio} | {r['p95_ms_16']:.1f} | {r['p50_ms_1']:.1f} | {r['errors']} |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
