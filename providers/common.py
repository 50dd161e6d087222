"""What every provider service shares: labels and limits, the checks of plain values
(e-mail, languages, service areas, text, service types, website), the provider by
id, today in Finland and the language of e-mail to an organisation.

Services take plain values and the acting user, flush and never commit (the request,
job or command's unit of work commits), and raise ``core.errors`` domain errors with a
message for people and a ``code`` for the API.
"""

from __future__ import annotations

import html
import re
from datetime import date

import bleach
import sqlalchemy as sa
from flask_babel import ngettext
from flask_babel import force_locale
from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _l

from accounts.models import ProviderRole, Role, User
from accounts.services import normalise_email
from catalogue.models import ServiceType
from core.errors import NotFoundError, ValidationFailed
from core.extensions import db
from core.mail import queue_email
from core.templating import status_label
from core.urls import absolute_url
from core.time import local_today
from core.validators import valid_postal_code
from providers.models import AttachmentKind, Provider, ProviderKind


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
        _require(errors, name, ngettext("At most %(num)d character.", "At most %(num)d characters.", limit))
        return None
    return value or None


def _service_types(ids, errors: dict, field: str, required: bool = False) -> list:
    """The active service types with these ids, in the order given; errors name the
    unknown ones."""
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


def _today() -> date:
    return local_today()


def _provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id) if isinstance(provider_id, int) else None
    if provider is None:
        raise NotFoundError(_("No such provider."))
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


def provider_status_label(status: str) -> str:
    """An organisation's status; "pending" means waiting for the administrator's
    decision (the shared label speaks of offers waiting for an answer)."""
    if status == "pending":
        return str(_l("Waiting for a decision"))
    return status_label(status)


def _status_text(status: str) -> str:
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


def provider_language(provider: Provider) -> str:
    """The language for e-mail to an organisation: its first administrator's chosen
    language, else the first of its languages the platform speaks, else Finnish."""
    lang = db.session.scalar(
        sa.select(User.language).where(User.provider_id == provider.id, User.active.is_(True),
                                       User.provider_role == ProviderRole.ADMIN).order_by(User.id).limit(1))
    if lang in ("fi", "sv", "en"):
        return lang
    return next((code for code in provider.languages or [] if code in ("fi", "sv", "en")), "fi")


def requested_services(provider: Provider) -> list:
    ids = [i for i in provider.requested_service_type_ids or [] if isinstance(i, int)]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(ServiceType).where(ServiceType.id.in_(ids)).order_by(ServiceType.name_fi)))



def platform_admins() -> list:
    """(id, e-mail, language) of every active platform administrator."""
    return db.session.execute(sa.select(User.id, User.email, User.language).where(
        User.role == Role.ADMIN, User.active.is_(True))).all()


def tell_platform_admins(provider: Provider, subject, body, dedupe_key: str) -> None:
    """E-mail every platform administrator about ``provider``, each in their own
    language: ``subject()`` and ``body(link)`` are called inside it; ``link`` is the
    provider's admin page."""
    link = absolute_url("providers.admin_detail", provider_id=provider.id)
    for admin_id, email, lang in platform_admins():
        with force_locale(lang):
            queue_email(email, subject(), body(link), lang, dedupe_key=f"{dedupe_key}-admin-{admin_id}")
