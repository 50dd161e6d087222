"""API bearer tokens (POST /api/v1/tokens) and the API's error shape."""

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import ApiToken
from core.db import utcnow
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.smoke


def _error(response):
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return body["error"]


def test_token_is_issued_stored_hashed_and_sets_no_cookie(client, make_user, db):
    user = make_user("staff")
    db.session.commit()
    r = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 201
    body = r.get_json()
    assert body["expires_at"].endswith("Z") and len(body["token"]) >= 40
    assert "Set-Cookie" not in r.headers
    stored = db.session.scalar(sa.select(ApiToken.token_hash))
    assert stored == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in stored
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["role"] == "staff"
    assert "Set-Cookie" not in me.headers


def test_wrong_credentials_give_401(client, make_user, db):
    user = make_user("staff")
    db.session.commit()
    r = client.post("/api/v1/tokens", json={"email": user.email, "password": "wrong-one-here"})
    assert r.status_code == 401 and _error(r)["code"] == "invalid_credentials"


@pytest.mark.parametrize("body,status,fields", [
    ("not json", 400, None),
    ("[1, 2]", 400, None),
    ('{"email": 5}', 422, {"email", "password"}),
    ("{}", 422, {"email", "password"}),
])
def test_bad_token_requests(client, body, status, fields):
    r = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert r.status_code == status
    error = _error(r)
    if fields:
        assert set(error["fields"]) == fields


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc", "Bearer " + "x" * 500])
def test_missing_or_bad_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and _error(r)["code"] == "unauthorized"


def test_expired_and_revoked_tokens_are_refused(client, make_user, db, api_token):
    user = make_user("staff")
    headers = api_token(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    headers = api_token(user)
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_deactivated_user_token_stops_working(client, make_user, db, api_token):
    user = make_user("staff")
    headers = api_token(user)
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_ignores_the_browser_session(client, make_user, db, login_as):
    user = make_user("staff")
    login_as(user)
    assert client.get("/dashboard").status_code == 200
    # The cookie alone does not authenticate API calls (they have no CSRF protection).
    assert client.get("/api/v1/me").status_code == 401


def test_token_login_is_throttled(client, make_user, db, app):
    user = make_user("staff")
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        client.post("/api/v1/tokens", json={"email": user.email, "password": "wrong-password"})
    r = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 429 and _error(r)["code"] == "rate_limited"


def test_unknown_api_path_and_method_use_the_error_shape(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and _error(r)["code"] == "not_found"
    r = client.put("/api/v1/tokens", json={})
    assert r.status_code == 405 and _error(r)["code"] == "method_not_allowed"


def test_api_500_uses_the_error_shape(app, client):
    from core.api import api_bp

    def explode():
        raise RuntimeError("internal detail that must not leak")

    app.add_url_rule("/api/v1/test-explode", "api_test_explode", explode)
    r = client.get("/api/v1/test-explode")
    assert r.status_code == 500
    error = _error(r)
    assert error["code"] == "internal_error" and "internal detail" not in error["message"]
    assert api_bp  # the blueprint the real routes live on


def test_openapi_document_lists_the_token_call(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/tokens"]
    assert doc["servers"][0]["url"].startswith("http://")
