"""Section: one training epoch of a3's MLP ResNet on MNIST, needle against PyTorch.

The same architecture (Linear, ReLU, three residual blocks with batch norm and
dropout, Linear), the same optimizer (Adam, lr 1e-3, weight decay 1e-3), batch size
and data, both on one CPU thread in one process. Each epoch is timed from the first
batch to the last optimizer step, data batching included. Target: needle within 2x.
"""

from __future__ import annotations

import importlib.util
import sys
import time

from coursekit.bench.measure import REPO, pick_cpu, run_child
from coursekit.bench.report import Metric, at_most, fmt_duration

TITLE = "a3 needle training"
A3 = REPO / "source" / "a3_needle"
APP = A3 / "apps" / "mlp_resnet.py"
NEEDLE = A3 / "python" / "needle" / "__init__.py"
HIDDEN, BATCH, LR, WEIGHT_DECAY = 100, 100, 1e-3, 1e-3


def unavailable() -> str | None:
    for path in (NEEDLE, APP):
        if not path.is_file():
            return f"{path.relative_to(REPO)} does not exist yet"
    from coursekit.data.fetch import data_root
    mnist = data_root() / "mnist" / "train-images-idx3-ubyte.gz"
    if not mnist.is_file():
        return f"MNIST is not in {data_root()} (run `make data`)"
    return None


def run(quick: bool = False) -> list:
    raw = run_child("coursekit.bench.needle", "measure", {"quick": quick}, timeout=420, cpu=pick_cpu())
    ratio = raw["needle"] / raw["torch"]
    target, ok = at_most(ratio, 2)
    n = raw["examples"]
    return [
        Metric(f"MLP ResNet epoch, {n:,} images", raw["needle"], "s", f"torch {fmt_duration(raw['torch'])}", ratio,
               target, ok, note=f"train error after the epoch: needle {raw['needle_error']:.1%}, "
                                f"torch {raw['torch_error']:.1%}"),
    ]


def _load_app():
    sys.path.insert(0, str(A3 / "python"))
    spec = importlib.util.spec_from_file_location("coursekit_bench_mlp_resnet", APP)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def _torch_model(torch):
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return x + self.fn(x)

    def block(dim, hidden):
        return nn.Sequential(Residual(nn.Sequential(
            nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(hidden, dim), nn.BatchNorm1d(dim))), nn.ReLU())

    return nn.Sequential(nn.Linear(784, HIDDEN), nn.ReLU(), *[block(HIDDEN, HIDDEN // 2) for _ in range(3)],
                         nn.Linear(HIDDEN, 10))


def _torch_epoch(torch, images, labels, seed: int) -> tuple[float, float]:
    import numpy as np

    torch.manual_seed(seed)
    model = _torch_model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = np.random.default_rng(seed).permutation(len(labels))
    model.train()
    wrong = 0
    start = time.perf_counter()
    for i in range(0, len(order), BATCH):
        idx = order[i:i + BATCH]
        X = torch.from_numpy(images[idx].reshape(len(idx), -1))
        y = torch.from_numpy(labels[idx].astype(np.int64))
        logits = model(X)
        loss = loss_fn(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        wrong += int((logits.argmax(1) != y).sum())
    return time.perf_counter() - start, wrong / len(order)


def measure(quick: bool) -> dict:
    """Run in a fresh process (see run)."""
    import numpy as np
    import torch

    from coursekit.data.fetch import data_root

    torch.set_num_threads(1)
    app = _load_app()
    import needle as ndl

    folder = data_root() / "mnist"
    dataset = ndl.data.MNISTDataset(str(folder / "train-images-idx3-ubyte.gz"),
                                    str(folder / "train-labels-idx1-ubyte.gz"))
    n = 1000 if quick else len(dataset)
    # Both frameworks get the very arrays needle's dataset decoded.
    images, labels = dataset.images[:n], dataset.labels[:n]
    dataset.images, dataset.labels = images, labels

    np.random.seed(0)
    model = app.MLPResNet(784, HIDDEN)
    opt = ndl.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loader = ndl.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    needle_error, _ = app.epoch(loader, model, opt)
    needle_seconds = time.perf_counter() - start

    torch_seconds, torch_error = _torch_epoch(torch, images, labels, seed=0)
    return {"examples": n, "needle": needle_seconds, "torch": torch_seconds,
            "needle_error": needle_error, "torch_error": torch_error}
