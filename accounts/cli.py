"""``flask users create`` (exactly as API.md) and ``flask users list``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from accounts.models import User
from accounts.services import create_user
from core.errors import DomainError
from core.extensions import db
from core.uow import unit_of_work

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "staff", "manager", "provider", "client"]))
@click.option("--provider", "provider_id", type=int, default=None, help="Organisation id of a provider member.")
@click.option("--client", "client_id", type=int, default=None, help="Client record id of a client login.")
@click.option("--name", default="", help="Full name.")
@click.option("--provider-role", type=click.Choice(["admin", "worker"]), default=None,
              help="A provider member's role in the organisation (default admin).")
def create(email, password, role, provider_id, client_id, name, provider_role):
    """Create a user."""
    # An operator's command: its messages are in English like the rest of its output.
    try:
        with force_locale("en"), unit_of_work():
            user = create_user(email, password, role, name=name, provider_id=provider_id,
                               client_id=client_id, provider_role=provider_role)
    except DomainError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.fields or {}).items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from None
    click.echo(f"created user {user.id} {user.email} ({user.role})")


@users_cli.command("list")
def list_users():
    """List users (id, role, e-mail)."""
    for user in db.session.scalars(db.select(User).order_by(User.id)):
        click.echo(f"{user.id}\t{user.role}\t{user.email}\t{'active' if user.active else 'inactive'}")
