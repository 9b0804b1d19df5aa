#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, as one script (docs/cluster.md, README figures).
#
#   tests/gpu/run_gpu_checks.sh [STEP ...]      steps: env challenge bench grade cluster (default: all)
#
# Run from the repository root on a machine with a GPU, the kit's virtual environment
# (.venv, with a CUDA build of torch) or a python3 that has the kit's requirements, the
# data under datasets/cache (`make data`) and the release built (`make release`; the
# script builds it when autograder/dist is missing). Everything it measures goes to
# $OUT (default: gpu-results/): one log per step and summary.txt with the figures.
#
#   challenge  tests/a2_neural_nets/test_pytorch_gpu.py: the a2 challenge reference,
#              10 epochs on CUDA, target 85 % (seconds per epoch in the log)
#   bench      `coursekit bench --only gpu`: the challenge question retrained by the grader
#   grade      `coursekit grade a2_neural_nets <reference> --retrain --device cuda`, all
#              questions: the time per submission the cost model in docs/cluster.md needs
#   cluster    the same reference (two copies, the quickest trained question) through
#              `--cluster` on a local Ray cluster whose worker holds one GPU: the task
#              asks for and gets the GPU (skipped without Ray)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
export COURSEKIT_DATA=${COURSEKIT_DATA:-$PWD/datasets/cache}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
A2=a2_neural_nets
REF=solutions/$A2-submission.zip
STEPS=${*:-env challenge bench grade cluster}
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME LIMIT_SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.log
step() {
    local name=$1 limit=$2; shift 2
    local start=$(date +%s)
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    note "$name: exit $rc in $(( $(date +%s) - start )) s (log: $OUT/$name.log)"
    return $rc
}

want() { [[ " $STEPS " == *" $1 "* ]]; }

if want env; then
    { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
      "$PY" -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"
      "$PY" -c "import ray; print('ray', ray.__version__)" 2>/dev/null || echo "ray not installed"
    } 2>&1 | tee "$OUT/env.log" | sed 's/^/env: /' | tee -a "$SUMMARY"
fi

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    note "torch sees no CUDA device: nothing else to check here"
    exit 1
fi
if [ ! -f "$COURSEKIT_DATA/cifar-10-batches-py/data_batch_1" ]; then
    note "no CIFAR-10 training batches under $COURSEKIT_DATA (run \`make data\`)"
    exit 1
fi
if [ ! -f "autograder/dist/$A2-gradescope.zip" ] || [ ! -f "$REF" ]; then
    step release 900 "$PY" -m coursekit release || { note "release failed"; exit 1; }
fi

if want challenge; then
    step challenge 1200 "$PY" -m pytest tests/a2_neural_nets/test_pytorch_gpu.py -s -q -p no:cacheprovider
    grep -E "epoch|accuracy" "$OUT/challenge.log" | tail -12 | sed 's/^/challenge: /' | tee -a "$SUMMARY"
fi

if want bench; then
    step bench 1500 "$PY" -m coursekit bench --only gpu --out "$OUT/bench-gpu.json"
    grep -A8 -i "gpu" "$OUT/bench.log" | tail -8 | sed 's/^/bench: /' | tee -a "$SUMMARY"
fi

if want grade; then
    step grade 3600 "$PY" -m coursekit grade "$A2" "$REF" --retrain --device cuda \
        --timeout 3500 --results "$OUT/reference-retrain-results.json"
    grep -m1 "points in" "$OUT/grade.log" | sed 's/^/grade (time per submission): /' | tee -a "$SUMMARY"
fi

if want cluster; then
    if "$PY" -c "import ray" 2>/dev/null; then
        step cluster 1200 "$PY" - "$A2" "$REF" "$OUT" <<'PYEOF'
import shutil, sys, time
from pathlib import Path
from coursekit.cluster.driver import grade_on_cluster
from coursekit.cluster.localcluster import start_local_cluster
from coursekit.cluster.plan import Options
from coursekit.local_grading.local import default_zip

assignment, ref, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
folder = out / "cluster-submissions"
shutil.rmtree(folder, ignore_errors=True)
folder.mkdir(parents=True)
for i in range(2):
    shutil.copyfile(ref, folder / f"student{i}.zip")
cluster = start_local_cluster(workers=1, memory_mb=32000, gpus_per_worker=1)
try:
    start = time.perf_counter()
    status = grade_on_cluster(cluster.address, folder,
                              Options(assignment, device="cuda", only=("pytorch_barebones_training",),
                                      retrain=True, timeout=1800),
                              default_zip(assignment), out / "cluster.csv",
                              results_dir=out / "cluster-results")
    print(f"cluster: exit {status}, {time.perf_counter() - start:.1f} s for 2 submissions")
finally:
    cluster.stop()
print((out / "cluster.csv").read_text())
sys.exit(status)
PYEOF
        tail -5 "$OUT/cluster.log" | sed 's/^/cluster: /' | tee -a "$SUMMARY"
    else
        note "cluster: skipped (Ray is not installed: pip install 'coursekit[cluster]')"
    fi
fi
echo "figures in $SUMMARY"
