# The two commands of the README: `make run` serves on http://127.0.0.1:8000 with SQLite (in
# AUTHGATE_HOME, ~/.local/share/authgate by default), `make test` runs the whole suite (on parallel workers). `make run`
# installs into .venv only what serving needs; `make test` adds the test tools and the client package.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test install

run: $(VENV)/.serve
	$(BIN)/authgate serve --host 127.0.0.1 --port 8000

# `make test`: the suite on TEST_WORKERS parallel workers (pytest-xdist; a test file stays on one worker, so
# its module's servers do), then the `serial` tests alone (the PostgreSQL outage); it fails if either pass
# does. `make test TEST_WORKERS=0` runs all of it in one process; PYTEST_ARGS go to both passes.
TEST_WORKERS ?= 3
PYTEST_ARGS ?=

test: $(VENV)/.test
	status=0; \
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not serial" $(PYTEST_ARGS) || status=$$?; \
	$(BIN)/python -m pytest -q -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ] || status=1; \
	exit $$status

install: $(VENV)/.test

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	    { echo "authgate needs Python 3.11 or newer: run e.g. make PYTHON=python3.12 $(MAKECMDGOALS)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
	    { rm -rf $(VENV); echo "$(PYTHON) -m venv failed: on Debian or Ubuntu, apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	touch $@

$(VENV)/.serve: $(VENV)/.created pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The ldap extra compiles python-ldap (libldap2-dev, libsasl2-dev): without the headers it is left out and the
# directory tests skip, saying why.
$(VENV)/.test: $(VENV)/.serve pyproject.toml client/pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]' -e './client[qr,resource,dpop]'
	$(BIN)/pip install --quiet -e '.[ldap]' 2>/dev/null || \
	    echo "python-ldap did not build (apt-get install libldap2-dev libsasl2-dev): the LDAP tests will skip"
	touch $@
