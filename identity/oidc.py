"""The OpenID Connect relying party: Authlib's Flask client, registered per app.

``init_oidc(app)`` registers the provider named by ``OIDC_DISCOVERY_URL`` (when
set) with the authorization code flow, PKCE (S256), state and nonce; Authlib checks
the ID token's signature against the provider's JWKS and its ``iss``, ``aud``,
``exp``, ``iat`` and ``nonce``. It also

- refuses a password login of a client-role user when ``CLIENT_PASSWORD_LOGIN`` is
  off (the ``user_logged_in`` signal: only a login this module opened passes);
- sends a logout of a strongly identified session on to the provider's
  ``end_session_endpoint`` (RP-initiated logout) when its discovery document has
  one, and a logout of a SAML session to the IdP's single logout service (a
  signed LogoutRequest, identity.views.start_saml_logout).
"""

from __future__ import annotations

import logging

from authlib.integrations.flask_client import OAuth
from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user, user_logged_in

from accounts.models import Role
from core.errors import DomainError

log = logging.getLogger(__name__)

# In the (signed) session cookie after a strong identification: the login method,
# never a token or an identity code.
METHOD_KEY = "login_method"
METHOD_OIDC = "oidc"
METHOD_SAML = "saml"
NAME = "strong"


def client():
    """The registered Authlib client, or None when strong identification is off."""
    oauth = current_app.extensions.get("identity_oauth")
    return None if oauth is None else oauth.create_client(NAME)


def enabled() -> bool:
    return current_app.extensions.get("identity_oauth") is not None


def strong_identification_url(**args) -> str | None:
    """Where the login page's strong identification button goes: OpenID Connect
    when configured, else SAML 2.0 when configured, else nowhere."""
    from identity import saml

    if enabled():
        return url_for("identity.start", **args)
    if saml.enabled():
        return url_for("identity.saml_start", **args)
    return None


def init_oidc(app) -> None:
    app.jinja_env.globals["strong_identification_url"] = strong_identification_url
    _connect_password_guard()
    if app.config.get("OIDC_DISCOVERY_URL"):
        oauth = OAuth(app)
        scopes = app.config.get("OIDC_SCOPES") or "openid profile"
        if "openid" not in scopes.split():
            scopes = "openid " + scopes
        oauth.register(NAME, client_id=app.config["OIDC_CLIENT_ID"], client_secret=app.config["OIDC_CLIENT_SECRET"],
                       server_metadata_url=app.config["OIDC_DISCOVERY_URL"],
                       client_kwargs={"scope": scopes, "code_challenge_method": "S256",
                                      "token_endpoint_auth_method": "client_secret_basic", "timeout": 10})
        app.extensions["identity_oauth"] = oauth

    @app.before_request
    def _note_strong_logout():
        if request.endpoint != "accounts.logout":
            return
        method = session.get(METHOD_KEY)
        if method == METHOD_OIDC:
            g.identity_provider_logout = True
        if method == METHOD_SAML:
            # Read before the logout ends the session row (SAML single logout).
            from identity.views import saml_subject_of_this_session

            g.saml_logout_subject = saml_subject_of_this_session()

    @app.after_request
    def _provider_logout(response):
        method = session.get(METHOD_KEY)
        if method == METHOD_OIDC and response.mimetype == "text/html":
            _allow_logout_form(response)
        if method == METHOD_SAML and response.mimetype == "text/html":
            _allow_saml_logout_form(response)
        if g.get("saml_logout_subject") and response.status_code in (302, 303):
            from identity.views import start_saml_logout

            target = start_saml_logout(g.saml_logout_subject)
            return redirect(target) if target else response
        if not g.get("identity_provider_logout") or response.status_code not in (302, 303):
            return response
        target = logout_url()
        return redirect(target) if target else response


def _allow_logout_form(response) -> None:
    """The logout button is a form; its answer redirects to the provider's
    end-session endpoint, which the page's CSP ``form-action`` must allow (core's
    policy is kept otherwise; its own after_request only sets a missing header)."""
    from urllib.parse import urlsplit

    from core.security import CSP

    target = logout_url()
    if not target or "Content-Security-Policy" in response.headers:
        return
    parts = urlsplit(target)
    origin = f"{parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {origin}", 1)


def _allow_saml_logout_form(response) -> None:
    """As ``_allow_logout_form``, for the IdP's SAML single logout service."""
    from core.security import CSP
    from identity import saml

    if "Content-Security-Policy" in response.headers:
        return
    try:
        origin = saml.slo_origin()
    except Exception as exc:  # noqa: BLE001 - no metadata: the page keeps core's policy
        log.warning("SAML logout origin unknown: %s", type(exc).__name__)
        return
    if origin:
        response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {origin}",
                                                                  1)


def logout_url() -> str | None:
    """The provider's end-session address (RP-initiated logout) coming back to the
    login page, or None when the provider has no end_session_endpoint or cannot
    be reached."""
    rp = client()
    if rp is None:
        return None
    try:
        metadata = rp.load_server_metadata()
        if not metadata.get("end_session_endpoint"):
            return None
        return rp.create_logout_url(post_logout_redirect_uri=url_for("accounts.login", _external=True),
                                    client_id=rp.client_id)["url"]
    except Exception as exc:  # noqa: BLE001 - the local logout has happened; the provider is optional here
        log.warning("provider logout skipped: %s", type(exc).__name__)
        return None


_connected = {"done": False}


def _connect_password_guard() -> None:
    if _connected["done"]:
        return
    user_logged_in.connect(_refuse_client_password_login, weak=False)
    _connected["done"] = True


def _refuse_client_password_login(sender, user=None, **_kw):
    """Password login of clients and relatives is a fallback the setting can turn
    off; a login opened by the strong identification callback sets
    ``g.strong_identification`` first."""
    if user is None or user.role != Role.CLIENT or g.get("strong_identification"):
        return
    if "identity" not in current_app.blueprints or current_app.config.get("CLIENT_PASSWORD_LOGIN", True):
        return
    logout_user()
    session.clear()
    raise DomainError(_("Clients and relatives log in with strong identification (online banking codes or a mobile "
                        "certificate)."), code="strong_identification_required", status=403)
