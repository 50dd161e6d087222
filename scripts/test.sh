#!/usr/bin/env bash
# The whole test suite. With TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL set it
# runs everything against them and then the smoke subset against the SQLite and
# embedded-Redis defaults; without them, everything runs on the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

# Browser tests drive Debian's Chromium; install it when we can.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing chromium (Debian package) for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

# SAML signatures and encryption (pysaml2) run Debian's xmlsec1; install it when we can.
if [ ! -x /usr/bin/xmlsec1 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing xmlsec1 (Debian package) for the SAML tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null
  else
    echo "the SAML tests need Debian's xmlsec1: sudo apt-get install xmlsec1" >&2
    exit 1
  fi
fi


# Every user-visible string must be translated to Finnish and Swedish; the compiled
# catalogues are built from the .po files here (they are not committed).
bash scripts/i18n.sh compile >/dev/null
bash scripts/i18n.sh check

# The layers of docs/architecture.md (contracts in pyproject.toml).
"$(dirname "$PY")/lint-imports" --no-cache

# bandit and pip-audit (docs/security.md).
PY="$PY" bash scripts/supply_chain.sh

# pytest-xdist: one test process per core (at most 4); each gets its own database
# and Redis database (tests/conftest.py). TEST_WORKERS=0 runs in one process.
workers=${TEST_WORKERS:-$(n=$(nproc); echo $(( n > 4 ? 4 : n )))}
args=(-p no:cacheprovider -n "$workers" "$@")
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== full suite on ${TEST_DATABASE_URL} and ${TEST_REDIS_URL:-embedded Redis}"
  "$PY" -m pytest "${args[@]}"
  echo "== smoke subset on the SQLite + embedded Redis defaults"
  TEST_DATABASE_URL= TEST_REDIS_URL= "$PY" -m pytest -m smoke "${args[@]}"
else
  echo "== full suite on the SQLite + embedded Redis defaults"
  "$PY" -m pytest "${args[@]}"
fi
