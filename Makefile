# dizuo — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format clean bench docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# pyCANON pins exact old versions of numpy, typer, typing-extensions …: install it alone
	$(BIN)/python -m pip install --quiet --no-deps pycanon==1.3.6
	touch $(STAMP)

## run: create the environment and run the main job (the demo)
run: $(STAMP)
	$(BIN)/dizuo demo

## check: lint, format check and type check
check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## test: create the environment, run the checks and the whole test suite
test: $(STAMP)
	$(MAKE) check
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## docs: regenerate the CLI reference from --help
docs: $(STAMP)
	$(BIN)/python -m dizuo.cli.docs > docs/cli.md
