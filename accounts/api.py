"""API tokens (API.md "Conventions" and "Tokens"): ``POST /api/v1/tokens`` (log in),
``GET /api/v1/tokens`` and ``DELETE /api/v1/tokens/{id}`` (the caller's tokens),
``POST /api/v1/tokens/machine`` (an organisation's system), ``DELETE
/api/v1/tokens/current`` (log out) and ``GET /api/v1/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import request
from flask_babel import gettext
from pydantic import Field

from accounts import second_factor
from accounts.models import ApiToken
from accounts.services import (
    LoginError,
    authenticate,
    create_machine_token,
    issue_token,
    revoke_token,
    revoke_token_by_id,
    visible_tokens,
)
from core.api import Body, Out, Page, Unauthorized, answer, api_user, iso, route
from core.bounds import Text

TAGS = ("Tokens",)


class LoginIn(Body):
    email: Text(254)
    password: str = Field(min_length=1, max_length=200)
    name: Text(100, min_length=0) = Field("", description="Optional: a name for the token in your token list")
    code: Text(40, min_length=0) = Field("", description="A code from the user's authenticator app (or one of their "
                                                         "recovery codes): required when the user has a second factor")


class NewToken(Out):
    """The new token: shown this once, store it safely"""

    token: str = Field(description="Send as `Authorization: Bearer <token>`")
    expires_at: datetime


class TokenOut(Out):
    """A token (never the token itself)"""

    id: int
    name: str
    kind: Literal["session", "machine"] = Field(description="`session`: from a login; `machine`: an organisation's system")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="To the minute")
    user: str | None = Field(None, description="Machine tokens: the system user it acts as")


class NewMachineToken(TokenOut):
    """The new machine token, with the token shown this once"""

    token: str


class MachineTokenIn(Body):
    name: Text(100) = Field(description="What uses it, e.g. `Scheduling system`")


class Me(Out):
    id: int
    email: str
    name: str
    role: Literal["admin", "staff", "manager", "provider", "client"]
    provider_id: int | None
    client_id: int | None
    language: str


def token_json(row: ApiToken) -> dict:
    return {"id": row.id, "name": row.name, "kind": row.kind, "created_at": iso(row.created_at),
            "expires_at": iso(row.expires_at), "last_used_at": iso(row.last_used_at),
            "user": row.user.name if row.kind == "machine" else None}


@route("POST", "/tokens", "Log in: get a bearer token", auth="none", body=LoginIn, tags=TAGS,
       responses={201: NewToken},
       errors={401: "Wrong e-mail or password (`invalid_credentials`); the user has a second factor and the "
                    "`code` is missing (`code_required`) or wrong or used (`invalid_code`)",
               429: "Too many failed logins or codes (`rate_limited`)"})
def create_token(body: LoginIn):
    try:
        user = authenticate(body.email, body.password, request.remote_addr)
    except LoginError:  # the service has recorded the failure for throttling
        raise Unauthorized(gettext("Wrong e-mail address or password."), code="invalid_credentials") from None
    if second_factor.enabled_factor(user) is not None:
        # The second factor cannot be bypassed through the API.
        if not body.code:
            raise Unauthorized(gettext("This user has a second factor: send a current code of the authenticator app "
                                       "as `code`."), code="code_required")
        try:
            second_factor.check_code(user, body.code, request.remote_addr)
        except LoginError:  # recorded as a failed login
            raise Unauthorized(gettext("The code is wrong or has already been used."), code="invalid_code") from None
    token, row = issue_token(user, name=body.name)
    return answer({"token": token, "expires_at": iso(row.expires_at)}, 201)


@route("GET", "/tokens", "Your tokens (and an organisation administrator's machine tokens)", tags=TAGS,
       responses={200: Page[TokenOut]})
def list_tokens():
    return answer({"items": [token_json(t) for t in visible_tokens(api_user())], "next": None})


@route("DELETE", "/tokens/current", "Log out: revoke the token used", tags=TAGS, responses={204: "Revoked"})
def delete_token():
    api_user()
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    revoke_token(token)
    return "", 204


@route("DELETE", "/tokens/<int:token_id>", "Revoke one of your tokens; it stops working at once", tags=TAGS,
       param_names={"token_id": "id"}, responses={204: "Revoked"})
def delete_token_by_id(token_id: int):
    revoke_token_by_id(api_user(), token_id)
    return "", 204


def _org_admin_only(**_params) -> None:
    """Refuse a worker before the body is read: only organisation administrators
    create machine tokens."""
    from core.errors import PermissionDenied

    if not api_user().is_org_admin:
        raise PermissionDenied("Only an administrator of a provider organisation can create machine tokens.")


@route("POST", "/tokens/machine", "Create a named machine token for your organisation's system "
       "(organisation administrators)", roles=("provider",), body=MachineTokenIn, tags=TAGS,
       before=_org_admin_only, responses={201: NewMachineToken})
def create_machine(body: MachineTokenIn):
    token, row = create_machine_token(api_user(), body.name)
    return answer({**token_json(row), "token": token}, 201)


@route("GET", "/me", "The token's user", tags=TAGS, responses={200: Me})
def me():
    user = api_user()
    return answer({
        "id": user.id, "email": user.email, "name": user.name, "role": user.role,
        "provider_id": user.provider_id, "client_id": user.client_id, "language": user.language,
    })
