"""The admin's service catalogue: categories and service types."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from catalogue.models import ServiceCategory, ServiceType, Unit
from core.errors import PermissionDenied, ValidationFailed
from core.extensions import db
from core.roles import Role

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _require_admin(actor) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only an administrator manages the service catalogue."))


def _check_slug(model, slug: str, own_id: int | None) -> dict:
    if not slug or len(slug) > 60 or not SLUG_RE.match(slug):
        return {"slug": [_("Lower-case letters, digits and hyphens, e.g. window-cleaning.")]}
    taken = db.session.scalar(sa.select(model.id).where(model.slug == slug, model.id != (own_id or -1)))
    if taken is not None:
        return {"slug": [_("Already in use.")]}
    return {}


def save_category(actor, *, slug: str, name_fi: str, name_sv: str = "", name_en: str = "", position: int = 0,
                  category: ServiceCategory | None = None) -> ServiceCategory:
    """Create or edit a service category. Admin only; ValidationFailed for a bad or
    taken slug or a missing Finnish name."""
    _require_admin(actor)
    slug = (slug or "").strip().lower()
    errors = _check_slug(ServiceCategory, slug, category.id if category else None)
    if not (name_fi or "").strip():
        errors["name_fi"] = [_("The Finnish name is required.")]
    if errors:
        raise ValidationFailed(_("The category could not be saved."), fields=errors)
    category = category or ServiceCategory()
    category.slug, category.position = slug, int(position or 0)
    category.name_fi, category.name_sv, category.name_en = name_fi.strip(), (name_sv or "").strip() or None, \
        (name_en or "").strip() or None
    db.session.add(category)
    db.session.flush()
    return category


def save_service_type(actor, *, category_id: int, slug: str, name_fi: str, name_sv: str = "", name_en: str = "",
                      description_fi: str = "", self_paid_allowed: bool = True, needs_soteri: bool = False,
                      default_unit: str = "hour", service_type: ServiceType | None = None) -> ServiceType:
    """Create or edit a service type. Admin only."""
    _require_admin(actor)
    slug = (slug or "").strip().lower()
    errors = _check_slug(ServiceType, slug, service_type.id if service_type else None)
    if db.session.get(ServiceCategory, category_id) is None:
        errors["category_id"] = [_("Choose a category.")]
    if not (name_fi or "").strip():
        errors["name_fi"] = [_("The Finnish name is required.")]
    if default_unit not in set(Unit):
        errors["default_unit"] = [_("Choose hour, visit or item.")]
    if errors:
        raise ValidationFailed(_("The service type could not be saved."), fields=errors)
    st = service_type or ServiceType()
    st.category_id, st.slug = category_id, slug
    st.name_fi, st.name_sv, st.name_en = name_fi.strip(), (name_sv or "").strip() or None, (name_en or "").strip() or None
    st.description_fi = (description_fi or "").strip()
    st.self_paid_allowed, st.needs_soteri, st.default_unit = bool(self_paid_allowed), bool(needs_soteri), default_unit
    db.session.add(st)
    db.session.flush()
    return st


def set_service_type_active(actor, service_type: ServiceType, active: bool) -> ServiceType:
    """Deactivate a service type (no new offerings, orders or purchases) or bring it back."""
    _require_admin(actor)
    service_type.active = bool(active)
    db.session.flush()
    return service_type
