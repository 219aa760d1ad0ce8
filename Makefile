# Two commands do all the set-up: `make run` and `make test` (see README).
PYTHON_BIN := $(shell ./scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run stop test install assets messages migrate demo lint format bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON_BIN)" || { ./scripts/find-python.sh; exit 1; }
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed assets messages

assets: node_modules/.installed

messages: $(VENV)/.installed
	$(MANAGE) compile_catalogs

migrate: install
	$(MANAGE) migrate --no-input

demo: migrate
	$(MANAGE) load_demo
	$(MANAGE) refresh_aggregates --full

# The server with DEBUG off (error pages as in production) and the scheduled jobs beside it;
# stopping it (Ctrl-C) stops them and the embedded Postgres.
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/ (log in with a demo login printed above)"
	@PY=$(PY) HOST=$(HOST) PORT=$(PORT) ./scripts/serve.sh

# Stop the embedded Postgres that migrate, demo or test started (make run stops its own).
stop:
	@if [ -x $(PY) ]; then $(PY) -m crm.lib.embedded_db stop; fi

# On both cores (pytest-xdist; at most two: each further worker would take one more Redis database below
# REDIS_URL's, see crm/settings/test.py). --dist load hands each worker tests in the order a plain pytest runs
# them, so each worker keeps that order: pytest-django's (database tests before transactional ones, whose flush
# empties the rows migrations seed) and browser tests last (tests/browser/conftest.py). Not loadfile, which
# would run a file's transactional tests among the others; not loadgroup, which on pytest 9.2 no longer groups
# (pytest-xdist#1386).
test: install
	./scripts/ensure-chromium.sh
	$(PY) -m pytest --numprocesses=auto --maxprocesses=2 --dist=load

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) node_modules staticfiles
