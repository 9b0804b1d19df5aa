"""Section: a2's fast convolution and max-pool layers against PyTorch and the naive loops.

All three run on the same float64 inputs in one single-threaded process: the fast
numpy layers should be within 3x of torch.nn.functional on CPU, and more than 100x
faster than the loop versions students write first.
"""

from __future__ import annotations

import sys
import time

from coursekit.bench.measure import REPO, best_of, pick_cpu, run_child
from coursekit.bench.report import Metric, at_least, at_most, fmt_duration

TITLE = "a2 fast layers"
A2 = REPO / "source" / "a2_neural_nets"
FAST = A2 / "scratch" / "fast_layers.py"
NAIVE = A2 / "scratch" / "layers.py"

# (N, C, H, W) input, (F, C, HH, WW) filters, stride, pad: a first conv layer on CIFAR-10 images.
CONV = {"full": ((16, 3, 32, 32), (16, 3, 5, 5), 1, 2), "quick": ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1)}
# (N, C, H, W) input of a 2x2, stride-2 pool.
POOL = {"full": (16, 16, 32, 32), "quick": (2, 4, 8, 8)}


def unavailable() -> str | None:
    for path in (FAST, NAIVE):
        if not path.is_file():
            return f"{path.relative_to(REPO)} does not exist yet"
    return None


def run(quick: bool = False) -> list:
    raw = run_child("coursekit.bench.layers", "measure", {"quick": quick}, timeout=300, cpu=pick_cpu())
    metrics = []
    for op, t in raw.items():
        target, ok = at_most(t["fast"] / t["torch"], 3)
        metrics.append(Metric(f"{op}: fast vs torch", t["fast"] * 1e3, "ms", f"torch {fmt_duration(t['torch'])}",
                              t["fast"] / t["torch"], target, ok, note=f"max rel. error {t['error']:.1e}"))
        target, ok = at_least(t["naive"] / t["fast"], 100)
        metrics.append(Metric(f"{op}: speed-up over naive", t["fast"] * 1e3, "ms", f"naive {fmt_duration(t['naive'])}",
                              t["naive"] / t["fast"], target, ok, note="ratio: naive time / fast time"))
    return metrics


def _rel_error(a, b) -> float:
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _once(fn, *args):
    """fn(*args) and its time; calls under half a second are repeated (best of 3)."""
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    if seconds < 0.5:
        seconds = min(seconds, best_of(lambda: fn(*args), 2))
    return result, seconds


def measure(quick: bool) -> dict:
    """Run in a fresh process (see run): seconds per call of each variant, and errors."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    sys.path.insert(0, str(A2))
    from scratch import fast_layers, layers

    size = "quick" if quick else "full"
    repeat = 2 if quick else 5
    rng = np.random.default_rng(0)
    out = {}

    x_shape, w_shape, stride, pad = CONV[size]
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    y_fast, cache_fast = fast_layers.conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(y_fast.shape)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    dout_t = torch.tensor(dout)
    grads_t = torch.autograd.grad(yt, (xt, wt, bt), dout_t, retain_graph=True)
    grads_fast = fast_layers.conv_backward_fast(dout, cache_fast)
    # The loops take seconds: one run each is enough (see _once).
    (_, cache_naive), naive_fwd = _once(layers.conv_forward_naive, x, w, b, conv_param)
    _, naive_bwd = _once(layers.conv_backward_naive, dout, cache_naive)
    with torch.no_grad():
        out["conv forward"] = {
            "fast": best_of(lambda: fast_layers.conv_forward_fast(x, w, b, conv_param), repeat),
            "torch": best_of(lambda: F.conv2d(xt, wt, bt, stride=stride, padding=pad), repeat),
            "naive": naive_fwd, "error": _rel_error(y_fast, yt.detach().numpy())}
    out["conv backward"] = {
        "fast": best_of(lambda: fast_layers.conv_backward_fast(dout, cache_fast), repeat),
        "torch": best_of(lambda: torch.autograd.grad(yt, (xt, wt, bt), dout_t, retain_graph=True), repeat),
        "naive": naive_bwd,
        "error": max(_rel_error(g, gt.numpy()) for g, gt in zip(grads_fast, grads_t))}

    x = rng.standard_normal(POOL[size])
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    y_fast, cache_fast = fast_layers.max_pool_forward_fast(x, pool_param)
    dout = rng.standard_normal(y_fast.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.max_pool2d(xt, 2, 2)
    dout_t = torch.tensor(dout)
    (dx_t,) = torch.autograd.grad(yt, (xt,), dout_t, retain_graph=True)
    dx_fast = fast_layers.max_pool_backward_fast(dout, cache_fast)
    (_, cache_naive), naive_fwd = _once(layers.max_pool_forward_naive, x, pool_param)
    _, naive_bwd = _once(layers.max_pool_backward_naive, dout, cache_naive)
    with torch.no_grad():
        out["max-pool forward"] = {
            "fast": best_of(lambda: fast_layers.max_pool_forward_fast(x, pool_param), repeat),
            "torch": best_of(lambda: F.max_pool2d(xt, 2, 2), repeat),
            "naive": naive_fwd, "error": _rel_error(y_fast, yt.detach().numpy())}
    out["max-pool backward"] = {
        "fast": best_of(lambda: fast_layers.max_pool_backward_fast(dout, cache_fast), repeat),
        "torch": best_of(lambda: torch.autograd.grad(yt, (xt,), dout_t, retain_graph=True), repeat),
        "naive": naive_bwd, "error": _rel_error(dx_fast, dx_t.numpy())}
    return out
