# The two commands of the quickstart: `make demo` and `make test`.
# Each creates .venv with python3 -m venv when missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint types bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/modcfg warm
	touch $(STAMP)

# `modcfg warm` (run at install, above) compiles the engine's kernels into numba's disk cache,
# so that no command or query of a user waits for them.
demo: $(STAMP)
	$(BIN)/modcfg warm
	$(BIN)/modcfg demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

types: $(STAMP)
	$(BIN)/mypy --strict src benchmarks

# Slow checks (real industrial models) run in CI (CI=true) and in `make test-slow`.
PYTEST_SELECT := $(if $(CI),,-m "not slow")

test: lint types
	$(BIN)/python -m pytest $(PYTEST_SELECT)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The documentation's images (docs/images/*.png), drawn by modcfg.plot from the bundled catalogs.
docs: $(STAMP)
	$(BIN)/python docs/make_images.py docs/images

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build src/*.egg-info
