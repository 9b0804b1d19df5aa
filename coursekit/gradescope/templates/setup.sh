#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04,
# its default, or 24.04). The image's own python3 is left alone: Gradescope's harness
# runs on it, and it is 3.10 on 22.04 and 3.12 on 24.04, while the kit is tested with
# one version (setup.conf: PYTHON_VERSION). Everything goes under /autograder:
#   uv/      uv, installed by the image's pip from PyPI, hash-checked
#   python/  CPython PYTHON_VERSION, fetched by uv (python-build-standalone builds)
#   venv/    the graders' environment: grader-requirements.txt and torch, hash-checked
# COURSEKIT_INDEX_URL and COURSEKIT_TORCH_INDEX_URL replace PyPI and the torch index
# (a mirror, or a local copy when testing); uv's own UV_PYTHON_* settings are honoured.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$HERE"
# shellcheck source=/dev/null
. ./setup.conf
INDEX_URL="${COURSEKIT_INDEX_URL:-https://pypi.org/simple}"
TORCH_INDEX_URL="${COURSEKIT_TORCH_INDEX_URL:-${TORCH_INDEX_URL:-$INDEX_URL}}"
UV="$ROOT/uv/bin/uv"
VENV="$ROOT/venv"
export UV_PYTHON_INSTALL_DIR="$ROOT/python"
export UV_CACHE_DIR="$(mktemp -d)"
export UV_NO_CONFIG=1 UV_NO_PROGRESS=1 UV_LINK_MODE=copy
trap 'rm -rf "$UV_CACHE_DIR"' EXIT

step() { printf '\n==> [%4ss] %s\n' "$SECONDS" "$*"; }

step "uv, with the image's pip (python3 is $(python3 -c 'import platform; print(platform.python_version())'))"
if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -y
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip
fi
rm -rf "$ROOT/uv"
# --target keeps uv out of the image's site-packages (and past PEP 668 on 24.04).
python3 -m pip install --disable-pip-version-check --no-cache-dir --no-deps --require-hashes \
    --index-url "$INDEX_URL" --target "$ROOT/uv" -r uv-requirement.txt
"$UV" --version

step "CPython $PYTHON_VERSION, managed by uv"
"$UV" python install --no-bin "$PYTHON_VERSION"
"$UV" venv --managed-python --python "$PYTHON_VERSION" "$VENV"

step "grader packages (hash-checked, no resolution: the lock is the whole set)"
"$UV" pip install --python "$VENV/bin/python" --require-hashes --no-deps \
    --index-url "$INDEX_URL" -r grader-requirements.txt

if [ "$TORCH_LOCKED" = 1 ]; then
    step "torch, the locked build from $TORCH_INDEX_URL"
    "$UV" pip install --python "$VENV/bin/python" --require-hashes --no-deps \
        --index-url "$TORCH_INDEX_URL" -r torch-requirement.txt
else
    step "torch as chosen at release: $TORCH_SPEC"
    extra=()
    if [ -n "$TORCH_EXTRA_INDEX_URL" ]; then extra=(--extra-index-url "$TORCH_EXTRA_INDEX_URL"); fi
    "$UV" pip install --python "$VENV/bin/python" --index-url "$TORCH_INDEX_URL" "${extra[@]}" \
        -c grader-constraints.txt -r torch-requirement.txt
fi
"$UV" pip check --python "$VENV/bin/python"
"$VENV/bin/python" -c 'import sys, numpy, torch, pytest, gradescope_utils; print("python", sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__, "cuda" if torch.cuda.is_available() else "cpu")'

# No user to create: each grading runs student code as a uid of its own, leased at
# grading time (docs/security.md). /autograder/python and /autograder/venv stay readable
# by other users, so that uid can run the interpreter where namespaces are refused.
chmod -R go+rX "$ROOT/python" "$VENV"
step "done"
