# The two commands a fresh machine needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
STACK_PYTHON := /usr/bin/python3
VENV := .venv-test
BATS := node_modules/bats/bin/bats
STAMPS := .make
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: setup test unit integration bats demo lint bench clean

setup: $(STAMPS)/system $(STAMPS)/venv $(BATS)

$(STAMPS)/system: scripts/install-system-deps
	scripts/install-system-deps
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: requirements-test.txt $(STAMPS)/system
	$(STACK_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@mkdir -p $(STAMPS) && touch $@

$(BATS):
	npm install --no-save --no-audit --no-fund --silent bats@1.13.0

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(BATS) tests/bats

unit: setup
	$(VENV)/bin/pytest tests/unit

bats: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(BATS) tests/bats

lint: setup
	$(VENV)/bin/ruff check runtime procfile_gen tests buildpack bench

demo: setup
	scripts/demo

# Benchmarks, not tests: each bench/*_bench.py prints ratios against a baseline run in the same invocation.
bench: setup
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(STAMPS) node_modules dist
