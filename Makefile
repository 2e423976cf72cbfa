# Two commands for a fresh machine: `make demo` (serve the demo) and `make test` (run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test setup venv assets messages system-deps migrate lint format bench clean

demo: setup ## set up, migrate, load the demo township and serve on http://127.0.0.1:8000
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_demo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: system-deps setup ## run the whole test suite (DATABASE_URL/REDIS_URL decide the services)
	$(BIN)/ruff check .
	$(BIN)/pytest

setup: venv assets messages

# English catalogue: compiled here, not committed (gettext's msgfmt; skipped if it is missing).
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null 2>&1; then DEBUG=1 $(PY) manage.py compilemessages -l en -v 0 --ignore=.venv --ignore=node_modules; \
	else echo "gettext (msgfmt) not installed: the English locale falls back to Chinese"; fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

assets: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Browser tests drive Debian's Chromium; CJK fonts so that Chinese renders in screenshots.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v msgfmt >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk gettext >/dev/null; \
		else \
			echo "Install Debian packages chromium and fonts-noto-cjk (sudo apt-get install chromium fonts-noto-cjk)"; exit 1; \
		fi; \
	fi

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Scale benchmarks (issue 7): a generated city in its own PostgreSQL database, then the suite.
# `make bench BENCH_HOUSEHOLDS=100000 BENCH_VILLAGES=200 BENCH_DB_NAME=vg_city_100k` for more.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB_NAME ?= vg_city_10k
BENCH_HOUSEHOLDS ?= 10000
BENCH_VILLAGES ?= 20
BENCH_RUNS ?= 3
BENCH_REPORT ?= docs/benchmarks.md
BENCH_ENV = DATABASE_URL=$(BENCH_PG)/$(BENCH_DB_NAME) SECRET_KEY=bench-only-not-a-secret

bench: setup ## generate a city (default 10k households) into BENCH_DB_NAME and write the benchmark report
	-psql "$(BENCH_PG)/postgres" -qc "CREATE DATABASE $(BENCH_DB_NAME)" 2>/dev/null
	# The planner setting docs/deployment.md asks of a city's database.
	psql "$(BENCH_PG)/postgres" -qc "ALTER DATABASE $(BENCH_DB_NAME) SET random_page_cost = 1.1"
	$(BENCH_ENV) $(PY) manage.py migrate --noinput
	$(BENCH_ENV) $(PY) manage.py generate_city --reset --villages $(BENCH_VILLAGES) --households $(BENCH_HOUSEHOLDS) --months 3 --seed 1
	$(BENCH_ENV) $(PY) manage.py bench --runs $(BENCH_RUNS) --report $(BENCH_REPORT)

clean:
	rm -rf var/static var/test-media .pytest_cache
