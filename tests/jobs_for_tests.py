"""Job functions used by the outbox tests: each run leaves a visible trace."""

from core.extensions import db
from core.models import OutgoingEmail


def record_run(marker: str) -> str:
    """Stores an e-mail row whose subject is the marker: one row per real run."""
    db.session.add(OutgoingEmail(to_address="jobs@example.fi", subject=marker, body="ran"))
    return marker


def always_fails(marker: str) -> None:
    raise RuntimeError(f"failing on purpose: {marker}")
