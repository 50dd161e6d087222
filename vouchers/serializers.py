"""One JSON shape per voucher object, shared by the API and the exports."""

from __future__ import annotations

from core.api import iso
from core.urls import absolute_url
from vouchers import services as svc
from vouchers.models import ServiceEvent, ServiceVoucher, SettlementLine, VoucherSettlement


def balance_json(b: svc.Balance) -> dict:
    return {"month": f"{b.month:%Y-%m}", "period_start": iso(b.start), "period_end": iso(b.end),
            "granted": b.granted, "used": b.used, "remaining": b.remaining}


def voucher_json(v: ServiceVoucher, user=None) -> dict:
    return {"id": v.id, "client_id": v.client_id, "service_type_id": v.service_type_id, "status": v.status,
            "unit": v.unit, "monthly_amount": v.monthly_amount, "value_cents_per_unit": v.value_cents_per_unit,
            "currency": "EUR", "renews": v.renews, "valid_from": iso(v.valid_from), "valid_to": iso(v.valid_to),
            "free_to_client": svc.free_to_client(v.service_type_id), "balance": balance_json(svc.balance(v)),
            "created_at": iso(v.created_at), "closed_at": iso(v.closed_at)}


def event_json(e: ServiceEvent, user=None) -> dict:
    return {"id": e.id, "voucher_id": e.voucher_id, "order_id": e.order_id, "provider_id": e.provider_id,
            "date": iso(e.date), "quantity": e.quantity, "unit": e.voucher.unit, "status": e.status,
            "voucher_cents": e.voucher_cents, "client_share_cents": e.client_share_cents, "currency": "EUR",
            "corrects_id": e.corrects_id, "refusal_reason": e.refusal_reason, "auto_approved": e.auto_approved,
            "settlement_id": e.settlement_id, "recorded_at": iso(e.recorded_at), "approved_at": iso(e.approved_at),
            "settled_at": iso(e.settled_at), "paid_at": iso(e.paid_at)}


def line_json(s: VoucherSettlement, line: SettlementLine) -> dict:
    return {"provider_id": line.provider_id, "events": line.events, "voucher_cents": line.voucher_cents,
            "client_share_cents": line.client_share_cents, "credit_cents": line.credit_cents,
            "payable_cents": line.payable_cents, "currency": "EUR",
            "statement_pdf_url": absolute_url("api.settlement_statement", settlement_id=s.id,
                                              file=f"{line.provider_id}.pdf"),
            "statement_csv_url": absolute_url("api.settlement_statement", settlement_id=s.id,
                                              file=f"{line.provider_id}.csv")}


def settlement_json(s: VoucherSettlement, user) -> dict:
    from vouchers import policy

    lines = svc.visible_lines(user, s)
    if policy.is_admin(user):
        download = absolute_url("api.settlement_county_file", settlement_id=s.id)
    elif lines:
        download = absolute_url("api.settlement_statement", settlement_id=s.id, file=f"{lines[0].provider_id}.pdf")
    else:
        download = None
    return {"id": s.id, "month": f"{s.month:%Y-%m}", "status": s.status,
            "lines": [line_json(s, line) for line in lines],
            "download_url": download if s.status in ("done", "paid") else None,
            "created_at": iso(s.created_at), "done_at": iso(s.done_at), "paid_at": iso(s.paid_at)}
