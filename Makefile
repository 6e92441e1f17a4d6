# claimscrub tasks.  `make help` lists them.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help install check test bench fmt
help:           ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'
install:        ## create the venv and install claimscrub with its dev extras
	python3 -m venv $(VENV) && $(BIN)/pip install -e '.[dev,postgres,bench]'
check:          ## ruff, ruff format --check, mypy --strict, tests
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/pytest -q
test:           ## the test suite (benchmarks run once each as smoke tests)
	$(BIN)/pytest -q
bench:          ## the benchmarks at full size, results saved under .benchmarks/
	CLAIMSCRUB_BENCH_FULL=1 $(BIN)/pytest benchmarks --benchmark-enable --benchmark-autosave
fmt:            ## format the code
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .
