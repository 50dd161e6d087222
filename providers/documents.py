"""An organisation's documents (insurance, self-monitoring plan, certificates) and its
stored files: checks of a file by name AND content and size, storage under
``UPLOAD_DIR`` (never the web root) with random names, who may open them, and the
hourly reminders before a document expires.

A file is removed by a job (``providers.jobs.delete_stored_file``) after the commit
that drops its row, so a rolled-back change never loses a file still referenced."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date, ngettext

from accounts.models import ProviderRole, User
from accounts.permissions import scope_provider_owned
from core.db import utcnow
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.mail import queue_email
from core.templating import fmt_date
from core.urls import absolute_url
from core.time import local_today
from providers import policy
from providers.common import (
    ATTACHMENT_LABELS,
    FILE_TYPES,
    REMINDER_DAYS,
    _,
    _provider,
    _require,
    _today,
    platform_admins,
    provider_language,
)
from providers.models import AttachmentKind, Provider, ProviderAttachment, ProviderStatus

# --------------------------------------------------------------------------- files


@dataclass
class Upload:
    """A file as received: the name the user gave it and its bytes (read by the view
    with a size cap)."""

    filename: str
    data: bytes


def upload_limit() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def _check_file(upload: Upload | None, errors: dict, field: str, allowed=tuple(FILE_TYPES),
                limit: int | None = None) -> tuple[str, str] | None:
    """Validate a file by its name AND its content; returns (extension, content type)."""
    if upload is None or not upload.filename:
        return None
    limit = limit or upload_limit()
    ext = PurePosixPath(upload.filename.replace("\\", "/")).suffix.lower().lstrip(".")
    names = ", ".join(sorted({"PDF" if e == "pdf" else "PNG" if e == "png" else "JPEG" for e in allowed}))
    if ext not in allowed:
        _require(errors, field, _("Only these file types are accepted: %(types)s.", types=names))
        return None
    if not upload.data:
        _require(errors, field, _("The file is empty."))
        return None
    if len(upload.data) > limit:
        _require(errors, field, _("The file is larger than %(mb)s MB. Choose a smaller file.",
                                  mb=round(limit / 1024 / 1024, 1)))
        return None
    content_type, magic = FILE_TYPES[ext]
    if not upload.data.startswith(magic):
        _require(errors, field, _("The file's content does not match its name: it is not a real %(type)s file.",
                                  type="PDF" if ext == "pdf" else ext.upper().replace("JPG", "JPEG")))
        return None
    return ext, content_type


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "providers"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def stored_path(stored_name: str) -> Path:
    """The file of a stored name; the name is ours (random hex), never the user's."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|png|jpg|jpeg)", stored_name or ""):
        raise NotFoundError(_("No such file."))
    return upload_dir() / stored_name


def _write_file(data: bytes, ext: str) -> str:
    name = f"{secrets.token_hex(16)}.{ext}"
    path = upload_dir() / name
    with open(path, "xb") as fh:
        fh.write(data)
    path.chmod(0o600)
    return name


def _remove_files_now(names: list[str]) -> None:
    for name in names:
        try:
            stored_path(name).unlink(missing_ok=True)
        except (OSError, NotFoundError):
            pass


