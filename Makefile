# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact versions and hashes of every runtime, test and build dependency; made from
# the ranges in pyproject.toml by `make lock` (uv pip compile). See the README.
LOCK   := requirements.lock
UV_VERSION := 0.13.9
# The compiled catalogues are built from the committed .po files, never committed.
MO     := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

.PHONY: run test install worker bench load i18n lock lock-upgrade clean

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# Fails when pyproject.toml asks for something the lock does not hold (run `make lock`).
	$(BIN)/python -m pip check --disable-pip-version-check
	@touch $(STAMP)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel -q compile -l $* -i $< -o $@

install: $(STAMP) $(MO)

## Run the platform with the demo data at http://127.0.0.1:5000 (web + RQ worker + embedded Redis).
run: install
	$(BIN)/flask --app app serve

## Set up and run the whole test suite (SQLite + embedded Redis unless TEST_DATABASE_URL / TEST_REDIS_URL are set).
test: install
	bash scripts/test.sh

## An extra RQ worker against the configured REDIS_URL.
worker: install
	$(BIN)/flask --app app worker

## The load test of docs/security.md: 50 users for 2 minutes on loopback. The database
## named by LOAD_DATABASE_URL is emptied and filled with the demo data.
LOAD_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/kotiapu_load
LOAD_REDIS_URL ?= redis://127.0.0.1:6379/15
load: install
	$(BIN)/python bench/load.py --database-url $(LOAD_DATABASE_URL) --redis-url $(LOAD_REDIS_URL)

i18n: install
	bash scripts/i18n.sh

## Re-make the lock after a change of pyproject.toml, keeping every other pin.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	printf 'setuptools>=68\n' | $(BIN)/uv pip compile --quiet pyproject.toml - --extra test \
	  --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command 'make lock' -o $(LOCK) $(UPGRADE)

## Move every pin to the newest release the ranges in pyproject.toml allow.
lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

clean:
	rm -rf $(VENV) instance .pytest_cache translations/*/LC_MESSAGES/messages.mo
