# Two entry points for a fresh machine: `make release` and `make test`.
# Both create .venv on first use and install the pinned dependencies into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A GPU runner overrides this, e.g. `make test TORCH_SPEC="torch==2.13.0 --index-url <cuda index>"`.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv data checkpoints release test bench clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP)

# MNIST and CIFAR-10 under datasets/cache, verified (skipped when already there).
# DATA_MIRROR=DIR copies from a local folder in the official layout instead of downloading.
# Where offline copies sit beside the repository (../shared/datasets), they are laid out first.
DATA_MIRROR ?=
OFFLINE_PREPARE := ../shared/datasets/prepare.py
data: $(STAMP)
	@if [ -z "$(DATA_MIRROR)" ] && [ -f $(OFFLINE_PREPARE) ] && ! $(PY) -m coursekit data check >/dev/null 2>&1; then \
		echo "laying out the offline data copies from $(OFFLINE_PREPARE)"; \
		$(PY) $(OFFLINE_PREPARE) --dest datasets/cache; \
	fi
	$(PY) -m coursekit data fetch --quiet $(if $(DATA_MIRROR),--mirror $(DATA_MIRROR))

# Trains the reference checkpoints a perfect submission carries (slow; a GPU helps).
checkpoints: $(STAMP) data
	$(PY) -m coursekit checkpoints

release: $(STAMP) data
	$(PY) -m coursekit release

# One BLAS/OpenMP thread per process: on a small shared machine extra threads spin and
# slow notebooks and training several times over. Override by exporting them.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) data
	$(PY) -m coursekit bench

clean:
	rm -rf release solutions autograder/dist bench.json
