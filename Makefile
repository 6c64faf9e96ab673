# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: demo test lint serve bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## Install, generate the demo company on sqlite:///cxm.db and serve it on :8000
	$(BIN)/cxm demo

test: $(STAMP) lint $(CHROMIUM)  ## Lint, type-check and run the whole suite on SQLite and PostgreSQL
	$(BIN)/pytest -n 2 -q --dist loadfile

# The browser tests drive Debian's chromium through Playwright (never a downloaded browser); a clean CI
# machine (Debian, root) gets it from apt.
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

serve: $(STAMP)
	$(BIN)/cxm serve

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) cxm.db cxm.db-wal cxm.db-shm
