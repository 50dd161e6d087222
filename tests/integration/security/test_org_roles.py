"""Least privilege inside a provider organisation (issue 16, point 4): only the
organisation's administrators add offerings, change prices and take offerings off
sale; a worker is refused and nothing changes; another organisation sees nothing.
One row per provider-side offering action and organisation role."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


def _offering(db, provider_id):
    from catalogue.models import Offering

    db.session.expire_all()
    return db.session.scalar(sa.select(Offering).where(Offering.provider_id == provider_id).order_by(Offering.id))


def _count(db, provider_id):
    from catalogue.models import Offering

    return db.session.scalar(sa.select(sa.func.count()).select_from(Offering).where(Offering.provider_id == provider_id))


# (action, subject, may) - may: the change happens
CASES = [
    ("take_off_sale", "org_admin", True), ("take_off_sale", "org_worker", False), ("take_off_sale", "other_org", False),
    ("change_price", "org_admin", True), ("change_price", "org_worker", False), ("change_price", "other_org", False),
    ("create", "org_admin", True), ("create", "org_worker", False),
]


@pytest.mark.parametrize(("action", "subject", "may"), CASES)
def test_offering_actions_per_organisation_role(db, subject_clients, demo_world, action, subject, may):
    client = subject_clients[subject]
    provider_id = demo_world["org_admin"].provider_id
    offering = _offering(db, provider_id)
    before_count, before_price, before_active = _count(db, provider_id), offering.price_cents, offering.active
    if action == "take_off_sale":
        r = client.post(f"/provider/offerings/{offering.id}/active", data={"active": "0"})
        assert (_offering(db, provider_id).active is False) == may, r.status_code
    elif action == "change_price":
        r = client.post(f"/provider/offerings/{offering.id}", data={
            "service_type_id": offering.service_type_id, "postal_codes": " ".join(offering.postal_codes),
            "languages": ", ".join(offering.languages or ["fi"]), "unit": offering.unit, "price": "99,00",
            "vat_rate_bp": offering.vat_rate_bp, "labour_share_percent": 100, "self_paid": "y"})
        assert (_offering(db, provider_id).price_cents == 9900) == may, (r.status_code, r.get_data(as_text=True)[:300])
        assert may or _offering(db, provider_id).price_cents == before_price
    else:
        r = client.post("/provider/offerings/new", data={
            "service_type_id": offering.service_type_id, "postal_codes": "33100", "languages": "fi",
            "unit": "hour", "price": "50,00", "vat_rate_bp": 2550, "labour_share_percent": 100, "self_paid": "y"})
        assert (_count(db, provider_id) == before_count + 1) == may, (r.status_code, r.get_data(as_text=True)[:300])
    if not may:
        assert r.status_code in (302, 403, 404)
        assert _offering(db, provider_id).active == before_active or action == "take_off_sale" and may


@pytest.mark.smoke
def test_worker_sees_offerings_without_change_buttons(subject_clients):
    page = subject_clients["org_worker"].get("/provider/offerings").get_data(as_text=True)
    assert "/provider/offerings/new" not in page
    assert subject_clients["org_worker"].get("/provider/offerings/new").status_code == 403
