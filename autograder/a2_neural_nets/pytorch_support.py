"""Helpers of the PyTorch.ipynb graders. Trusted code: runs in the grader process.

Expected values come from torch in this process, written out independently of the
student's code, on the same inputs and weights the student's code receives.

Accuracy of a trained model: the student's code rebuilds the model in the student
process and loads the submitted checkpoint there (torch.load with weights_only=True);
this process sends normalized held-out CIFAR-10 test images, gets scores back and
computes the accuracy with labels that never leave it. Under `coursekit grade
--retrain` the student's training function runs instead, from scratch, with the
stated epoch budget and seed, on the training images this process sends.

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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from coursekit.data.loaders import load_cifar10_batch
from coursekit.grading.checks import accuracy, as_numeric_array
from coursekit.sandbox.errors import SandboxFailure, StudentError

NOTEBOOK = "PyTorch.ipynb"
BASE_CELLS = ("imports", "device", "data_pipeline")

# The constants of the notebook's normalize_images (the official training set's
# per-channel statistics).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

HELDOUT = 5000        # test images each trained model is scored on
EVAL_BATCH = 500
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
    """The first heldout_size() test images, normalized, and their labels."""
    images, labels = load_cifar10_batch(_test_batch(data_dir))
    n = heldout_size()
    return normalize(images[:n]), np.asarray(labels[:n], dtype=np.int64)


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


def read_checkpoint(student, training: Training):
    """(config, state_dict) of a submitted checkpoint, read in the student process."""
    rel = training.checkpoint
    if not student.path(rel).is_file():
        raise AssertionError(f"{rel} is missing from your submission: run the training cell of "
                             f"{training.what} in {NOTEBOOK}, which saves it, and include it in the zip")
    try:
        saved = student.module("torch").load(rel, map_location="cpu", weights_only=True)
    except StudentError as exc:
        raise AssertionError(f"{rel} cannot be read with torch.load(..., weights_only=True): save it "
                             f"with save_checkpoint ({exc.type_name}: {exc.message})") from None
    if type(saved) is not dict or set(saved) != {"config", "state_dict"}:
        raise AssertionError(f"{rel} should hold {{'config': ..., 'state_dict': ...}} as written by "
                             "save_checkpoint")
    config, state = saved["config"], saved["state_dict"]
    if type(config) is not dict or not all(
            type(k) is str and type(v) in (int, float, str, bool) for k, v in config.items()):
        raise AssertionError(f"{rel}: the config should be a dict of plain numbers or strings")
    if type(state) is not dict or not state or not all(
            type(k) is str and type(v) is np.ndarray for k, v in state.items()):
        raise AssertionError(f"{rel}: the state_dict should map names to tensors")
    bad = [k for k, v in state.items() if v.dtype.kind == "f" and not np.all(np.isfinite(v))]
    if bad:
        raise AssertionError(f"{rel}: {', '.join(bad[:5])} hold NaN or infinite values")
    return config, state


def _require_keys(rel, state, names):
    if set(state) != set(names):
        raise AssertionError(f"{rel}: the state_dict should hold exactly {sorted(names)}, "
                             f"holds {sorted(state)}")


def barebones_predictor(student, nb, training: Training, params):
    """scores(x) of a Part II model with the given parameters (numpy arrays)."""
    handles = [tensor(student, p) for p in params]
    fn = nb.two_layer_fc if training.key == "barebones_fc" else nb.three_layer_convnet
    return lambda x: fn(x, handles)


def predictor_from_checkpoint(student, nb, training: Training):
    """scores(x) of the submitted model, built by the student's code."""
    rel = training.checkpoint
    config, state = read_checkpoint(student, training)
    if training.key == "barebones_fc":
        _require_keys(rel, state, ["w1", "w2"])
        w1, w2 = state["w1"], state["w2"]
        if w1.ndim != 2 or w2.ndim != 2 or w1.shape[0] != 3072 or w1.shape[1] != w2.shape[0] \
                or w2.shape[1] != 10:
            raise AssertionError(f"{rel}: w1 should have shape (3072, H) and w2 (H, 10); "
                                 f"got {w1.shape} and {w2.shape}")
        return barebones_predictor(student, nb, training, [w1, w2])
    if training.key == "barebones_convnet":
        names = ["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"]
        _require_keys(rel, state, names)
        p = [state[n] for n in names]
        c1, c2 = p[0].shape[0], p[2].shape[0]
        want = [(c1, 3, 5, 5), (c1,), (c2, c1, 3, 3), (c2,), (c2 * 32 * 32, 10), (10,)]
        if [v.shape for v in p] != want:
            raise AssertionError(f"{rel}: the parameters should have shapes {want}; got "
                                 f"{[v.shape for v in p]}")
        return barebones_predictor(student, nb, training, p)

    builder = {"module_fc": "TwoLayerFC", "module_convnet": "ThreeLayerConvNet",
               "sequential_convnet": "build_sequential_convnet",
               "challenge": "build_challenge_model"}[training.key]
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


def module_predictor(student, model):
    model.to(student.module("torch").device(student.device))
    model.eval()
    return model


def predictor_from_training(student, nb, training: Training, data_dir):
    """Re-run the student's training function from scratch; scores(x) of the result."""
    data = training_data(data_dir)
    use_device(student, nb)
    student.seed(training.seed)
    result = getattr(nb, training.run)(data, epochs=training.epochs,
                                       max_steps=retrain_max_steps(training), progress=False)
    if type(result) is not tuple or len(result) != 2:
        raise AssertionError(f"{training.run} should return a pair (model, history)")
    model = result[0]
    if training.key.startswith("barebones"):
        if type(model) is not list or not all(type(p) is np.ndarray for p in model):
            raise AssertionError(f"{training.run} should return the list of trained parameters first")
        return barebones_predictor(student, nb, training, model)
    return module_predictor(student, model)


def heldout_accuracy(student, predict, data_dir) -> float:
    """Accuracy of `predict` on the held-out images; the labels stay here."""
    x, labels = heldout(data_dir)
    scores = []
    with no_grad(student):
        for start in range(0, len(x), EVAL_BATCH):
            out = predict(tensor(student, x[start:start + EVAL_BATCH]))
            n = min(EVAL_BATCH, len(x) - start)
            if type(out) is not np.ndarray or out.shape != (n, 10):
                raise AssertionError(f"the model should return scores of shape ({n}, 10) for {n} "
                                     f"images, got {getattr(out, 'shape', type(out).__name__)}")
            scores.append(out.astype(np.float64))
    return accuracy(np.concatenate(scores), labels, name="scores")


def grade_training(student, data_dir, retrain: bool, key: str, points: float, set_score) -> float:
    """Score one training run (its checkpoint, or a retraining) and return the held-out
    accuracy; require_full_marks then fails the test below the full-marks line."""
    training = TRAINING[key]
    nb = notebook(student, *training.cells)
    if retrain:
        predict = predictor_from_training(student, nb, training, data_dir)
    else:
        use_device(student, nb)
        predict = predictor_from_checkpoint(student, nb, training)
    acc = heldout_accuracy(student, predict, data_dir)
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
