# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= data
SERVER_NAME ?= localhost
PORT ?= 8008

.PHONY: run test lint typecheck unit install clean sample bench fonts browser tools web

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || { echo "make: Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	@touch $(STAMP)

install: $(STAMP) fonts browser tools web

# The officer's web client (clients/web, docs/web_client.md): rebuilt with npm when its
# sources differ from the committed bundle's stamp and node is installed; otherwise the
# committed clients/web/dist/ is served as it is. The same for the document editor
# (clients/docs, docs/documents.md).
web: $(STAMP)
	@$(PY) -m modules.web_client.bundle
	@$(PY) -m modules.web_client.bundle clients/docs

# modules.watermark draws Chinese text: it needs a CJK font (docs/watermark.md). As root
# with apt-get (Debian/Ubuntu, CI) it is installed when missing; elsewhere say what to do.
CJK_FONTS := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@for f in $(CJK_FONTS); do test -f $$f && exit 0; done; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing the CJK font fonts-wqy-microhei"; \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
		{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q fonts-wqy-microhei >/dev/null; }; \
	else \
		echo "make: no CJK font found; install fonts-wqy-microhei (or Noto CJK) as root, or set modules.watermark font_path"; exit 1; \
	fi

# The console's browser tests (tests/admin_api/test_console.py) drive Debian's Chromium
# through Playwright. As root with apt-get (CI) it is installed when missing; elsewhere
# the tests skip with a message (under CI=true they must run).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || test -n "$$JWWX_CHROMIUM" || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing Chromium for the console's browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium >/dev/null; }; \
	else \
		echo "make: no Chromium found; the console's browser tests will skip (apt-get install chromium as root)"; \
	fi

# Tools some tests need: the deployment checks (`nginx -t`, `docker-compose config`,
# `promtool` of Debian's prometheus package for the alert rules) and
# the web client's unit tests and build (node, npm: docs/web_client.md),
# the sdk/ libraries' tests (tests/sdk: C++ with OpenSSL headers, PHP, Java with
# BouncyCastle), the documents' legacy .doc import (LibreOffice's soffice,
# docs/documents.md; Impress for the legacy .ppt import). As root with apt-get (CI) the missing ones are installed; elsewhere those
# tests skip with a message. Each entry is command:debian-package, or /file:debian-package.
SYSTEM_TOOLS := node:nodejs npm:npm nginx:nginx-light docker-compose:docker-compose promtool:prometheus \
	g++:g++ /usr/include/openssl/evp.h:libssl-dev php:php-cli \
	javac:default-jdk-headless /usr/share/java/bcprov.jar:libbcprov-java espeak-ng:espeak-ng \
	soffice:libreoffice-writer-nogui \
	/usr/lib/libreoffice/share/registry/impress.xcd:libreoffice-impress-nogui \
	/usr/lib/libreoffice/program/libsclo.so:libreoffice-calc-nogui
tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
		tool=$${pair%%:*}; case $$tool in \
			/*) test -e $$tool ;; \
			*) command -v $$tool >/dev/null 2>&1 || test -x /usr/sbin/$$tool ;; \
		esac || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing$$missing for the tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $$missing >/dev/null 2>&1 || \
		{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $$missing >/dev/null; }; \
	else \
		echo "make: not installed:$$missing; the checks that use them will skip"; \
	fi

run: $(STAMP) fonts web
	@test -f $(DATA)/homeserver.yaml || $(PY) -m homeserver init --data-dir $(DATA) --server-name $(SERVER_NAME) --port $(PORT)
	$(PY) -m homeserver run --data-dir $(DATA) --bootstrap-admin

lint: $(STAMP)
	$(VENV)/bin/ruff check homeserver modules admin_api bridges sdk tests benchmarks
	$(VENV)/bin/ruff format --check homeserver modules admin_api bridges sdk tests benchmarks
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) fonts browser tools web lint typecheck
	$(PY) -m tests.run

clean:
	rm -rf $(VENV) _trial_temp*

# With `make run` going in another terminal: a 300-member sample organisation.
sample: $(STAMP)
	$(PY) -m homeserver load-sample --data-dir $(DATA)

# Benchmarks, ours beside vanilla Synapse (benchmarks/README.md). The default is the quick
# small-size set on SQLite: `make bench SCENARIOS="dm-latency soak" SIZE=bureau ENGINE=both`.
SCENARIOS ?= quick
SIZE ?= small
ENGINE ?= sqlite
BENCH_OUT ?= benchmarks/out
bench: $(STAMP)
	$(PY) -m benchmarks run $(SCENARIOS) --size $(SIZE) --engine $(ENGINE) --json $(BENCH_OUT)/results.json --plot $(BENCH_OUT)
