"""Helpers of the PyTorch.ipynb graders. Trusted code: runs in the grader process.

Expected values come from torch in this process, written out independently of the
student's code, on the same inputs and weights the student's code receives.

Accuracy of a trained model. The submitted checkpoint is read here, as bytes of the
upload, with torch.load(weights_only=True) after its sizes are checked
(coursekit.grading.safe_load). Parts II-IV fix the architecture, so this process
rebuilds those models with its own torch code from the weights alone and measures their
accuracy on held-out CIFAR-10 test images; no student code runs, so a forward pass that
looks up the public test labels earns nothing. The challenge model's architecture is the
student's: it is built by the student's code in the student process, which gets the
held-out images and secretly perturbed copies of half of them, shuffled together
(coursekit.grading.heldout); the labels never leave this process, and a model far
better on the plain images than on their perturbed copies scores zero and is flagged
for the staff. Under `coursekit grade --retrain` the student's training function runs
instead, from scratch, with the stated epoch budget and seed, on the training images
this process sends; the trained weights (Parts II-IV) come back as arrays and are
evaluated here in the same way.

Grader parameters (see docs/retrain.md):

- `TRAINING[...]`: checkpoint file, training function, epoch budget, seed and the
  validation-accuracy target of every training run. Full marks from the target less
  `VAL_TEST_SLACK` on the held-out images, none from `ZERO_BELOW` under the target,
  linear in between.
- `HELDOUT`: how many test images the accuracy is measured on.
- The environment variable `COURSEKIT_PYTORCH_GRADING` may hold a JSON object that
  overrides them for a run: {"targets": {"challenge": 0.5}, "heldout": 2000,
  "retrain_max_steps": {"challenge": 40}}. The kit's CI uses it where CPU training within
  CI's time cannot reach a target; Gradescope never sets it.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from coursekit.data.loaders import load_cifar10_batch
from coursekit.grading.checks import accuracy, as_numeric_array
from coursekit.grading.heldout import (Measurement, Perturbation, checked_scores, measure, perturb,
                                      refuse_lookup, secret_rng)
from coursekit.grading.safe_load import load_torch
from coursekit.sandbox.errors import SandboxFailure, StudentError

NOTEBOOK = "PyTorch.ipynb"
BASE_CELLS = ("imports", "device", "data_pipeline")

# The constants of the notebook's normalize_images (the official training set's
# per-channel statistics).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

HELDOUT = 5000        # test images each trained model is scored on
# Small batches keep the grader and the student process inside Gradescope's default
# 768 MB together (activations of a wide ConvNet grow with the batch).
EVAL_BATCH = 100
VAL_TEST_SLACK = 0.01  # validation targets measured on 1,000 images; test accuracy sits ~1 point lower
ZERO_BELOW = 0.10      # no points at target - 0.10 or less
SETTINGS_ENV = "COURSEKIT_PYTORCH_GRADING"


@dataclass(frozen=True)
class Training:
    key: str
    checkpoint: str       # path inside the submission
    run: str              # the notebook function that trains it
    cells: tuple          # grade_ids it needs
    epochs: int
    target: float         # validation accuracy the notebook asks for
    what: str             # for messages
    seed: int = 0


_PART2 = ("flatten", "init_weights", "check_accuracy_part2", "train_part2")
_PART3 = ("flatten", "check_accuracy_part34", "train_part34")
TRAINING = {t.key: t for t in [
    Training("barebones_fc", "checkpoints/pytorch_barebones_fc.pt", "run_part2_fc",
             _PART2 + ("two_layer_fc", "run_part2_fc"), 1, 0.40, "the Part II two-layer network"),
    Training("barebones_convnet", "checkpoints/pytorch_barebones_convnet.pt", "run_part2_convnet",
             _PART2 + ("three_layer_convnet", "run_part2_convnet"), 1, 0.42, "the Part II ConvNet"),
    Training("module_fc", "checkpoints/pytorch_module_fc.pt", "run_part3_fc",
             _PART3 + ("TwoLayerFC", "run_part3_fc"), 1, 0.40, "TwoLayerFC (Part III)"),
    Training("module_convnet", "checkpoints/pytorch_module_convnet.pt", "run_part3_convnet",
             _PART3 + ("ThreeLayerConvNet", "run_part3_convnet"), 1, 0.45, "ThreeLayerConvNet (Part III)"),
    Training("sequential_convnet", "checkpoints/pytorch_sequential_convnet.pt", "run_part4_convnet",
             _PART3 + ("Flatten", "sequential_models", "run_part4_convnet"), 1, 0.55,
             "the Sequential ConvNet (Part IV)"),
    Training("challenge", "checkpoints/pytorch_challenge.pt", "run_challenge",
             _PART3 + ("Flatten", "challenge_model", "run_challenge"), 10, 0.70, "your challenge model"),
]}


# ---------------------------------------------------------------------------- settings


def settings() -> dict:
    """The JSON overrides of SETTINGS_ENV ({} when unset)."""
    text = os.environ.get(SETTINGS_ENV, "").strip()
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict) or set(value) - {"targets", "heldout", "retrain_max_steps"}:
        raise ValueError(f"{SETTINGS_ENV} must be a JSON object with keys targets, heldout, retrain_max_steps")
    return value


def target_of(training: Training) -> float:
    return float(settings().get("targets", {}).get(training.key, training.target))


def heldout_size() -> int:
    return int(settings().get("heldout", HELDOUT))


def retrain_max_steps(training: Training):
    value = settings().get("retrain_max_steps", {}).get(training.key)
    return None if value is None else int(value)


def score_fraction(acc: float, target: float) -> float:
    """Fraction of the points for held-out accuracy `acc` against a validation target."""
    full, zero = target - VAL_TEST_SLACK, target - ZERO_BELOW
    return min(1.0, max(0.0, (acc - zero) / (full - zero)))


# ---------------------------------------------------------------------------- the child


def notebook(student, *cells):
    """The notebook module with the given cells (and the shared set-up cells) present."""
    return student.notebook(NOTEBOOK, require=[*BASE_CELLS, *dict.fromkeys(cells)])


def tensor(student, array, requires_grad=False, dtype="float32"):
    """A tensor in the student process on the grading device (a handle)."""
    return student.tensor(np.ascontiguousarray(array), requires_grad=requires_grad, dtype=dtype,
                          device=student.device)


def use_device(student, nb) -> None:
    """Point the notebook's `device` global at the device the graders use."""
    nb.device = student.module("torch").device(student.device)


