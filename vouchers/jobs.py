"""Voucher jobs (RQ): the approval rule of a recorded event and running a month's
settlement (both queued through the outbox), the scheduled monthly settlement and the closing of vouchers
whose validity ended (periodic sweeps, ``core.worker.run_periodic``).

Each is idempotent: a settlement already done is left as it is, and a voucher
already closed is not closed again. They commit nothing themselves."""

from __future__ import annotations

from vouchers import services


def run_settlement(settlement_id: int) -> dict:
    settlement = services.run_settlement(settlement_id)
    return {"settlement_id": settlement.id, "status": settlement.status}


def apply_approval_rule(event_id: int) -> bool:
    return services.apply_approval_rule(event_id)


def monthly_settlement() -> int | None:
    """Periodic: settle the previous month once ``VOUCHER_SETTLEMENT_DAY`` has come."""
    return services.settle_due_month()


def close_expired() -> int:
    return services.close_expired_vouchers()
