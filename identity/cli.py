"""``flask identity link-code EMAIL``: link a relative's personal identity code
(read from the terminal, never from the command line, so it stays out of shell
history) to their login, as a keyed hash; ``unlink-code EMAIL`` removes it."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from accounts.models import User
from core.errors import DomainError
from core.extensions import db
from core.uow import unit_of_work

identity_cli = AppGroup("identity", help="Strong identification: relatives' identity codes.")


def _user(email: str) -> User:
    user = db.session.scalars(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower())).first()
    if user is None:
        raise click.ClickException("no user with that e-mail address")
    return user


@identity_cli.command("link-code")
@click.argument("email")
@click.option("--code", prompt="Personal identity code", hide_input=True, help="Asked for when not given.")
def link_code(email: str, code: str):
    """Link the personal identity code of the user EMAIL (a relative) to their login."""
    from identity.services import link_identity_code

    with unit_of_work():
        try:
            link_identity_code(_user(email), code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    click.echo("linked")


@identity_cli.command("unlink-code")
@click.argument("email")
def unlink_code(email: str):
    """Remove the identity code linked to the user EMAIL."""
    from identity.services import unlink_identity_code

    with unit_of_work():
        removed = unlink_identity_code(_user(email))
    click.echo("removed" if removed else "nothing to remove")
