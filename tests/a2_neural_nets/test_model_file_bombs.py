"""Decompression bombs submitted as model files (a few MB that inflate to more than a
gigabyte) are refused by the real autograder with a message naming the file, and no
process of the grading grows large: the peak resident size of every process the grading
ran is read in a fresh process that runs it (getrusage of its children)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model_file_bombs import BOMB_SIZE, GIB, inflated_size, npz_bomb, torch_bomb

A = "a2_neural_nets"
REPO = Path(__file__).resolve().parents[2]
RUN = """
import json, resource, sys
from coursekit.local_grading.local import grade_submission
result = grade_submission(sys.argv[1], sys.argv[2], only=tuple(sys.argv[4].split(",")),
                          autograder_zip=sys.argv[3])
print(json.dumps({"results": result.results,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _grade_measured(zip_path, submission, only):
    proc = subprocess.run([sys.executable, "-c", RUN, A, str(submission), str(zip_path), ",".join(only)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["results"], report["peak_kb"] / 1024


def _test(results, name):
    (t,) = [t for t in results["tests"] if t["extra_data"]["id"].endswith("::" + name)]
    return t


@pytest.mark.parametrize("rel, make, question, test", [
    ("checkpoints/best_fc.npz", npz_bomb, "fc_best_model", "test_best_model_accuracy"),
    ("checkpoints/pytorch_barebones_fc.pt", torch_bomb, "pytorch_barebones_training",
     "test_barebones_fc_accuracy"),
])
def test_bomb_refused_by_the_grader_with_little_memory(build, reference_submission, rel, make, question,
                                                       test):
    sub = reference_submission(A)
    (sub / rel).parent.mkdir(parents=True, exist_ok=True)
    path = make(sub / rel)
    assert path.stat().st_size < 8 << 20 and inflated_size(path) > GIB
    results, peak_mb = _grade_measured(build.autograder_zip(A), sub, [question])
    t = _test(results, test)
    assert t["score"] == 0, t
    assert f"{rel} would take {BOMB_SIZE / 1e6:.1f} MB once decompressed, more than the 67.1 MB " \
        "allowed" in t["output"], t["output"]
    print(f"{rel}: largest process of the grading peaked at {peak_mb:.0f} MB")
    assert peak_mb < 1024, peak_mb
