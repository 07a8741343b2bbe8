# pismo-sandbox: every target bootstraps its own virtualenv, so a fresh clone needs only
# Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
DB     ?= sandbox.db
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one more than the cores by default, since many tests wait on a
# server or a subprocess they started (on 2 cores, 3 processes: 4m21s against 4m54s for 2, and
# 3m41s against 3m51s for 4);
# TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# The in-process inner loop is all CPU: one process per core (2 cores: 72 s against 76 s for 3).
FAST_WORKERS ?= auto
CONTRACT_ARGS ?=
DRILL_ARGS ?=

.PHONY: run test test-fast lint lint-types install clean bench contract drill

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/pismo-sandbox serve --host $(HOST) --port $(PORT) --db $(DB)

# Tests are spread over the processes one by one, except the modules that share a costly fixture
# (the contract run, a built wheel) or are marked xdist_group (the drill sandbox's), each kept in
# one process (tests/conftest.py, pytest_xdist_make_scheduler). Bytecode is cached even where the environment says not to write it: otherwise
# every test process, and every server or CLI a test starts, compiles (and pytest rewrites)
# every module again. Schemathesis's pytest plugin is not used (the harness calls it directly), nor
# anyio's (no test is async; loading it costs every test process 0.3 s).
PYTEST_RUN := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest --dist load -p no:schemathesis -p no:anyio
PYTEST := $(PYTEST_RUN) -n $(TEST_WORKERS)
# The dashboard's browser tests drive Debian's chromium with chromium-driver; installed here when missing.
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; }
	$(PYTEST) $(PYTEST_ARGS)

# The inner loop: unit tests and the HTTP tests against an in-process app (no servers), less
# the repetition runs marked long (the lost pay response, 1,000 times), which `make test` runs.
test-fast: $(STAMP)
	$(PYTEST_RUN) -n $(FAST_WORKERS) -m "not long" tests/unit tests/http $(PYTEST_ARGS)

# Lint and format (ruff) and types (mypy; see pyproject.toml); `ruff format .` formats the code. mypy reads the installed layout, where
# simulator/ is pismo_sandbox and contracts/ is pismo_sandbox.contracts: a tree of links under
# build/typecheck gives it that layout without an install.
TYPECHECK := build/typecheck
lint: lint-types
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-types: $(STAMP)
	@rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/pismo_sandbox
	@ln -s $(CURDIR)/simulator/* $(TYPECHECK)/pismo_sandbox/
	@ln -s $(CURDIR)/contracts $(TYPECHECK)/pismo_sandbox/contracts
	$(BIN)/mypy

# The contract harness against an in-process simulator; CONTRACT_ARGS='--base-url URL ...' for
# another target, '--junit report.xml' for CI (see contracts/README.md).
contract: $(STAMP)
	$(BIN)/pismo-sandbox contract $(CONTRACT_ARGS)

# Every shipped fault-injection drill against a fresh sandbox (scenarios/README.md);
# DRILL_ARGS='--junit drills.xml' for CI, '--client "python my_client.py"' to try another client.
drill: $(STAMP)
	$(BIN)/pismo-sandbox drill scenarios/*.yaml $(DRILL_ARGS)

# The load generator is wrk, from Debian's packages; installed here when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.run $(if $(SCALE),--scale) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
