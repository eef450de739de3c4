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

## make test: install (if needed), lint, run the whole suite
test: install browser
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.settings
	$(BIN)/pytest
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