@contextmanager
def no_grad(student):
    """Student calls inside run with autograd switched off in the student process."""
    torch_in_child = student.module("torch")
    torch_in_child.set_grad_enabled(False)
    try:
        yield
    finally:
        try:
            torch_in_child.set_grad_enabled(True)
        except SandboxFailure:
            pass  # the process died or timed out: the next test gets a fresh one


class TensorInfo:
    """A tensor the student's code returned, read back with its autograd flags."""

    def __init__(self, value, requires_grad, is_leaf, dtype, device):
        self.value, self.requires_grad, self.is_leaf = value, requires_grad, is_leaf
        self.dtype, self.device = dtype, device


def call_for_tensor(student, name, fn, *args) -> TensorInfo:
    """Call fn(*args) in the student process and describe the tensor it returns.

    Values returned by calls arrive as numpy arrays, which lose requires_grad and the
    like; so the result is kept in the student process (in a deque) and its attributes
    are read one by one.
    """
    builtins = student.module("builtins")
    operator = student.module("operator")
    kept = student.module("collections").deque(builtins.map(fn, *[[a] for a in args]))
    torch_in_child = student.module("torch")
    if not builtins.all(builtins.map(torch_in_child.is_tensor, kept)):
        raise AssertionError(f"{name} should return a torch tensor")

    def attr(a, convert=None):
        values = builtins.map(operator.attrgetter(a), kept)
        if convert is not None:
            values = builtins.map(convert, values)
        return builtins.list(values)[0]

    value = builtins.list(builtins.map(operator.methodcaller("detach"), kept))[0]
    return TensorInfo(value, attr("requires_grad"), attr("is_leaf"), attr("dtype", builtins.str),
                      attr("device", builtins.str))


