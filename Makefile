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
CONTRACT_ARGS ?=
DRILL_ARGS ?=

.PHONY: run test install clean bench contract drill

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/pismo-sandbox serve --host $(HOST) --port $(PORT) --db $(DB)

# The dashboard's browser tests drive Debian's chromium with chromium-driver; installed here when missing.
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; }
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
