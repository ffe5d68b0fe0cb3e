# Cartograph: `make run` sets up and starts everything; `make test` sets up and runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-dev static system-deps migrate seed lint check-compose clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt $(VENV)/.deps
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static: node_modules/.installed
	npm run --silent build

setup: $(VENV)/.deps static
	mkdir -p var/broker var/broker-processed var/outbox var/media

setup-dev: $(VENV)/.dev-deps static

# Debian's Chromium drives the browser tests; docker-compose (the client only) checks docker-compose.yml.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v docker-compose >/dev/null; then \
		echo "Installing Debian's chromium and docker-compose (browser tests, compose file check)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium docker-compose >/dev/null; \
	fi

migrate: setup
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  Cartograph is starting at http://$(HOST):$(PORT)/"
	@echo "  Sign in as admin / cartograph-admin (sees everything) or ana / cartograph-demo (an analyst)."
	@echo "  Ctrl-C stops the web server, the Celery worker and Celery beat."
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-compose: system-deps
	docker-compose -f docker-compose.yml config -q

test: setup-dev system-deps lint check-compose
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf var/cartograph.sqlite3 var/broker var/broker-processed var/outbox var/static
