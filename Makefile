# The two commands of the README: `make run` (demo server) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $@

# Demo tenant on the embedded SQLite database, then serve (DOMAIN=… for another SIP domain).
run: $(VENV)/.installed
	$(BIN)/centrex demo $(if $(DOMAIN),--domain $(DOMAIN))

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy centrex provisioning xmlcurl

# The whole suite on SQLite, then again on a throw-away PostgreSQL server.
test: lint
	$(BIN)/pytest
	$(BIN)/python -m tests.postgres_server $(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python -m bench.xmlcurl_bench
