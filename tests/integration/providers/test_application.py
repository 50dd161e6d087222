"""The public application form: a valid application is stored with its files and
starts the e-mails; every kind of bad input gets a clear message and writes nothing."""

from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from providers.models import Provider, ProviderAttachment, ProviderInvitation
from tests import factories as f
from tests.integration.providers.conftest import (
    JPEG,
    PDF,
    PNG,
    application_form,
    emails,
    file,
    link_in,
)

pytestmark = pytest.mark.smoke


def _nothing_written(db, upload_dir):
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderAttachment)) == 0
    assert not upload_dir.exists() or not any(upload_dir.rglob("*.*"))
    assert emails(db) == []


def test_form_is_public_and_lists_services(client, service_types):
    r = client.get("/providers/apply?lang=en")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Apply to become a provider" in html and "Personal care" in html and 'enctype="multipart/form-data"' in html


def test_valid_application_is_stored_with_files_and_mails(client, db, app, service_types, upload_dir):
    plain, _care = service_types
    admin = f.UserFactory(role="admin", email="admin@example.fi")
    db.session.commit()
    data = application_form([plain.id], description="<p>Siivousta <b>ja</b> asiointia</p><script>alert(1)</script>",
                            attachment_certificate=file(JPEG, "todistus.jpg"))
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/providers/apply/sent")
    provider = db.session.scalar(sa.select(Provider))
    assert provider.status == "pending" and provider.business_id == f.valid_business_id(9001)
    assert provider.requested_service_type_ids == [plain.id]
    assert provider.service_areas == ["33100", "33200", "Tampere"] and provider.languages == ["fi", "sv"]
    assert provider.website == "https://testi.example.fi" and provider.prepayment_register is True
    assert provider.description == "Siivousta ja asiointia"  # tags and the script are gone
    files = {a.kind: a for a in db.session.scalars(sa.select(ProviderAttachment))}
    assert set(files) == {"insurance", "certificate"}
    assert files["insurance"].content_type == "application/pdf" and str(files["insurance"].expires_on) == "2030-01-31"
    assert files["certificate"].content_type == "image/jpeg" and files["certificate"].filename == "todistus.jpg"
    stored = upload_dir / "providers" / files["insurance"].stored_name
    assert stored.read_bytes() == PDF
    assert "vakuutus" not in files["insurance"].stored_name  # a random name, never the user's
    assert not str(stored).startswith(str(Path(app.static_folder)))
    # The applicant gets a link to create the organisation's login; the admin hears of it.
    (to_applicant,) = emails(db, "hakemus@example.fi")
    (to_admin,) = emails(db, admin.email)
    assert f"/admin/providers/{provider.id}" in to_admin.body
    link = link_in(to_applicant.body, "/invitations/")
    page = client.get(link + "?lang=en")
    assert page.status_code == 200 and "Kotiapu Testi Oy" in page.get_data(as_text=True)
    r = client.post(link, data={"name": "Sari Testaaja", "password": "pitkä-salasana-1", "repeat": "pitkä-salasana-1"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/organisation")
    html = client.get("/organisation?lang=en").get_data(as_text=True)
    assert "waiting for an administrator" in html and "vakuutus.pdf" in html


def test_confirmation_page(client):
    assert "e-mail" in client.get("/providers/apply/sent?lang=en").get_data(as_text=True)


@pytest.mark.parametrize("business_id", ["1234567-8", "1234567", "abcdefg-h", "0000001-1"])
def test_invalid_business_id_is_refused(client, db, service_types, upload_dir, business_id):
    data = application_form([service_types[0].id], business_id=business_id)
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "is not a valid business ID" in r.get_data(as_text=True)
    _nothing_written(db, upload_dir)


def test_duplicate_business_id_is_refused(client, db, service_types, upload_dir):
    f.ProviderFactory(business_id=f.valid_business_id(9001))
    db.session.commit()
    r = client.post("/providers/apply?lang=en", data=application_form([service_types[0].id]),
                    content_type="multipart/form-data")
    assert r.status_code == 409
    assert "already registered" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 1
    assert not upload_dir.exists() or not any(upload_dir.rglob("*.*"))


@pytest.mark.parametrize("upload,message", [
    (file(b"MZ\x90\x00 not a document", "vakuutus.exe"), "Only these file types are accepted"),
    (file(b"just text pretending", "vakuutus.pdf"), "does not match its name"),
    (file(PNG, "vakuutus.pdf"), "does not match its name"),
    (file(PDF, "vakuutus.png"), "does not match its name"),
    (file(b"", "vakuutus.pdf"), "The file is empty"),
])
def test_wrong_attachment_type_is_refused(client, db, service_types, upload_dir, upload, message):
    data = application_form([service_types[0].id], attachment_insurance=upload)
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    _nothing_written(db, upload_dir)


def test_missing_insurance_is_refused(client, db, service_types, upload_dir):
    data = application_form([service_types[0].id], attachment_insurance=None)
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    assert r.status_code == 422 and "insurance certificate" in r.get_data(as_text=True)
    _nothing_written(db, upload_dir)


def test_file_over_the_upload_limit_gets_a_field_message(client, db, app, service_types, upload_dir):
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 3 * 1024 * 1024
    big = PDF + b"0" * (1024 * 1024)
    data = application_form([service_types[0].id], attachment_insurance=file(big, "vakuutus.pdf"))
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    assert r.status_code == 422 and "larger than 1" in r.get_data(as_text=True)
    _nothing_written(db, upload_dir)


def test_request_over_the_limit_gets_a_friendly_413(client, db, app, service_types, upload_dir):
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    big = PDF + b"0" * (2 * 1024 * 1024)
    data = application_form([service_types[0].id], attachment_insurance=file(big, "vakuutus.pdf"))
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 413
    assert "larger than 1 MB" in html and "<form" in html  # the form again, not a bare error page
    _nothing_written(db, upload_dir)


def test_soteri_services_need_registration_and_a_self_monitoring_plan(client, db, service_types, upload_dir):
    _plain, care = service_types
    r = client.post("/providers/apply?lang=en", data=application_form([care.id]), content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "need registration in the Soteri register" in html and "Personal care" in html
    assert "self-monitoring plan" in html
    _nothing_written(db, upload_dir)
    data = application_form([care.id], soteri_registered="y",
                            attachment_self_monitoring_plan=file(PDF, "omavalvonta.pdf"))
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    assert db.session.scalar(sa.select(Provider.soteri_registered)) is True


def test_missing_fields_are_named(client, db, service_types, upload_dir):
    data = application_form([], name="", contact_person="", email="not-an-address", service_areas="33100, 123",
                            languages=None, confirm=None)
    r = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data")
    html = unescape(r.get_data(as_text=True))
    assert r.status_code == 422
    for text in ("Enter the organisation's name.", "Enter the contact person's name.",
                 "Confirm the information to apply."):
        assert text in html
    _nothing_written(db, upload_dir)
    # The shape is right, the content is not: the service names each problem.
    data = application_form([], email="not-an-address", service_areas="33100, 123", languages=None)
    html = client.post("/providers/apply?lang=en", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Choose at least one service." in html and "123" in html and "valid e-mail address" in html
    assert "Choose at least one language." in html
    _nothing_written(db, upload_dir)


def test_address_that_already_has_a_login_is_refused(client, db, service_types, upload_dir):
    f.UserFactory(role="staff", email="hakemus@example.fi")
    db.session.commit()
    r = client.post("/providers/apply?lang=en", data=application_form([service_types[0].id]),
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "already has a Kotiapu login" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderInvitation)) == 0
