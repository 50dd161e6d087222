"""Front-door jobs: escalating a callback when it falls due (scheduled at the due
time by RQ's scheduler when the request comes in) and the periodic sweep that
escalates any overdue callback whose scheduled job was lost and erases the personal
details of requests finished longer ago than the retention period. Both are
idempotent."""

from __future__ import annotations

from frontdoor import services


def escalate_if_overdue(request_id: int) -> list[int]:
    """Run at the request's due time: escalate it if nobody has called back."""
    return services.escalate_overdue([request_id])


def sweep_overdue() -> list[int]:
    """The periodic sweep: escalate overdue callbacks, and erase the personal details
    of requests finished longer ago than the retention period."""
    escalated = services.escalate_overdue()
    services.erase_finished()
    return escalated
