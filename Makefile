# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= data
SERVER_NAME ?= localhost
PORT ?= 8008

.PHONY: run test lint typecheck unit install clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@test -f $(DATA)/homeserver.yaml || $(PY) -m homeserver init --data-dir $(DATA) --server-name $(SERVER_NAME) --port $(PORT)
	$(PY) -m homeserver run --data-dir $(DATA) --bootstrap-admin

lint: $(STAMP)
	$(VENV)/bin/ruff check homeserver modules admin_api bridges tests benchmarks
	$(VENV)/bin/ruff format --check homeserver modules admin_api bridges tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) lint typecheck
	$(PY) -m tests.run

clean:
	rm -rf $(VENV) _trial_temp*
