"""Provider jobs: the hourly sweep that reminds of expiring attachments, and the
removal of a stored file after the commit that dropped its last reference.

Jobs take ids and primitives, reload their rows, are idempotent and commit nothing
themselves (``core.jobs.run_outbox_job`` and ``core.worker.run_periodic`` commit)."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from providers import documents
from providers.models import Provider, ProviderAttachment


def remind_expiring_attachments() -> int:
    """Periodic (hourly): reminders 30 and 7 days before an attachment expires, once
    each per recipient (see ``providers.documents.remind_expiring_attachments``)."""
    return documents.remind_expiring_attachments()


def delete_stored_file(stored_name: str) -> str:
    """Remove an attachment or logo file that no row refers to any more. Does nothing
    if the file is gone already or a row still names it."""
    in_use = db.session.scalar(sa.select(ProviderAttachment.id).where(ProviderAttachment.stored_name == stored_name)
                               .limit(1)) is not None or \
        db.session.scalar(sa.select(Provider.id).where(Provider.logo_path == stored_name).limit(1)) is not None
    if in_use:
        return "in use"
    path = documents.stored_path(stored_name)
    if not path.exists():
        return "gone"
    path.unlink()
    return "deleted"
