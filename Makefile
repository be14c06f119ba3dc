# 涿州i志愿 — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000

.PHONY: run test setup lint check-compose messages clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# Compiled translations are built from the committed .po files (Babel: no system gettext needed),
# each only when its .po is newer, so that two runs side by side never write the same file.
MO := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

$(MO): %.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --domain=django --input-file=$< --output-file=$@.tmp
	mv $@.tmp $@

setup: $(VENV)/.installed $(MO)

## Run the platform on the embedded default (SQLite + filesystem broker): web (gunicorn), worker and beat.
## Debug is off (DJANGO_DEBUG=1 opts in); without DJANGO_SECRET_KEY the key generated on the first
## run and kept in the data directory (var/secret_key, mode 0600) is used.
run: setup
	@set -e; \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) manage.py secret_key)}"; export DJANGO_SECRET_KEY; \
	set -x; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py createcachetable; \
	$(PY) manage.py load_places; \
	$(PY) manage.py load_teams; \
	$(PY) manage.py seed_demo; \
	$(PY) manage.py collectstatic --noinput --verbosity=0; \
	exec $(PY) manage.py serve $(ADDR)

## Run the whole test suite (PostgreSQL/Redis/Chromium tests use DATABASE_URL/REDIS_URL when set).
test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	DJANGO_SECRET_KEY=x $(VENV)/bin/mypy apps tests
	$(PY) tools/check_rules.py
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

check-compose: setup
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

# For developers (needs GNU gettext): refresh the .po catalogues after changing text.
messages: setup
	DJANGO_DEBUG=1 $(PY) manage.py makemessages --locale=en --ignore=.venv --ignore=var

clean:
	rm -rf $(VENV) var