# ---------------------------------------------------------------------------- comparisons


def check_close(name, actual, expected, tol=1e-5) -> None:
    """`actual` has `expected`'s shape, is finite, and max |actual - expected| is below
    `tol` times the largest |expected| (float32 results carry rounding of that size)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = as_numeric_array(name, actual)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {actual.shape}")
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{name}: contains NaN or infinite values")
    scale = max(1e-8, float(np.abs(expected).max(initial=0.0)))
    err = float(np.abs(actual.astype(np.float64) - expected).max(initial=0.0)) / scale
    if not err < tol:
        raise AssertionError(f"{name}: differs from the correct result by {err:.1e} of its scale "
                             f"(expected below {tol:.0e})")


def match_by_shape(name, state: dict, wanted: dict) -> dict:
    """{student's parameter name: wanted key}, pairing the parameters by their shapes.

    `state` is the student's state dict (names -> arrays), `wanted` maps our keys to
    shapes, all different. The parameters must be exactly those.
    """
    if type(state) is not dict:
        raise AssertionError(f"{name}.state_dict() should be a dict of tensors")
    shapes = {k: tuple(np.shape(v)) for k, v in state.items()}
    by_shape = {tuple(s): key for key, s in wanted.items()}
    if sorted(shapes.values()) != sorted(by_shape):
        raise AssertionError(f"{name} should have exactly the parameters of shapes "
                             f"{sorted(by_shape)}, has {sorted(shapes.values())}")
    return {k: by_shape[s] for k, s in shapes.items()}


def load_weights(student, name, model, wanted: dict, values: dict) -> None:
    """Set the student's module `model` to our `values` (keyed like `wanted`)."""
    mapping = match_by_shape(name, model.state_dict(), wanted)
    model.load_state_dict({k: tensor(student, values[ours]) for k, ours in mapping.items()})


def kaiming_std(fan_in: int) -> float:
    return float(np.sqrt(2.0 / fan_in))


def check_kaiming(name, w, fan_in, rel_tol) -> None:
    """`w` looks like independent draws from N(0, 2 / fan_in)."""
    w = np.asarray(w, dtype=np.float64).ravel()
    std, want = float(w.std()), kaiming_std(fan_in)
    if not abs(std / want - 1) < rel_tol:
        raise AssertionError(f"{name}: standard deviation {std:.4g}, but Kaiming normal initialization "
                             f"with fan_in = {fan_in} gives {want:.4g}")
    if not abs(float(w.mean())) < 5 * want / np.sqrt(w.size):
        raise AssertionError(f"{name}: mean {float(w.mean()):.3g} is too far from 0")
    # A normal distribution puts 68.3% of its mass within one standard deviation,
    # a uniform one 57.7%.
    inside = float(np.mean(np.abs(w) < want))
    if not 0.64 < inside < 0.725:
        raise AssertionError(f"{name}: {100 * inside:.1f}% of the entries lie within one standard "
                             "deviation of 0; a normal distribution has 68.3% there")


# ---------------------------------------------------------------------------- references


def ref_two_layer_fc(x, w1, w2):
    x, w1, w2 = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (x, w1, w2))
    return (F.relu(x.reshape(x.shape[0], -1) @ w1) @ w2).numpy()


def ref_three_layer_convnet(x, conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b):
    t = [torch.as_tensor(np.asarray(a, dtype=np.float64))
         for a in (x, conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b)]
    a1 = F.relu(F.conv2d(t[0], t[1], t[2], padding=2))
    a2 = F.relu(F.conv2d(a1, t[3], t[4], padding=1))
    return (a2.reshape(a2.shape[0], -1) @ t[5] + t[6]).numpy()


# ---------------------------------------------------------------------------- data


