# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test test-browser check-deploy audit load bench lint format migrate install clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's declared dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --no-input

run: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py setup_demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# As in production: gunicorn, DEBUG off, hashed static files, PostgreSQL. Needs DATABASE_URL,
# DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS in the environment (see README, "Running it for real").
serve: install
	@test -n "$$DATABASE_URL" || { echo "make serve needs DATABASE_URL (postgres://...): it serves PostgreSQL, as in production" >&2; exit 2; }
	DJANGO_DEBUG=0 $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=0 $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	DJANGO_DEBUG=0 exec $(BIN)/gunicorn --config deploy/gunicorn.conf.py ledger.wsgi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The same suite on whichever database DATABASE_URL names (SQLite when unset).
test: lint
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# Django's deployment checks with production settings: a throwaway secret, DEBUG off, HTTPS on.
check-deploy: install
	env -u DJANGO_DEBUG -u LEDGER_HTTPS -u LEDGER_HSTS_SECONDS -u LEDGER_HSTS_PRELOAD \
		DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		DJANGO_ALLOWED_HOSTS=ledger.example.org \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# Known vulnerabilities in the installed dependencies (needs the network); fails if any could not be checked.
audit: install
	$(BIN)/python scripts/audit_dependencies.py

# Load test against `make serve` on PostgreSQL (DATABASE_URL), on 127.0.0.1 only, 30 s by default.
# Not part of `make test`; results and how to read them are in docs/operations.md.
load: install
	bash scripts/load_test.sh

# Only the browser tests (Playwright driving /usr/bin/chromium, or LEDGER_CHROMIUM); `make test` runs them too.
test-browser: install
	$(BIN)/pytest -m browser

# The benchmark (README, "Performance"): a synthetic ledger in a database of its own, never yours;
# 100,000 lines on SQLite, 1,000,000 with DATABASE_URL on PostgreSQL. BENCH_ARGS="--scale 20000" etc.
# DEBUG off (the test settings' fast hasher and static files), as production runs.
bench: install
	DJANGO_SETTINGS_MODULE=tests.settings DJANGO_DEBUG=0 $(BIN)/python manage.py bench $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
