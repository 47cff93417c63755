# vouch — the few verbs a developer needs.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8080

.PHONY: install run test lint typecheck pytest bench docs clean

$(BIN)/python:
	@echo "==> creating $(VENV)"
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Node.js interoperability clients: panva/jose (tokens) and Minka's own @minka/ledger-sdk (records).
INTEROP := tests/e2e/interop tests/records/interop tests/location/interop

$(STAMP): $(BIN)/python pyproject.toml sdk/python/pyproject.toml $(addsuffix /package-lock.json,$(INTEROP))
	@echo "==> installing vouch-server and vouch-client with their dependencies (a few minutes on a first run)"
	$(BIN)/pip install --progress-bar off -e ".[dev]" -e sdk/python | grep -E '^(Collecting|Successfully)' || true
	@$(BIN)/python -c "import vouch_server, vouch_client" || { echo "install failed: see pip's output above"; exit 1; }
	@echo "==> installing the Node.js interoperability clients"
	@if command -v npm >/dev/null 2>&1; then \
		for dir in $(INTEROP); do npm ci --prefix $$dir --no-audit --no-fund --silent || exit 1; done; \
	else echo "npm not found: the Node.js interoperability tests will be skipped"; fi
	@echo "==> installed; run 'make run' to start the server"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/vouch serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src sdk/python/src tests sdk/python/tests bench
	$(BIN)/ruff format --check src sdk/python/src tests sdk/python/tests bench

typecheck: install
	$(BIN)/mypy

# Every core runs tests (pytest-xdist; each worker has its own databases: tests/fixtures/services.py).
# -rs prints why each skipped test was skipped.
PYTEST_WORKERS ?= auto
pytest: install
	$(BIN)/pytest -q -rs -n $(PYTEST_WORKERS) --dist worksteal --durations=20

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

docs:
	@echo "docs live in docs/ as Markdown; start at docs/README.md"

clean:
	rm -rf $(VENV) .vouch build dist *.egg-info
