"""Real-data tests skip on a machine without the data sets, but fail under CI=true."""

import shutil
from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
PROBE = '''
import pytest

@pytest.mark.realdata("mnist")
def test_needs_mnist():
    pass

def test_plain():
    pass
'''


def _run(pytester, monkeypatch, ci: str | None):
    # The kit's conftest two levels down, so its data folder (../datasets/cache) is empty.
    tests = pytester.mkdir("tests")
    shutil.copyfile(CONFTEST, tests / "conftest.py")
    (tests / "test_probe.py").write_text(PROBE)
    pytester.makeini("[pytest]\nmarkers =\n    realdata: needs data\n")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest_subprocess("tests", "-p", "no:cacheprovider", "-rsf")


def test_skips_with_the_reason_outside_ci(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, None)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*needs datasets/cache (run `make data`)*"])


def test_fails_under_ci(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true")
    result.assert_outcomes(passed=1, errors=1)   # fails in set-up: reported as an error
    result.stdout.fnmatch_lines(["*CI must run `make data` first*"])
