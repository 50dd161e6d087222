"""Web and API parity (issue 12, point 7): every field a provider form can set, the
API can set through the same service, and the other way round, unless the
difference is declared below with its reason."""

import pytest
import sqlalchemy as sa
from wtforms.fields.core import UnboundField

from providers.api import CREATE_BODY
from providers.forms import ApplicationForm, ProfileForm
from providers.models import Provider
from providers.registration import ORGANISATION_FIELDS
from tests import factories as f

pytestmark = pytest.mark.smoke

# (form, the API body that sets the same object)
PAIRS = {
    "ApplicationForm -> POST /providers": (ApplicationForm, CREATE_BODY),
    "ProfileForm -> POST /providers": (ProfileForm, CREATE_BODY),
}

_FILES = "a file upload: the JSON API takes no files (API.md); documents and logos are added on the web pages"
# (pair, field): why the field is on one side only.
ALLOWED = {
    ("ApplicationForm -> POST /providers", "attachment_insurance"): _FILES,
    ("ApplicationForm -> POST /providers", "attachment_self_monitoring_plan"): _FILES,
    ("ApplicationForm -> POST /providers", "attachment_certificate"): _FILES,
    ("ApplicationForm -> POST /providers", "expires_insurance"): "the validity date of an uploaded file (above)",
    ("ApplicationForm -> POST /providers", "expires_certificate"): "the validity date of an uploaded file (above)",
    ("ApplicationForm -> POST /providers", "confirm"): "the applicant's own attestation on the public form; the "
                                                       "API caller is an administrator registering the organisation",
    ("ProfileForm -> POST /providers", "logo"): _FILES,
    ("ProfileForm -> POST /providers", "remove_logo"): "goes with the logo upload (above)",
    # The profile form edits the public profile of an existing organisation; the
    # API body registers one, so it also carries what is fixed at registration.
    ("ProfileForm -> POST /providers", "name"): "fixed at registration (the profile form does not rename)",
    ("ProfileForm -> POST /providers", "business_id"): "fixed at registration (unique Y-tunnus)",
    ("ProfileForm -> POST /providers", "kind"): "fixed at registration",
    ("ProfileForm -> POST /providers", "contact_person"): "set at registration only",
    ("ProfileForm -> POST /providers", "service_type_ids"): "services applied for, set at registration; offerings "
                                                            "are managed in the marketplace",
    ("ProfileForm -> POST /providers", "soteri_registered"): "a registration checked by the administrator, set at "
                                                             "registration",
    ("ProfileForm -> POST /providers", "prepayment_register"): "a registration checked by the administrator, set "
                                                               "at registration",
}


def form_fields(form_class) -> set[str]:
    return {name for name in dir(form_class) if isinstance(getattr(form_class, name), UnboundField)}


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_form_and_api_body_set_the_same_fields(pair):
    form_class, body = PAIRS[pair]
    web, api = form_fields(form_class), set(body["properties"])
    undeclared = sorted(name for name in web ^ api if (pair, name) not in ALLOWED)
    assert not undeclared, f"{pair}: fields on one side only, not declared in ALLOWED: {undeclared}"
    stale = sorted(name for (p, name) in ALLOWED if p == pair and name not in web ^ api)
    assert not stale, f"{pair}: declared differences that no longer exist: {stale}"
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_api_body_is_what_the_service_takes():
    assert set(CREATE_BODY["properties"]) == set(ORGANISATION_FIELDS)


@pytest.fixture
def admin_headers(make_user, api_token):
    return api_token(make_user("admin"))


def test_api_sets_every_field_of_the_application_form(client, db, admin_headers):
    care = f.ServiceTypeFactory(needs_soteri=True)
    db.session.commit()
    body = {"name": "Pariteetti Oy", "business_id": f.valid_business_id(7301), "kind": "company",
            "email": "pariteetti@example.fi", "phone": "040 2", "languages": ["fi"],
            "contact_person": "Paula Pariteetti", "website": "pariteetti.example.fi",
            "service_areas": ["33100", "Tampere"], "service_type_ids": [care.id],
            "description": "<b>Kotiapua</b> Tampereella", "soteri_registered": True, "prepayment_register": True}
    r = client.post("/api/v1/providers", json=body, headers=admin_headers)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["prepayment_register"] is True and created["soteri_registered"] is True
    assert created["contact_person"] == "Paula Pariteetti" and created["website"] == "https://pariteetti.example.fi"
    assert created["service_areas"] == ["33100", "Tampere"] and created["service_type_ids"] == [care.id]
    assert created["description"] == "Kotiapua Tampereella"
    provider = db.session.get(Provider, created["id"])
    assert provider.prepayment_register and provider.soteri_registered


def test_registrations_default_to_false_and_must_be_booleans(client, db, admin_headers):
    body = {"name": "Oletus Oy", "business_id": f.valid_business_id(7302), "kind": "ngo",
            "email": "oletus@example.fi", "languages": ["sv"]}
    created = client.post("/api/v1/providers", json=body, headers=admin_headers).get_json()
    assert created["prepayment_register"] is False and created["soteri_registered"] is False
    r = client.post("/api/v1/providers", json={**body, "business_id": f.valid_business_id(7303),
                                               "prepayment_register": "yes", "soteri_registered": 1},
                    headers=admin_headers)
    assert r.status_code == 422
    assert {"prepayment_register", "soteri_registered"} <= set(r.get_json()["error"]["fields"])


def test_api_refuses_soteri_services_without_the_registration_as_the_form_does(client, db, admin_headers):
    care = f.ServiceTypeFactory(needs_soteri=True)
    db.session.commit()
    r = client.post("/api/v1/providers", json={
        "name": "Hoiva Oy", "business_id": f.valid_business_id(7304), "kind": "company", "email": "h@example.fi",
        "languages": ["fi"], "service_type_ids": [care.id]}, headers=admin_headers)
    assert r.status_code == 422 and "soteri_registered" in r.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 0
