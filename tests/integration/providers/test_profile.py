"""The public profile: edited by the organisation (HTML in the description is
removed, the logo is type-checked), shown to everyone once approved."""

import pytest

from tests import factories as f
from tests.integration.providers.conftest import PDF, PNG, file

pytestmark = pytest.mark.smoke


@pytest.fixture
def org(db):
    return f.ProviderFactory(name="Kotiapu Siivous Oy", description="Vanha kuvaus")


def _save(client, **overrides):
    data = {"description": "Uusi kuvaus", "languages": ["fi", "en"], "service_areas": "33100\nNokia",
            "email": "info@siivous.example.fi", "phone": "03 123 4567", "website": "https://siivous.example.fi"}
    data.update(overrides)
    return client.post("/organisation/profile?lang=en", data=data, content_type="multipart/form-data")


def test_profile_is_edited_and_html_is_removed(client, db, login_as, org_admin, org):
    login_as(org_admin)
    assert "Vanha kuvaus" in client.get("/organisation/profile").get_data(as_text=True)
    evil = ('<p onclick="steal()">Siivoamme <b>kodit</b></p>\n\n<script>document.location="https://evil"</script>'
            '<img src=x onerror=alert(1)>Toinen kappale &amp; loppu')
    r = _save(client, description=evil)
    assert r.status_code == 302
    db.session.expire_all()
    assert org.description == "Siivoamme kodit\n\nToinen kappale & loppu"
    assert org.languages == ["fi", "en"] and org.service_areas == ["33100", "Nokia"]
    client.post("/logout")
    html = client.get(f"/providers/{org.id}").get_data(as_text=True)
    assert "<p>Siivoamme kodit</p>" in html and "Toinen kappale &amp; loppu" in html
    assert "onerror" not in html and "evil" not in html and "steal" not in html


def test_escaped_markup_cannot_come_back_as_a_tag(db):
    from providers.services import sanitise_text

    assert "<" not in sanitise_text("&lt;script&gt;alert(1)&lt;/script&gt;")


def test_profile_fields_are_validated(client, db, login_as, org_admin, org):
    login_as(org_admin)
    r = _save(client, service_areas="33100, 1234", languages=[], website="not a url", email="x")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "1234" in html and "Choose at least one language." in html and "https://example.fi" in html
    db.session.expire_all()
    assert org.description == "Vanha kuvaus"


def test_logo_is_type_checked_and_served(client, db, login_as, org_admin, org, upload_dir):
    login_as(org_admin)
    r = _save(client, logo=file(PDF, "logo.png"))
    assert r.status_code == 422 and "does not match its name" in r.get_data(as_text=True)
    r = _save(client, logo=file(PDF, "logo.pdf"))
    assert r.status_code == 422 and "Only these file types are accepted: JPEG, PNG" in r.get_data(as_text=True)
    assert _save(client, logo=file(PNG, "logo.png")).status_code == 302
    db.session.expire_all()
    assert org.logo_path and (upload_dir / "providers" / org.logo_path).read_bytes() == PNG
    client.post("/logout")
    r = client.get(f"/providers/{org.id}/logo")
    assert r.status_code == 200 and r.data == PNG and r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_workers_cannot_edit_the_profile(client, db, login_as, make_user, org):
    login_as(make_user("provider", provider=org, provider_role="worker"))
    assert client.get("/organisation/profile").status_code == 403
    assert _save(client).status_code == 403


def test_only_approved_profiles_are_public(client, db, login_as, make_user):
    pending = f.ProviderFactory(status="pending", name="Odottava Oy")
    db.session.commit()
    assert client.get(f"/providers/{pending.id}").status_code == 404
    assert client.get("/providers/999999").status_code == 404
    login_as(make_user("provider", provider=pending))
    assert "Odottava Oy" in client.get(f"/providers/{pending.id}").get_data(as_text=True)
