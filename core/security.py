"""Security headers (a CSP that allows no inline script) and a session interface
that never sets a cookie on API responses."""

from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self' https://checkout.stripe.com",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


class ApiAwareSessionInterface(SecureCookieSessionInterface):
    """The API authenticates with bearer tokens: it must set no cookie."""

    def should_set_cookie(self, app, session):
        if request and request.path.startswith("/api/"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app, session, response):
        if request and request.path.startswith("/api/"):
            return None
        return super().save_session(app, session, response)


def init_security(app) -> None:
    app.session_interface = ApiAwareSessionInterface()

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("PRODUCTION"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/") or _private(request):
            # Pages and downloads (report files, exports) with personal data must not
            # be kept in any cache; a view that sets its own Cache-Control (a public
            # logo) keeps it.
            h.setdefault("Cache-Control", "no-store")
        return response


def _private(req) -> bool:
    return not req.path.startswith("/static/")
