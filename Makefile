# The two commands of the README: `make run` serves on http://127.0.0.1:8000 with SQLite (in
# AUTHGATE_HOME, ~/.local/share/authgate by default), `make test` runs the whole suite. `make run`
# installs into .venv only what serving needs; `make test` adds the test tools and the client package.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test install

run: $(VENV)/.serve
	$(BIN)/authgate serve --host 127.0.0.1 --port 8000

test: $(VENV)/.test
	$(BIN)/python -m pytest -q

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

$(VENV)/.test: $(VENV)/.serve pyproject.toml client/pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]' -e './client[qr,resource,dpop]'
	touch $@
