"""The grader's own forward passes of the Part II-IV models (pytorch_support.fixed_model)
agree with the reference notebook's models on the same weights, whatever the parameter
names, and refuse weights that do not fit the architecture."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from coursekit.sandbox.definition_cells import load_notebook

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "autograder" / "a2_neural_nets"))
import pytorch_support as ps  # noqa: E402

sys.path.pop(0)


@pytest.fixture(scope="module")
def reference(build):
    return load_notebook(str(build.solutions("a2_neural_nets") / "PyTorch.ipynb"))


def _inputs(n=6, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((n, 3, 32, 32)).astype(np.float32))


def _arrays(state):
    return {k: v.detach().numpy().copy() for k, v in state.items()}


def _close(ours, theirs):
    ours, theirs = ours.detach().double(), theirs.detach().double()
    assert ours.shape == theirs.shape == (len(ours), 10)
    assert torch.allclose(ours, theirs, rtol=1e-4, atol=1e-4 * float(theirs.abs().max())), \
        float((ours - theirs).abs().max())


def test_barebones_models(reference):
    torch.manual_seed(0)
    x = _inputs()
    w = [reference.random_weight((3072, 40)), reference.random_weight((40, 10))]
    ours = ps.fixed_model(ps.TRAINING["barebones_fc"], {"w1": w[0].detach().numpy(), "w2": w[1].detach().numpy()})
    _close(ours(x), reference.two_layer_fc(x, w))
    names = ["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"]
    shapes = [(8, 3, 5, 5), (8,), (6, 8, 3, 3), (6,), (6 * 32 * 32, 10), (10,)]
    p = [torch.randn(s) * 0.1 for s in shapes]
    ours = ps.fixed_model(ps.TRAINING["barebones_convnet"], {n: v.numpy() for n, v in zip(names, p)})
    _close(ours(x), reference.three_layer_convnet(x, p))


def test_module_models_under_any_names(reference):
    """Other layer names, layers listed in reverse, and channel counts equal to the number of
    classes (every bias has the same shape): each bias still goes with its own layer."""
    torch.manual_seed(1)
    x = _inputs()
    fc = reference.TwoLayerFC(3072, 10, 10)
    for key, model in [("module_fc", fc), ("module_convnet", reference.ThreeLayerConvNet(3, 10, 10, 10)),
                       ("sequential_convnet", reference.build_sequential_convnet(3, 10, 10, 10))]:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith("bias"):
                    p.normal_()
        state = _arrays(model.state_dict())
        layers = list(dict.fromkeys(k.rpartition(".")[0] for k in state))
        alias = {layer: f"part_{chr(ord('a') + i)}" for i, layer in enumerate(reversed(layers))}
        renamed = {}
        for k in reversed(list(state)):
            layer, _, kind = k.rpartition(".")
            renamed[f"{alias[layer]}.{kind}"] = state[k]
        _close(ps.fixed_model(ps.TRAINING[key], renamed)(x), model(x))


def test_weights_that_do_not_fit_are_refused(reference):
    fc_state = _arrays(reference.TwoLayerFC(3072, 30, 10).state_dict())
    with pytest.raises(AssertionError, match="expected one 5x5 convolution of the 3 colour channels, found 0"):
        ps.fixed_model(ps.TRAINING["module_convnet"], fc_state)
    extra = dict(fc_state, spare=np.zeros(3, dtype=np.float32))
    with pytest.raises(AssertionError, match=r"unexpected parameters \['spare'\]"):
        ps.fixed_model(ps.TRAINING["module_fc"], extra)
    wide = {"w1": np.zeros((3072, 5000), np.float32), "w2": np.zeros((5000, 10), np.float32)}
    with pytest.raises(AssertionError, match="the hidden size H is 5000; the grader evaluates models with 1 to 4096"):
        ps.fixed_model(ps.TRAINING["barebones_fc"], wide)
