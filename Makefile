# Manabi: `make run` serves the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
# The second test pass runs against this PostgreSQL database when the server answers.
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
CATALOGUES := $(wildcard tutoring/translations/*/LC_MESSAGES/messages.po)

.PHONY: run serve-prod test test-js test-sqlite test-postgres lint format install assets translations extract db bench clean

run: install assets translations
	TUTORING_ENV=development $(FLASK) db upgrade
	TUTORING_ENV=development $(FLASK) demo --if-empty
	# The demo accounts sign in with their password alone; production requires two-step
	# sign-in for coordinators and admins (TUTORING_TWO_FACTOR_REQUIRED_ROLES).
	TUTORING_ENV=development TUTORING_TWO_FACTOR_REQUIRED_ROLES='[]' $(FLASK) run --host $(HOST) --port $(PORT)

# Production: migrations, then WORKERS gunicorn processes (default one per core) on ports
# PROD_PORT, PROD_PORT+1, … for nginx (deploy/nginx.conf). Needs TUTORING_SECRET_KEY, the data
# keys, TUTORING_DATABASE_URL (PostgreSQL) and, for more than one process, TUTORING_REDIS_URL.
PROD_PORT ?= 8001
serve-prod: install assets translations
	$(FLASK) serve-prod --host $(HOST) --port $(PROD_PORT) $(if $(WORKERS),--workers $(WORKERS))

test: install assets translations lint test-js test-sqlite test-postgres

# The browser code's pure parts (whiteboard model, protocol, sync) under Node's test runner.
test-js: node_modules/.installed
	node --test static/tests/

test-sqlite:
	$(BIN)/pytest

# The PostgreSQL pass leaves out what does not touch the database differently: Chromium
# journeys and the route-by-route permission matrix (both run in the SQLite pass), and the
# production server's tests, which use PostgreSQL databases of their own in either pass.
test-postgres:
	TUTORING_TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest \
		--ignore=tests/browser --ignore=tests/attendance/test_browser.py --ignore=tests/test_permissions.py \
		--ignore=tests/production

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# prod too: the tests start the production server (tests/production).
	$(BIN)/pip install --quiet -e '.[dev,prod]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: node_modules/.installed
	node static/build.mjs

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d tutoring/translations --statistics 2>&1 | tail -n 2

# Collect new strings into the catalogues; translate them, then commit the .po files.
extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o tutoring/translations/messages.pot --no-location --sort-output --omit-header tutoring templates
	$(BIN)/pybabel update -i tutoring/translations/messages.pot -d tutoring/translations --no-fuzzy-matching --ignore-obsolete --width 100

db: install
	TUTORING_ENV=development $(FLASK) db upgrade

bench: install
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

clean:
	rm -rf static/dist $(VENV) node_modules
