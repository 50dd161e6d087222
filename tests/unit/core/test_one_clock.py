"""One clock: application code asks core.time for "now" and "today", never the
machine's clock or its zone. A new ``date.today()`` (the UTC day on a server, which is
yesterday in Helsinki between midnight and 02:00/03:00) fails here, naming the line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[3]

# What reads the machine's clock or zone instead of core.time, and what to use instead.
FORBIDDEN = [
    # Called or passed as a form field's default (``default=date.today``).
    (re.compile(r"\bdate\.today\b"), "core.time.local_today"),
    (re.compile(r"\bdatetime\.today\b"), "core.time.local_now"),
    (re.compile(r"\bdatetime\.now\b"), "core.time.now / core.db.utcnow"),
    (re.compile(r"\bdatetime\.utcnow\b"), "core.time.now / core.db.utcnow"),
    (re.compile(r"\butcnow\(\)\.date\(\)"), "core.time.local_today()"),
    (re.compile(r"\butcnow\(\)\.(?:year|month|day)\b"), "core.time.local_today()"),
    (re.compile(r"\btime\.(?:localtime|strftime|mktime)\("), "core.time.local_now()"),
    (re.compile(r"""ZoneInfo\(\s*["']"""), "core.time.local_zone() (the TIME_ZONE setting)"),
]
# The clock itself may read the machine's clock.
ALLOWED = {"core/time.py"}


def application_files() -> list[Path]:
    """Every module of the packages pyproject.toml installs, and app.py."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["setuptools"]["packages"]
    files = [ROOT / f"{m}.py" for m in config["tool"]["setuptools"].get("py-modules", [])]
    for package in packages:
        files += sorted((ROOT / package.replace(".", "/")).rglob("*.py"))
    return files


def offences(path: Path, rel: str | None = None) -> list[str]:
    rel = rel or path.relative_to(ROOT).as_posix()
    if rel in ALLOWED:
        return []
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("#", 1)[0]
        for pattern, instead in FORBIDDEN:
            if pattern.search(code):
                found.append(f"{rel}:{number}: {line.strip()}  -> use {instead}")
    return found


def test_application_code_reads_no_other_clock():
    files = application_files()
    assert len(files) > 50, "the scan found the packages"
    found = [o for f in files for o in offences(f)]
    assert not found, "the machine's clock or zone read outside core.time:\n" + "\n".join(found)


def test_the_scan_catches_a_new_date_today(tmp_path):
    # The check can fail: a module with the classic mistake, and the clock's own module.
    sample = tmp_path / "sample.py"
    sample.write_text("from datetime import date\nTODAY = date.today()  # the UTC day\n# date.today() in a comment\n"
                      "day = DateField('Day', default=date.today)\n")
    found = offences(sample, "orders/sample.py")
    assert [f.split(": ")[0] for f in found] == ["orders/sample.py:2", "orders/sample.py:4"]
    assert all("local_today" in f for f in found)
    assert offences(sample, "core/time.py") == []
