# Two entry points for a fresh machine: `make release` and `make test`.
# Both create .venv on first use and install the pinned dependencies into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A GPU runner overrides this, e.g. `make test TORCH_SPEC="torch==2.13.0 --index-url <cuda index>"`.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv data release test bench clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP)

# Lays out MNIST and CIFAR-10 under datasets/cache (verified; skipped when already there).
data: $(STAMP)
	$(PY) -m coursekit data fetch

release: $(STAMP) data
	$(PY) -m coursekit release

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) data
	$(PY) -m coursekit bench

clean:
	rm -rf release solutions autograder/dist bench.json
