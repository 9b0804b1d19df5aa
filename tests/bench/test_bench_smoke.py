"""The benchmark's plumbing, at tiny sizes: sections, child processes, table and bench.json.

Speeds are never asserted here (the machine is shared); only that numbers come out,
are finite, and land where they should.
"""

from __future__ import annotations

import json
import math
import types

import pytest

import coursekit.bench as bench
from coursekit.bench import measure, report
from coursekit.bench import sandbox as bench_sandbox
from coursekit.bench.report import Metric, Section


def test_targets():
    assert report.at_most(2.9, 3) == ("<= 3x", True)
    assert report.at_most(3.1, 3) == ("<= 3x", False)
    assert report.at_least(150, 100) == (">= 100x", True)
    assert report.at_least(99.5, 100) == (">= 100x", False)


def test_durations_and_values_format():
    assert [report.fmt_duration(s) for s in (2.5, 0.0031, 0.000412, 123.4)] == ["2.5 s", "3.1 ms", "412 us", "123 s"]
    assert report.fmt_value(None, "s") == "-"
    assert report.fmt_value(1234.4, "MB/s") == "1,234 MB/s"
    assert report.fmt_value(0.01234, "ms") == "0.0123 ms"


def test_table_lists_every_section_and_verdict():
    sections = [
        Section("a", "first", metrics=[Metric("x vs y", 1.5, "ms", "y 1 ms", 1.5, "<= 3x", True),
                                       Metric("z", None, "", note="not available: no zip")]),
        Section("b", "second", status="not available", reason="code missing"),
        Section("c", "third", status="error", reason="RuntimeError: boom"),
        Section("d", "fourth", metrics=[Metric("slow", 9.0, "s", "", 4.0, "<= 2x", False)]),
    ]
    text = report.table(sections)
    lines = text.splitlines()
    assert lines[0].split() == ["section", "metric", "value", "reference", "ratio", "target", "pass", "note"]
    assert "PASS" in lines[2] and "1.5x" in lines[2]
    assert "not available: no zip" in lines[3] and lines[3].startswith(" ")  # same section, name not repeated
    assert "not available: code missing" in text and "error: RuntimeError: boom" in text
    assert "FAIL" in lines[-1]


def test_run_section_reports_missing_and_broken_sections(monkeypatch):
    missing = types.SimpleNamespace(TITLE="m", unavailable=lambda: "needs X", run=None)
    broken = types.SimpleNamespace(TITLE="b", unavailable=lambda: None,
                                   run=lambda quick: (_ for _ in ()).throw(RuntimeError("boom")))
    fine = types.SimpleNamespace(TITLE="f", unavailable=lambda: None, run=lambda quick: [Metric("n", 1.0, "s")])
    modules = {"coursekit.bench.missing": missing, "coursekit.bench.broken": broken, "coursekit.bench.fine": fine}
    monkeypatch.setattr(bench.importlib, "import_module", modules.__getitem__)
    quiet = lambda *a, **k: None
    s = bench.run_section("missing", True, quiet)
    assert (s.status, s.reason) == ("not available", "needs X")
    s = bench.run_section("broken", True, quiet)
    assert (s.status, s.reason) == ("error", "RuntimeError: boom")
    s = bench.run_section("fine", True, quiet)
    assert s.status == "ok" and s.metrics[0].value == 1.0


def test_child_runs_single_threaded_and_failures_are_named():
    assert measure.run_child("os", "getenv", {"key": "OMP_NUM_THREADS"}, timeout=60, cpu=measure.pick_cpu()) == "1"
    with pytest.raises(measure.ChildFailed, match=r"os.no_such_function failed \(exit 1\): ImportError"):
        measure.run_child("os", "no_such_function", {}, timeout=60)


class _Clock:
    """A stand-in for time.perf_counter: each call of the timed function takes the next
    of `durations` seconds, so the test knows every run's time without measuring any."""

    def __init__(self, durations):
        self.now, self.durations, self.calls = 100.0, list(durations), 0

    def __call__(self):
        return self.now

    def run(self):
        self.now += self.durations[self.calls]
        self.calls += 1


def test_best_of_takes_the_fastest_run(monkeypatch):
    clock = _Clock([0.5, 0.2, 0.9])
    monkeypatch.setattr(measure.time, "perf_counter", clock)
    assert measure.best_of(clock.run, repeat=3) == pytest.approx(0.2)
    assert clock.calls == 3


def test_best_of_repeats_short_calls_to_fill_min_seconds(monkeypatch):
    # Run 1: 4 calls of 3 ms (12 ms >= 10 ms): 3 ms per call. Run 2: one 15 ms call.
    clock = _Clock([0.003] * 4 + [0.015])
    monkeypatch.setattr(measure.time, "perf_counter", clock)
    assert measure.best_of(clock.run, repeat=2, min_seconds=0.01) == pytest.approx(0.003)
    assert clock.calls == 5


@pytest.mark.slow
def test_quick_bench_writes_json(tmp_path, capsys):
    from coursekit.cli import main

    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--only", "sandbox,gpu", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [s["key"] for s in doc["sections"]] == ["sandbox", "gpu"]
    assert doc["machine"]["cpus"] >= 1 and doc["options"]["quick"] is True
    sandbox = doc["sections"][0]
    if sandbox["status"] == "ok":
        names = [m["name"] for m in sandbox["metrics"]]
        modes = [name for name, _ in bench_sandbox._layer_modes()]
        assert names == ["call round trip, no arguments", "call round trip, small arguments",
                         "array echo, 1 MB float64"] + [
            row for mode in modes for row in (f"student process start-up, {mode}",
                                              f"call round trip, small arguments, {mode}")]
        for m in sandbox["metrics"]:
            assert math.isfinite(m["value"]) and m["value"] > 0 and m["ratio"] > 0
    else:
        assert sandbox["status"] == "not available", sandbox["reason"]
    gpu = doc["sections"][1]
    assert gpu["status"] in ("ok", "not available"), gpu["reason"]
    printed = capsys.readouterr().out
    assert "call round trip" in printed or "not available" in printed
    assert f"results in {out}" in printed
