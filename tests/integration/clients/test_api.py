"""The client API of API.md: registration with the identity code checked and masked,
reading a client, the access log and the export, for staff, the client and a
relative; everyone else gets 403/404."""

import pytest
import sqlalchemy as sa

from clients.models import Client

pytestmark = pytest.mark.smoke

BODY = {"first_name": "Helmi", "last_name": "Heinonen", "birth_date": "1952-10-13",
        "personal_identity_code": "131052-308T", "address": "Hallituskatu 3", "postal_code": "33200",
        "municipality": "Tampere", "phone": "040 555 6666", "email": "helmi@example.fi", "languages": ["fi", "sv"],
        "consent_to_share": True, "segment": "intensive"}


def test_staff_registers_a_client_and_becomes_the_responsible_worker(client, db, make_user, api_token):
    staff = make_user("staff")
    r = client.post("/api/v1/clients", json=BODY, headers=api_token(staff))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["responsible_worker_id"] == staff.id
    assert body["personal_identity_code"] == "131052-****"
    assert body["segment"] == "intensive" and body["consent_to_share"] is True
    assert "308T" not in r.get_data(as_text=True)
    stored = db.session.get(Client, body["id"])
    assert stored.personal_identity_code == "131052-308T" and stored.consent_recorded_by_id == staff.id


@pytest.mark.parametrize("code", ["131052-308U", "131052-30", "13105--308T", "131052Q308T"])
def test_a_bad_identity_code_is_422_naming_the_field(client, make_user, api_token, code):
    r = client.post("/api/v1/clients", json=dict(BODY, personal_identity_code=code),
                    headers=api_token(make_user("staff")))
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "invalid_personal_identity_code"
    assert list(error["fields"]) == ["personal_identity_code"]
    assert code not in r.get_data(as_text=True)


def test_the_same_identity_code_twice_is_409(client, make_user, api_token):
    headers = api_token(make_user("staff"))
    assert client.post("/api/v1/clients", json=BODY, headers=headers).status_code == 201
    r = client.post("/api/v1/clients", json=dict(BODY, first_name="Toinen"), headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "duplicate_client"


@pytest.mark.parametrize("role", ["client", "provider", "manager", "admin"])
def test_only_staff_registers_clients(client, make_user, api_token, role):
    assert client.post("/api/v1/clients", json=BODY, headers=api_token(make_user(role))).status_code == 403


def test_get_client_for_staff_the_client_and_the_relative(client, world, api_token):
    w = world
    for user in (w.worker, w.other_worker, w.aino_user, w.relative):
        r = client.get(f"/api/v1/clients/{w.aino.id}", headers=api_token(user))
        assert r.status_code == 200, (user.email, r.get_json())
        assert r.get_json()["personal_identity_code"] == "131052-****"
    for user in (w.aino_user, w.relative):
        assert client.get(f"/api/v1/clients/{w.bertta.id}", headers=api_token(user)).status_code == 404
    assert client.get(f"/api/v1/clients/{w.aino.id}", headers=api_token(w.provider_member)).status_code == 403


def test_non_disclosure_hides_address_and_phone_except_from_the_worker_and_the_client(client, db, world, api_token):
    w = world
    w.aino.non_disclosure = True
    db.session.commit()
    seen = {}
    for user in (w.worker, w.other_worker, w.aino_user, w.relative):
        body = client.get(f"/api/v1/clients/{w.aino.id}", headers=api_token(user)).get_json()
        seen[user.email] = (body["address"], body["phone"])
    assert seen[w.worker.email] == ("Hämeenkatu 5 A 1", "040 111 2222")
    assert seen[w.aino_user.email] == ("Hämeenkatu 5 A 1", "040 111 2222")
    assert seen[w.other_worker.email] == (None, None)
    assert seen[w.relative.email] == (None, None)


def test_access_log_api_lists_who_read_what_and_why(client, world, api_token):
    w = world
    staff_headers = api_token(w.worker)
    client.get(f"/api/v1/clients/{w.aino.id}", headers=staff_headers)
    r = client.get(f"/api/v1/clients/{w.aino.id}/access-log", headers=api_token(w.aino_user))
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"items", "next"}
    items = body["items"]
    assert items[0]["actor"] == {"id": w.aino_user.id, "name": "Aino Asiakas", "role": "client"}
    assert items[0]["purpose"] == "the client viewing their own data"
    worker_reads = [i for i in items if i["actor"]["id"] == w.worker.id]
    assert worker_reads and worker_reads[0]["action"] == "view" and worker_reads[0]["purpose"] == "client guidance"
    assert all(set(i) >= {"at", "actor", "action", "purpose"} for i in items)
    assert items[0]["at"].endswith("Z")


def test_access_log_api_pages_with_absolute_next_links(client, world, api_token):
    headers = api_token(world.worker)
    for _ in range(4):
        client.get(f"/api/v1/clients/{world.aino.id}", headers=headers)
    first = client.get(f"/api/v1/clients/{world.aino.id}/access-log?limit=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next"].startswith("http://kotiapu.test/api/v1/clients/")
    second = client.get(first["next"], headers=headers).get_json()
    assert len(second["items"]) == 2
    assert not {i["at"] for i in first["items"]} & {i["at"] for i in second["items"]}
    assert client.get(f"/api/v1/clients/{world.aino.id}/access-log?limit=0", headers=headers).status_code == 422


def test_access_log_of_another_client_is_404(client, world, api_token):
    w = world
    for user in (w.aino_user, w.relative):
        assert client.get(f"/api/v1/clients/{w.bertta.id}/access-log", headers=api_token(user)).status_code == 404


def test_export_for_the_client_and_staff_not_for_a_relative_or_another_client(client, world, api_token):
    w = world
    r = client.get(f"/api/v1/clients/{w.aino.id}/export", headers=api_token(w.aino_user))
    assert r.status_code == 200
    data = r.get_json()
    assert data["client"]["first_name"] == "Aino" and data["client"]["personal_identity_code"] == "131052-****"
    assert [o["number"] for o in data["tables"]["service_orders"]] == [w.aino_order.number]
    assert client.get(f"/api/v1/clients/{w.aino.id}/export", headers=api_token(w.worker)).status_code == 200
    relative = client.get(f"/api/v1/clients/{w.aino.id}/export", headers=api_token(w.relative))
    assert relative.status_code == 403 and relative.get_json()["error"]["code"] == "own_data_only"
    assert client.get(f"/api/v1/clients/{w.bertta.id}/export", headers=api_token(w.aino_user)).status_code == 404
    assert client.get(f"/api/v1/clients/{w.aino.id}/export",
                      headers=api_token(w.provider_member)).status_code == 403


def test_the_openapi_document_describes_the_client_calls(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/clients", "/clients/{client_id}", "/clients/{client_id}/access-log", "/clients/{client_id}/export"):
        assert path in paths


def test_an_erased_client_is_gone_from_the_api(client, db, world, api_token):
    from clients.services import erase_client, request_erasure

    w = world
    w.aino_order.status = "closed"
    db.session.commit()
    request_erasure(w.aino_user, w.aino.id)
    erase_client(w.worker, w.aino.id)
    db.session.commit()
    assert client.get(f"/api/v1/clients/{w.aino.id}", headers=api_token(w.worker)).status_code == 404
    assert db.session.scalar(sa.select(Client.first_name).where(Client.id == w.aino.id)) == "Poistettu"
