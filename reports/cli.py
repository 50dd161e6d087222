"""``flask reports settle``: compute and keep the figures of closed months now
(what the periodic ``reports.jobs.settle_months`` does), e.g. after loading
history or after repairing rows with raw SQL (``--recompute`` redoes every month)."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup

reports_cli = AppGroup("reports", help="Manager reports: monthly figures.")


@reports_cli.command("settle")
@click.option("--recompute", is_flag=True, help="Recompute every closed month, settled or not.")
@click.option("--kind", "kinds", multiple=True, help="Only this report kind (repeatable).")
def settle(recompute: bool, kinds: tuple[str, ...]) -> None:
    from core.extensions import db
    from core.uow import unit_of_work
    from reports import monthly
    from reports.aggregates import KINDS
    from reports.models import ReportMonth

    for kind in kinds or KINDS:
        if kind not in KINDS:
            raise click.BadParameter(f"unknown report kind {kind!r}; known: {', '.join(KINDS)}")
        started = time.perf_counter()
        with unit_of_work():
            if recompute:
                db.session.execute(sa.update(ReportMonth).where(ReportMonth.kind == kind)
                                   .values(stale=True, changes=ReportMonth.changes + 1))
            months = monthly.months_to_settle(kind)
            for month in months:
                monthly.settle_month(kind, month)
            spans = monthly.build_spans(kind)
            monthly.settle_month_to_date(kind)
        click.echo(f"{kind}: {len(months)} month(s) settled, {spans} span(s) combined in "
                   f"{time.perf_counter() - started:.2f} s")
