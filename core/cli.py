"""Core's own operator commands: ``flask jobs ...`` (the outbox). ``flask demo`` and
``flask serve`` load every domain's demo data and live in ``demo.cli``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from core.extensions import db
from core.jobs import QUEUES, dispatch_pending, queue
from core.models import OutboxJob

jobs_cli = AppGroup("jobs", help="Background jobs and the outbox.")


@jobs_cli.command("dispatch")
def dispatch():
    """Push outbox jobs that Redis has not taken yet."""
    click.echo(f"pushed {dispatch_pending()} job(s)")


@jobs_cli.command("status")
def status():
    """Count outbox jobs by state, and RQ queue lengths."""
    pending = db.session.scalar(sa.select(sa.func.count()).where(OutboxJob.pushed_at.is_(None), OutboxJob.done_at.is_(None)))
    running = db.session.scalar(sa.select(sa.func.count()).where(OutboxJob.pushed_at.is_not(None), OutboxJob.done_at.is_(None)))
    done = db.session.scalar(sa.select(sa.func.count()).where(OutboxJob.done_at.is_not(None)))
    click.echo(f"outbox: {pending} waiting for Redis, {running} queued or running, {done} done")
    for name in QUEUES:
        q = queue(name)
        click.echo(f"queue {name}: {q.count} queued, {q.failed_job_registry.count} failed")
