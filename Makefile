# The two commands a fresh machine needs: `make run PROMPT="..."` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
SERVE_STAMP := $(VENV)/.installed-serve
HOST ?= 127.0.0.1
PORT ?= 2024

.PHONY: run test lint types format bench web serve demo clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

# The dev extra includes the `local` one (the local tests run in CI). torch goes first, pinned: its CPU
# build lies on this disk and the extra's range admits it, so pip adds nothing bigger (a plain `torch`
# would pull a CUDA build of several GB).
TORCH ?= torch==2.13.0
$(DEV_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

$(SERVE_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e ".[serve]"
	@touch $@

run: $(STAMP)
ifdef PROMPT
	$(PY) run_agent.py --prompt "$(PROMPT)" $(ARGS)
else
	$(PY) run_agent.py $(ARGS)
endif

web: $(STAMP)
	$(PY) app.py $(ARGS)

# LangGraph's API server for langgraph.json (langgraph dev: in memory, no browser, no reload, no analytics).
serve: $(SERVE_STAMP)
	$(PY) -m hugginggpt.agent.serve --host $(HOST) --port $(PORT)

# The real CLI against the loopback stand-ins: no keys, no network (see tests/demo.py).
demo: $(DEV_STAMP)
ifdef PROMPT
	$(PY) -m tests.demo --prompt "$(PROMPT)" $(ARGS)
else
	$(PY) -m tests.demo $(ARGS)
endif

# The MCP project's reference server, for the foreign-server tests (tests/mcp_servers.py names the version).
EVERYTHING_VERSION := 2026.8.31
MCP_STAMP := .mcp-servers/.installed-$(EVERYTHING_VERSION)
$(MCP_STAMP):
	npm install --silent --no-audit --no-fund --prefix .mcp-servers "@modelcontextprotocol/server-everything@$(EVERYTHING_VERSION)"
	@touch $@

# Two pytest-xdist workers: most tests wait on stand-ins and subprocesses, so two at once take ~10 minutes
# instead of ~15 on 2 cores. `make test PYTEST_ARGS=` runs them one by one.
PYTEST_ARGS ?= -n 2
test: $(DEV_STAMP) $(MCP_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(PY) -m benchmarks.run $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

types: $(DEV_STAMP)
	$(PY) -m mypy

format: $(DEV_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) outputs test-artifacts build dist *.egg-info
