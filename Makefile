# Shequ — the two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RESIDENTS ?= 20000
SEED ?= 1
STAMP := $(VENV)/.installed

.PHONY: demo test install lint check schema serve clean bench-seed bench-tools

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Shequ needs Python >= 3.11"'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make demo: install, build the embedded SQLite demo city, serve it and print the logins
demo: install
	$(BIN)/shequ migrate --noinput
	$(BIN)/shequ seed --residents $(RESIDENTS) --seed $(SEED) --reset
	@echo
	@echo "Shequ is serving the demo city at http://$(HOST):$(PORT)/ (Ctrl-C stops it)."
	@# The job consumer (uploads, re-linking, deadlines) runs beside the web server and stops with it.
	$(BIN)/shequ run_huey --workers 2 & consumer=$$!; \
	trap 'kill $$consumer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn shequ.wsgi:application --bind $(HOST):$(PORT) --workers 2 --threads 4 \
		--access-logfile - --error-logfile -

## make test: lint, checks, schema drift, the whole suite (on PostgreSQL when DATABASE_URL is set)
test: install lint check
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	@tmp=$$(mktemp -d) && \
	  $(BIN)/python manage.py spectacular --lang en --validate --fail-on-warn --file $$tmp/openapi.yaml && \
	  diff -u openapi.yaml $$tmp/openapi.yaml \
	  || (echo "openapi.yaml is out of date with the code: run 'make schema' and commit it" && exit 1)

## make schema: regenerate the committed OpenAPI schema
schema: install
	$(BIN)/python manage.py spectacular --lang en --validate --fail-on-warn --file openapi.yaml

serve: install
	$(BIN)/shequ run_huey --workers 2 & consumer=$$!; \
	trap 'kill $$consumer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn shequ.wsgi:application --bind $(HOST):$(PORT) --workers 2 --threads 4

## make bench-tools: what the load benchmarks need besides Python (wrk, a load generator in C)
bench-tools: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	command -v wrk >/dev/null || apt-get install -y -qq wrk

bench-seed: install
	$(BIN)/python bench/seed.py

clean:
	rm -rf var .pytest_cache .ruff_cache .hypothesis screenshots
