# Two commands on a fresh machine: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup compile bench loadtest rehearsal lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the declared dependencies change.
$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Byte-compile the project once, as a wheel install would: `examctl sim` then starts without compiling
# (environments that set PYTHONDONTWRITEBYTECODE never cache it otherwise).
compile: $(STAMP)
	$(BIN)/python -m compileall -q exam_server simulators grading assessment > /dev/null

# Front-end packages from npm, pinned by the lockfile, served by the platform (never a CDN).
CLIENT_STAMP := candidate_client/node_modules/.package-lock.json
$(CLIENT_STAMP): candidate_client/package.json candidate_client/package-lock.json
	cd candidate_client && npm ci --no-audit --no-fund --loglevel=error
	touch $(CLIENT_STAMP)

setup: $(STAMP) $(CLIENT_STAMP) compile

run: setup
	$(BIN)/examctl db upgrade
	$(BIN)/examctl demo load --if-empty
	$(BIN)/examctl serve

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check exam_server simulators grading assessment benchmarks tests

bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks

loadtest: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.loadtest

# The exam day at scale with faults injected (docs/rehearsal.md): PostgreSQL, Redis and nginx of its own.
rehearsal: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.rehearsal --out rehearsal-report.md

clean:
	rm -rf $(VENV) build *.egg-info
