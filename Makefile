# tongcang: `make run` serves the back office with its task worker; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test drill bench lint format messages setup venv browser-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "tongcang needs Python 3.11 or newer" >&2; exit 1)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

setup: venv
	$(PY) manage.py migrate --noinput

# migrate, load_demo --once, ensure_admin, serve; stops the embedded PostgreSQL it started
run: venv
	$(PY) -m config.runlocal

# Browser tests drive Debian's chromium (never a downloaded browser); install it when missing.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils; \
	fi

test: venv browser-deps
	$(PY) manage.py migrate --noinput
	$(PY) -m pytest

# The peak-day drill at 2,000 orders as a test of its invariants (~3 minutes; also part of
# `make test`): run alone.
drill: venv
	$(PY) -m pytest -m drill tests/test_peak_drill.py

bench: setup
	$(PY) -m bench

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Rebuild the zh_Hans translation catalogues (needs GNU gettext); the compiled .mo files are
# committed. Each app keeps its own catalogue; the top-level locale/ holds templates/ and config/.
APPS := channels inventory promotions orders returns erpbridge platformsync demo stores dashboard
messages: venv
	@for app in $(APPS); do \
		(cd $$app && $(CURDIR)/$(PY) $(CURDIR)/manage.py makemessages -l zh_Hans) || exit 1; \
	done
	$(PY) manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*' \
		--ignore 'tests/*' --ignore 'bench/*' $(foreach app,$(APPS),--ignore '$(app)/*')
	$(PY) manage.py compilemessages --ignore '.venv/*' --ignore 'var/*'
