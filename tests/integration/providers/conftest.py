"""Fixtures of the provider tests: real files of each accepted type, an upload
directory of the test's own, and helpers that read the e-mails the app queued."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    """Each test stores its files in a directory of its own."""
    path = tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = str(path)
    return path


@pytest.fixture
def org(db):
    """An approved provider organisation (a test module may override it)."""
    from tests import factories as f

    return f.ProviderFactory()


@pytest.fixture
def org_admin(make_user, org):
    """The administrator of ``org``, using the app in English."""
    return make_user("provider", provider=org, language="en")


def file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def emails(db, to: str | None = None):
    from core.models import OutgoingEmail

    db.session.expire_all()
    stmt = sa.select(OutgoingEmail).order_by(OutgoingEmail.id)
    if to is not None:
        stmt = stmt.where(OutgoingEmail.to_address == to)
    return db.session.scalars(stmt).all()


def link_in(body: str, path: str) -> str:
    """The path of the first absolute link in ``body`` that contains ``path``."""
    match = re.search(r"https?://[^/\s]+(\S*" + re.escape(path) + r"\S*)", body)
    assert match, f"no link with {path} in:\n{body}"
    return match.group(1)


@pytest.fixture
def service_types(db):
    from tests import factories as f

    plain = f.ServiceTypeFactory(name_en="Cleaning")
    care = f.ServiceTypeFactory(name_en="Personal care", needs_soteri=True)
    db.session.commit()
    return plain, care


def application_form(service_type_ids, **overrides) -> dict:
    from tests import factories as f

    data = {
        "name": "Kotiapu Testi Oy",
        "business_id": f.valid_business_id(9001),
        "kind": "company",
        "contact_person": "Sari Testaaja",
        "email": "hakemus@example.fi",
        "phone": "040 555 1234",
        "website": "testi.example.fi",
        "service_areas": "33100, 33200\nTampere",
        "languages": ["fi", "sv"],
        "service_type_ids": [str(i) for i in service_type_ids],
        "prepayment_register": "y",
        "description": "Siivousta ja kauppa-asiointia.",
        "attachment_insurance": file(PDF, "vakuutus.pdf"),
        "expires_insurance": "2030-01-31",
        "confirm": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
