# Two entry points for a fresh machine: `make release` and `make test`.
# Both create .venv on first use and install the pinned dependencies into it.
# The kit is tested with Python 3.11 (the Gradescope image provisions the same version).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A GPU runner overrides this, e.g. `make test TORCH_SPEC="torch==2.13.0 --index-url <cuda index>"`.
# Given to `make release`, it is also the torch the Gradescope image installs (default:
# the hash-locked CPU build in requirements/grader-torch.txt).
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
TORCH_STAMP := $(VENV)/.torch-spec
PYTEST_ARGS ?=

.PHONY: venv data checkpoints release test bench grader-lock clean FORCE

# Rewritten only when TORCH_SPEC changes, so a new spec reinstalls the venv's torch.
$(TORCH_STAMP): FORCE
	@mkdir -p $(VENV)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(TORCH_SPEC)' ]; then printf '%s\n' '$(TORCH_SPEC)' > $@; fi

$(STAMP): requirements.txt constraints.txt pyproject.toml $(TORCH_STAMP)
	@test -x $(PY) || $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
		{ echo "$(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); the kit needs 3.11 or later: make PYTHON=python3.11 ..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_SPEC) -c constraints.txt
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

# TORCH_SPEC set on the command line or in the environment reaches the Gradescope zips.
ifneq ($(filter command line environment,$(origin TORCH_SPEC)),)
RELEASE_ENV := COURSEKIT_TORCH_SPEC='$(TORCH_SPEC)'
endif

release: $(STAMP) data
	$(RELEASE_ENV) $(PY) -m coursekit release

# Re-pin the Gradescope image's packages (requirements/grader.in -> grader.txt,
# grader-torch.txt, uv.txt), with hashes. TORCH_WHEELS: where the CPU torch wheel is listed.
TORCH_WHEELS ?= https://download.pytorch.org/whl/cpu/torch/
grader-lock: $(STAMP)
	$(PY) -m coursekit.gradescope.lock --find-links $(TORCH_WHEELS)

# One BLAS/OpenMP thread per process: on a small shared machine extra threads spin and
# slow notebooks and training several times over. Override by exporting them.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

# The data first: without it the real-data tests would skip (under CI=true they fail).
test: $(STAMP) data
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) data
	$(PY) -m coursekit bench

clean:
	rm -rf release solutions autograder/dist bench.json
