# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_VERSION := 26.3

.PHONY: run test lint types unit browser bench docs clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

## Set up and run the service on its embedded default (SQLite in ./data), on http://127.0.0.1:8080, showing the
## whole loop first (`appinstall demo`: example app, echo agent, a conversation, its webhooks); Ctrl-C stops it.
run: $(BIN)/.installed
	$(BIN)/appinstall demo

## Set up, then lint, type-check and run the whole suite.
test: lint types unit

lint: $(BIN)/.installed
	$(BIN)/ruff check appinstall tests bench examples
	$(BIN)/ruff format --check appinstall tests bench examples

types: $(BIN)/.installed
	$(BIN)/mypy appinstall examples

## Two processes (pytest-xdist, one test module each at a time), then a serial pass: the fault suite (its tests kill
## processes, drop connections and flood ports, and time what survives, so they get the machine to themselves) and
## the `serial` tests (schemathesis's items, which xdist cannot schedule).
unit: $(BIN)/.installed browser
	$(BIN)/pytest -q -n 2 --dist loadscope -m "not fault and not serial"
	$(BIN)/pytest -q -m "fault or serial"

## The console's browser tests drive Debian's Chromium through Playwright, which downloads no browser here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "make: the console's browser tests need Chromium: sudo apt-get install chromium"; fi; }

bench: $(BIN)/.installed
	$(BIN)/python bench/manifest_validation.py
	$(BIN)/python bench/registry_api.py

## Regenerate the committed schema and the manifest reference tables after changing the model.
docs: $(BIN)/.installed
	$(BIN)/appinstall schema > schemas/manifest.schema.json
	$(BIN)/python -m appinstall.reference --write README.md docs/manifest.md docs/operations.md

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
