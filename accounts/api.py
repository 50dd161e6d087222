"""API tokens: ``POST /api/v1/tokens`` (log in), ``DELETE /api/v1/tokens/current``
(log out) and ``GET /api/v1/me``."""

from __future__ import annotations

from flask import jsonify, request

from accounts.services import LoginError, authenticate, issue_token, revoke_token
from core.api import Unauthorized, Validator, api_bp, api_user, iso, json_body


@api_bp.post("/tokens")
def create_token():
    body = json_body()
    v = Validator(body)
    email = v.string("email", required=True, max_len=254)
    password = v.string("password", required=True, max_len=200, strip=False)
    v.done()
    try:
        user = authenticate(email, password, request.remote_addr)
    except LoginError:  # the service has recorded the failure for throttling
        raise Unauthorized("Wrong e-mail address or password.", code="invalid_credentials") from None
    token, row = issue_token(user)
    return jsonify({"token": token, "expires_at": iso(row.expires_at)}), 201


@api_bp.delete("/tokens/current")
def delete_token():
    api_user()
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    revoke_token(token)
    return "", 204


@api_bp.get("/me")
def me():
    user = api_user()
    return jsonify({
        "id": user.id, "email": user.email, "name": user.name, "role": user.role,
        "provider_id": user.provider_id, "client_id": user.client_id, "language": user.language,
    })
