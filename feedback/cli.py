"""``flask feedback ...``: operator commands for the feedback domain."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.uow import unit_of_work
from feedback.services import recount_ratings

feedback_cli = AppGroup("feedback", help="Feedback links and ratings.")


@feedback_cli.command("recount-ratings")
def recount_ratings_command():
    """Recompute every provider's rating sum and count from published feedback."""
    with unit_of_work():
        changed = recount_ratings()
    click.echo(f"{changed} provider rating(s) corrected")
