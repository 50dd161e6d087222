"""Fixtures for the staffing tests: agencies with coverage, staff, request bodies."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.api import iso
from core.db import utcnow
from core.models import OutgoingEmail
from tests import factories as f


@pytest.fixture
def staff(make_user):
    return make_user("staff", language="en", email="sanna@kotihoito.example.fi")


@pytest.fixture
def make_agency(db, make_user):
    """``make_agency(qualifications=..., postal_codes=..., status=..., language=...)``:
    an agency organisation with its coverage and one member (returned)."""

    def make(qualifications=("practical_nurse",), postal_codes=("33100",), status="approved", language="en",
             **provider_fields):
        provider = f.ProviderFactory(kind="agency", status=status, **provider_fields)
        for q in qualifications:
            for p in postal_codes:
                f.StaffingCoverageFactory(provider_id=provider.id, qualification=q, postal_code=p)
        return make_user("provider", provider=provider, language=language)

    return make


def request_body(**overrides) -> dict:
    """A valid API body: two practical nurses in 33100 for two day shifts."""
    start = (utcnow() + timedelta(days=3)).replace(hour=5, minute=0, second=0, microsecond=0)
    body = {"unit": "Kotihoito Keskusta", "qualification": "practical_nurse", "postal_code": "33100",
            "shifts": [{"start": iso(start), "end": iso(start + timedelta(hours=8))},
                       {"start": iso(start + timedelta(days=1)), "end": iso(start + timedelta(days=1, hours=8))}],
            "headcount": 2, "respond_by": iso(utcnow() + timedelta(days=1)), "note": "Oma auto tarvitaan."}
    body.update(overrides)
    return body


@pytest.fixture
def new_request(client, api_token, staff):
    """``new_request(**overrides)`` creates a request through the API as ``staff``; returns its JSON."""

    def create(**overrides):
        r = client.post("/api/v1/staffing-requests", json=request_body(**overrides), headers=api_token(staff))
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return create


def emails_to(db, address: str) -> list[OutgoingEmail]:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == address)
                              .order_by(OutgoingEmail.id)).all()
