"""What an organisation's administrators set for themselves: the public profile
(description as plain text, languages, service area, contacts, logo), the weekly
capacity per service type, and the rules that accept matching offers at once."""

from __future__ import annotations

import sqlalchemy as sa

from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.extensions import db
from core.jobs import enqueue
from core.validators import valid_postal_code
from providers import policy
from providers.common import (
    IMAGE_TYPES,
    LOGO_MAX_BYTES,
    _,
    _clean_areas,
    _clean_email,
    _clean_languages,
    _clean_string,
    _clean_website,
    _provider,
    _require,
    _service_types,
    sanitise_text,
)
from providers.documents import Upload, _check_file, _write_file, upload_limit
from providers.models import AutoAcceptRule, Provider, ProviderCapacity

# --------------------------------------------------------------------------- public profile


def update_profile(provider_id: int, *, description, languages, service_areas, website=None, phone=None,
                   email=None, logo: Upload | None = None, remove_logo: bool = False, actor) -> Provider:
    """The organisation edits its public profile. The description is kept as plain
    text (HTML is stripped); the logo must be a PNG or JPEG of at most 2 MB."""
    policy.require_manage(actor, provider_id)
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
    policy.require_manage(actor, provider_id)
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
    policy.require_manage(actor, provider_id)
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
    policy.require_manage(actor, provider_id)
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
    policy.require_manage(actor, provider_id)
    rule = _rule(provider_id, rule_id)
    rule.active = bool(active)
    db.session.flush()
    return rule


def delete_auto_accept_rule(provider_id: int, rule_id: int, actor) -> None:
    """Delete a rule."""
    policy.require_manage(actor, provider_id)
    db.session.delete(_rule(provider_id, rule_id))
    db.session.flush()

