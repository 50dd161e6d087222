"""Logs without personal data or secrets.

The database engine runs with ``hide_parameters=True`` (core.config), so a logged
database error names its statement but never the values (names, addresses, identity
codes). Everything else that is logged goes through ``redact``: installed as the
log-record factory, it runs once for every record any logger creates in the process
(the app's, werkzeug's request log, gunicorn's access and error logs, RQ's), before
any handler formats it. It masks

- one-time tokens in URL paths (``/feedback/<token>``, invitations) and in query
  parameters such as ``token=``;
- e-mail addresses and Finnish personal identity codes, should a message carry one;
- the row values PostgreSQL writes into its own error texts (``DETAIL:`` lines,
  ``Failing row contains (...)``, ``Key (...)=(...)``);
- the text of a logged exception (its traceback is formatted once, then masked).

Names cannot be recognised by a pattern: the code never logs them (tests scan the
whole suite's logs for the demo's and the factories' names).
"""

from __future__ import annotations

import logging
import re

MASK = "***"

# A URL path segment of a random token: 20 or more URL-safe characters with letters
# and digits (a word such as "organisation" has no digits; ids are shorter).
_PATH_TOKEN = re.compile(r"(?<=/)(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}(?=[/?#\s\"']|$)")
_QUERY_SECRET = re.compile(r"(?i)([?&;](?:[a-z_]*token|code|key|secret|password|passwd|state|nonce|session_id)=)[^&\s\"'#]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_IDENTITY_CODE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# PostgreSQL puts row values in its own error texts ("DETAIL:  Failing row contains
# (...)", "Key (email)=(...) already exists"): hide_parameters cannot reach those.
_PG_DETAIL = re.compile(r"(DETAIL:\s+).*")
_PG_ROW = re.compile(r"(Failing row contains )\(.*?\)(?=\.?\s*$)", re.M)
_PG_KEY = re.compile(r"(Key \([^)]*\)=)\(.*?\)(?= already exists| is not present| conflicts)")


def redact(text: str) -> str:
    """``text`` with tokens, e-mail addresses and identity codes masked."""
    if not text:
        return text
    text = _PG_DETAIL.sub(lambda m: m.group(1) + MASK, text)
    text = _PG_ROW.sub(lambda m: m.group(1) + "(" + MASK + ")", text)
    text = _PG_KEY.sub(lambda m: m.group(1) + "(" + MASK + ")", text)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    text = _PATH_TOKEN.sub(MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _EMAIL.sub(MASK + "@" + MASK, text)
    return _IDENTITY_CODE.sub(MASK, text)


_base_factory = None


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string: keep the record as it is
        return record
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install_redaction() -> None:
    """Make every log record of this process pass through ``redact`` (idempotent)."""
    global _base_factory
    current = logging.getLogRecordFactory()
    if current is _redacting_factory:
        return
    _base_factory = current
    logging.setLogRecordFactory(_redacting_factory)
