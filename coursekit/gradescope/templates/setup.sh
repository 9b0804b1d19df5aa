#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
cd /autograder/source
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update -y
    apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir "$(cat torch-requirement.txt)"
/autograder/venv/bin/pip install --no-cache-dir -r requirements.txt -c constraints.txt
# The unprivileged user student code runs as (created on demand too, if this step is skipped).
id coursekit-student >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin coursekit-student
