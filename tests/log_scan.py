"""A pytest plugin (loaded by tests/conftest.py) that keeps every log record the
whole test run produces, formatted as a handler would write it, and at the end of
the run scans them for personal data and secrets: the demo's and the factories'
names, valid personal identity codes, e-mail addresses, one-time tokens and the
passwords and keys the tests use. A hit fails the run (issue 16, point 2)."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

import pytest


def _names() -> list[str]:
    from demo import accounts, clients

    names = {n for _, n, _ in accounts.STAFF} | {n for _, n in accounts.MANAGERS} | {accounts.ADMIN_NAME}
    names |= set(clients.STAFF_NAMES) | set(clients.DOCTOR_NAMES)
    names |= {f"{c[0]} {c[1]}" for c in clients.FIXED_CLIENTS}
    names |= {"Matti Meikäläinen", "Testi Käyttäjä"}
    return sorted(names)


def leaks(text: str) -> list[str]:
    """What in ``text`` is personal data or a secret."""
    from core.validators import parse_personal_identity_code
    from demo import clients
    from demo.base import DEMO_PASSWORD

    found = [n for n in _names() if n in text]
    first = "|".join(map(re.escape, clients.WOMEN + clients.MEN + clients.SV_WOMEN + clients.SV_MEN))
    last = "|".join(map(re.escape, clients.SURNAMES + clients.SV_SURNAMES))
    found += [m.group(0) for m in re.finditer(rf"\b(?:{first})\d* (?:{last})\b", text)]
    found += [m.group(0) for m in re.finditer(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", text)
              if parse_personal_identity_code(m.group(0))]
    found += re.findall(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", text)
    found += [t for t in re.findall(r"[A-Za-z0-9_-]{40,}", text)
              if re.search(r"\d", t) and re.search(r"[a-z]", t) and re.search(r"[A-Z]", t)]
    for secret in (DEMO_PASSWORD, "correct-horse-battery", os.environ.get("SECRET_KEY", "")):
        if secret and secret in text:
            found.append("a password or key")
    return found


class SuiteLogCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a broken record must not break the run
            pass


_collector = SuiteLogCollector()
_DIR_VAR = "KOTIAPU_LOG_SCAN_DIR"


def pytest_configure(config):
    logging.getLogger().addHandler(_collector)
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        os.environ.setdefault(_DIR_VAR, tempfile.mkdtemp(prefix="kotiapu-logscan-"))


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    found = sorted({f"{leak!r} in: {line[:300]}" for line in _collector.lines for leak in leaks(line)})
    directory = Path(os.environ[_DIR_VAR])
    if hasattr(config, "workerinput"):
        (directory / f"{config.workerinput['workerid']}.json").write_text(json.dumps(found))
        return
    for part in directory.glob("*.json"):
        found += json.loads(part.read_text())
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter:
            reporter.write_sep("=", "personal data or secrets in the logs", red=True)
            for line in found[:50]:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter:
        reporter.write_line(f"log scan: {len(_collector.lines)} log records of this process, no personal data or secrets")
