# Two commands: `make run` (Telegram with a token, else the terminal chat) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The semantic matcher by default: a fresh setup took 46 s with it and 33 s without (2 shared
# cores, pip from the local index); `make run EXTRAS=dev` stays lexical.
EXTRAS ?= dev,semantic
comma  := ,
# One lock file per EXTRAS value, exact versions with hashes: EXTRAS=dev,semantic installs
# requirements/dev-semantic.txt; no extras, requirements/base.txt.
LOCK_NAME := $(or $(subst $(comma),-,$(EXTRAS)),base)
LOCK      := requirements/$(LOCK_NAME).txt
STAMP     := $(VENV)/.installed-$(LOCK_NAME)

# `make lock` writes these; the first holds all the others' packages, and they are pinned to it.
LOCKS          := dev-semantic dev postgres base
LOCK_PLATFORMS := x86_64-manylinux_2_28 aarch64-manylinux_2_28
LOCK_PYTHONS   := 3.11 3.12 3.13 3.14
extra_flags     = $(foreach extra,$(filter-out base,$(subst -, ,$(1))),--extra $(extra))
# uv would fetch an interpreter for each --python-version; the venv's is enough to resolve.
UV              = $(BIN)/uv pip compile --quiet --python $(BIN)/python --no-python-downloads
UV_COMPILE      = $(UV) --universal --python-version 3.11 --generate-hashes \
                  --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)

.PHONY: run test lint typecheck bench lock clean

run: $(STAMP)
	$(BIN)/supportbot

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Both matchers, quality, bands, goals and scale, written into benchmarks/README.md (~30 min);
# ARGS replaces these options, e.g. make bench ARGS=--quick
BENCH_ARGS ?= --methods ours semantic wratio token_sort --update-readme
bench: $(STAMP)
	$(BIN)/python -m benchmarks.match $(or $(ARGS),$(BENCH_ARGS))

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "supportbot needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=python3.12, say)")'
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv: on Debian/Ubuntu, apt install python3-venv"; exit 1; }

# Exactly the locked versions, each checked against its hash; then the project itself, from
# no index: that fails if pyproject.toml asks for something the lock lacks. (setuptools says on
# every editable install that it is one: that message alone is silenced.)
$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet \
	  --no-index --no-build-isolation -e '.[$(EXTRAS)]' \
	  || { echo "$(LOCK) does not satisfy pyproject.toml: run make lock" >&2; exit 1; }
	@touch $(STAMP)

requirements/%.txt:
	@echo "No lock file $@ for EXTRAS=$(EXTRAS): add $(LOCK_NAME) to LOCKS in the Makefile and run make lock" >&2
	@exit 1

# Rewrites the lock files from pyproject.toml, keeping every pin that still fits (UPGRADE=1
# takes the newest versions), then checks each lock has wheels for every platform we run on.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/tools.txt
	$(UV_COMPILE) requirements/tools.in -o requirements/tools.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in $(call extra_flags,$(firstword $(LOCKS))) \
	  -o requirements/$(firstword $(LOCKS)).txt
	@set -e; $(foreach name,$(wordlist 2,$(words $(LOCKS)),$(LOCKS)), \
	  echo "uv pip compile ... -o requirements/$(name).txt"; \
	  $(UV_COMPILE) pyproject.toml requirements/build.in $(call extra_flags,$(name)) \
	    -c requirements/$(firstword $(LOCKS)).txt -o requirements/$(name).txt;)
	@set -e; for name in $(LOCKS); do for platform in $(LOCK_PLATFORMS); do \
	  for python in $(LOCK_PYTHONS); do \
	    $(UV) --only-binary :all: --python-platform $$platform --python-version $$python \
	      requirements/$$name.txt -o /dev/null \
	    || { echo "requirements/$$name.txt: no wheels for $$platform, Python $$python" >&2; exit 1; }; \
	  done; done; done
	@echo "locks written and checked for $(LOCK_PLATFORMS), Python $(LOCK_PYTHONS)"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
