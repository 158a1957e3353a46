# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-browser bench lint format migrate install clean-venv

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