def normalize(images) -> np.ndarray:
    """uint8 (N, 32, 32, 3) -> float32 (N, 3, 32, 32), as the notebook's normalize_images."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / np.float32(255.0)
    mean = np.asarray(CIFAR10_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(CIFAR10_STD, dtype=np.float32).reshape(1, 3, 1, 1)
    return np.ascontiguousarray((x - mean) / std)


def _test_batch(data_dir) -> Path:
    for candidate in (Path(data_dir) / "cifar-10-batches-py" / "test_batch", Path(data_dir) / "test_batch"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the autograder's data folder {data_dir} has no CIFAR-10 test_batch")


def heldout(data_dir):
    """The first heldout_size() test images (uint8, N x 32 x 32 x 3) and their labels;
    normalize() them a batch at a time (a whole normalized copy is 123 MB)."""
    images, labels = load_cifar10_batch(_test_batch(data_dir))
    n = heldout_size()
    return images[:n], np.asarray(labels[:n], dtype=np.int64)


def training_data_folder(data_dir) -> Path:
    """Where the CIFAR-10 training batches are for a retrain run."""
    candidates = [Path(data_dir) / "cifar-10-batches-py"]
    if os.environ.get("COURSEKIT_DATA"):
        candidates.append(Path(os.environ["COURSEKIT_DATA"]) / "cifar-10-batches-py")
    for folder in candidates:
        if all((folder / f"data_batch_{i}").is_file() for i in range(1, 6)):
            return folder
    raise RuntimeError("a retrain run needs the CIFAR-10 training batches (data_batch_1..5): "
                       "set COURSEKIT_DATA to a folder holding cifar-10-batches-py/ "
                       "(see docs/retrain.md)")


def training_data(data_dir) -> dict:
    """The notebook's 49,000 / 1,000 training / validation split, as uint8 arrays."""
    folder = training_data_folder(data_dir)
    parts = [load_cifar10_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    return {"X_train": X[:49000], "y_train": y[:49000], "X_val": X[49000:], "y_val": y[49000:]}


# ---------------------------------------------------------------------------- trained models
#
# Parts II-IV fix the architecture, so this process evaluates their weights with its own
# torch code: a forward pass the student wrote cannot look the public test labels up.
# The challenge model's architecture is the student's, so its forward pass runs in the
# student process and is measured on plain and secretly perturbed images
# (coursekit.grading.heldout).

MAX_CHECKPOINT_BYTES = 64 << 20   # a submitted .pt file, and its contents once decompressed
MAX_HIDDEN = 4096                 # hidden units of a Part II / III two-layer network
MAX_CHANNELS = 128                # filters per convolution of a Part II-IV ConvNet

# The challenge's perturbation: the kinds of change the notebook's own augmentation
# makes (flips, shifts with the mean colour moving in), a little rotation and zoom, and
# small colour changes it does not make.
CHALLENGE_PERTURBATION = Perturbation(max_shift=2.5, max_rotation=5.0, max_scale=0.05, flip=True,
                                      contrast=0.15, brightness=0.05, noise=0.01)
CHALLENGE_MARGIN = 0.15   # the reference drops 4-6 points (calibration in coursekit/grading/heldout.py)


def _as_arrays(rel, state: dict) -> dict:
    """A state dict's values as numpy arrays (float32 for floating point), all finite."""
    out = {}
    for name, value in state.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.is_floating_point() and value.dtype not in (torch.float32, torch.float64):
                value = value.float()
            value = value.numpy()
        if type(value) is not np.ndarray:
            raise AssertionError(f"{rel}: the state_dict should map names to tensors; {name} is not one")
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise AssertionError(f"{rel}: {name} holds NaN or infinite values")
        out[name] = value
    return out


def read_checkpoint(student, training: Training):
    """(config, state_dict as numpy arrays) of a submitted checkpoint, read here from the
    bytes of the upload with torch.load(weights_only=True) after its sizes are checked."""
    rel = training.checkpoint
    data = student.submitted_bytes(rel, MAX_CHECKPOINT_BYTES)
    if data is None:
        raise AssertionError(f"{rel} is missing from your submission: run the training cell of "
                             f"{training.what} in {NOTEBOOK}, which saves it, and include it in the zip")
    saved = load_torch(data, rel, MAX_CHECKPOINT_BYTES)
    if type(saved) is not dict or set(saved) != {"config", "state_dict"}:
        raise AssertionError(f"{rel} should hold {{'config': ..., 'state_dict': ...}} as written by "
                             "save_checkpoint")
    config, state = saved["config"], saved["state_dict"]
    if type(config) is not dict or not all(
            type(k) is str and type(v) in (int, float, str, bool) for k, v in config.items()):
        raise AssertionError(f"{rel}: the config should be a dict of plain numbers or strings")
    if type(state) not in (dict, OrderedDict) or not state or not all(
            type(k) is str and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise AssertionError(f"{rel}: the state_dict should map names to tensors")
    return config, _as_arrays(rel, state)


def _require_keys(rel, state, names):
    if set(state) != set(names):
        raise AssertionError(f"{rel}: the state_dict should hold exactly {sorted(names)}, "
                             f"holds {sorted(state)}")


def _bounded(rel, what, value, limit):
    if not 0 < value <= limit:
        raise AssertionError(f"{rel}: {what} is {value}; the grader evaluates models with 1 to "
                             f"{limit} (the notebook uses far fewer)")


def _assign(rel, state: dict, slots) -> dict:
    """{role: array}, taking for each (role, shape, partner) of `slots` a parameter of
    that shape. A bias goes with the weight of the same layer (same name up to the last
    dot) where the shapes leave a choice, otherwise with the first one in the state
    dict's order. Every parameter must be used."""
    left = dict(state)
    names = {}
    for role, shape, partner in slots:
        fits = [k for k, v in left.items() if tuple(v.shape) == tuple(shape)]
        if not fits:
            raise AssertionError(f"{rel}: no parameter of shape {tuple(shape)} ({role}); the "
                                 f"state_dict holds {[(k, tuple(v.shape)) for k, v in state.items()]}")
        prefix = names[partner].rpartition(".")[0] if partner else None
        same_layer = [k for k in fits if prefix is not None and k.rpartition(".")[0] == prefix]
        names[role] = (same_layer or fits)[0]
        del left[names[role]]
    if left:
        raise AssertionError(f"{rel}: unexpected parameters {sorted(left)}: the model has exactly "
                             f"{len(slots)}")
    return {role: torch.from_numpy(np.ascontiguousarray(state[k], dtype=np.float32))
            for role, k in names.items()}


def _conv_shapes(rel, state: dict):
    """(channel_1, channel_2) of a ThreeLayerConvNet-shaped state dict."""
    first = [v.shape[0] for v in state.values() if v.ndim == 4 and tuple(v.shape[1:]) == (3, 5, 5)]
    if len(first) != 1:
        raise AssertionError(f"{rel}: expected one 5x5 convolution of the 3 colour channels, found "
                             f"{len(first)}")
    c1 = int(first[0])
    second = [v.shape[0] for v in state.values() if v.ndim == 4 and tuple(v.shape[1:]) == (c1, 3, 3)]
    if len(second) != 1:
        raise AssertionError(f"{rel}: expected one 3x3 convolution of the first one's {c1} channels")
    c2 = int(second[0])
    _bounded(rel, "channel_1", c1, MAX_CHANNELS)
    _bounded(rel, "channel_2", c2, MAX_CHANNELS)
    return c1, c2


def fixed_model(training: Training, state: dict):
    """scores(x) of a Part II-IV model with the given weights (names -> arrays), computed
    in this process with torch; x float32 (N, 3, 32, 32) -> (N, 10) float64."""
    rel, key = training.checkpoint, training.key
    if key == "barebones_fc":
        _require_keys(rel, state, ["w1", "w2"])
        w1, w2 = state["w1"], state["w2"]
        if w1.ndim != 2 or w2.ndim != 2 or w1.shape[0] != 3072 or w1.shape[1] != w2.shape[0] \
                or w2.shape[1] != 10:
            raise AssertionError(f"{rel}: w1 should have shape (3072, H) and w2 (H, 10); "
                                 f"got {w1.shape} and {w2.shape}")
        _bounded(rel, "the hidden size H", w1.shape[1], MAX_HIDDEN)
        p = _assign(rel, state, [("w1", w1.shape, None), ("w2", w2.shape, None)])
        return lambda x: F.relu(x.reshape(len(x), -1) @ p["w1"]) @ p["w2"]
    if key == "barebones_convnet":
        names = ["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"]
        _require_keys(rel, state, names)
        c1, c2 = _conv_shapes(rel, state)
        want = [(c1, 3, 5, 5), (c1,), (c2, c1, 3, 3), (c2,), (c2 * 32 * 32, 10), (10,)]
        if [tuple(state[n].shape) for n in names] != want:
            raise AssertionError(f"{rel}: the parameters should have shapes {want}; got "
                                 f"{[tuple(state[n].shape) for n in names]}")
        p = {n: torch.from_numpy(np.ascontiguousarray(state[n], dtype=np.float32)) for n in names}

        def barebones_convnet(x):
            a = F.relu(F.conv2d(x, p["conv_w1"], p["conv_b1"], padding=2))
            a = F.relu(F.conv2d(a, p["conv_w2"], p["conv_b2"], padding=1))
            return a.reshape(len(a), -1) @ p["fc_w"] + p["fc_b"]
        return barebones_convnet
    if key == "module_fc":
        hidden = [v.shape[0] for v in state.values() if v.ndim == 2 and v.shape[1] == 3072]
        if len(hidden) != 1:
            raise AssertionError(f"{rel}: expected one fully connected layer of the 3072 inputs, "
                                 f"found {len(hidden)}")
        h = int(hidden[0])
        _bounded(rel, "hidden_size", h, MAX_HIDDEN)
        p = _assign(rel, state, [("w1", (h, 3072), None), ("b1", (h,), "w1"),
                                 ("w2", (10, h), None), ("b2", (10,), "w2")])
        return lambda x: F.linear(F.relu(F.linear(x.reshape(len(x), -1), p["w1"], p["b1"])),
                                  p["w2"], p["b2"])
    if key in ("module_convnet", "sequential_convnet"):
        c1, c2 = _conv_shapes(rel, state)
        p = _assign(rel, state, [("w1", (c1, 3, 5, 5), None), ("b1", (c1,), "w1"),
                                 ("w2", (c2, c1, 3, 3), None), ("b2", (c2,), "w2"),
                                 ("fc_w", (10, c2 * 32 * 32), None), ("fc_b", (10,), "fc_w")])

        def module_convnet(x):
            a = F.relu(F.conv2d(x, p["w1"], p["b1"], padding=2))
            a = F.relu(F.conv2d(a, p["w2"], p["b2"], padding=1))
            return F.linear(a.reshape(len(a), -1), p["fc_w"], p["fc_b"])
        return module_convnet
    raise KeyError(key)


def fixed_model_accuracy(predict, data_dir) -> float:
    """Accuracy of a model evaluated in this process on the held-out images."""
    images, labels = heldout(data_dir)
    scores = []
    with torch.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            x = normalize(images[start:start + EVAL_BATCH])
            scores.append(predict(torch.from_numpy(x)).double().numpy())
    scores = np.concatenate(scores)
    if not np.all(np.isfinite(scores)):
        raise AssertionError("the model's weights give NaN or infinite scores on the held-out images")
    return accuracy(scores, labels, name="scores")


def retrained(student, nb, training: Training, data_dir) -> dict:
    """Re-run the student's training function from scratch; the trained weights
    (names -> arrays) of a Part II-IV model, or the model itself (a handle) for the challenge."""
    data = training_data(data_dir)
    use_device(student, nb)
    student.seed(training.seed)
    result = getattr(nb, training.run)(data, epochs=training.epochs,
                                       max_steps=retrain_max_steps(training), progress=False)
    if type(result) is not tuple or len(result) != 2:
        raise AssertionError(f"{training.run} should return a pair (model, history)")
    model = result[0]
    if training.key.startswith("barebones"):
        names = ["w1", "w2"] if training.key == "barebones_fc" else \
            ["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"]
        if type(model) is not list or len(model) != len(names) or \
                not all(type(p) is np.ndarray for p in model):
            raise AssertionError(f"{training.run} should return the list of trained parameters first")
        return _as_arrays(training.run, dict(zip(names, model)))
    if training.key == "challenge":
        return module_predictor(student, model)
    try:
        state = model.state_dict()
    except (StudentError, AttributeError):
        state = None
    if type(state) is not dict:
        raise AssertionError(f"{training.run} should return the trained nn.Module first")
    return _as_arrays(training.run, state)


def module_predictor(student, model):
    model.to(student.module("torch").device(student.device))
    model.eval()
    return model


def challenge_from_checkpoint(student, nb, training: Training):
    """The student's challenge model, built by the student's code from the saved config,
    with the submitted weights (read here) loaded into it."""
    rel = training.checkpoint
    config, state = read_checkpoint(student, training)
    builder = "build_challenge_model"
    try:
        model = getattr(nb, builder)(**config)
    except StudentError as exc:
        raise AssertionError(f"{builder}(**config) with the config saved in {rel} ({config}) "
                             f"failed:\n{exc}") from None
    try:
        model.load_state_dict({k: student.tensor(v) for k, v in state.items()})
    except StudentError as exc:
        raise AssertionError(f"{rel} does not fit {builder}(**{config}):\n{exc.message}") from None
    return module_predictor(student, model)


def challenge_measurement(student, model, data_dir, rng=None) -> Measurement:
    """Accuracy of the student's model (run in the student process) on the held-out
    images and on secretly perturbed copies of half of them."""
    images, labels = heldout(data_dir)
    n = len(labels)
    rng = rng if rng is not None else secret_rng()
    subset = np.sort(rng.choice(n, n // 2, replace=False))

    # Inputs are made one batch at a time: the grader must fit Gradescope's default memory.
    def plain(idx):
        return normalize(images[idx])

    def perturbed(j):
        pixels = images[subset[j]].astype(np.float32).transpose(0, 3, 1, 2) / np.float32(255.0)
        moved = perturb(pixels, CHALLENGE_PERTURBATION, rng, fill=CIFAR10_MEAN)
        return normalize(np.round(moved.transpose(0, 2, 3, 1) * 255.0))

    def scores_of(x):
        return checked_scores(model(tensor(student, x)), len(x))

    with no_grad(student):
        return measure(scores_of, plain, perturbed, subset, labels, rng, EVAL_BATCH)


def grade_training(student, data_dir, retrain: bool, key: str, points: float, set_score) -> float:
    """Score one training run (its checkpoint, or a retraining) and return the held-out
    accuracy; require_full_marks then fails the test below the full-marks line."""
    training = TRAINING[key]
    if key == "challenge":
        nb = notebook(student, *training.cells)
        if retrain:
            model = retrained(student, nb, training, data_dir)
        else:
            use_device(student, nb)
            model = challenge_from_checkpoint(student, nb, training)
        m = challenge_measurement(student, model, data_dir)
        refuse_lookup(m, CHALLENGE_MARGIN, training.what, points, set_score)
        acc = m.plain
    else:
        if retrain:
            nb = notebook(student, *training.cells)
            state = retrained(student, nb, training, data_dir)
        else:
            _, state = read_checkpoint(student, training)
        acc = fixed_model_accuracy(fixed_model(training, state), data_dir)
    set_score(round(points * score_fraction(acc, target_of(training)), 2))
    return acc


def require_full_marks(key: str, acc: float, points: float) -> None:
    training = TRAINING[key]
    target = target_of(training)
    full, zero = target - VAL_TEST_SLACK, target - ZERO_BELOW
    assert acc >= full, (
        f"{training.what}: {100 * acc:.2f}% accuracy on {heldout_size()} held-out test images, "
        f"below the {100 * full:.0f}% needed for full marks (the notebook's target is "
        f"{100 * target:.0f}% validation accuracy; no points at {100 * zero:.0f}% or below): "
        f"{round(points * score_fraction(acc, target), 2)} of {points} points")


def ensure(condition, message: str) -> None:
    """assert, with exactly `message` for the student (no expression introspection)."""
    if not condition:
        raise AssertionError(message)
