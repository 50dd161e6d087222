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


# The headers every response gets unless its view set them itself, in the order they
# are added. A response's headers are checked once for the names (case-insensitively)
# and the missing ones appended in one ``extend``: eight ``Headers.setdefault`` calls
# each scanned the whole list (about 0.1 ms and 250 function calls of every request).
_ALWAYS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HSTS = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)
_NO_STORE = (("Cache-Control", "no-store"),)
# (production, not a static file) -> the headers in the order they are added.
_WANTED = {(production, private): _ALWAYS + (_HSTS if production else ()) + (_NO_STORE if private else ())
           for production in (False, True) for private in (False, True)}
_NAMES = frozenset(name.lower() for name, _value in _WANTED[True, True])


def add_security_headers(response, path: str, production: bool):
    """Set each security header that ``response`` lacks (a view's own value, e.g. a
    public logo's ``Cache-Control``, is kept). API answers and every page or download
    but the static files get ``Cache-Control: no-store``: pages and downloads (report
    files, exports) with personal data must not be kept in any cache."""
    h = response.headers
    wanted = _WANTED[production, not path.startswith("/static/")]
    present = {name.lower() for name, _value in h}
    if present.isdisjoint(_NAMES):
        h.extend(wanted)
    else:
        h.extend([item for item in wanted if item[0].lower() not in present])
    return response


def init_security(app) -> None:
    app.session_interface = ApiAwareSessionInterface()

    @app.after_request
    def headers(response):
        return add_security_headers(response, request.path, bool(app.config.get("PRODUCTION")))

