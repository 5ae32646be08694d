# Every target creates .venv by itself when it is missing, and rebuilds it when it is
# broken: an interpreter that no longer runs (moved or removed) or one older than 3.11.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lynkr-installed
# First-party plugins (plugins/*/pyproject.toml), installed into .venv and tested by `make test`
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_STAMP := $(if $(PLUGINS),$(VENV)/.lynkr-plugins-installed)
PORT   ?=
PYTEST_ARGS ?=
NEEDS_PY := import sys; sys.exit(sys.version_info < (3, 11))

.PHONY: run test lint bench venv plugins test-deps clean

# A .venv whose python fails this check is rebuilt, whatever its stamp says.
ifneq ($(shell $(PY) -c '$(NEEDS_PY)' >/dev/null 2>&1 && echo ok),ok)
.PHONY: $(STAMP)
endif

$(STAMP): pyproject.toml $(wildcard setup.py native/*.c)
	@$(PYTHON) -c '$(NEEDS_PY)' 2>/dev/null || { \
	  echo "make: lynkr needs Python >= 3.11 and '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "make: run it with a newer one, e.g. make PYTHON=python3.11 $(MAKECMDGOALS)" >&2; exit 1; }
	@if [ -e $(VENV) ] && ! $(PY) -c '$(NEEDS_PY)' >/dev/null 2>&1; then \
	  echo "make: $(VENV) was made by a Python that is gone or older than 3.11: rebuilding it" >&2; \
	  rm -rf $(VENV); fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Each first-party plugin, editable (its own pyproject; its dependencies from PyPI).
ifneq ($(PLUGINS),)
$(PLUGIN_STAMP): $(STAMP) $(PLUGINS)
	@set -e; for p in $(dir $(PLUGINS)); do $(PY) -m pip install -q -e ./$$p; done
	@touch $(PLUGIN_STAMP)
endif

plugins: $(PLUGIN_STAMP)

venv: $(STAMP) $(PLUGIN_STAMP)

## make run [PORT=9000]: start the gateway on the embedded defaults (127.0.0.1:8080)
run: $(STAMP) $(PLUGIN_STAMP)
	$(VENV)/bin/lynkr serve $(if $(PORT),--port $(PORT))

## make lint: ruff, ruff format --check, mypy --strict
lint: $(STAMP) $(PLUGIN_STAMP)
	$(VENV)/bin/ruff check lynkr_cli tests plugins scripts
	$(VENV)/bin/ruff format --check lynkr_cli tests plugins scripts
	$(VENV)/bin/mypy --strict lynkr_cli
	@set -e; for p in $(dir $(PLUGINS)); do \
	  $(VENV)/bin/mypy --strict --config-file $${p}pyproject.toml $$p$$(basename $$p | tr - _); done

## make test-deps: install the real services the suite talks to (Claude Code CLI, MCP servers)
test-deps: $(STAMP)
	bash scripts/test-deps.sh

## make test: lint, then the whole suite, first-party plugins' tests included
test: lint test-deps $(PLUGIN_STAMP)
	$(PY) -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

## make bench: every benchmark in tests/bench, each printing ratios to its baseline
bench: $(STAMP) test-deps
	@set -e; for b in tests/bench/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
