# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup model demo test test-fast lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, exactly this version: it is the local CPU build (anything else pulls gigabytes of CUDA)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

model: setup
	$(BIN)/review-watch build-model

demo: model
	$(BIN)/review-watch demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy review_watch spiders sentiment bot tests bench
	$(BIN)/lint-imports --no-cache  # imports point inward: pyproject.toml [tool.importlinter]

test: model lint
	$(BIN)/python -m pytest -q

# The quick loop: the unit tests only (no model build, no database, no lint); `make test` stays the CI command.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: model
	$(BIN)/python bench/bench_classify.py
	$(BIN)/python bench/bench_crawl.py
	$(BIN)/python bench/bench_scheduler.py
