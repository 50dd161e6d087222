"""A local OpenID provider for tests and the demo: a stand-in for Suomi.fi
e-Identification built from Authlib's server classes.

It runs its own small Flask app on 127.0.0.1 (a thread, or ``python -m
identity.local_provider`` as a process) with:

- ``/.well-known/openid-configuration``: its discovery document;
- ``/jwks``: the public half of its own RSA key (made with joserfc at start);
- ``/authorize``: the authorization endpoint. Its page is the "bank" screen: pick
  one of the configured persons (or type an identity code) and continue. Authlib's
  ``AuthorizationCodeGrant`` with ``OpenIDCode`` (nonce required) and
  ``CodeChallenge`` (PKCE S256 required) checks the request;
- ``/token``: the token endpoint (client_secret_basic or client_secret_post); an
  authorization code works once;
- ``/logout``: the end-session endpoint of RP-initiated logout; it redirects to a
  registered ``post_logout_redirect_uri`` and records the logout in ``logouts``.

The ID token carries ``sub``, ``given_name``, ``family_name`` and the personal
identity code in ``urn:oid:1.2.246.21`` (the claim name is a parameter), as
Suomi.fi does.

Two attributes let a test make the provider misbehave the way a broken or hostile
provider would, without touching the platform's code: ``id_token_lifetime``
(seconds; negative issues an already expired token) and ``signing_key`` (sign with
another key than the one published in the JWKS). Nothing here is meant for
production: it trusts whoever picks a person.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

IDENTITY_CLAIM = "urn:oid:1.2.246.21"
MANDATE_CLAIM = "mandates"  # the local provider's name for its mandate claim (OIDC_MANDATE_CLAIM)


def new_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid or secrets.token_hex(8), "use": "sig", "alg": "RS256"})


@dataclass
class Person:
    identity_code: str
    given_name: str
    family_name: str
    # Persons this one may act for, sent in the ID token's ``mandate_claim`` when set:
    # [{"identity_code": ..., "scopes": ["services", ...]}].
    mandates: list | None = None


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        allowed = {"openid", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret or "", self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    person: Person
    auth_time: int
    expires_at: float = field(default_factory=lambda: time.time() + 300)

    # AuthorizationCodeMixin (OAuth 2 and OpenID Connect)
    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return "http://ftn.ficora.fi/2017/loa2"

    def get_amr(self):
        return None


class LocalProvider:
    """``LocalProvider(client_id, client_secret, redirect_uris, ...).start()``;
    ``issuer`` and ``discovery_url`` once started; ``stop()`` at the end."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: list[str],
                 post_logout_redirect_uris: list[str] | None = None, persons: list[Person] | None = None,
                 identity_claim: str = IDENTITY_CLAIM, host: str = "127.0.0.1", port: int = 0,
                 mandate_claim: str = MANDATE_CLAIM):
        self.client = _Client(client_id, client_secret, list(redirect_uris), list(post_logout_redirect_uris or []))
        self.persons = list(persons or [])
        self.identity_claim = identity_claim
        self.mandate_claim = mandate_claim
        self.host, self.port = host, port
        self.key = new_key()
        self.signing_key: RSAKey = self.key  # a test may sign with another key
        self.id_token_lifetime = 300  # seconds; a test may issue expired tokens
        self.codes: dict[str, _Code] = {}
        self.used_nonces: set[str] = set()
        self.logouts: list[dict] = []
        self.issued: list[dict] = []  # ID token claims issued (for assertions)
        self._server = None
        self._thread = None
        self.app = self._make_app()

    # -- running ---------------------------------------------------------------

    def bind(self) -> LocalProvider:
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        return self

    def start(self) -> LocalProvider:
        if self._server is None:
            self.bind()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def person(self, identity_code: str) -> Person:
        for p in self.persons:
            if p.identity_code == identity_code:
                return p
        return Person(identity_code, "Testi", "Henkilö")

    # -- the Flask app of the provider -----------------------------------------

    def _make_app(self) -> Flask:
        provider = self
        app = Flask("local_openid_provider")
        app.secret_key = secrets.token_hex(16)

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, req):
                payload = req.payload
                if payload.data.get("nonce"):
                    provider.used_nonces.add(payload.data["nonce"])
                provider.codes[code] = _Code(
                    code=code, client_id=req.client.get_client_id(), redirect_uri=payload.redirect_uri,
                    scope=req.scope if hasattr(req, "scope") else payload.scope, nonce=payload.data.get("nonce"),
                    code_challenge=payload.data.get("code_challenge"),
                    code_challenge_method=payload.data.get("code_challenge_method"),
                    person=req.user, auth_time=int(time.time()))

            def query_authorization_code(self, code, client):
                item = provider.codes.get(code)
                if item and item.client_id == client.get_client_id() and item.expires_at > time.time():
                    return item
                return None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.person

        class OpenIDConnect(OpenIDCode):
            def exists_nonce(self, nonce, req):
                return nonce in provider.used_nonces  # a nonce that already got a code

            def resolve_client_private_key(self, client):
                return provider.signing_key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.key.kid}

            def get_client_claims(self, client):
                now = int(time.time())
                return {"iss": provider.issuer, "aud": [client.get_client_id()], "iat": now,
                        "exp": now + provider.id_token_lifetime}

            def generate_user_info(self, user, scope):
                info = UserInfo(sub=_pairwise(user.identity_code, provider.client.client_id),
                                given_name=user.given_name, family_name=user.family_name)
                info[provider.identity_claim] = user.identity_code
                if user.mandates is not None:
                    info[provider.mandate_claim] = user.mandates
                provider.issued.append(dict(info))
                return info

        server = AuthorizationServer(app, query_client=lambda cid: provider.client if cid == provider.client.client_id
                                     else None, save_token=lambda token, req: None)
        server.register_grant(CodeGrant, [OpenIDConnect(require_nonce=True), CodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            return jsonify({
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks",
                "end_session_endpoint": base + "/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "given_name", "family_name", provider.identity_claim],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            try:
                grant = server.get_consent_grant(end_user=None)
            except Exception as exc:  # noqa: BLE001 - shown to the person, as a provider would
                return _page("Virheellinen tunnistuspyyntö / Invalid request",
                             f"<p>{html.escape(getattr(exc, 'description', '') or str(exc))}</p>"), 400
            if request.method == "GET":
                return _picker(provider.persons)
            if request.form.get("cancel"):
                return server.create_authorization_response(grant_user=None, grant=grant)
            code = (request.form.get("identity_code_other") or request.form.get("identity_code") or "").strip().upper()
            if not code:
                return _picker(provider.persons, "Valitse henkilö / Choose a person"), 422
            return server.create_authorization_response(grant_user=provider.person(code), grant=grant)

        @app.post("/token")
        def token():
            return server.create_token_response()

        @app.get("/logout")
        def logout():
            target = request.args.get("post_logout_redirect_uri")
            client_id = request.args.get("client_id")
            provider.logouts.append({"client_id": client_id, "id_token_hint": bool(request.args.get("id_token_hint")),
                                     "post_logout_redirect_uri": target})
            if target:
                if target not in provider.client.post_logout_redirect_uris:
                    return _page("Virheellinen uloskirjautuminen / Invalid logout",
                                 "<p>post_logout_redirect_uri is not registered.</p>"), 400
                state = request.args.get("state")
                return redirect(target + ("?" + urlencode({"state": state}) if state else ""))
            return _page("Uloskirjautunut / Logged out", "<p>Olet kirjautunut ulos. / You have logged out.</p>")

        return app


class _QuietHandler(WSGIRequestHandler):
    """No request lines in the log: they carry codes, states and nonces."""

    def log_request(self, *args, **kwargs):
        pass


def _pairwise(identity_code: str, client_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{client_id}:{identity_code}".encode()).hexdigest()[:32]


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="fi"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f'<style>body{{font-family:sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem}}'
            f'label{{display:block;padding:.5rem 0}}button{{min-height:2.5rem;margin:.25rem 0}}</style></head>'
            f'<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>')


def _picker(persons: list[Person], error: str = "") -> str:
    choices = "".join(
        f'<label><input type="radio" name="identity_code" value="{html.escape(p.identity_code)}"> '
        f'{html.escape(p.given_name)} {html.escape(p.family_name)}</label>' for p in persons)
    err = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    body = (f"<p>Paikallinen testitunnistus (ei oikea pankki). / Local test identification (not a real bank).</p>{err}"
            f'<form method="post"><fieldset><legend>Tunnistaudu henkilönä / Identify as</legend>{choices}'
            f'<label>Muu henkilötunnus / Another identity code <input name="identity_code_other" '
            f'autocomplete="off"></label></fieldset>'
            f'<button type="submit" name="continue" value="1">Tunnistaudu / Identify</button> '
            f'<button type="submit" name="cancel" value="1">Peruuta / Cancel</button></form>')
    return _page("Testipankki / Test bank", body)


def main() -> None:  # pragma: no cover - the demo's process (``flask serve`` starts it)
    """``python -m identity.local_provider``; the client secret and the persons come
    from the environment (``LOCAL_OP_CLIENT_SECRET``, ``LOCAL_OP_PERSONS`` as a
    JSON list of ``{identity_code, given_name, family_name}``), not the command line."""
    import os

    parser = argparse.ArgumentParser(description="Local OpenID provider for the Kotiapu demo (not for production)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    parser.add_argument("--post-logout-redirect-uri", action="append", default=[])
    args = parser.parse_args()
    persons = [Person(**p) for p in json.loads(os.environ.get("LOCAL_OP_PERSONS") or "[]")]
    provider = LocalProvider(args.client_id, os.environ["LOCAL_OP_CLIENT_SECRET"], args.redirect_uri,
                             args.post_logout_redirect_uri, persons, host=args.host, port=args.port).bind()
    print(f"local OpenID provider at {provider.issuer}", flush=True)
    try:
        provider._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
