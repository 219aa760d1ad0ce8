# Two commands do all the set-up: `make run` and `make test` (see README).
PYTHON_BIN := $(shell ./scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install assets messages migrate demo lint format bench clean

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

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/ (log in with a demo login printed above)"
	DEBUG=$${DEBUG:-true} $(MANAGE) runserver $(HOST):$(PORT)

test: install
	./scripts/ensure-chromium.sh
	$(PY) -m pytest

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
