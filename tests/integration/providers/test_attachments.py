"""Attachments: stored outside the web root under random names, checked by content
and size, and served only to administrators and the organisation's own members."""

import pytest
import sqlalchemy as sa

from providers.models import ProviderAttachment
from tests import factories as f
from tests.integration.providers.conftest import PDF, PNG, file

pytestmark = pytest.mark.smoke


def _upload(client, data: bytes, name: str, kind="insurance", expires_on=""):
    return client.post("/organisation/attachments?lang=en",
                       data={"att-kind": kind, "att-file": file(data, name), "att-expires_on": expires_on},
                       content_type="multipart/form-data")


def _stored(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(ProviderAttachment).order_by(ProviderAttachment.id)).all()


def test_member_uploads_and_downloads(client, db, login_as, org_admin, upload_dir):
    login_as(org_admin)
    r = _upload(client, PDF, "Vakuutus 2026.pdf", expires_on="2031-05-01")
    assert r.status_code == 302 and r.headers["Location"].endswith("/organisation#attachments")
    (row,) = _stored(db)
    assert row.provider_id == org_admin.provider_id and row.uploaded_by_id == org_admin.id
    assert (upload_dir / "providers" / row.stored_name).read_bytes() == PDF
    r = client.get(f"/attachments/{row.id}")
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment;") and "Vakuutus" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]
    assert "Vakuutus 2026.pdf" in client.get("/organisation").get_data(as_text=True)


@pytest.mark.parametrize("data,name,message", [
    (b"<html><script>alert(1)</script></html>", "liite.html", "Only these file types are accepted"),
    (b"<svg onload=alert(1)>", "liite.svg", "Only these file types are accepted"),
    (b"<html>not really</html>", "liite.pdf", "does not match its name"),
    (PNG, "liite.jpg", "does not match its name"),
])
def test_wrong_types_are_refused(client, db, login_as, org_admin, upload_dir, data, name, message):
    login_as(org_admin)
    r = _upload(client, data, name)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert _stored(db) == [] and not any(upload_dir.rglob("*.*"))


def test_expired_document_is_refused(client, db, login_as, org_admin):
    login_as(org_admin)
    r = _upload(client, PDF, "vanha.pdf", expires_on="2020-01-01")
    assert r.status_code == 422 and "already expired" in r.get_data(as_text=True)
    assert _stored(db) == []


def test_oversized_upload_gets_a_friendly_413(client, db, app, login_as, org_admin, upload_dir):
    login_as(org_admin)
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    r = _upload(client, PDF + b"0" * (1024 * 1024 + 10), "iso.pdf")
    html = r.get_data(as_text=True)
    assert r.status_code == 413 and "larger than 1 MB" in html and "Add a document" in html
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024  # the request fits, the file does not
    r = _upload(client, PDF + b"0" * (1024 * 1024 + 10), "iso.pdf")
    assert r.status_code == 422 and "larger than 1" in r.get_data(as_text=True)
    assert _stored(db) == [] and not any(upload_dir.rglob("*.*"))


def test_attachments_are_scoped_to_admins_and_the_organisation(client, db, login_as, make_user, org, upload_dir):
    from providers.services import _write_file

    with client.application.test_request_context():
        stored = _write_file(PDF, "pdf")
    row = f.ProviderAttachmentFactory(provider_id=org.id, stored_name=stored)
    db.session.commit()
    url = f"/attachments/{row.id}"
    assert client.get(url).status_code == 302  # not logged in: to the login page
    allowed = [make_user("admin"), make_user("provider", provider=org, provider_role="worker")]
    refused = [make_user("provider"), make_user("provider", provider=f.ProviderFactory(kind="agency")),
               make_user("staff"), make_user("manager"), make_user("client")]
    for user in allowed:
        login_as(user)
        assert client.get(url).status_code == 200, user.role
        client.post("/logout")
    for user in refused:
        login_as(user)
        r = client.get(url)
        assert r.status_code == 404 and PDF not in r.data, user.role
        client.post("/logout")
    assert client.get("/attachments/999999").status_code == 302


def test_the_files_are_not_under_the_web_root(client, app, db, login_as, org_admin):
    login_as(org_admin)
    _upload(client, PDF, "vakuutus.pdf")
    (row,) = _stored(db)
    assert client.get(f"/static/{row.stored_name}").status_code == 404
    assert client.get(f"/static/../uploads/providers/{row.stored_name}").status_code == 404


def test_worker_cannot_add_or_remove(client, db, login_as, make_user, org):
    row = f.ProviderAttachmentFactory(provider_id=org.id)
    worker = make_user("provider", provider=org, provider_role="worker")
    login_as(worker)
    assert _upload(client, PDF, "x.pdf").status_code == 403
    assert client.post(f"/organisation/attachments/{row.id}/delete").status_code == 403
    assert len(_stored(db)) == 1
    assert "Add a document" not in client.get("/organisation?lang=en").get_data(as_text=True)


def test_removal_deletes_the_file_after_commit(client, db, login_as, org_admin, upload_dir, run_jobs, make_user):
    login_as(org_admin)
    _upload(client, PDF, "vakuutus.pdf")
    (row,) = _stored(db)
    row_id, path = row.id, upload_dir / "providers" / row.stored_name
    # Another organisation cannot remove it.
    other = make_user("provider")
    db.session.commit()  # SQLite: the test's own open write would lock out the logout's session update
    client.post("/logout")
    login_as(other)
    assert client.post(f"/organisation/attachments/{row.id}/delete").status_code == 404
    assert len(_stored(db)) == 1
    client.post("/logout")
    login_as(org_admin)
    assert client.post(f"/organisation/attachments/{row.id}/delete").status_code == 302
    assert _stored(db) == [] and path.exists()  # the job removes the file after the commit
    run_jobs()
    assert not path.exists()
    assert client.get(f"/attachments/{row_id}").status_code == 404