def _display_filename(filename: str, ext: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip() or f"attachment.{ext}"
    return name[-200:]


@dataclass
class NewAttachment:
    kind: str
    upload: Upload
    expires_on: date | None = None


def _check_attachment(att: NewAttachment, errors: dict, field: str) -> tuple[str, str] | None:
    if att.kind not in set(AttachmentKind):
        _require(errors, field, _("Choose what kind of document this is."))
        return None
    if att.expires_on is not None and att.expires_on < _today():
        _require(errors, field, _("The document has already expired (%(date)s). Upload a valid one.",
                                  date=fmt_date(att.expires_on)))
        return None
    checked = _check_file(att.upload, errors, field)
    if checked is None and not errors.get(field):
        _require(errors, field, _("Choose a file."))
    return checked


def _store_attachment(provider_id: int, att: NewAttachment, checked: tuple[str, str], actor,
                      written: list[str]) -> ProviderAttachment:
    ext, content_type = checked
    stored = _write_file(att.upload.data, ext)
    written.append(stored)
    row = ProviderAttachment(
        provider_id=provider_id, kind=att.kind, filename=_display_filename(att.upload.filename, ext),
        stored_name=stored, content_type=content_type, size_bytes=len(att.upload.data), expires_on=att.expires_on,
        uploaded_by_id=getattr(actor, "id", None))
    db.session.add(row)
    return row


# --------------------------------------------------------------------------- attachments


def add_attachment(provider_id: int, kind: str, upload: Upload | None, expires_on: date | None, actor
                   ) -> ProviderAttachment:
    """An organisation's administrator (or a platform admin) adds a document. The
    file must be PDF, PNG or JPEG by name and by content and within MAX_UPLOAD_MB;
    it is stored under UPLOAD_DIR with a random name."""
    policy.require_manage(actor, provider_id)
    _provider(provider_id)
    errors: dict = {}
    att = NewAttachment(kind=kind, upload=upload or Upload("", b""), expires_on=expires_on)
    checked = _check_attachment(att, errors, "file")
    if errors or checked is None:
        raise ValidationFailed(next(iter(errors.values()))[0], code="invalid_attachment",
                               fields={"file": errors.get("file", [])})
    written: list[str] = []
    try:
        row = _store_attachment(provider_id, att, checked, actor, written)
        db.session.flush()
    except BaseException:
        _remove_files_now(written)
        raise
    return row


def get_attachment(attachment_id: int, user) -> ProviderAttachment:
    """An attachment the user may see (platform admins and members of the
    organisation); anyone else gets NotFoundError, as if it did not exist."""
    row = db.session.scalar(scope_provider_owned(
        sa.select(ProviderAttachment).where(ProviderAttachment.id == attachment_id), user,
        ProviderAttachment.provider_id))
    if row is None:
        raise NotFoundError(_("No such attachment."))
    return row


def delete_attachment(provider_id: int, attachment_id: int, actor) -> None:
    """Remove a document; its file is deleted by a job after the commit."""
    policy.require_manage(actor, provider_id)
    row = db.session.scalar(sa.select(ProviderAttachment).where(
        ProviderAttachment.id == attachment_id, ProviderAttachment.provider_id == provider_id))
    if row is None:
        raise NotFoundError(_("No such attachment."))
    stored = row.stored_name
    db.session.delete(row)
    db.session.flush()
    enqueue("providers.jobs.delete_stored_file", stored)


# --------------------------------------------------------------------------- expiring attachments


def remind_expiring_attachments(today: date | None = None) -> int:
    """Periodic sweep: for each attachment expiring within 30 and within 7 days, e-mail
    the organisation (its address and its administrators) and the platform
    administrators once per threshold. Dedupe keys make a repeat run send nothing.
    Returns the number of attachments reminded about now."""
    today = today or _today()
    horizon = today + timedelta(days=max(REMINDER_DAYS))
    rows = db.session.execute(
        sa.select(ProviderAttachment, Provider)
        .join(Provider, Provider.id == ProviderAttachment.provider_id)
        .where(ProviderAttachment.expires_on.is_not(None), ProviderAttachment.expires_on >= today,
               ProviderAttachment.expires_on <= horizon,
               Provider.status.in_([ProviderStatus.APPROVED, ProviderStatus.PENDING, ProviderStatus.INFO_REQUESTED,
                                    ProviderStatus.SUSPENDED]))
        .order_by(ProviderAttachment.expires_on, ProviderAttachment.id)).all()
    if not rows:
        return 0
    provider_ids = {p.id for _a, p in rows}
    org_admins: dict[int, list[tuple[int, str, str]]] = {}
    for uid, pid, email, lang in db.session.execute(
            sa.select(User.id, User.provider_id, User.email, User.language).where(
                User.provider_id.in_(provider_ids), User.active.is_(True), User.provider_role == ProviderRole.ADMIN)):
        org_admins.setdefault(pid, []).append((uid, email, lang))
    admins = platform_admins()
    reminded = 0
    for attachment, provider in rows:
        days_left = (attachment.expires_on - today).days
        threshold = min(d for d in REMINDER_DAYS if days_left <= d)
        key = f"attachment-expiry-{attachment.id}-{attachment.expires_on.isoformat()}-{threshold}"
        org_lang = provider_language(provider)
        recipients = [("org", provider.email, org_lang)] + \
            [(f"u{uid}", email, lang) for uid, email, lang in org_admins.get(provider.id, []) if email != provider.email]
        sent = False
        org_link = absolute_url("providers.organisation")
        for who, email, lang in recipients:
            sent |= _reminder(email, lang, f"{key}-{who}", attachment, provider, days_left, org_link) is not None
        admin_link = absolute_url("providers.admin_detail", provider_id=provider.id)
        for uid, email, lang in admins:
            sent |= _reminder(email, lang, f"{key}-a{uid}", attachment, provider, days_left, admin_link) is not None
        if sent:
            attachment.reminded_at = utcnow()
            reminded += 1
    db.session.flush()
    return reminded


def _reminder(email, lang, key, attachment, provider, days_left, link):
    with force_locale(lang):
        kind = str(ATTACHMENT_LABELS.get(attachment.kind, attachment.kind))
        when = format_date(attachment.expires_on, "long")
        return queue_email(
            email, _("%(kind)s of %(org)s expires on %(date)s", kind=kind, org=provider.name, date=when),
            ngettext("Hello,\n\nThe document “%(file)s” (%(kind)s) of %(org)s expires on %(date)s, in %(num)s day. "
                     "Upload a valid one before then so that the organisation stays approved.\n\n%(link)s\n",
                     "Hello,\n\nThe document “%(file)s” (%(kind)s) of %(org)s expires on %(date)s, in %(num)s days. "
                     "Upload a valid one before then so that the organisation stays approved.\n\n%(link)s\n",
                     days_left, file=attachment.filename, kind=kind, org=provider.name, date=when, link=link),
            lang, dedupe_key=key)



def missing_documents(provider: Provider) -> list[str]:
    """The kinds of required document the organisation lacks now: a valid
    insurance certificate always; a self-monitoring plan when a service it applied
    for needs Soteri registration."""
    from providers.common import requested_services

    today = local_today()
    rows = db.session.execute(sa.select(ProviderAttachment.kind, ProviderAttachment.expires_on).where(
        ProviderAttachment.provider_id == provider.id)).all()
    valid = {kind for kind, expires in rows if expires is None or expires >= today}
    missing = []
    if AttachmentKind.INSURANCE not in valid:
        missing.append(AttachmentKind.INSURANCE.value)
    if any(t.needs_soteri for t in requested_services(provider)) and AttachmentKind.SELF_MONITORING_PLAN not in valid:
        missing.append(AttachmentKind.SELF_MONITORING_PLAN.value)
    return missing
