"""Voucher use for managers and the finance office: per month and service category,
per provider, the share of the granted value used, and the settlement totals.

Aggregated only, never a client: a row about fewer than the reports' small-group
limit of distinct clients has its figures suppressed, with the reports package's
complementary suppression (``reports.privacy.suppress_table``), so that totals do not give a
suppressed row away. The figures are read-only and exposed here (the page
``/vouchers/figures`` and ``GET /api/v1/voucher-figures``) rather than as a kind
of the reports package's runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa

from catalogue.models import ServiceType
from core.extensions import db
from providers.models import Provider
from reports.privacy import SMALL_GROUP, suppress_table  # the reports package's table suppression
from vouchers.models import COUNTING_STATUSES, ServiceEvent, ServiceVoucher, SettlementLine, VoucherSettlement
from vouchers.services import _superseded, month_end, month_start

PEOPLE = "clients"
USE_COLUMNS = ["clients", "events", "voucher_cents", "client_share_cents"]


def _suppress(rows: list[dict], columns: list[str], key: str, total_people: int | None = None,
              column: str | None = None) -> list[dict]:
    """The reports' small-group rule with complementary suppression, over a table
    whose rows are keyed by ``key`` (and by ``column`` for a two-way table, whose
    row and column totals can be worked out from the other tables). A suppressed
    row has its figures hidden (None) and ``suppressed`` set."""
    if column is None:
        cells = {(r[key], "all"): r[PEOPLE] for r in rows}
        result = suppress_table(cells, column_totals={"all": total_people} if total_people else True,
                                grand_total=False)
    else:
        cells = {(r[key], r[column]): r[PEOPLE] for r in rows}
        result = suppress_table(cells, row_totals=True, column_totals=True, grand_total=True)
    hidden = set(result.cells)
    for r in rows:
        r["suppressed"] = (r[key], "all" if column is None else r[column]) in hidden
        if r["suppressed"]:
            for c in columns:
                r[c] = None
    return rows


def granted_cents(voucher: ServiceVoucher) -> int:
    """A month's grant of a voucher in cents of county money."""
    if voucher.unit == "hour":
        return (voucher.monthly_amount * voucher.value_cents_per_unit + 30) // 60
    if voucher.unit == "visit":
        return voucher.monthly_amount * voucher.value_cents_per_unit
    return voucher.monthly_amount


def months_between(start: date, end: date) -> list[date]:
    months, m = [], month_start(start)
    while m <= end:
        months.append(m)
        m = month_end(m) + timedelta(days=1)
    return months


def voucher_figures(start: date, end: date) -> dict:
    """The figures of the months from ``start`` to ``end`` (first days of months)."""
    start, end = month_start(start), month_end(end)
    events = db.session.execute(
        sa.select(ServiceEvent.month, ServiceEvent.provider_id, ServiceEvent.voucher_cents,
                  ServiceEvent.client_share_cents, ServiceVoucher.client_id, ServiceType.category_id)
        .join(ServiceVoucher, ServiceVoucher.id == ServiceEvent.voucher_id)
        .join(ServiceType, ServiceType.id == ServiceVoucher.service_type_id)
        .where(ServiceEvent.status.in_(COUNTING_STATUSES), ServiceEvent.id.not_in(_superseded()),
               ServiceEvent.date >= start, ServiceEvent.date <= end)).all()
    from catalogue.models import ServiceCategory

    categories = {c.id: c.name() for c in db.session.scalars(sa.select(ServiceCategory))}
    by_month_cat: dict = defaultdict(lambda: {"clients": set(), "events": 0, "voucher_cents": 0,
                                               "client_share_cents": 0})
    by_provider: dict = defaultdict(lambda: {"clients": set(), "events": 0, "voucher_cents": 0,
                                              "client_share_cents": 0})
    for month, provider_id, vc, share, client_id, category_id in events:
        for bucket in (by_month_cat[(month, category_id)], by_provider[provider_id]):
            bucket["clients"].add(client_id)
            bucket["events"] += 1
            bucket["voucher_cents"] += vc
            bucket["client_share_cents"] += share

    def flat(figures: dict) -> dict:
        return {**figures, "clients": len(figures["clients"])}

    use_rows = [{"month": f"{m:%Y-%m}", "category_id": cid, "category": categories.get(cid, ""), **flat(f)}
                for (m, cid), f in sorted(by_month_cat.items(), key=lambda kv: (kv[0][0], categories.get(kv[0][1], "")))]
    _suppress(use_rows, USE_COLUMNS, "month", column="category_id")
    names = dict(db.session.execute(sa.select(Provider.id, Provider.name)
                                    .where(Provider.id.in_(list(by_provider) or [0]))).all())
    provider_rows = [{"provider_id": pid, "provider": names.get(pid, ""), **flat(f)}
                     for pid, f in sorted(by_provider.items(), key=lambda kv: names.get(kv[0], "").lower())]
    _suppress(provider_rows, USE_COLUMNS, "provider_id", total_people=len({e[4] for e in events}))

    # The share of the granted value used, per month: every voucher valid in the month.
    vouchers = db.session.scalars(sa.select(ServiceVoucher).where(
        ServiceVoucher.valid_from <= end,
        sa.or_(ServiceVoucher.valid_to.is_(None), ServiceVoucher.valid_to >= start))).all()
    used_by_month: dict = defaultdict(int)
    for month, _pid, vc, _share, _client, _cat in events:
        used_by_month[month] += vc
    share_rows = []
    for m in months_between(start, end):
        valid = [v for v in vouchers if v.valid_from <= month_end(m) and (v.valid_to is None or v.valid_to >= m)
                 and (v.renews or v.valid_from >= m)]
        granted = sum(granted_cents(v) for v in valid)
        used = used_by_month.get(m, 0)
        share_rows.append({"month": f"{m:%Y-%m}", "clients": len({v.client_id for v in valid}),
                           "vouchers": len(valid), "granted_cents": granted, "used_cents": used,
                           "used_percent": round(100 * used / granted, 1) if granted else None})
    _suppress(share_rows, ["vouchers", "granted_cents", "used_cents", "used_percent"], "month")

    settlements = db.session.execute(
        sa.select(VoucherSettlement.month, VoucherSettlement.status, sa.func.count(SettlementLine.id),
                  sa.func.coalesce(sa.func.sum(SettlementLine.voucher_cents), 0),
                  sa.func.coalesce(sa.func.sum(SettlementLine.credit_cents), 0),
                  sa.func.coalesce(sa.func.sum(SettlementLine.client_share_cents), 0))
        .outerjoin(SettlementLine, SettlementLine.settlement_id == VoucherSettlement.id)
        .where(VoucherSettlement.month >= start, VoucherSettlement.month <= end)
        .group_by(VoucherSettlement.month, VoucherSettlement.status).order_by(VoucherSettlement.month)).all()
    settlement_rows = [{"month": f"{m:%Y-%m}", "status": status, "providers": n, "voucher_cents": int(vc),
                        "credit_cents": int(credit), "payable_cents": int(vc) + int(credit),
                        "client_share_cents": int(share)} for m, status, n, vc, credit, share in settlements]
    return {"from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}", "small_group_limit": SMALL_GROUP, "currency": "EUR",
            "use_by_month_and_category": use_rows, "use_by_provider": provider_rows,
            "share_of_granted_value_used": share_rows, "settlements": settlement_rows}
