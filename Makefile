# `make ask Q="…"` installs everything into .venv (once) and answers a question;
# `make test` runs the checks and the test suite (what CI runs);
# `make test-fast` runs the offline tests that need no real model or embedder, less the few
# `heavy` ones (fresh interpreters, a killed run, a load test): under a minute.
VENV ?= .venv
BIN := $(VENV)/bin
export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE := 1

.PHONY: install ask test test-fast lint
install: $(VENV)/.installed

# torch first, pinned to the CPU wheel: a bare torch requirement would pull a multi-GB CUDA build.
# llama-cpp-python compiles from source the first time (about 8 minutes on 2 cores; pip caches it).
# constraints.txt holds the versions the tests last passed with, so upstream releases do not move CI.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -d $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

ask: install
	$(BIN)/orchestrator ask "$(Q)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not slow and not heavy" -x
