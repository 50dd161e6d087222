"""The public catalogue as Open Referral HSDS 3 (API.md "Open data"): every answer
is validated with jsonschema against the standard's own compiled schemas, copied
unchanged into tests/standards/hsds3/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests import factories as f

SCHEMAS = Path(__file__).resolve().parents[2] / "standards" / "hsds3"
PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"}


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _valid(name: str, document: dict) -> None:
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def _page_schema() -> dict:
    spec = json.loads((SCHEMAS / "openapi.json").read_text())
    return spec["components"]["schemas"]["Page"]


def _valid_page(body: dict, item_schema: str) -> None:
    assert set(body) == PAGE_KEYS
    page = {k: v for k, v in body.items() if k != "contents"}
    errors = list(Draft202012Validator(_page_schema()).iter_errors(page))
    assert not errors and all(isinstance(body[k], int) for k in ("total_items", "total_pages", "page_number", "size"))
    for item in body["contents"]:
        _valid(item_schema, item)


@pytest.fixture
def catalogue(market, db):
    hidden = f.ProviderFactory(status="pending", name="Hakemus Oy")
    f.OfferingFactory(provider=hidden, service_type=market.service_type)
    f.OfferingFactory(provider=market.providers[1], service_type=f.ServiceTypeFactory(), price_cents=None,
                      postal_codes=["00100"], languages=["fi"])
    db.session.commit()
    market.hidden = hidden
    return market


@pytest.mark.smoke
def test_root_and_services_validate_against_hsds3(client, catalogue):
    root = client.get("/open/hsds/")
    assert root.status_code == 200 and root.get_json()["version"].startswith("3.")
    assert root.get_json()["openapi_url"].startswith("https://")

    r = client.get("/open/hsds/services")
    assert r.status_code == 200
    body = r.get_json()
    _valid_page(body, "service_list")
    assert body["total_items"] == 3 and body["size"] == 3 and body["first_page"] and body["last_page"]
    assert "Hakemus Oy" not in r.get_data(as_text=True)  # only approved providers

    for item in body["contents"]:
        full = client.get(f"/open/hsds/services/{item['id']}")
        assert full.status_code == 200
        service = full.get_json()
        _valid("service", service)
        assert service["organization"]["id"] == item["organization_id"]
    priced = client.get(f"/open/hsds/services/{body['contents'][0]['id']}").get_json()
    assert {a["name"] for a in priced["service_areas"]} == {"33100", "33200"}
    assert {lang["code"] for lang in priced["languages"]} == {"fi", "sv"}
    assert priced["cost_options"] == [{**priced["cost_options"][0], "amount": 42.0, "currency": "EUR"}]
    assert "household tax deduction" in priced["cost_options"][0]["amount_description"]
    unpriced = [s for s in body["contents"] if "fees_description" not in s]
    assert len(unpriced) == 1
    assert client.get(f"/open/hsds/services/{unpriced[0]['id']}").get_json()["cost_options"] == []


def test_paging_and_filters(client, catalogue):
    first = client.get("/open/hsds/services?per_page=2").get_json()
    second = client.get("/open/hsds/services?per_page=2&page=2").get_json()
    _valid_page(first, "service_list")
    _valid_page(second, "service_list")
    assert (first["total_pages"], first["size"], first["first_page"], first["last_page"]) == (2, 2, True, False)
    assert (second["size"], second["first_page"], second["last_page"]) == (1, False, True)
    assert not {s["id"] for s in first["contents"]} & {s["id"] for s in second["contents"]}
    beyond = client.get("/open/hsds/services?per_page=2&page=5").get_json()
    assert beyond["empty"] is True and beyond["contents"] == []
    org_id = first["contents"][0]["organization_id"]
    mine = client.get(f"/open/hsds/services?organization_id={org_id}").get_json()
    assert mine["total_items"] >= 1 and {s["organization_id"] for s in mine["contents"]} == {org_id}
    found = client.get("/open/hsds/services?search=Kotiapu%201").get_json()
    assert found["total_items"] == 2


@pytest.mark.parametrize("query", ["page=0", "per_page=500", "page=x", "per_page=-1"])
def test_bad_paging_is_a_clear_422(client, catalogue, query):
    r = client.get(f"/open/hsds/services?{query}")
    assert r.status_code == 422 and r.is_json
    assert set(r.get_json()["error"]["fields"]) <= {"page", "per_page"}


def test_unknown_ids_are_404_json(client, catalogue):
    for url in ("/open/hsds/services/not-a-uuid", "/open/hsds/services/00000001-0000-4000-8000-00000000ffff",
                "/open/hsds/organizations/00000001-0000-4000-8000-000000000001",
                "/open/hsds/organizations/123"):
        r = client.get(url)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found", url


@pytest.mark.smoke
def test_organizations_validate_against_hsds3(client, catalogue):
    body = client.get("/open/hsds/organizations").get_json()
    _valid_page(body, "organization_list")
    assert [o["name"] for o in body["contents"]] == ["Kotiapu 0 Oy", "Kotiapu 1 Oy"]
    for item in body["contents"]:
        org = client.get(f"/open/hsds/organizations/{item['id']}").get_json()
        _valid("organization", org)
        assert org["organization_identifiers"][0]["identifier"] == item["tax_id"]
        for service in org["services"]:
            assert service["organization_id"] == item["id"]
    second = client.get(f"/open/hsds/organizations/{body['contents'][1]['id']}").get_json()
    assert len(second["services"]) == 2
    # A pending provider is not published, not even by its id.
    from interop.hsds import hsds_id

    assert client.get(f"/open/hsds/organizations/{hsds_id('organization', catalogue.hidden.id)}").status_code == 404
