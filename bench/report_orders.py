"""Benchmark of the manager reports (DESIGN.md section 9): every report kind over
the whole history of the reference data set, against the yardstick of a single
``SELECT status, count(*) FROM service_orders GROUP BY status`` over the orders.
``--settle`` first keeps the figures of the closed months (as the periodic job
does; timed), ``--live`` also times each report computed from the rows and checks
that it gives the same figures.

    python bench/seed.py --database-url postgresql://postgres@127.0.0.1:5432/kotiapu_bench5 --scale 5
    python bench/report_orders.py --database-url postgresql://postgres@127.0.0.1:5432/kotiapu_bench5

``--scale 5`` seeds 1,000,000 orders. The report is the one the RQ job builds
(``reports.aggregates.build``, the same function the dashboard calls): its period
runs from the first day of the month of the oldest order to the newest, so every
order is in it, grouped by month, month and category, category and provider. The
monthly report of the last full month is timed too. Each figure is the best of
``--repeat`` runs; the load average is printed, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


CPU: dict[int, float] = {}  # id of a best_of result -> the CPU seconds of this process in its best run


def best_of(repeat: int, func) -> tuple[float, object]:
    """The best wall time of ``repeat`` runs and the last result; the CPU time of
    this process (``time.process_time``: the Python side, not the database's) in
    the best run is ``CPU[id(result)]``."""
    best, result, cpu = float("inf"), None, 0.0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = func()
        took = time.perf_counter() - started
        if took < best:
            best, cpu = took, time.process_time() - started_cpu
    CPU[id(result)] = cpu
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kinds", default="all", help="comma-separated report kinds to time (default: all)")
    parser.add_argument("--live", action="store_true",
                        help="also time each report computed live from the rows (without the kept months)")
    parser.add_argument("--settle", action="store_true",
                        help="first compute and keep the figures of every closed month (timed)")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("give --database-url or DATABASE_URL")
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="kotiapu-bench-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import sqlalchemy as sa

    from app import create_app

    app = create_app({"DATABASE_URL": args.database_url})
    with app.app_context():
        from core.extensions import db
        from orders.models import ServiceOrder
        from core.time import local_date
        from reports.aggregates import KINDS, Filters, Period, build, local_today
        from reports import monthly

        dialect = db.engine.dialect.name
        first, last, total = db.session.execute(
            sa.select(sa.func.min(ServiceOrder.created_at), sa.func.max(ServiceOrder.created_at),
                      sa.func.count())).one()
        if not total:
            raise SystemExit("no orders: seed the database with bench/seed.py first")
        period = Period(local_date(first).replace(day=1), local_date(last))
        last_month = Period.month_of(local_today().replace(day=1) - timedelta(days=1))
        db.session.rollback()

        def yardstick():
            rows = db.session.execute(sa.text("SELECT status, count(*) FROM service_orders GROUP BY status")).all()
            db.session.rollback()
            return sum(n for _s, n in rows)

        def report(kind, p, live=False):
            def run():
                result = build(kind, p, Filters(), language="fi", live=live)
                db.session.rollback()
                return result
            return run

        kinds = list(KINDS) if args.kinds == "all" else [k.strip() for k in args.kinds.split(",") if k.strip()]
        settle_lines = []
        if args.settle:
            for kind in kinds:
                started = time.perf_counter()
                months = monthly.months_to_settle(kind)
                for month in months:
                    monthly.settle_month(kind, month)
                settled_s = time.perf_counter() - started
                spans = monthly.build_spans(kind)
                monthly.settle_month_to_date(kind)
                db.session.commit()
                settle_lines.append(f"| settle {kind}: {len(months)} closed months computed and kept, "
                                    f"{spans} spans combined, this month's finished days kept | "
                                    f"{settled_s:.2f} s + "
                                    f"{time.perf_counter() - started - settled_s:.2f} s |")

        load_before = os.getloadavg()
        yard_s, counted = best_of(args.repeat, yardstick)
        assert counted == total
        lines = [f"| database | {dialect} ({db.engine.url.render_as_string(hide_password=True)}) |",
                 f"| orders | {total:,} ({period.start} – {period.end}, {len(period.months())} months) |",
                 f"| yardstick `SELECT status, count(*) ... GROUP BY status` | {yard_s:.2f} s |"]
        lines += settle_lines
        for kind in kinds:
            seconds, result = best_of(args.repeat, report(kind, period))
            if kind == "orders":
                assert result["totals"]["orders"] == total, "the report must cover every order"
            live_text = ""
            if args.live:
                live_s, live_result = best_of(1, report(kind, period, live=True))
                same = {k: v for k, v in live_result.items() if k != "generated_at"} == {
                    k: v for k, v in result.items() if k != "generated_at"}
                live_text = f"; live from the rows {live_s:.2f} s, same figures: {'yes' if same else 'NO'}"
            lines.append(f"| {kind} report, whole history by month | {seconds:.2f} s "
                         f"(CPU here {CPU[id(result)]:.2f} s; {seconds / yard_s:.1f} x yardstick{live_text}) |")
            seconds, result = best_of(args.repeat, report(kind, last_month))
            covered = result["totals"].get("orders")
            lines.append(f"| {kind} report, last month ({last_month.start:%Y-%m}"
                         f"{f', {covered:,} orders' if covered else ''}) | {seconds:.2f} s |")
        load_after = os.getloadavg()
    print(f"best of {args.repeat}; load average before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} "
          f"on {os.cpu_count()} CPUs")
    print("| what | time |\n|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
