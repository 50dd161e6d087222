"""Job functions used by the outbox tests: each run leaves a visible trace."""

from core.extensions import db
from core.models import OutgoingEmail


def record_run(marker: str) -> str:
    """Stores an e-mail row whose subject is the marker: one row per real run."""
    db.session.add(OutgoingEmail(to_address="jobs@example.fi", subject=marker, body="ran"))
    return marker


def always_fails(marker: str) -> None:
    raise RuntimeError(f"failing on purpose: {marker}")


def slow_on_first_run(marker: str, seconds: float) -> str:
    """Leaves a committed "<marker>:started" row at once, then, on its first run
    only, sleeps ``seconds`` (time for a test to kill the worker running it); stores
    the marker row when it finishes."""
    import sqlalchemy as sa

    started = f"{marker}:started"
    earlier = db.session.scalar(sa.select(sa.func.count()).where(OutgoingEmail.subject == started))
    db.session.add(OutgoingEmail(to_address="jobs@example.fi", subject=started, body="started"))
    db.session.commit()
    if not earlier:
        import time

        time.sleep(seconds)
    db.session.add(OutgoingEmail(to_address="jobs@example.fi", subject=marker, body="ran"))
    return marker


def sleep_then_record(marker: str, seconds: float) -> str:
    """Runs for ``seconds`` (longer than a heartbeat interval), then stores the marker row."""
    import time

    time.sleep(seconds)
    db.session.add(OutgoingEmail(to_address="jobs@example.fi", subject=marker, body="ran"))
    return marker
