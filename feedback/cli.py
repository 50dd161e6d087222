"""``flask feedback ...``: operator commands for the feedback domain."""

from __future__ import annotations

import click
from flask.cli import AppGroup

feedback_cli = AppGroup("feedback", help="Feedback links and ratings.")


@feedback_cli.command("recount-ratings")
def recount_ratings_command():
    """Recompute every provider's rating sum and count from published feedback."""
    from core.extensions import db
    from feedback.services import recount_ratings

    changed = recount_ratings()
    db.session.commit()
    click.echo(f"{changed} provider rating(s) corrected")
