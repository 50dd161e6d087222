"""Load the reference data set of DESIGN.md section 9 into an empty, migrated
database: 500 providers, 150 service types, 20,000 clients, 200,000 orders with
1,000,000 visit reports (``--scale`` shrinks it proportionally), plus the 100,000-row
table of the minimal list page.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kotiapu_bench python bench/seed.py

Rows are generated inside the database with recursive CTEs (the same SQL on
PostgreSQL and SQLite), so a million visit reports take seconds, not minutes.
Order statuses cycle with the id: (id-1) % 10 = 0-3 closed, 4 completed,
5 in progress, 6 accepted, 7 offered, 8 escalated, 9 cancelled; client, orderer and
provider change every ten ids, so each of them has orders in every status.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

STATUS_CASE = """CASE (x - 1) % 10 WHEN 0 THEN 'closed' WHEN 1 THEN 'closed' WHEN 2 THEN 'closed'
  WHEN 3 THEN 'closed' WHEN 4 THEN 'completed' WHEN 5 THEN 'in_progress' WHEN 6 THEN 'accepted'
  WHEN 7 THEN 'offered' WHEN 8 THEN 'escalated' ELSE 'cancelled' END"""
POSTAL_CODES = 30  # 33100, 33110, ... 33390
BENCH_PASSWORD = "bench-password-2026"


def series(n: int) -> str:
    return f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {int(n)}) "


def days_ago(dialect: str, expr: str) -> str:
    """SQL for ``:base`` minus ``expr`` days (a timestamp)."""
    if dialect == "postgresql":
        return f"(CAST(:base AS timestamptz) - ({expr}) * interval '1 day')"
    return f"datetime(:base, '-' || ({expr}) || ' days')"


def minutes_after(dialect: str, ts: str, minutes: str) -> str:
    if dialect == "postgresql":
        return f"({ts} + ({minutes}) * interval '1 minute')"
    return f"datetime({ts}, '+' || ({minutes}) || ' minutes')"


def as_date(dialect: str, ts: str) -> str:
    return f"CAST({ts} AS date)" if dialect == "postgresql" else f"date({ts})"


def business_ids(n: int) -> list[str]:
    from core.validators import business_id_check_digit

    out, base = [], 3000000
    while len(out) < n:
        check = business_id_check_digit(f"{base:07d}")
        if check is not None:
            out.append(f"{base:07d}-{check}")
        base += 1
    return out


def seed(url: str, scale: float = 1.0) -> dict:
    from accounts.services import hash_password

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url)
    dialect = engine.dialect.name
    n_providers, n_types, n_clients = max(10, int(500 * scale)), 150, max(100, int(20000 * scale))
    n_orders, n_visits, n_items = max(1000, int(200000 * scale)), max(5000, int(1000000 * scale)), 100000
    n_staff = 50
    base = datetime.now(timezone.utc).replace(microsecond=0)
    base_param = base.isoformat() if dialect == "postgresql" else base.strftime("%Y-%m-%d %H:%M:%S")
    pw = hash_password(BENCH_PASSWORD)
    started = time.perf_counter()
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT count(*) FROM users")).scalar():
            raise SystemExit("the database is not empty; seed an empty, migrated database")
        p = {"base": base_param}
        conn.execute(sa.text(series(15) + "INSERT INTO service_categories (slug, name_fi, name_sv, name_en, position) "
                             "SELECT 'cat-' || x, 'Kategoria ' || x, 'Kategori ' || x, 'Category ' || x, x FROM g"))
        conn.execute(sa.text(series(n_types) + "INSERT INTO service_types (category_id, slug, name_fi, name_sv, name_en, "
                             "description_fi, self_paid_allowed, needs_soteri, default_unit, active) "
                             "SELECT 1 + (x % 15), 'st-' || x, 'Palvelu ' || x, 'Tjänst ' || x, 'Service ' || x, '', "
                             "true, false, 'hour', true FROM g"))
        ids = business_ids(n_providers)
        conn.execute(sa.text(
            "INSERT INTO providers (name, business_id, kind, status, email, description, languages, service_areas, "
            "soteri_registered, prepayment_register, allows_invoice, rating_sum, rating_count, created_at, approved_at) "
            "VALUES (:name, :bid, :kind, 'approved', :email, '', '[\"fi\"]', '[]', false, true, true, :rs, :rc, :base, :base)"),
            [{"name": f"Palveluntuottaja {i} Oy", "bid": ids[i - 1], "kind": "agency" if i % 50 == 0 else ("ngo" if i % 3 == 0 else "company"),
              "email": f"provider{i}@bench.invalid", "rs": 4 * (i % 7), "rc": i % 7, "base": base_param}
             for i in range(1, n_providers + 1)])
        conn.execute(sa.text(
            "INSERT INTO users (email, name, password_hash, role, language, active, created_at, session_version) "
            "VALUES (:email, :name, :pw, 'staff', 'fi', true, :base, 1)"),
            [{"email": f"staff{i}@bench.invalid", "name": f"Ohjaaja {i}", "pw": pw, "base": base_param}
             for i in range(1, n_staff + 1)])
        conn.execute(sa.text(
            "INSERT INTO users (email, name, password_hash, role, provider_id, provider_role, language, active, "
            "created_at, session_version) VALUES (:email, :name, :pw, 'provider', :pid, 'admin', 'fi', true, :base, 1)"),
            [{"email": f"provider{i}@bench.invalid", "name": f"Tuottaja {i}", "pw": pw, "pid": i, "base": base_param}
             for i in range(1, n_providers + 1)])
        conn.execute(sa.text(series(n_clients) +
            "INSERT INTO clients (first_name, last_name, birth_date, address, postal_code, municipality, languages, "
            "consent_to_share, segment, non_disclosure, responsible_worker_id, notes, created_at, updated_at, last_activity_at) "
            f"SELECT 'Etunimi' || x, 'Sukunimi' || (x % 997), NULL, 'Katu ' || x, CAST(33100 + (x % {POSTAL_CODES}) * 10 AS TEXT), "
            "'Tampere', '[\"fi\"]', true, 'guidance', false, 1 + (x % 50), '', :base, :base, :base FROM g"), p)
        # Ten clients who log in themselves (the client portfolio of bench/run.py).
        conn.execute(sa.text(
            "INSERT INTO users (email, name, password_hash, role, client_id, language, active, created_at, "
            "session_version) VALUES (:email, :name, :pw, 'client', :cid, 'fi', true, :base, 1)"),
            [{"email": f"client{i}@bench.invalid", "name": f"Etunimi{i} Sukunimi{i % 997}", "pw": pw, "cid": i,
              "base": base_param} for i in range(1, 11)])
        # Each provider offers 10 service types at 5 postal codes.
        conn.execute(sa.text(series(n_providers * 10) +
            "INSERT INTO offerings (provider_id, service_type_id, unit, price_cents, vat_rate_bp, self_paid, "
            "household_deduction, labour_share_percent, languages, description, active, created_at, updated_at) "
            f"SELECT 1 + ((x - 1) / 10), 1 + ((x * 7) % {n_types}), 'hour', 3000 + (x % 40) * 100, 2550, true, "
            "(x % 2 = 0), 100, '[\"fi\"]', '', true, :base, :base FROM g"), p)
        conn.execute(sa.text(series(5) +
            "INSERT INTO offering_areas (offering_id, postal_code) "
            f"SELECT o.id, CAST(33100 + ((o.id + g.x * 6) % {POSTAL_CODES}) * 10 AS TEXT) FROM offerings o CROSS JOIN g"))
        created = days_ago(dialect, "x % 365")
        accepted = minutes_after(dialect, created, "30 + (x % 600)")
        conn.execute(sa.text(series(n_orders) +
            "INSERT INTO service_orders (number, client_id, service_type_id, ordered_by_id, provider_id, status, funding, "
            "offer_mode, instructions, start_date, visits_per_week, minutes_per_visit, version, created_at, offered_at, "
            "accepted_at, in_progress_at, completed_at, closed_at, cancelled_at, escalated_at, outcome, has_concern) "
            f"SELECT 'SO-B-' || x, 1 + ((x / 10) % {n_clients}), 1 + (x % {n_types}), 1 + ((x / 10) % {n_staff}), "
            f"CASE WHEN (x - 1) % 10 <= 6 THEN 1 + ((x / 10) % {n_providers}) ELSE NULL END, {STATUS_CASE}, "
            "CASE x % 3 WHEN 0 THEN 'voucher' ELSE 'municipality' END, 'broadcast', '', "
            f"{as_date(dialect, created)}, 2, 60, 1, {created}, {created}, "
            f"CASE WHEN (x - 1) % 10 <= 6 THEN {accepted} END, "
            f"CASE WHEN (x - 1) % 10 <= 5 THEN {accepted} END, "
            f"CASE WHEN (x - 1) % 10 <= 4 THEN {accepted} END, "
            f"CASE WHEN (x - 1) % 10 <= 3 THEN {accepted} END, "
            f"CASE WHEN (x - 1) % 10 = 9 THEN {accepted} END, "
            f"CASE WHEN (x - 1) % 10 = 8 THEN {accepted} END, "
            "CASE WHEN (x - 1) % 10 <= 3 THEN (CASE WHEN x % 17 = 0 THEN 'not_received' ELSE 'received' END) END, "
            "(x % 97 = 0) FROM g"), p)
        # The winner's offer for accepted-onward orders; a pending offer to two
        # providers for offered orders.
        conn.execute(sa.text(
            "INSERT INTO offers (order_id, provider_id, status, rank, sent_at, deadline_at, answered_at, auto_accepted) "
            "SELECT id, provider_id, 'accepted', 1, offered_at, offered_at, accepted_at, false FROM service_orders "
            "WHERE provider_id IS NOT NULL"))
        conn.execute(sa.text(
            "INSERT INTO offers (order_id, provider_id, status, rank, sent_at, deadline_at, auto_accepted) "
            f"SELECT id, 1 + ((id + k.k) % {n_providers}), 'pending', k.k, offered_at, :future, false "
            "FROM service_orders CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k WHERE status = 'offered'"),
            {"future": (base + timedelta(hours=24)).isoformat() if dialect == "postgresql"
             else (base + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")})
        started_orders = n_orders * 6 // 10
        visit_order = f"((((x - 1) % {started_orders}) / 6) * 10 + ((x - 1) % {started_orders}) % 6 + 1)"
        conn.execute(sa.text(series(n_visits) +
            "INSERT INTO visit_reports (order_id, provider_id, reported_by_id, date, minutes, tasks, note, concern, created_at) "
            f"SELECT {visit_order}, 1 + (({visit_order} / 10) % {n_providers}), NULL, {as_date(dialect, days_ago(dialect, 'x % 365'))}, "
            "30 + (x % 4) * 15, '[\"siivous\"]', NULL, (x % 501 = 0), :base FROM g"), p)
        conn.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS bench_items (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, "
            "category INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL)"))
        conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_bench_items_category_id ON bench_items (category, id)"))
        conn.execute(sa.text(series(n_items) + "INSERT INTO bench_items (id, name, category, created_at) "
                             "SELECT x, 'Item ' || x, x % 100, :base FROM g"), p)
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("providers", "service_types", "clients", "service_orders", "offers", "visit_reports", "bench_items")}
    counts["seconds"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the reference size (1.0 = full)")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("give --database-url or DATABASE_URL")
    print(seed(args.database_url, args.scale))


if __name__ == "__main__":
    main()
