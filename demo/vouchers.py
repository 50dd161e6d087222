"""Service vouchers in the demo: the service events of the voucher-funded orders'
visits of the last two months and this one (the older ones approved, this month's
partly waiting for review, one refused back to its provider; last month's approved
and waiting for the administrator, or the scheduled job, to settle them), and a
voucher granted to Aino
Virtanen (the client login) so that her page shows a balance and each provider's
own share side by side.

The events are history, so they are written as rows with the amounts
``vouchers.services`` computes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from demo.base import Demo
from orders.models import OrderStatus, ServiceOrder, VisitReport
from vouchers import services as svc
from vouchers.models import EventStatus, ServiceEvent, ServiceVoucher

REFUSAL = "Käynnin kesto ei vastaa sovittua suunnitelmaa, tarkistakaa minuutit."


def build_voucher_events(d: Demo) -> None:
    this_month = svc.month_start(d.today)
    last_month = svc.month_start(this_month - timedelta(days=1))
    month_before = svc.month_start(last_month - timedelta(days=1))
    orders = d.session.scalars(sa.select(ServiceOrder).where(
        ServiceOrder.voucher_id.isnot(None), ServiceOrder.provider_id.isnot(None),
        ServiceOrder.status.in_((OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED)))
        .order_by(ServiceOrder.id)).all()
    used: dict[tuple[int, object], int] = {}
    refused = False
    for order in orders:
        voucher = d.session.get(ServiceVoucher, order.voucher_id)
        price = svc.provider_price(order.provider_id, voucher.service_type_id, voucher.unit)
        visits = d.session.scalars(sa.select(VisitReport).where(
            VisitReport.order_id == order.id, VisitReport.date >= max(month_before, voucher.valid_from),
            VisitReport.date <= d.today).order_by(VisitReport.date, VisitReport.id)).all()
        for visit in visits:
            quantity = visit.minutes if voucher.unit == "hour" else 1
            key = (voucher.id, svc.month_start(visit.date))
            if used.get(key, 0) + quantity > voucher.monthly_amount:
                continue
            used[key] = used.get(key, 0) + quantity
            voucher_cents, share = svc.split_amount(voucher.unit, quantity, voucher.value_cents_per_unit, price)
            recorded = visit.created_at + timedelta(hours=2)
            status, approved_at, reason = EventStatus.APPROVED, recorded + timedelta(days=1), None
            if visit.date >= this_month and d.rng.random() < 0.6:
                status, approved_at = EventStatus.RECORDED, None
                if not refused:
                    status, reason, refused = EventStatus.REFUSED, REFUSAL, True
            d.add(ServiceEvent(
                voucher_id=voucher.id, order_id=order.id, provider_id=order.provider_id, visit_id=visit.id,
                date=visit.date, month=svc.month_start(visit.date), quantity=quantity,
                price_cents_per_unit=price, voucher_cents=voucher_cents, client_share_cents=share, status=status,
                refusal_reason=reason, recorded_by_id=visit.reported_by_id, created_at=recorded,
                recorded_at=recorded, approved_at=approved_at,
                refused_at=recorded + timedelta(days=1) if reason else None))
            if status == EventStatus.REFUSED:
                used[key] -= quantity
            d.count("voucher_service_events")
    d.session.flush()
    _aino_voucher(d)


def _aino_voucher(d: Demo) -> None:
    """Aino Virtanen (the client login) gets a cleaning voucher of 6 hours a month."""
    aino = next(c for c in d.clients if (c.first_name, c.last_name) == ("Aino", "Virtanen"))
    staff = d.staff_by_id.get(aino.responsible_worker_id) or d.staff[0]
    service = d.services.get("yllapitosiivous") or next(iter(d.services.values()))
    voucher = svc.grant_voucher(staff, client_id=aino.id, service_type_id=service.id, unit="hour",
                                monthly_amount=6 * 60, value_cents_per_unit=3200,
                                valid_from=svc.month_start(d.today), valid_to=d.today + timedelta(days=365),
                                renews=True)
    voucher.created_at = d.ago(days=2)
    d.count("service_vouchers")
