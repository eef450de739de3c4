# Two commands: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# apt-get needs root: CI runs as root; elsewhere sudo is used.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint install browser migrate fixtures keys serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

fixtures: migrate
	$(BIN)/python manage.py loaddata fixtures/*.json

# The demo's JWT signing key (kept across runs; RAR_SIGNING_KEYS_FILE overrides the path).
keys: install
	$(BIN)/python manage.py rar_generate_key --jwks-file $${RAR_SIGNING_KEYS_FILE:-var/signing-keys.json} --if-missing

## make demo: install, migrate, load the demo data and serve http://127.0.0.1:8000
demo: keys fixtures
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make test: install (if needed), lint, run the whole suite on SQLite, then again on PostgreSQL
## (TEST_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/rar_provider;
## skipped with a message when no server answers, a failure when REQUIRE_POSTGRES=1)
test: install browser
	$(BIN)/ruff check .
	env -u TEST_DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.settings
	@echo "=== SQLite pass"
	env -u TEST_DATABASE_URL $(BIN)/pytest
	$(BIN)/python scripts/postgres_pass.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache
