# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= data
SERVER_NAME ?= localhost
PORT ?= 8008

.PHONY: run test lint typecheck unit install clean sample

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || { echo "make: Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }
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

# With `make run` going in another terminal: a 300-member sample organisation.
sample: $(STAMP)
	$(PY) -m homeserver load-sample --data-dir $(DATA)
