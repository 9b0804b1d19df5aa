"""Hidden graders of PyTorch.ipynb, Part IV (the Sequential API): the Flatten module,
build_sequential_fc, build_sequential_convnet and nesterov_sgd.
"""

import numpy as np
import torch
import torch.nn.functional as F

from coursekit.grading import number, question, weight
from pytorch_support import check_close, ensure, load_weights, notebook, ref_three_layer_convnet, tensor

pytestmark = question("pytorch_sequential")


def _is_module(student, obj, cls_path):
    builtins, torch_in_child = student.module("builtins"), student.module("torch")
    cls = torch_in_child
    for part in cls_path.split("."):
        cls = getattr(cls, part)
    return builtins.isinstance(obj, cls)


def _random_state(shapes, seed, scale):
    rng = np.random.default_rng(seed)
    return {k: (scale * rng.standard_normal(s)).astype(np.float32) for k, s in shapes.items()}


@weight(1)
@number("4.4.1")
def test_flatten_module(student):
    """Flatten(): an nn.Module mapping (N, d1, ..., dk) to (N, d1 * ... * dk)"""
    nb = notebook(student, "flatten", "Flatten")
    layer = nb.Flatten()
    ensure(_is_module(student, layer, "nn.Module"),
           "Flatten should be a subclass of nn.Module")
    x = np.random.default_rng(4401).standard_normal((4, 3, 2, 5)).astype(np.float32)
    check_close("Flatten()(x) for x of shape (4, 3, 2, 5)", layer(tensor(student, x)), x.reshape(4, 30),
                tol=1e-7)


@weight(2)
@number("4.4.2")
def test_sequential_fc(student):
    """build_sequential_fc(30, 17, 6): an nn.Sequential computing Linear - ReLU - Linear on flattened input"""
    nb = notebook(student, "flatten", "Flatten", "sequential_models")
    model = nb.build_sequential_fc(30, 17, 6)
    ensure(_is_module(student, model, "nn.Sequential"),
           "build_sequential_fc should return an nn.Sequential")
    shapes = {"w1": (17, 30), "b1": (17,), "w2": (6, 17), "b2": (6,)}
    values = _random_state(shapes, 4402, 0.4)
    load_weights(student, "build_sequential_fc(30, 17, 6)", model, shapes, values)
    x = np.random.default_rng(4403).standard_normal((5, 3, 10)).astype(np.float32)
    with torch.no_grad():
        t = {k: torch.from_numpy(v).double() for k, v in values.items()}
        h = F.relu(F.linear(torch.from_numpy(x).double().reshape(5, 30), t["w1"], t["b1"]))
        expected = F.linear(h, t["w2"], t["b2"]).numpy()
    check_close("build_sequential_fc(30, 17, 6)(x)", model(tensor(student, x)), expected)


@weight(3)
@number("4.4.3")
def test_sequential_convnet(student):
    """build_sequential_convnet(3, 5, 4, 7): an nn.Sequential of the three-layer ConvNet"""
    nb = notebook(student, "flatten", "Flatten", "sequential_models")
    model = nb.build_sequential_convnet(3, 5, 4, 7)
    ensure(_is_module(student, model, "nn.Sequential"),
           "build_sequential_convnet should return an nn.Sequential")
    shapes = {"conv1.weight": (5, 3, 5, 5), "conv1.bias": (5,), "conv2.weight": (4, 5, 3, 3),
              "conv2.bias": (4,), "fc.weight": (7, 4 * 32 * 32), "fc.bias": (7,)}
    values = _random_state(shapes, 4404, 0.2)
    load_weights(student, "build_sequential_convnet(3, 5, 4, 7)", model, shapes, values)
    x = np.random.default_rng(4405).standard_normal((2, 3, 32, 32)).astype(np.float32)
    v = values
    expected = ref_three_layer_convnet(x, v["conv1.weight"], v["conv1.bias"], v["conv2.weight"],
                                       v["conv2.bias"], v["fc.weight"].T, v["fc.bias"])
    check_close("build_sequential_convnet(3, 5, 4, 7)(x)", model(tensor(student, x)), expected)


@weight(2)
@number("4.4.4")
def test_nesterov_sgd(student):
    """nesterov_sgd(model, lr): optim.SGD over all parameters, momentum 0.9, Nesterov"""
    nb = notebook(student, "sequential_models")
    model = student.module("torch.nn").Linear(6, 4)
    optimizer = nb.nesterov_sgd(model, 0.037)
    ensure(_is_module(student, optimizer, "optim.SGD"),
           "nesterov_sgd should return an optim.SGD optimizer")
    groups = optimizer.param_groups
    shapes = sorted(tuple(p.shape) for g in groups for p in g["params"])
    ensure(shapes == [(4,), (4, 6)],
           f"the optimizer should update all of the model's parameters, has {shapes}")
    for g in groups:
        ensure(abs(g["lr"] - 0.037) < 1e-12,
               f"learning rate {g['lr']}, expected 0.037 (the argument)")
        ensure(g["momentum"] == 0.9,
               f"momentum {g['momentum']}, expected 0.9")
        ensure(g["nesterov"] is True,
               "Nesterov momentum is not switched on (nesterov=True)")
        ensure(g["dampening"] == 0 and g["weight_decay"] == 0,
               "use no dampening and no weight decay")
