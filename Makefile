# The two commands of the README: `make run` serves on http://127.0.0.1:8000 with SQLite,
# `make test` runs the whole suite. Both install what they need into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test install

run: $(VENV)/.installed
	$(BIN)/authgate serve --host 127.0.0.1 --port 8000

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -e './client[qr]'
	touch $@
