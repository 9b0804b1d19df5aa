"""Hidden graders: TwoLayerRegression as an nn.Module, saved and restored two ways.

Files are written to a fresh folder of the student process's own temporary space.
What a state-dict file holds is read back in the student process with
torch.load(weights_only=True) and compared here, value by value.
"""

import numpy as np
import torch

from a1_support import PARAM_NAMES, REGRESSION, require, send, torch_forward, unpickling_problem
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array
from coursekit.sandbox.errors import StudentError

pytestmark = question("save_restore")

CELLS = ["init_params", "sigmoid", "forward", "model_class"]


def _state(model, label):
    """The module's state_dict as {name: array}, checked against the expected layout."""
    state = model.state_dict()
    if type(state) is not dict:
        raise AssertionError(f"{label}.state_dict() should map parameter names to tensors")
    if sorted(state) != sorted(PARAM_NAMES):
        raise AssertionError(f"{label}: expected parameters named W1, b1, W2, b2, found {sorted(state)}")
    return state


def _predictions(student, model, X):
    (Xt,) = send(student, X.astype(np.float32))
    out = model(Xt)
    if type(out) is not np.ndarray:
        raise AssertionError("calling the model should return a tensor of predictions")
    return out


def _fresh_folder(student):
    return student.module("tempfile").mkdtemp(prefix="a1-")


@weight(3)
@number("4.1")
def test_module_parameters_and_forward(student):
    """TwoLayerRegression(D, M, K): four float32 parameters of the right shapes; forward matches"""
    nb = student.notebook(REGRESSION, require=CELLS)
    D, M, K = 3, 6, 2
    student.seed(41)
    model = nb.TwoLayerRegression(D, M, K)
    state = _state(model, "TwoLayerRegression(3, 6, 2)")
    shapes = {"W1": (D, M), "b1": (M,), "W2": (M, K), "b2": (K,)}
    for name, shape in shapes.items():
        value = state[name]
        require(value.shape == shape, f"{name}: expected shape {shape}, got {value.shape}")
        require(value.dtype == np.float32, f"{name}: expected float32, got {value.dtype}")
    parameters = student.module("builtins").list(model.parameters())
    require(len(parameters) == 4,
            f"model.parameters() yields {len(parameters)} tensors; "
            "register W1, b1, W2, b2 as nn.Parameter")
    # Non-zero output bias, so a forward pass that forgets it cannot pass.
    student.module("torch").nn.init.constant_(model.ref("b2"), 0.25)
    state = _state(model, "TwoLayerRegression(3, 6, 2)")
    X = np.random.default_rng(42).standard_normal((9, D))
    with torch.no_grad():
        expected = torch_forward(torch.from_numpy(X.astype(np.float32)),
                                 *(torch.from_numpy(state[n]) for n in PARAM_NAMES)).numpy()
    check_array("model(X)", _predictions(student, model, X), expected, tol=1e-5)


@weight(4)
@number("4.2")
def test_state_dict_round_trip(student):
    """save_state_dict writes exactly the state dict; restore_from_state_dict rebuilds the same model"""
    nb = student.notebook(REGRESSION, require=CELLS + ["save_restore"])
    D, M, K = 2, 5, 3
    student.seed(43)
    model = nb.TwoLayerRegression(D, M, K)
    saved = _state(model, "TwoLayerRegression(2, 5, 3)")
    path = _fresh_folder(student) + "/state.pt"
    nb.save_state_dict(model, path)
    try:
        on_disk = student.module("torch").load(path, weights_only=True)
    except StudentError as exc:
        raise AssertionError("the file save_state_dict wrote cannot be read with torch.load(path, "
                             f"weights_only=True): {unpickling_problem(exc.message)}. Save "
                             "model.state_dict() only.") from None
    if type(on_disk) is not dict or sorted(on_disk) != sorted(PARAM_NAMES):
        raise AssertionError("the file save_state_dict wrote should hold the state dict "
                             "{W1, b1, W2, b2: tensor}")
    for name in PARAM_NAMES:
        check_array(f"{name} in the saved file", on_disk[name], saved[name], tol=1e-12)

    # A different random state, so a fresh model that ignores the file cannot match.
    student.seed(44)
    restored = nb.restore_from_state_dict(path, D, M, K)
    require(student.module("builtins").isinstance(restored, nb.TwoLayerRegression),
            "restore_from_state_dict should return a TwoLayerRegression")
    got = _state(restored, "the restored model")
    for name in PARAM_NAMES:
        check_array(f"restored {name}", got[name], saved[name], tol=1e-12)
    X = np.random.default_rng(45).standard_normal((6, D))
    check_array("restored model(X)", _predictions(student, restored, X), _predictions(student, model, X),
                tol=1e-12)


@weight(3)
@number("4.3")
def test_whole_model_round_trip(student):
    """save_whole_model stores the module object; load_whole_model gives back an equal module"""
    nb = student.notebook(REGRESSION, require=CELLS + ["save_restore"])
    D, M, K = 4, 3, 1
    student.seed(46)
    model = nb.TwoLayerRegression(D, M, K)
    saved = _state(model, "TwoLayerRegression(4, 3, 1)")
    path = _fresh_folder(student) + "/whole.pt"
    nb.save_whole_model(model, path)
    torch_in_child = student.module("torch")
    builtins = student.module("builtins")
    raw = torch_in_child.load(path, weights_only=False)
    require(not isinstance(raw, dict) and builtins.isinstance(raw, torch_in_child.nn.Module),
            "save_whole_model should save the module itself (torch.save(model, ...)), "
            "not its state dict")

    student.seed(47)
    restored = nb.load_whole_model(path)
    require(builtins.isinstance(restored, nb.TwoLayerRegression),
            "load_whole_model should return the saved TwoLayerRegression module")
    got = _state(restored, "the loaded model")
    for name in PARAM_NAMES:
        check_array(f"loaded {name}", got[name], saved[name], tol=1e-12)
    X = np.random.default_rng(48).standard_normal((5, D))
    check_array("loaded model(X)", _predictions(student, restored, X), _predictions(student, model, X),
                tol=1e-12)
