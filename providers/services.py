"""Provider organisations: applications and the administrator's decisions,
suspension, attachments, members and their invitations, the public profile,
capacity and automatic-acceptance rules.

Services take plain values and the acting user, flush and never commit (the view,
API route or job commits), and raise ``core.errors`` domain errors with a message
for people and a ``code`` for the API. Files are written under ``UPLOAD_DIR`` (never
the web root) with random names; a file is removed by a job after the commit that
drops its row, so a rolled-back change never loses a file that is still referenced.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

import bleach
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _l

from accounts.models import ProviderRole, Role, User
from core.db import utcnow
from core.errors import (
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from core.extensions import db
from core.jobs import enqueue
from core.mail import queue_email
from core.urls import absolute_url
from core.validators import normalise_business_id, valid_postal_code
from providers.models import (
    DECISION_OF_ACTION,
    PROVIDER_TRANSITIONS,
    AttachmentKind,
    AutoAcceptRule,
    Provider,
    ProviderAction,
    ProviderAttachment,
    ProviderCapacity,
    ProviderDecision,
    ProviderInvitation,
    ProviderKind,
    ProviderStatus,
)


def _(text: str, **variables) -> str:
    """gettext that also works where no language can be chosen (a job or a command
    outside ``force_locale``): the English text is used there."""
    try:
        return _gettext(text, **variables)
    except RuntimeError:
        return text % variables if variables else text


INVITATION_DAYS = 7
# Reminders before an attachment (e.g. insurance) expires, in days.
REMINDER_DAYS = (30, 7)
LOGO_MAX_BYTES = 2 * 1024 * 1024
MAX_REASONS = 5000
MAX_DESCRIPTION = 5000

# Languages offered on the forms; the API accepts any ISO 639 code.
LANGUAGES = {
    "fi": _l("Finnish"), "sv": _l("Swedish"), "en": _l("English"), "se": _l("Northern Sami"),
    "ru": _l("Russian"), "et": _l("Estonian"), "uk": _l("Ukrainian"), "ar": _l("Arabic"),
    "so": _l("Somali"), "fa": _l("Persian"),
}
KIND_LABELS = {ProviderKind.NGO: _l("Non-profit organisation"), ProviderKind.COMPANY: _l("Company"),
               ProviderKind.AGENCY: _l("Staffing agency")}
ATTACHMENT_LABELS = {
    AttachmentKind.INSURANCE: _l("Insurance certificate"),
    AttachmentKind.SELF_MONITORING_PLAN: _l("Self-monitoring plan"),
    AttachmentKind.CERTIFICATE: _l("Certificate"),
    AttachmentKind.OTHER: _l("Other document"),
}
DECISION_LABELS = {
    "approved": _l("Approved"), "rejected": _l("Rejected"), "info_requested": _l("More information requested"),
    "resubmitted": _l("Information sent for review"), "suspended": _l("Suspended"), "reinstated": _l("Reinstated"),
}
PROVIDER_ROLE_LABELS = {ProviderRole.ADMIN: _l("Administrator"), ProviderRole.WORKER: _l("Worker")}
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
_MUNICIPALITY = re.compile(r"^[^\W\d_]+(?:[ \-'][^\W\d_]+)*$")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)

# type -> (content type, magic bytes at the start of the file)
FILE_TYPES = {
    "pdf": ("application/pdf", b"%PDF-"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
}
IMAGE_TYPES = ("png", "jpg", "jpeg")


# --------------------------------------------------------------------------- plain-value helpers


def parse_list(text: str | None) -> list[str]:
    """Items typed one per line or separated by commas or semicolons."""
    if not text:
        return []
    items = [i.strip() for i in re.split(r"[,;\n\r]+", text)]
    return list(dict.fromkeys(i for i in items if i))


def sanitise_text(value: str | None, limit: int = MAX_DESCRIPTION) -> str:
    """Plain text from what may contain HTML: script and style blocks dropped, every
    other tag stripped (bleach), entities turned back into characters. Repeated until
    stable so that escaped markup (``&lt;b&gt;``) cannot come back as a tag. The result
    is shown with autoescaping, never as markup."""
    text = (value or "").replace("\r\n", "\n").strip()
    for _round in range(3):
        cleaned = html.unescape(bleach.clean(_SCRIPT_OR_STYLE.sub("", text), tags=set(), strip=True))
        if cleaned == text:
            break
        text = cleaned
    return text.strip()[:limit]


def _require(errors: dict, name: str, message: str) -> None:
    errors.setdefault(name, []).append(str(message))


def _clean_email(value, errors: dict, name: str = "email") -> str | None:
    from accounts.services import normalise_email

    if not isinstance(value, str) or not value.strip():
        _require(errors, name, _("Enter an e-mail address."))
        return None
    try:
        return normalise_email(value)
    except ValidationFailed:
        _require(errors, name, _("Enter a valid e-mail address, like name@example.fi."))
        return None


def _clean_languages(value, errors: dict, required: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _require(errors, "languages", _("Choose the languages you serve clients in."))
        return []
    codes = list(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    bad = [c for c in codes if not _LANGUAGE_CODE.match(c)]
    if bad:
        _require(errors, "languages", _("Unknown language codes: %(codes)s.", codes=", ".join(bad[:5])))
    elif required and not codes:
        _require(errors, "languages", _("Choose at least one language."))
    return codes


def _clean_areas(value, errors: dict, required: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _require(errors, "service_areas", _("List postal codes or municipalities."))
        return []
    areas = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    bad = [a for a in areas if not (valid_postal_code(a) or (len(a) <= 60 and _MUNICIPALITY.match(a)))]
    if bad:
        _require(errors, "service_areas",
                 _("These are neither five-digit postal codes nor municipality names: %(items)s.",
                   items=", ".join(bad[:5])))
    elif len(areas) > 500:
        _require(errors, "service_areas", _("At most 500 areas."))
    elif required and not areas:
        _require(errors, "service_areas", _("Name at least one postal code or municipality."))
    return areas


def _clean_string(value, errors: dict, name: str, limit: int, required: bool = False,
                  missing: str | None = None) -> str | None:
    if value is not None and not isinstance(value, str):
        _require(errors, name, _("Must be text."))
        return None
    value = (value or "").strip()
    if required and not value:
        _require(errors, name, missing or _("This field is required."))
        return None
    if len(value) > limit:
        _require(errors, name, _("At most %(n)s characters.", n=limit))
        return None
    return value or None


def _service_types(ids, errors: dict, field: str, required: bool = False) -> list:
    """The active service types with these ids, in the order given; errors name the
    unknown ones."""
    from catalogue.models import ServiceType

    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        _require(errors, field, _("Choose services from the list."))
        return []
    ids = list(dict.fromkeys(ids))
    if required and not ids:
        _require(errors, field, _("Choose at least one service."))
        return []
    found = {t.id: t for t in db.session.scalars(
        sa.select(ServiceType).where(ServiceType.id.in_(ids), ServiceType.active.is_(True)))} if ids else {}
    unknown = [i for i in ids if i not in found]
    if unknown:
        _require(errors, field, _("Unknown services: %(ids)s.", ids=", ".join(map(str, unknown[:10]))))
        return []
    return [found[i] for i in ids]


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
                                  date=att.expires_on.isoformat()))
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


def _today() -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Europe/Helsinki")).date()


# --------------------------------------------------------------------------- who may act


def _provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id) if isinstance(provider_id, int) else None
    if provider is None:
        raise NotFoundError(_("No such provider."))
    return provider


def _require_admin(actor) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators can do this."))


def _require_member(actor, provider_id: int) -> None:
    """The actor is a platform admin or a member of the organisation (else 404)."""
    if actor is not None and (actor.role == Role.ADMIN or
                              (actor.role == Role.PROVIDER and actor.provider_id == provider_id)):
        return
    raise NotFoundError(_("No such provider."))


def _require_org_admin(actor, provider_id: int) -> None:
    """A platform admin, or an administrator of this organisation."""
    _require_member(actor, provider_id)
    if actor.role == Role.PROVIDER and actor.provider_role != ProviderRole.ADMIN:
        raise PermissionDenied(_("Only your organisation's administrators can change this."), code="org_admin_only")


def can_manage(user, provider_id: int) -> bool:
    try:
        _require_org_admin(user, provider_id)
    except (NotFoundError, PermissionDenied):
        return False
    return True


# --------------------------------------------------------------------------- applications


def _validate_organisation(data: dict, errors: dict) -> dict:
    """Shared checks of an organisation's fields (web application form and API)."""
    clean: dict = {}
    clean["name"] = _clean_string(data.get("name"), errors, "name", 200, required=True,
                                  missing=_("Enter the organisation's name."))
    raw_id = data.get("business_id")
    clean["business_id"] = normalise_business_id(raw_id) if isinstance(raw_id, str) else None
    if clean["business_id"] is None:
        if not (isinstance(raw_id, str) and raw_id.strip()):
            _require(errors, "business_id", _("Enter the business ID (Y-tunnus), e.g. 1234567-8."))
        else:
            _require(errors, "business_id",
                     _("%(value)s is not a valid business ID (Y-tunnus): check the digits and the check digit "
                       "after the hyphen, e.g. 1234567-8.", value=raw_id.strip()[:20]))
    kind = data.get("kind")
    if kind not in set(ProviderKind):
        _require(errors, "kind", _("Choose the kind of organisation."))
    clean["kind"] = kind
    clean["email"] = _clean_email(data.get("email"), errors)
    clean["phone"] = _clean_string(data.get("phone"), errors, "phone", 40)
    clean["languages"] = _clean_languages(data.get("languages", []), errors)
    return clean


