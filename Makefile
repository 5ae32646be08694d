# Every target creates .venv by itself when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lynkr-installed
PYTEST_ARGS ?=

.PHONY: run test lint bench venv test-deps clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make run: start the gateway on the embedded defaults (127.0.0.1:8080)
run: $(STAMP)
	$(VENV)/bin/lynkr serve

## make lint: ruff, ruff format --check, mypy --strict
lint: $(STAMP)
	$(VENV)/bin/ruff check lynkr_cli tests plugins scripts
	$(VENV)/bin/ruff format --check lynkr_cli tests plugins scripts
	$(VENV)/bin/mypy --strict lynkr_cli

## make test-deps: install the real services the suite talks to (Claude Code CLI, MCP servers)
test-deps: $(STAMP)
	bash scripts/test-deps.sh

## make test: lint, then the whole suite
test: lint test-deps
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

## make bench: every benchmark in tests/bench, each printing ratios to its baseline
bench: $(STAMP) test-deps
	@set -e; for b in tests/bench/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
