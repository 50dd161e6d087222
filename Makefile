# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install worker bench i18n clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## Run the platform with the demo data at http://127.0.0.1:5000 (web + RQ worker + embedded Redis).
run: $(STAMP)
	$(BIN)/flask --app app serve

## Set up and run the whole test suite (SQLite + embedded Redis unless TEST_DATABASE_URL / TEST_REDIS_URL are set).
test: $(STAMP)
	bash scripts/test.sh

## An extra RQ worker against the configured REDIS_URL.
worker: $(STAMP)
	$(BIN)/flask --app app worker

i18n: $(STAMP)
	bash scripts/i18n.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
