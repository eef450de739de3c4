# Two commands: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# apt-get needs root: CI runs as root; elsewhere sudo is used.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo demo-reset test lint install browser migrate fixtures fapi-client keys serve clean axe

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,demo]'
	touch $(STAMP)

install: $(STAMP)

## browser: the headless Chromium and chromedriver the browser tests drive (Debian packages)
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! test -x /usr/bin/chromedriver; then \
		echo "Installing chromium and chromium-driver (Debian packages) for the browser tests"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The demo data goes into an empty database only: what an operator changed in admin is kept.
fixtures: migrate
	$(BIN)/python manage.py rar_demo_load --if-empty

# The demo's JWT signing key (kept across runs; RAR_SIGNING_KEYS_FILE overrides the path).
keys: install
	$(BIN)/python manage.py rar_generate_key --jwks-file $${RAR_SIGNING_KEYS_FILE:-var/signing-keys.json} --if-missing

# The demo's FAPI 2.0 client demo-fapi (private_key_jwt): its private key in var/demo-fapi-key.json
# (DEMO_FAPI_KEY_FILE overrides the path), registered after the demo data; kept when both exist.
fapi-client: fixtures
	$(BIN)/python manage.py rar_demo_fapi_client --if-missing

## make demo: install, migrate, load the demo data (into an empty database only), register the FAPI
## client if it is missing, serve http://127.0.0.1:8000
## make demo-reset: the same, from an emptied database with the demo data loaded afresh
# The address is checked first: a second `make demo` says it is running and changes nothing.
DEMO_ADDRESS := 127.0.0.1:8000
demo: install
	@$(BIN)/python manage.py rar_demo_port $(DEMO_ADDRESS)
	@$(MAKE) --no-print-directory keys fixtures fapi-client
	$(BIN)/python manage.py runserver $(DEMO_ADDRESS)

demo-reset: install
	@$(BIN)/python manage.py rar_demo_port $(DEMO_ADDRESS)
	@$(MAKE) --no-print-directory keys migrate
	$(BIN)/python manage.py rar_demo_load --reset
	$(BIN)/python manage.py rar_demo_fapi_client --if-missing
	$(BIN)/python manage.py runserver $(DEMO_ADDRESS)

## axe: axe-core from npm, for the accessibility checks of the browser tests (kept in .venv, not committed)
AXE_VERSION := 4.14.1
AXE_JS      := $(VENV)/axe/node_modules/axe-core/axe.min.js
$(AXE_JS):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION)
axe: $(AXE_JS)

## make serve: the demo as production runs it (scripts/serve: gunicorn, DEBUG off, WhiteNoise);
## DATABASE_URL, CACHE_URL (e.g. redis://127.0.0.1:6379/0), SECRET_KEY ... from the environment.
serve: keys fixtures
	scripts/serve

## make test: install (if needed), lint, run the whole suite on SQLite, then again on PostgreSQL
## (TEST_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/rar_provider;
## skipped with a message when no server answers, a failure when REQUIRE_POSTGRES=1)
test: install browser axe
	$(BIN)/ruff check .
	env -u TEST_DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.settings
	@# The two passes run side by side (one per core); the PostgreSQL pass's output follows.
	@mkdir -p test-artifacts
	@$(BIN)/python scripts/postgres_pass.py > test-artifacts/postgres-pass.log 2>&1 & postgres=$$!; \
	echo "=== SQLite pass (the PostgreSQL pass runs beside it: test-artifacts/postgres-pass.log)"; \
	env -u TEST_DATABASE_URL $(BIN)/pytest; sqlite=$$?; \
	wait $$postgres; postgresql=$$?; \
	cat test-artifacts/postgres-pass.log; \
	test $$sqlite -eq 0 && test $$postgresql -eq 0
	$(MAKE) --no-print-directory matrix

# -- issue 8: the Python x Django matrix (noxfile.py). .venv is the oldest combination (Python 3.11 +
# Django 5.2) when python3 is 3.11; otherwise the oldest nox session runs too. The newest (Python 3.13
# + Django 6.0) runs the non-browser suite on SQLite. pyenv's interpreters are found if installed.
NOX_PATH := $(subst $(eval) ,:,$(wildcard $(HOME)/.pyenv/versions/3.1[123]*/bin))
NOX      := PATH="$$PATH:$(NOX_PATH)" $(BIN)/nox
.PHONY: matrix
matrix: install
	@$(BIN)/python -c "import sys, django; sys.exit(sys.version_info[:2] != (3, 11) or django.VERSION[:2] != (5, 2))" \
		|| $(NOX) -t oldest
	$(NOX) -t newest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache

# -- issue 11 point 8 / issue 10 point 7: figures, not tests (never part of `make test`); docs/performance.md
## make bench-deps: node-oidc-provider 9 and Ajv from npm (benchmarks/node/package-lock.json), gitignored
NODE_PROVIDER := benchmarks/node/node_modules/oidc-provider/package.json
$(NODE_PROVIDER): benchmarks/node/package.json benchmarks/node/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix benchmarks/node
	@touch $@
.PHONY: bench-deps bench
bench-deps: $(NODE_PROVIDER)

## make bench: SQL queries per step (in-process), then server CPU per step over HTTP with JWT and with
## opaque access tokens: ours, node-oidc-provider (after make bench-deps) and stock DOT, with ratios.
## BENCH_ARGS passes options to benchmarks/load.py, e.g. BENCH_ARGS="-n 500 --database-url postgres://postgres@127.0.0.1:5432/postgres"
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m benchmarks.queries
	$(BIN)/python -m benchmarks.load $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.load --access-tokens opaque $(BENCH_ARGS)
