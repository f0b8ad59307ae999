# Two commands set everything up on a fresh machine (see README.md):
#   make demo   creates .venv, installs tinygrad_edu, trains the headline example and
#               writes out/loss.png and out/graph.svg
#   make test   creates .venv, installs with the dev extras, runs ruff and the tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench gpu-check browser-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[examples,viz]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev,viz]"
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/demo.py

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check tinygrad_edu tests examples benchmarks

# One BLAS thread unless you say otherwise: on a small shared machine extra BLAS threads
# made small matrix products 20-40x slower.
# The suite must not write into the repository: the tree's state (status and diff) is
# compared before and after, so a test or example that rewrites a tracked file fails here.
TREE_STATE = { git status --porcelain --untracked-files=all; git diff; } 2>/dev/null | cksum

test: lint
	@before=$$($(TREE_STATE)); \
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} \
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PY) -m pytest || exit $$?; \
	if [ "$$before" != "$$($(TREE_STATE))" ]; then \
		echo "make test changed files in the repository (tests must write to temporary folders):"; \
		git status --short; exit 1; \
	fi

# The walkthrough page in a real browser: installs Debian's chromium and chromium-driver
# (apt-get, as root or through sudo) when missing, then runs the browser and notebook
# tests.  `make test` runs them too once a browser is installed, and skips them without.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-test: $(VENV)/.installed-dev
	@if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then \
		echo "installing Debian's chromium and chromium-driver with apt-get"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver >/dev/null || exit $$?; \
	fi
	OPENBLAS_NUM_THREADS=1 HYPOTHESIS_PROFILE=ci $(PY) -m pytest \
		tests/test_walkthrough_browser.py tests/test_notebook.py

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py

# On a machine with an NVIDIA GPU: the test suite on cuda and a CPU-vs-GPU timing.
# Elsewhere it prints one line saying why it skipped, and succeeds.
gpu-check: $(VENV)/.installed-dev
	@if command -v nvidia-smi >/dev/null 2>&1; then $(PY) -m pip install --quiet -e ".[dev,cuda]"; fi
	$(PY) benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
