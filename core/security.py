"""Security headers (a CSP that allows no inline script) and a session interface
that never sets a cookie on API responses."""

from __future__ import annotations

import time

from flask import request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

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
    """The API authenticates with bearer tokens: it must set no cookie.

    A browser sends the same signed cookie with every request until the session
    changes; checking its signature and decoding it took about 300 function calls
    of every page. A cookie that was checked once is kept here with its content and
    signing time, and the same cookie is then only checked for its age (the
    session's lifetime, as itsdangerous checks it) and against the keys it was
    checked with. Only cookies whose values are all plain texts, numbers, booleans
    or None are kept, so a request's copy of the content can be changed without
    touching the kept one; anything else (flashed messages) is decoded as before."""

    def open_session(self, app, request):
        name = self.get_cookie_name(app)
        value = request.cookies.get(name)
        if not value or not app.secret_key:
            return super().open_session(app, request)
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        cache = app.extensions.get("kotiapu_session_cookies")
        if cache is None:
            cache = app.extensions["kotiapu_session_cookies"] = {}
        kept = cache.get(value)
        if kept is not None and kept[0] == keys:
            age = int(time.time()) - kept[1]
            if 0 <= age <= max_age:
                return self.session_class(kept[2])
        try:
            data, signed_at = self.get_signing_serializer(app).loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if type(data) is dict and all(type(item) in _PLAIN for item in data.values()):
            if len(cache) >= _MAX_KEPT_COOKIES:
                cache.clear()
            cache[value] = (keys, int(signed_at.timestamp()), data)
        return self.session_class(data)

    def should_set_cookie(self, app, session):
        if request and request.path.startswith("/api/"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app, session, response):
        if request and request.path.startswith("/api/"):
            return None
        if session and not session.modified and not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            # Flask would work out the cookie's seven settings and then set nothing.
            if session.accessed:
                if response.headers.get("Vary") is None:
                    response.headers["Vary"] = "Cookie"  # what vary.add writes then, without parsing
                else:
                    response.vary.add("Cookie")
            return None
        return super().save_session(app, session, response)


# The kept cookies (ApiAwareSessionInterface): one entry per browser session and
# change of its content; emptied when full, a guard rather than a working limit.
_MAX_KEPT_COOKIES = 4096
_PLAIN = frozenset((str, int, float, bool, type(None)))


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



def csrf_token() -> str:
    """The request's signed CSRF token, as ``flask_wtf.csrf.generate_csrf`` gives it
    (and then gives every form of the request: it keeps it in ``g``). Signing the
    session's token took about 150 function calls of every page (the header's
    logout form has one). With ``WTF_CSRF_TIME_LIMIT`` off, as configured, a signed
    token never grows too old, so the one signed for a session's token is kept and
    used again for the same token and key; with a time limit each request signs
    afresh."""
    from flask import current_app, g, session
    from flask_wtf.csrf import generate_csrf

    app = current_app._get_current_object()
    config = app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is not None:
        return token
    keeps = "WTF_CSRF_TIME_LIMIT" in config and config["WTF_CSRF_TIME_LIMIT"] is None
    if not keeps:
        return generate_csrf()
    cache = app.extensions.get("kotiapu_csrf_tokens")
    if cache is None:
        cache = app.extensions["kotiapu_csrf_tokens"] = {}
    raw = session.get(field)
    key = (raw, config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)
    token = cache.get(key) if raw else None
    if token is not None:
        setattr(g, field, token)
        return token
    token = generate_csrf()
    raw = session.get(field)
    if isinstance(raw, str):
        if len(cache) >= _MAX_KEPT_COOKIES:
            cache.clear()
        cache[raw, key[1]] = token
    return token
