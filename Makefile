# The two commands of the README: `make run` and `make test`. Everything else is detail.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "skylet needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,postgres]'
	@touch $@ $(VENV)/.run-installed

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	@touch $@

run: $(VENV)/.run-installed
	$(BIN)/skylet up examples/hello

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench.coldstart
	$(BIN)/python -m bench.invoke
	$(BIN)/python -m bench.http
	$(BIN)/python -m bench.reload
	$(BIN)/python -m bench.storage
	$(BIN)/python -m bench.eventing
	$(BIN)/python -m bench.services

clean:
	rm -rf $(VENV) .skylet .pytest_cache .mypy_cache .ruff_cache
