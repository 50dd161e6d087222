"""``/api/v1/providers``: exactly as API.md says."""

import pytest
import sqlalchemy as sa

from providers.models import Provider
from tests import factories as f

pytestmark = pytest.mark.smoke


def _error(r):
    body = r.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


@pytest.fixture
def admin_headers(make_user, api_token):
    return api_token(make_user("admin"))


def _body(**overrides):
    body = {"name": "Rajapinta Oy", "business_id": f.valid_business_id(7001), "kind": "company",
            "email": "api@example.fi", "phone": "040 1", "languages": ["fi", "sv"]}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_admin_creates_and_approves_a_provider(client, db, admin_headers):
    r = client.post("/api/v1/providers", json=_body(), headers=admin_headers)
    assert r.status_code == 201
    created = r.get_json()
    assert created["status"] == "pending" and created["business_id"] == f.valid_business_id(7001)
    assert created["kind"] == "company" and created["languages"] == ["fi", "sv"]
    assert created["rating"] == {"average": None, "count": 0}
    assert created["url"].startswith("http")
    # Not public before approval.
    assert client.get(f"/api/v1/providers/{created['id']}").status_code == 404
    assert client.get(f"/api/v1/providers/{created['id']}", headers=admin_headers).status_code == 200
    r = client.post(f"/api/v1/providers/{created['id']}/approve", headers=admin_headers)
    # No insurance certificate was attached: approving needs the reason (issue 13, point 7).
    assert r.status_code == 422 and _error(r)["code"] == "reason_required"
    r = client.post(f"/api/v1/providers/{created['id']}/approve", json={"reasons": "Vakuutus tarkistettu puhelimitse."},
                    headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    r = client.post(f"/api/v1/providers/{created['id']}/approve", headers=admin_headers)
    assert r.status_code == 409 and _error(r)["code"] == "invalid_transition"
    assert client.post("/api/v1/providers/999999/approve", headers=admin_headers).status_code == 404
    assert client.get(f"/api/v1/providers/{created['id']}").get_json()["status"] == "approved"


@pytest.mark.parametrize("business_id", ["1234567-8", "1234567", "", 1234567])
def test_invalid_business_id_is_422_with_fields(client, db, admin_headers, business_id):
    r = client.post("/api/v1/providers", json=_body(business_id=business_id), headers=admin_headers)
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "invalid_business_id" and "business_id" in error["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 0


def test_duplicate_business_id_is_409(client, db, admin_headers):
    assert client.post("/api/v1/providers", json=_body(), headers=admin_headers).status_code == 201
    r = client.post("/api/v1/providers", json=_body(name="Toinen Oy"), headers=admin_headers)
    assert r.status_code == 409 and _error(r)["code"] == "duplicate_business_id"


def test_bad_bodies(client, db, admin_headers):
    r = client.post("/api/v1/providers", data="not json", headers={**admin_headers, "Content-Type": "application/json"})
    assert r.status_code == 400
    r = client.post("/api/v1/providers", json=_body(kind="charity", email="nope", languages="fi", name=None),
                    headers=admin_headers)
    error = _error(r)
    assert r.status_code == 422 and error["code"] == "validation_failed"
    assert {"kind", "email", "languages", "name"} <= set(error["fields"])


def test_only_admins_create(client, db, make_user, api_token):
    assert client.post("/api/v1/providers", json=_body()).status_code == 401
    for role in ("staff", "provider", "client", "manager"):
        r = client.post("/api/v1/providers", json=_body(), headers=api_token(make_user(role)))
        assert r.status_code == 403, role
    provider = f.ProviderFactory(status="pending")
    db.session.commit()
    r = client.post(f"/api/v1/providers/{provider.id}/approve", headers=api_token(make_user("staff")))
    assert r.status_code == 403


def test_public_list_filters_by_service_and_postal_code(client, db):
    cleaning, meals = f.ServiceTypeFactory(), f.ServiceTypeFactory()
    a = f.ProviderFactory(name="A", rating_sum=9, rating_count=2)
    b = f.ProviderFactory(name="B")
    pending = f.ProviderFactory(name="P", status="pending")
    suspended = f.ProviderFactory(name="S", status="suspended")
    inactive = f.ProviderFactory(name="I")
    f.OfferingFactory(provider=a, service_type=cleaning, postal_codes=["33100", "33200"])
    f.OfferingFactory(provider=b, service_type=cleaning, postal_codes=["33500"])
    f.OfferingFactory(provider=b, service_type=meals, postal_codes=["33100"])
    f.OfferingFactory(provider=pending, service_type=cleaning, postal_codes=["33100"])
    f.OfferingFactory(provider=suspended, service_type=cleaning, postal_codes=["33100"])
    f.OfferingFactory(provider=inactive, service_type=cleaning, postal_codes=["33100"], active=False)
    db.session.commit()

    def names(query=""):
        r = client.get("/api/v1/providers" + query)
        assert r.status_code == 200
        return [i["name"] for i in r.get_json()["items"]]

    assert names() == ["A", "B", "I"]
    assert names(f"?service_type_id={cleaning.id}") == ["A", "B"]
    assert names(f"?service_type_id={cleaning.id}&postal_code=33100") == ["A"]
    assert names("?postal_code=33100") == ["A", "B"]
    assert names(f"?service_type_id={meals.id}&postal_code=33200") == []
    item = client.get("/api/v1/providers").get_json()["items"][0]
    assert set(item) >= {"id", "name", "kind", "business_id", "status", "rating"}
    assert item["rating"] == {"average": 4.5, "count": 2} and item["status"] == "approved"


def test_public_list_pages_and_refuses_bad_filters(client, db):
    for _ in range(3):
        f.ProviderFactory()
    db.session.commit()
    r = client.get("/api/v1/providers?limit=2")
    body = r.get_json()
    assert len(body["items"]) == 2 and body["next"].startswith("http")
    rest = client.get(body["next"]).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    for query in ("?service_type_id=abc", "?postal_code=3310", "?limit=0"):
        r = client.get("/api/v1/providers" + query)
        assert r.status_code == 422 and _error(r)["fields"], query


def test_openapi_documents_the_provider_calls(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/providers"]) and "post" in paths["/providers/{id}/approve"]