def _raise_if_invalid(errors: dict) -> None:
    if not errors:
        return
    if "business_id" in errors:
        raise ValidationFailed(_("The business ID is not valid."), code="invalid_business_id", fields=errors)
    raise ValidationFailed(_("Some fields are invalid."), fields=errors)


def _check_unique_business_id(business_id: str) -> None:
    if db.session.scalar(sa.select(Provider.id).where(Provider.business_id == business_id)) is not None:
        raise ConflictError(
            _("An organisation with business ID %(id)s is already registered or has applied. If you belong to "
              "it, log in; otherwise contact the administrator.", id=business_id),
            code="duplicate_business_id",
            fields={"business_id": [_("This business ID is already registered.")]})


def _insert_provider(provider: Provider) -> None:
    """Insert; a concurrent insert of the same business ID becomes a 409, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.add(provider)
            db.session.flush()
    except sa.exc.IntegrityError:
        _check_unique_business_id(provider.business_id)
        raise


def create_provider(*, name, business_id, kind, email, phone=None, languages=None, actor) -> Provider:
    """``POST /providers``: an administrator registers an organisation directly. It
    starts as ``pending`` and gets offers only once approved. Raises ValidationFailed
    (``invalid_business_id`` when the Y-tunnus is wrong) and ConflictError
    (``duplicate_business_id``)."""
    _require_admin(actor)
    errors: dict = {}
    clean = _validate_organisation({"name": name, "business_id": business_id, "kind": kind, "email": email, "phone": phone,
                                        "languages": languages if languages is not None else []}, errors)
    _raise_if_invalid(errors)
    _check_unique_business_id(clean["business_id"])
    provider = Provider(status=ProviderStatus.PENDING, contact_person=None, description="", service_areas=[],
                        **clean)
    _insert_provider(provider)
    return provider


def submit_application(*, name, business_id, kind, email, phone=None, contact_person, service_areas, languages,
                       service_type_ids, soteri_registered: bool, prepayment_register: bool, description="",
                       website=None, attachments: list[NewAttachment] = (), language: str = "fi") -> Provider:
    """The public application form. Anyone may call it. Validates everything before
    writing anything (business ID checksum and uniqueness, Soteri registration for
    services that need it, each attachment's type by name and content and its size),
    then records the organisation as ``pending`` with its attachments, e-mails the
    contact address an invitation to set up the organisation's first login, and
    tells the administrators. Raises ValidationFailed / ConflictError."""
    errors: dict = {}
    clean = _validate_organisation({"name": name, "business_id": business_id, "kind": kind, "email": email, "phone": phone,
                                        "languages": languages}, errors)
    clean["contact_person"] = _clean_string(contact_person, errors, "contact_person", 200, required=True,
                                            missing=_("Enter the contact person's name."))
    clean["service_areas"] = _clean_areas(service_areas, errors)
    clean["website"] = _clean_website(website, errors)
    clean["description"] = sanitise_text(description if isinstance(description, str) else "")
    services = _service_types(service_type_ids, errors, "service_type_ids", required=True)
    soteri = [s for s in services if s.needs_soteri]
    if soteri and not soteri_registered:
        _require(errors, "soteri_registered",
                 _("These services need registration in the Soteri register of social and health service "
                   "providers: %(names)s.", names=", ".join(s.name() for s in soteri)))
    checked = [(att, _check_attachment(att, errors, f"attachment_{att.kind}")) for att in attachments]
    kinds = {att.kind for att in attachments}
    if soteri and AttachmentKind.SELF_MONITORING_PLAN not in kinds:
        _require(errors, "attachment_self_monitoring_plan",
                 _("Social and health services need a self-monitoring plan: attach it."))
    if AttachmentKind.INSURANCE not in kinds and "attachment_insurance" not in errors:
        _require(errors, "attachment_insurance", _("Attach a valid insurance certificate."))
    _raise_if_invalid(errors)
    _check_unique_business_id(clean["business_id"])
    if clean["email"] and _active_user_with_email(clean["email"]) is not None:
        raise ValidationFailed(
            _("This e-mail address already has a Kotiapu login. Give the organisation's own address."),
            fields={"email": [_("This e-mail address already has a Kotiapu login.")]})
    provider = Provider(status=ProviderStatus.PENDING, soteri_registered=bool(soteri_registered),
                        prepayment_register=bool(prepayment_register),
                        requested_service_type_ids=[s.id for s in services], **clean)
    _insert_provider(provider)
    written: list[str] = []
    try:
        for att, ok in checked:
            _store_attachment(provider.id, att, ok, None, written)
        db.session.flush()
    except BaseException:
        _remove_files_now(written)
        raise
    token = _new_invitation(provider, provider.email, ProviderRole.ADMIN, None)
    with force_locale(language):
        queue_email(provider.email, _("We received your application to Kotiapu"),
                    _application_received_body(provider, token), language,
                    dedupe_key=f"provider-application-{provider.id}")
    _tell_admins_of_application(provider)
    return provider


def _clean_website(value, errors: dict) -> str | None:
    site = _clean_string(value, errors, "website", 300)
    if site and not re.match(r"^https?://[^\s/$.?#][^\s]*$", site, re.IGNORECASE):
        if re.match(r"^[\w.-]+\.[a-z]{2,}(/\S*)?$", site, re.IGNORECASE):
            return "https://" + site
        _require(errors, "website", _("Give the address of the website, e.g. https://example.fi."))
        return None
    return site


def _active_user_with_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email, User.active.is_(True)))


def _tell_admins_of_application(provider: Provider) -> None:
    admins = db.session.execute(
        sa.select(User.id, User.email, User.language).where(User.role == Role.ADMIN, User.active.is_(True))).all()
    link = absolute_url("providers.admin_detail", provider_id=provider.id)
    for admin_id, email, lang in admins:
        with force_locale(lang):
            queue_email(email, _("New provider application: %(name)s", name=provider.name),
                        _("%(name)s (business ID %(id)s) has applied to become a provider. Review the "
                          "application and its attachments:\n\n%(link)s\n", name=provider.name,
                          id=provider.business_id, link=link),
                        lang, dedupe_key=f"provider-application-{provider.id}-admin-{admin_id}")


def _application_received_body(provider: Provider, token: str) -> str:
    return _(
        "Hello,\n\nThank you for applying to become a service provider in Kotiapu. We received the application "
        "of %(name)s (business ID %(id)s). An administrator checks it and its attachments; you will get an "
        "e-mail when a decision has been made.\n\nCreate the organisation's login with the link below. With it "
        "you can follow the application, add attachments and answer questions. The link works once and "
        "expires in %(days)s days.\n\n%(link)s\n",
        name=provider.name, id=provider.business_id, days=INVITATION_DAYS,
        link=absolute_url("providers.accept_invitation", token=token))


# --------------------------------------------------------------------------- decisions


def _transition(provider_id: int, action: ProviderAction, actor, reasons: str = "") -> ProviderDecision:
    """Apply one action of ``PROVIDER_TRANSITIONS`` with a conditional UPDATE (two
    admins deciding at once: one wins, the other gets a 409) and record it."""
    provider = _provider(provider_id)
    current = provider.status
    target = PROVIDER_TRANSITIONS.get((ProviderStatus(current), action))
    if target is None:
        raise ConflictError(
            _("This is not possible while the provider's status is “%(status)s”.", status=_status_text(current)),
            code="invalid_transition")
    now = utcnow()
    values: dict = {"status": target}
    if target == ProviderStatus.APPROVED:
        values["suspended_at"] = None
        if provider.approved_at is None or action == ProviderAction.APPROVE:
            values["approved_at"] = now
    if target == ProviderStatus.SUSPENDED:
        values["suspended_at"] = now
    won = db.session.execute(
        sa.update(Provider).where(Provider.id == provider.id, Provider.status == current).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ConflictError(_("Someone else changed this provider at the same moment. Reload the page."),
                            code="changed_meanwhile")
    db.session.refresh(provider)
    decision = ProviderDecision(provider_id=provider.id, decision=DECISION_OF_ACTION[action],
                                reasons=reasons or "", decided_by_id=getattr(actor, "id", None), at=now)
    db.session.add(decision)
    db.session.flush()
    return decision


def _status_text(status: str) -> str:
    from providers.templating import provider_status_label

    try:
        return provider_status_label(status)
    except RuntimeError:  # no language to choose outside a request
        return status


def _clean_reasons(reasons, required: bool) -> str:
    errors: dict = {}
    text = _clean_string(reasons, errors, "reasons", MAX_REASONS, required=required,
                         missing=_("Write the reasons: the provider sees them in the e-mail."))
    if errors:
        raise ValidationFailed(errors["reasons"][0], fields=errors)
    return text or ""


def decide_application(provider_id: int, action: str, reasons: str | None, actor) -> ProviderDecision:
    """An administrator approves an application, rejects it with written reasons, or
    asks for more information (reasons say what). Records the decision and e-mails
    the applicant. Approving checks that services needing Soteri registration have
    it. Raises ValidationFailed, ConflictError (wrong state), NotFoundError."""
    _require_admin(actor)
    if action not in (ProviderAction.APPROVE, ProviderAction.REJECT, ProviderAction.REQUEST_INFO):
        raise ValidationFailed(_("Choose a decision."), fields={"action": [_("Choose a decision.")]})
    action = ProviderAction(action)
    text = _clean_reasons(reasons, required=action != ProviderAction.APPROVE)
    provider = _provider(provider_id)
    if action == ProviderAction.APPROVE:
        missing = [t for t in requested_services(provider) if t.needs_soteri]
        if missing and not provider.soteri_registered:
            raise ValidationFailed(
                _("The organisation is not registered in Soteri, which these services need: %(names)s. Ask for "
                  "more information instead.", names=", ".join(t.name() for t in missing)),
                code="soteri_required")
    decision = _transition(provider_id, action, actor, text)
    _notify_decision(provider, decision)
    if action == ProviderAction.REJECT:
        # Nobody should set up a login for an organisation that was turned down.
        db.session.execute(sa.update(ProviderInvitation).where(
            ProviderInvitation.provider_id == provider.id, ProviderInvitation.used_at.is_(None),
            ProviderInvitation.expires_at > utcnow()).values(expires_at=utcnow()))
    return decision


def approve_provider(provider_id: int, actor, reasons: str = "") -> ProviderDecision:
    """``POST /providers/{id}/approve``: see ``decide_application``."""
    return decide_application(provider_id, ProviderAction.APPROVE, reasons, actor)


def resubmit_application(provider_id: int, note: str | None, actor) -> ProviderDecision:
    """The organisation's administrator sends the application back for review after
    adding what was asked. Records it and tells the administrators."""
    _require_org_admin(actor, provider_id)
    text = _clean_reasons(note, required=False)
    decision = _transition(provider_id, ProviderAction.RESUBMIT, actor, text)
    provider = _provider(provider_id)
    admins = db.session.execute(
        sa.select(User.id, User.email, User.language).where(User.role == Role.ADMIN, User.active.is_(True))).all()
    link = absolute_url("providers.admin_detail", provider_id=provider.id)
    for admin_id, email, lang in admins:
        with force_locale(lang):
            queue_email(email, _("Provider application updated: %(name)s", name=provider.name),
                        _("%(name)s has answered your request for more information.\n\n%(note)s\n\n%(link)s\n",
                          name=provider.name, note=text, link=link),
                        lang, dedupe_key=f"provider-decision-{decision.id}-admin-{admin_id}")
    return decision


def suspend_provider(provider_id: int, reasons: str, actor) -> ProviderDecision:
    """An administrator suspends an approved provider (written reasons required): it
    gets no new offers, its pending offers are withdrawn and its active orders are
    flagged to the guidance staff (``orders.services.handle_provider_suspension``).
    The organisation is told by e-mail."""
    _require_admin(actor)
    text = _clean_reasons(reasons, required=True)
    decision = _transition(provider_id, ProviderAction.SUSPEND, actor, text)
    from orders.services import handle_provider_suspension

    handle_provider_suspension(provider_id, actor)
    _notify_decision(_provider(provider_id), decision)
    return decision


def reinstate_provider(provider_id: int, reasons: str | None, actor) -> ProviderDecision:
    """An administrator lifts a suspension; the provider can get offers again."""
    _require_admin(actor)
    text = _clean_reasons(reasons, required=False)
    decision = _transition(provider_id, ProviderAction.REINSTATE, actor, text)
    _notify_decision(_provider(provider_id), decision)
    return decision


def provider_language(provider: Provider) -> str:
    """The language for e-mail to an organisation: its first administrator's chosen
    language, else the first of its languages the platform speaks, else Finnish."""
    lang = db.session.scalar(
        sa.select(User.language).where(User.provider_id == provider.id, User.active.is_(True),
                                       User.provider_role == ProviderRole.ADMIN).order_by(User.id).limit(1))
    if lang in ("fi", "sv", "en"):
        return lang
    return next((code for code in provider.languages or [] if code in ("fi", "sv", "en")), "fi")


def _login_link(provider: Provider) -> str:
    """Where the organisation goes next: its page, or, while it has no login yet, a
    fresh invitation to create the first one."""
    has_member = db.session.scalar(sa.select(User.id).where(User.provider_id == provider.id,
                                                            User.active.is_(True)).limit(1))
    if has_member is not None or _active_user_with_email(provider.email) is not None:
        return absolute_url("providers.organisation")
    token = _new_invitation(provider, provider.email, ProviderRole.ADMIN, None)
    return absolute_url("providers.accept_invitation", token=token)


def _notify_decision(provider: Provider, decision: ProviderDecision) -> None:
    lang = provider_language(provider)
    kind = decision.decision
    reasons = decision.reasons.strip()
    with force_locale(lang):
        link = _login_link(provider) if kind != "rejected" else None
        subjects = {
            "approved": _("%(name)s has been approved in Kotiapu", name=provider.name),
            "rejected": _("Your application to Kotiapu was not approved"),
            "info_requested": _("More information needed for your Kotiapu application"),
            "suspended": _("%(name)s has been suspended in Kotiapu", name=provider.name),
            "reinstated": _("%(name)s can again receive orders in Kotiapu", name=provider.name),
        }
        intros = {
            "approved": _("%(name)s has been approved as a service provider. Add your services and prices, and you "
                          "can receive orders from the guidance staff and sell services to clients.",
                          name=provider.name),
            "rejected": _("We are sorry: the application of %(name)s was not approved.", name=provider.name),
            "info_requested": _("To decide on the application of %(name)s we need more information. Log in, add "
                                "what is asked below and send the application back for review.",
                                name=provider.name),
            "suspended": _("%(name)s has been suspended: it gets no new orders and its open offers have been "
                           "withdrawn. The guidance staff follow up on your active orders.", name=provider.name),
            "reinstated": _("The suspension of %(name)s has been lifted: it can again receive orders.",
                            name=provider.name),
        }
        if kind not in subjects:
            return
        parts = [_("Hello,"), intros[kind]]
        if reasons:
            parts.append(_("Reasons given by the administrator:") + "\n" + reasons)
        if link:
            parts.append(link)
        queue_email(provider.email, subjects[kind], "\n\n".join(parts) + "\n", lang,
                    dedupe_key=f"provider-decision-{decision.id}")


def requested_services(provider: Provider) -> list:
    from catalogue.models import ServiceType

    ids = [i for i in provider.requested_service_type_ids or [] if isinstance(i, int)]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(ServiceType).where(ServiceType.id.in_(ids)).order_by(ServiceType.name_fi)))


# --------------------------------------------------------------------------- attachments


def add_attachment(provider_id: int, kind: str, upload: Upload | None, expires_on: date | None, actor
                   ) -> ProviderAttachment:
    """An organisation's administrator (or a platform admin) adds a document. The
    file must be PDF, PNG or JPEG by name and by content and within MAX_UPLOAD_MB;
    it is stored under UPLOAD_DIR with a random name."""
    _require_org_admin(actor, provider_id)
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
    from accounts.permissions import scope_provider_owned

    row = db.session.scalar(scope_provider_owned(
        sa.select(ProviderAttachment).where(ProviderAttachment.id == attachment_id), user,
        ProviderAttachment.provider_id))
    if row is None:
        raise NotFoundError(_("No such attachment."))
    return row


def delete_attachment(provider_id: int, attachment_id: int, actor) -> None:
    """Remove a document; its file is deleted by a job after the commit."""
    _require_org_admin(actor, provider_id)
    row = db.session.scalar(sa.select(ProviderAttachment).where(
        ProviderAttachment.id == attachment_id, ProviderAttachment.provider_id == provider_id))
    if row is None:
        raise NotFoundError(_("No such attachment."))
    stored = row.stored_name
    db.session.delete(row)
    db.session.flush()
    enqueue("providers.jobs.delete_stored_file", stored)


# --------------------------------------------------------------------------- members and invitations


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_invitation(provider: Provider, email: str, role: str, actor) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(ProviderInvitation(
        provider_id=provider.id, email=email, provider_role=role, token_hash=_token_hash(token),
        invited_by_id=getattr(actor, "id", None), expires_at=utcnow() + timedelta(days=INVITATION_DAYS)))
    db.session.flush()
    return token


def invite_member(provider_id: int, email: str, provider_role: str, actor) -> ProviderInvitation:
    """An organisation's administrator invites a person by e-mail; the link works once
    and expires in INVITATION_DAYS days. A new invitation to the same address replaces
    the open one. Refuses addresses that already have an active login."""
    _require_org_admin(actor, provider_id)
    provider = _provider(provider_id)
    errors: dict = {}
    email = _clean_email(email, errors)
    if provider_role not in set(ProviderRole):
        _require(errors, "provider_role", _("Choose the role."))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    existing = db.session.scalar(sa.select(User).where(User.email == email))
    if existing is not None and existing.active:
        if existing.provider_id == provider_id:
            msg = _("%(email)s is already a member of the organisation.", email=email)
        else:
            msg = _("%(email)s already has a Kotiapu login. A login belongs to one organisation only; invite "
                    "another address.", email=email)
        raise ConflictError(msg, code="already_member", fields={"email": [msg]})
    if existing is not None and existing.role != Role.PROVIDER:
        msg = _("%(email)s cannot be invited. Invite another address.", email=email)
        raise ConflictError(msg, code="email_taken", fields={"email": [msg]})
    now = utcnow()
    db.session.execute(sa.update(ProviderInvitation).where(
        ProviderInvitation.provider_id == provider_id, ProviderInvitation.email == email,
        ProviderInvitation.used_at.is_(None), ProviderInvitation.expires_at > now).values(expires_at=now)
        .execution_options(synchronize_session=False))
    token = _new_invitation(provider, email, provider_role, actor)
    invitation = db.session.scalar(sa.select(ProviderInvitation).where(ProviderInvitation.token_hash == _token_hash(token)))
    lang = provider_language(provider)
    with force_locale(lang):
        queue_email(email, _("Invitation to join %(org)s in Kotiapu", org=provider.name),
                    _("Hello,\n\n%(who)s has invited you to join %(org)s in Kotiapu, the home-care service "
                      "platform, as %(role)s.\n\nCreate your login with this link. It works once and expires in "
                      "%(days)s days.\n\n%(link)s\n",
                      who=getattr(actor, "name", "") or getattr(actor, "email", ""), org=provider.name,
                      role=str(PROVIDER_ROLE_LABELS[ProviderRole(provider_role)]).lower(), days=INVITATION_DAYS,
                      link=absolute_url("providers.accept_invitation", token=token)),
                    lang, dedupe_key=f"provider-invitation-{invitation.id}")
    return invitation


def revoke_invitation(provider_id: int, invitation_id: int, actor) -> None:
    """Cancel an invitation that has not been used: its link stops working."""
    _require_org_admin(actor, provider_id)
    now = utcnow()
    done = db.session.execute(sa.update(ProviderInvitation).where(
        ProviderInvitation.id == invitation_id, ProviderInvitation.provider_id == provider_id,
        ProviderInvitation.used_at.is_(None), ProviderInvitation.expires_at > now).values(expires_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise NotFoundError(_("No such open invitation."))


def invitation_for_token(token: str) -> ProviderInvitation:
    """The open invitation of a link. NotFoundError for an unknown link, GoneError
    (``invitation_used`` / ``invitation_expired``) for a used or expired one."""
    row = db.session.scalar(sa.select(ProviderInvitation).where(
        ProviderInvitation.token_hash == _token_hash(token or ""))) if token and len(token) < 200 else None
    if row is None:
        raise NotFoundError(_("This invitation link is not valid. Check that you copied the whole link."),
                            code="invitation_unknown")
    if row.used_at is not None:
        raise GoneError(_("This invitation has already been used. Log in with the e-mail address and the password "
                          "chosen then."), code="invitation_used")
    provider = db.session.get(Provider, row.provider_id)
    if row.expires_at <= utcnow() or provider.status == ProviderStatus.REJECTED:
        raise GoneError(_("This invitation has expired. Ask your organisation's administrator to send a new one."),
                        code="invitation_expired")
    return row


def accept_invitation(token: str, name: str, password: str, language: str = "fi") -> User:
    """The invited person creates their login. The invitation is claimed with one
    conditional UPDATE, so a link used twice at once creates one login. A removed
    member's old (inactive) login is reused. Raises NotFoundError, GoneError,
    ValidationFailed."""
    from accounts.services import MIN_PASSWORD_LENGTH, create_user, hash_password

    invitation = invitation_for_token(token)
    errors: dict = {}
    name = _clean_string(name, errors, "name", 200, required=True, missing=_("Enter your name."))
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        _require(errors, "password", _("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    existing = db.session.scalar(sa.select(User).where(User.email == invitation.email))
    if existing is not None and (existing.active or existing.role != Role.PROVIDER):
        raise ConflictError(_("%(email)s already has a Kotiapu login. Log in with it.", email=invitation.email),
                            code="email_taken")
    now = utcnow()
    claimed = db.session.execute(sa.update(ProviderInvitation).where(
        ProviderInvitation.id == invitation.id, ProviderInvitation.used_at.is_(None),
        ProviderInvitation.expires_at > now).values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise GoneError(_("This invitation has already been used. Log in with the e-mail address and the password "
                          "chosen then."), code="invitation_used")
    if existing is not None:
        existing.provider_id = invitation.provider_id
        existing.provider_role = invitation.provider_role
        existing.name = name
        existing.password_hash = hash_password(password)
        existing.active = True
        existing.session_version += 1
        existing.language = language if language in ("fi", "sv", "en") else existing.language
        db.session.flush()
        return existing
    return create_user(invitation.email, password, Role.PROVIDER, name=name, provider_id=invitation.provider_id,
                       provider_role=invitation.provider_role,
                       language=language if language in ("fi", "sv", "en") else "fi")


def _member(provider_id: int, user_id: int) -> User:
    user = db.session.scalar(sa.select(User).where(User.id == user_id, User.provider_id == provider_id,
                                                   User.role == Role.PROVIDER, User.active.is_(True)))
    if user is None:
        raise NotFoundError(_("No such member."))
    return user


def _other_admins(provider_id: int, user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.provider_id == provider_id, User.active.is_(True), User.provider_role == ProviderRole.ADMIN,
        User.id != user_id))


def set_member_role(provider_id: int, user_id: int, provider_role: str, actor) -> User:
    """Make a member an administrator or a worker of the organisation. The last
    administrator cannot be made a worker."""
    _require_org_admin(actor, provider_id)
    if provider_role not in set(ProviderRole):
        raise ValidationFailed(_("Choose the role."), fields={"provider_role": [_("Choose the role.")]})
    user = _member(provider_id, user_id)
    if provider_role == ProviderRole.WORKER and user.provider_role == ProviderRole.ADMIN and \
            _other_admins(provider_id, user.id) == 0:
        raise ConflictError(_("%(name)s is the organisation's only administrator. Make someone else an "
                              "administrator first.", name=user.name or user.email), code="last_admin")
    user.provider_role = provider_role
    db.session.flush()
    return user


def remove_member(provider_id: int, user_id: int, actor) -> User:
    """Remove a member: the login is deactivated and its sessions and API tokens stop
    working. Not oneself, and not the last administrator."""
    _require_org_admin(actor, provider_id)
    user = _member(provider_id, user_id)
    if actor.id == user.id:
        raise ConflictError(_("You cannot remove yourself. Ask another administrator."), code="remove_self")
    if user.provider_role == ProviderRole.ADMIN and _other_admins(provider_id, user.id) == 0:
        raise ConflictError(_("The organisation's only administrator cannot be removed."), code="last_admin")
    user.active = False
    user.session_version += 1
    db.session.flush()
    return user


# --------------------------------------------------------------------------- public profile


def update_profile(provider_id: int, *, description, languages, service_areas, website=None, phone=None,
                   email=None, logo: Upload | None = None, remove_logo: bool = False, actor) -> Provider:
    """The organisation edits its public profile. The description is kept as plain
    text (HTML is stripped); the logo must be a PNG or JPEG of at most 2 MB."""
    _require_org_admin(actor, provider_id)
    provider = _provider(provider_id)
    errors: dict = {}
    langs = _clean_languages(languages, errors)
    areas = _clean_areas(service_areas, errors)
    site = _clean_website(website, errors)
    phone = _clean_string(phone, errors, "phone", 40)
    mail = _clean_email(email, errors) if email is not None else provider.email
    checked = _check_file(logo, errors, "logo", allowed=IMAGE_TYPES, limit=min(LOGO_MAX_BYTES, upload_limit()))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    provider.description = sanitise_text(description if isinstance(description, str) else "")
    provider.languages = langs
    provider.service_areas = areas
    provider.website = site
    provider.phone = phone
    provider.email = mail
    old = provider.logo_path
    if checked is not None:
        provider.logo_path = _write_file(logo.data, checked[0])
    elif remove_logo:
        provider.logo_path = None
    if old and old != provider.logo_path:
        enqueue("providers.jobs.delete_stored_file", old)
    db.session.flush()
    return provider


# --------------------------------------------------------------------------- capacity and rules


def set_capacity(provider_id: int, service_type_id: int, orders_per_week: int, actor) -> ProviderCapacity:
    """How many new orders per week the organisation takes for a service type (at
    least 1); order matching skips the provider once the week is full."""
    _require_org_admin(actor, provider_id)
    errors: dict = {}
    _service_types([service_type_id], errors, "service_type_id")
    if isinstance(orders_per_week, bool) or not isinstance(orders_per_week, int) or \
            not 1 <= orders_per_week <= 10000:
        _require(errors, "orders_per_week", _("Give a whole number from 1 to 10000."))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    row = db.session.scalar(sa.select(ProviderCapacity).where(
        ProviderCapacity.provider_id == provider_id, ProviderCapacity.service_type_id == service_type_id))
    if row is None:
        row = ProviderCapacity(provider_id=provider_id, service_type_id=service_type_id,
                               orders_per_week=orders_per_week)
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except sa.exc.IntegrityError:
            raise ConflictError(_("The capacity was changed at the same moment. Reload the page."),
                                code="changed_meanwhile") from None
    else:
        row.orders_per_week = orders_per_week
        db.session.flush()
    return row


def remove_capacity(provider_id: int, capacity_id: int, actor) -> None:
    """Drop a capacity limit: the service type is then not limited per week."""
    _require_org_admin(actor, provider_id)
    done = db.session.execute(sa.delete(ProviderCapacity).where(
        ProviderCapacity.id == capacity_id, ProviderCapacity.provider_id == provider_id)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise NotFoundError(_("No such capacity limit."))


def create_auto_accept_rule(provider_id: int, *, service_type_ids, postal_codes, weekdays, capacity_per_week,
                            actor) -> AutoAcceptRule:
    """A rule that accepts matching offers at once for the organisation: at least one
    service type; postal codes (five digits) and weekdays (0 = Monday .. 6 = Sunday)
    narrow it, empty means any; ``capacity_per_week`` (at least 1) caps how many a
    week the rule accepts."""
    _require_org_admin(actor, provider_id)
    errors: dict = {}
    types = _service_types(service_type_ids, errors, "service_type_ids", required=True)
    if not isinstance(postal_codes, list) or not all(isinstance(p, str) for p in postal_codes):
        _require(errors, "postal_codes", _("List five-digit postal codes."))
        postal_codes = []
    codes = list(dict.fromkeys(p.strip() for p in postal_codes if p.strip()))
    bad = [p for p in codes if not valid_postal_code(p)]
    if bad:
        _require(errors, "postal_codes", _("These are not five-digit postal codes: %(items)s.",
                                           items=", ".join(bad[:5])))
    if not isinstance(weekdays, list) or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6
                                                 for d in weekdays):
        _require(errors, "weekdays", _("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."))
        weekdays = []
    if capacity_per_week is not None and (isinstance(capacity_per_week, bool) or
                                          not isinstance(capacity_per_week, int) or
                                          not 1 <= capacity_per_week <= 10000):
        _require(errors, "capacity_per_week", _("Give a whole number from 1 to 10000, or leave empty."))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    rule = AutoAcceptRule(provider_id=provider_id, service_type_ids=[t.id for t in types], postal_codes=codes,
                          weekdays=sorted(set(weekdays)), capacity_per_week=capacity_per_week, active=True)
    db.session.add(rule)
    db.session.flush()
    return rule


def _rule(provider_id: int, rule_id: int) -> AutoAcceptRule:
    rule = db.session.scalar(sa.select(AutoAcceptRule).where(AutoAcceptRule.id == rule_id,
                                                             AutoAcceptRule.provider_id == provider_id))
    if rule is None:
        raise NotFoundError(_("No such rule."))
    return rule


def set_rule_active(provider_id: int, rule_id: int, active: bool, actor) -> AutoAcceptRule:
    """Switch a rule on or off."""
    _require_org_admin(actor, provider_id)
    rule = _rule(provider_id, rule_id)
    rule.active = bool(active)
    db.session.flush()
    return rule


def delete_auto_accept_rule(provider_id: int, rule_id: int, actor) -> None:
    """Delete a rule."""
    _require_org_admin(actor, provider_id)
    db.session.delete(_rule(provider_id, rule_id))
    db.session.flush()


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
    admins = db.session.execute(sa.select(User.id, User.email, User.language).where(
        User.role == Role.ADMIN, User.active.is_(True))).all()
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
    from flask_babel import format_date

    with force_locale(lang):
        kind = str(ATTACHMENT_LABELS.get(attachment.kind, attachment.kind))
        when = format_date(attachment.expires_on, "long")
        return queue_email(
            email, _("%(kind)s of %(org)s expires on %(date)s", kind=kind, org=provider.name, date=when),
            _("Hello,\n\nThe document “%(file)s” (%(kind)s) of %(org)s expires on %(date)s, in %(days)s days. "
              "Upload a valid one before then so that the organisation stays approved.\n\n%(link)s\n",
              file=attachment.filename, kind=kind, org=provider.name, date=when, days=days_left, link=link),
            lang, dedupe_key=key)
