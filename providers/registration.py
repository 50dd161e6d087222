"""Registering an organisation: the public application form (anyone; attachments,
an invitation to create the first login, the administrators told) and
``POST /api/v1/providers`` (administrators register an organisation directly).
Both go through the same checks (``_clean_organisation``), so every field the
application form can set, the API can set too."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale, ngettext

from accounts.models import ProviderRole
from core.errors import ConflictError, ValidationFailed
from core.extensions import db
from core.mail import queue_email
from core.urls import absolute_url
from core.validators import normalise_business_id
from providers import policy
from providers.common import (
    INVITATION_DAYS,
    _,
    _active_user_with_email,
    _clean_areas,
    _clean_email,
    _clean_languages,
    _clean_string,
    _clean_website,
    _require,
    _service_types,
    sanitise_text,
    tell_platform_admins,
)
from providers.documents import NewAttachment, _check_attachment, _remove_files_now, _store_attachment
from providers.members import _new_invitation
from providers.models import AttachmentKind, Provider, ProviderKind, ProviderStatus

# The organisation's fields that both the application form and the API set. The
# web form also sends attachments and a confirmation, which are not fields of the
# organisation (see tests/integration/providers/test_parity.py).
ORGANISATION_FIELDS = ("name", "business_id", "kind", "email", "phone", "languages", "contact_person", "website",
                       "service_areas", "service_type_ids", "description", "soteri_registered",
                       "prepayment_register")


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


def _clean_flag(value, errors: dict, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        _require(errors, name, _("Must be true or false."))
        return False
    return value


def _clean_organisation(data: dict, errors: dict, *, application: bool) -> tuple[dict, list]:
    """Every field of an organisation, checked the same way for the application form
    and the API. ``application``: the public form, where the contact person, the
    service area and the services are required; the API may leave them out.
    Returns the clean values and the service types applied for."""
    clean = _validate_organisation(data, errors)
    clean["contact_person"] = _clean_string(data.get("contact_person"), errors, "contact_person", 200,
                                            required=application, missing=_("Enter the contact person's name."))
    given = {name: value for name, value in data.items() if value is not None}
    clean["service_areas"] = _clean_areas(given.get("service_areas", []), errors, required=application)
    clean["website"] = _clean_website(data.get("website"), errors)
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        _require(errors, "description", _("Must be text."))
    clean["description"] = sanitise_text(description if isinstance(description, str) else "")
    services = _service_types(given.get("service_type_ids", []), errors, "service_type_ids", required=application)
    clean["requested_service_type_ids"] = [s.id for s in services]
    clean["soteri_registered"] = _clean_flag(data.get("soteri_registered"), errors, "soteri_registered")
    clean["prepayment_register"] = _clean_flag(data.get("prepayment_register"), errors, "prepayment_register")
    soteri = [s for s in services if s.needs_soteri]
    if soteri and not clean["soteri_registered"] and "soteri_registered" not in errors:
        _require(errors, "soteri_registered",
                 _("These services need registration in the Soteri register of social and health service "
                   "providers: %(names)s.", names=", ".join(s.name() for s in soteri)))
    return clean, services


def create_provider(*, actor, **fields) -> Provider:
    """``POST /providers``: an administrator registers an organisation directly, with
    any of ``ORGANISATION_FIELDS`` (name, business ID, kind, e-mail and languages
    required). It starts as ``pending`` and gets offers only once approved. Raises
    ValidationFailed (``invalid_business_id`` when the Y-tunnus is wrong) and
    ConflictError (``duplicate_business_id``)."""
    policy.require_platform_admin(actor)
    unknown = sorted(set(fields) - set(ORGANISATION_FIELDS))
    if unknown:
        raise TypeError(f"create_provider() got unexpected fields: {', '.join(unknown)}")
    errors: dict = {}
    data = {**fields, "languages": fields.get("languages") if fields.get("languages") is not None else []}
    clean, _services = _clean_organisation(data, errors, application=False)
    _raise_if_invalid(errors)
    _check_unique_business_id(clean["business_id"])
    provider = Provider(status=ProviderStatus.PENDING, **clean)
    _insert_provider(provider)
    return provider


def submit_application(*, attachments: list[NewAttachment] = (), language: str = "fi", **fields) -> Provider:
    """The public application form. Anyone may call it. Validates everything before
    writing anything (business ID checksum and uniqueness, Soteri registration for
    services that need it, each attachment's type by name and content and its size),
    then records the organisation as ``pending`` with its attachments, e-mails the
    contact address an invitation to set up the organisation's first login, and
    tells the administrators. Raises ValidationFailed / ConflictError."""
    errors: dict = {}
    clean, services = _clean_organisation(fields, errors, application=True)
    soteri = [s for s in services if s.needs_soteri]
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
    provider = Provider(status=ProviderStatus.PENDING, **clean)
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


def _tell_admins_of_application(provider: Provider) -> None:
    tell_platform_admins(
        provider, lambda: _("New provider application: %(name)s", name=provider.name),
        lambda link: _("%(name)s (business ID %(id)s) has applied to become a provider. Review the "
                       "application and its attachments:\n\n%(link)s\n", name=provider.name,
                       id=provider.business_id, link=link),
        f"provider-application-{provider.id}")


def _application_received_body(provider: Provider, token: str) -> str:
    return ngettext(
        "Hello,\n\nThank you for applying to become a service provider in Kotiapu. We received the application "
        "of %(name)s (business ID %(id)s). An administrator checks it and its attachments; you will get an "
        "e-mail when a decision has been made.\n\nCreate the organisation's login with the link below. With it "
        "you can follow the application, add attachments and answer questions. The link works once and "
        "expires in %(num)s day.\n\n%(link)s\n",
        "Hello,\n\nThank you for applying to become a service provider in Kotiapu. We received the application "
        "of %(name)s (business ID %(id)s). An administrator checks it and its attachments; you will get an "
        "e-mail when a decision has been made.\n\nCreate the organisation's login with the link below. With it "
        "you can follow the application, add attachments and answer questions. The link works once and "
        "expires in %(num)s days.\n\n%(link)s\n",
        INVITATION_DAYS, name=provider.name, id=provider.business_id,
        link=absolute_url("providers.accept_invitation", token=token))

