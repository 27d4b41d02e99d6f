# The two commands of the README: `make run` (demo server) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-esl bench-apply e2e

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
	$(BIN)/mypy centrex provisioning xmlcurl esl admin

# The whole suite on SQLite, then again on a throw-away PostgreSQL server.
test: lint
	$(BIN)/pytest
	$(BIN)/python -m tests.postgres_server $(BIN)/pytest -q

# Against a real FreeSWITCH 1.10 (CENTREX_FREESWITCH=/path/to/freeswitch, or on PATH) and SIPp.
e2e: $(VENV)/.installed
	CENTREX_E2E=1 $(BIN)/pytest -v tests/e2e

# xml_curl fetches against the real server stack (bench/README.md); flags in BENCH_ARGS.
bench: $(VENV)/.installed
	$(BIN)/python -m bench.xmlcurl_bench $(BENCH_ARGS)

# Events through the listener from a fake FreeSWITCH (bench/README.md).
bench-esl: $(VENV)/.installed
	$(BIN)/python -m bench.esl_bench $(BENCH_ARGS)

# centrex apply and export of a 100,000-user tenant (bench/README.md).
bench-apply: $(VENV)/.installed
	$(BIN)/python -m bench.apply_bench $(BENCH_ARGS)
