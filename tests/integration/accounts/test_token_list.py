"""Seeing and revoking API tokens, organisations' machine tokens and per-token rate
limits (issue 14, point 2; API.md "Tokens")."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from accounts.models import ApiToken, User
from tests.fixtures import PASSWORD

TOKEN_FIELDS = {"id", "name", "kind", "created_at", "expires_at", "last_used_at", "user"}


def _login(client, user, name=""):
    r = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD, "name": name})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.smoke
def test_a_user_sees_their_tokens_without_the_secret_and_revokes_one(client, db, make_user):
    user, other = make_user("staff"), make_user("staff")
    db.session.commit()
    first, second = _login(client, user, "laptop script"), _login(client, user)
    foreign = _login(client, other)
    client.get("/api/v1/me", headers=_bearer(first))

    r = client.get("/api/v1/tokens", headers=_bearer(first))
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert len(items) == 2 and all(set(i) == TOKEN_FIELDS for i in items)
    body = r.get_data(as_text=True)
    assert first not in body and second not in body and foreign not in body
    named = next(i for i in items if i["name"] == "laptop script")
    assert named["kind"] == "session" and named["last_used_at"].endswith("Z")

    other_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == other.id))
    assert client.delete(f"/api/v1/tokens/{other_id}", headers=_bearer(first)).status_code == 404
    assert client.get("/api/v1/me", headers=_bearer(foreign)).status_code == 200

    assert client.delete(f"/api/v1/tokens/{named['id']}", headers=_bearer(second)).status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(first)).status_code == 401
    assert [i["name"] for i in client.get("/api/v1/tokens", headers=_bearer(second)).get_json()["items"]] == [""]
    assert client.delete(f"/api/v1/tokens/{named['id']}", headers=_bearer(second)).status_code == 404


def test_an_organisation_admin_creates_and_revokes_a_machine_token(client, db, make_user):
    admin = make_user("provider")
    worker = make_user("provider", provider=admin.provider, provider_role="worker")
    staff = make_user("staff")
    db.session.commit()
    admin_token = _login(client, admin)

    r = client.post("/api/v1/tokens/machine", json={"name": "Scheduling system"}, headers=_bearer(admin_token))
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["kind"] == "machine" and created["name"] == "Scheduling system"
    machine = created["token"]
    me = client.get("/api/v1/me", headers=_bearer(machine)).get_json()
    assert me["role"] == "provider" and me["provider_id"] == admin.provider_id and me["name"] == "Scheduling system"
    system_user = db.session.get(User, me["id"])
    assert system_user.provider_role == "worker" and not system_user.is_org_admin

    listed = client.get("/api/v1/tokens", headers=_bearer(admin_token)).get_json()["items"]
    assert {i["kind"] for i in listed} == {"session", "machine"} and machine not in str(listed)
    # Least privilege: neither the machine token, a worker nor staff creates machine tokens.
    for token in (machine, _login(client, worker)):
        assert client.post("/api/v1/tokens/machine", json={"name": "x"}, headers=_bearer(token)).status_code == 403
    assert client.post("/api/v1/tokens/machine", json={"name": "x"},
                       headers=_bearer(_login(client, staff))).status_code == 403
    bad = client.post("/api/v1/tokens/machine", json={"name": "  "}, headers=_bearer(admin_token))
    assert bad.status_code == 422 and "name" in bad.get_json()["error"]["fields"]

    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=_bearer(admin_token)).status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(machine)).status_code == 401
    db.session.expire_all()
    assert db.session.get(User, me["id"]).active is False


@pytest.mark.smoke
def test_the_account_page_lists_and_revokes_tokens(client, db, make_user, login_as):
    user = make_user("staff")
    db.session.commit()
    token = _login(client, user, "Excel import")
    login_as(user)
    page = client.get("/account/tokens")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Excel import" in html and token not in html
    assert "/account/tokens" in client.get("/account").get_data(as_text=True)
    token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == user.id))
    r = client.post(f"/account/tokens/{token_id}/revoke")
    assert r.status_code == 303
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    assert "Excel import" not in client.get("/account/tokens").get_data(as_text=True)
    # Not an organisation administrator: no machine tokens.
    assert client.post("/account/tokens", data={"machine-name": "x"}).status_code == 403


def test_an_organisation_admin_creates_a_machine_token_on_the_web_and_sees_it_once(client, db, make_user,
                                                                                  login_as):
    admin = make_user("provider")
    db.session.commit()
    login_as(admin)
    r = client.post("/account/tokens", data={"machine-name": "Invoicing"})
    assert r.status_code == 303
    shown = client.get(r.headers["Location"]).get_data(as_text=True)
    token = re.search(r'id="new-token" type="text" value="([^"]+)"', shown).group(1)
    assert client.get("/api/v1/me", headers=_bearer(token)).get_json()["name"] == "Invoicing"
    again = client.get(r.headers["Location"]).get_data(as_text=True)
    assert token not in again and "Invoicing" in again
    empty = client.post("/account/tokens", data={"machine-name": ""})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.get_data(as_text=True)


@pytest.mark.smoke
def test_each_token_has_its_own_rate_limit_answered_with_429_and_retry_after(app, client, db, make_user):
    app.config["API_RATE_LIMIT"] = "3/minute"
    user = make_user("staff")
    db.session.commit()
    busy, calm = _login(client, user), _login(client, user)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=_bearer(busy)).status_code == 200
    r = client.get("/api/v1/me", headers=_bearer(busy))
    assert r.status_code == 429
    assert r.get_json()["error"]["code"] == "rate_limited" and set(r.get_json()) == {"error"}
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert r.headers["X-RateLimit-Limit"] == "3"
    ok = client.get("/api/v1/me", headers=_bearer(calm))   # another token: its own budget
    assert ok.status_code == 200 and ok.headers["X-RateLimit-Remaining"] == "2"


def test_calls_without_a_token_are_limited_per_address(app, client):
    app.config["API_ANONYMOUS_RATE_LIMIT"] = "2/minute"
    assert [client.get("/api/v1/service-types").status_code for _ in range(3)] == [200, 200, 429]
    r = client.get("/api/v1/service-types", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 200
