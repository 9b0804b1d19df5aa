"""Hidden graders of PyTorch.ipynb, Part III (the Module API): TwoLayerFC,
ThreeLayerConvNet, check_accuracy_part34, train_part34.

The models are checked for their parameters (shapes and count), their initialization
(statistics of fresh weights) and their forward pass with weights set by this process.
The loops are checked on a small network with batch normalization built here, whose
results depend on train / eval mode, against a replay done here.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_scalar
from pytorch_support import (check_close, check_kaiming, ensure, load_weights, match_by_shape, notebook,
                             ref_three_layer_convnet, tensor, use_device)

pytestmark = question("pytorch_module")

FC_SHAPES = {"fc1.weight": (17, 30), "fc1.bias": (17,), "fc2.weight": (6, 17), "fc2.bias": (6,)}
CONV_SHAPES = {"conv1.weight": (5, 3, 5, 5), "conv1.bias": (5,), "conv2.weight": (4, 5, 3, 3),
               "conv2.bias": (4,), "fc.weight": (7, 4 * 32 * 32), "fc.bias": (7,)}


def _random_state(shapes, seed, scale=0.4):
    rng = np.random.default_rng(seed)
    return {k: (scale * rng.standard_normal(s)).astype(np.float32) for k, s in shapes.items()}


def _param_shapes(student, model):
    return [tuple(p.shape) for p in student.module("builtins").list(model.parameters())]


# ---------------------------------------------------------------------------- TwoLayerFC


@weight(2)
@number("4.3.1")
def test_two_layer_fc_forward(student):
    """TwoLayerFC(30, 17, 6): fc2(relu(fc1(flatten(x)))) with weights and biases set by the grader"""
    nb = notebook(student, "flatten", "TwoLayerFC")
    model = nb.TwoLayerFC(30, 17, 6)
    values = _random_state(FC_SHAPES, 4301)
    load_weights(student, "TwoLayerFC(30, 17, 6)", model, FC_SHAPES, values)
    x = np.random.default_rng(4302).standard_normal((5, 2, 3, 5)).astype(np.float32)
    with torch.no_grad():
        t = {k: torch.from_numpy(v).double() for k, v in values.items()}
        h = F.relu(F.linear(torch.from_numpy(x).double().reshape(5, 30), t["fc1.weight"], t["fc1.bias"]))
        expected = F.linear(h, t["fc2.weight"], t["fc2.bias"]).numpy()
    check_close("TwoLayerFC(30, 17, 6)(x)", model(tensor(student, x)), expected)


@weight(2)
@number("4.3.2")
def test_two_layer_fc_init(student):
    """TwoLayerFC(1200, 400, 10): Kaiming normal weights, zero biases"""
    nb = notebook(student, "flatten", "TwoLayerFC")
    student.seed(4303)
    model = nb.TwoLayerFC(1200, 400, 10)
    shapes = {"fc1.weight": (400, 1200), "fc1.bias": (400,), "fc2.weight": (10, 400), "fc2.bias": (10,)}
    state = model.state_dict()
    for key, ours in match_by_shape("TwoLayerFC(1200, 400, 10)", state, shapes).items():
        if ours.endswith("bias"):
            ensure(not np.any(state[key]),
                   f"TwoLayerFC: {key} should start at zero")
        else:
            check_kaiming(f"TwoLayerFC: {key}", state[key], shapes[ours][1], rel_tol=0.05)


@weight(1)
@number("4.3.3")
def test_two_layer_fc_parameters(student):
    """TwoLayerFC(30, 17, 6) has exactly 30*17 + 17 + 17*6 + 6 = 635 parameters"""
    nb = notebook(student, "flatten", "TwoLayerFC")
    shapes = _param_shapes(student, nb.TwoLayerFC(30, 17, 6))
    count = sum(int(np.prod(s)) for s in shapes)
    ensure(count == 635,
           f"TwoLayerFC(30, 17, 6) has {count} parameters (shapes {shapes}), expected 635")
    ensure(sorted(shapes) == sorted(FC_SHAPES.values()),
           f"TwoLayerFC(30, 17, 6): parameter shapes {shapes}")


# ---------------------------------------------------------------------------- ThreeLayerConvNet


@weight(3)
@number("4.3.4")
def test_three_layer_convnet_forward(student):
    """ThreeLayerConvNet(3, 5, 4, 7): conv 5x5 pad 2 - relu - conv 3x3 pad 1 - relu - fc"""
    nb = notebook(student, "flatten", "ThreeLayerConvNet")
    model = nb.ThreeLayerConvNet(3, 5, 4, 7)
    values = _random_state(CONV_SHAPES, 4304, scale=0.2)
    load_weights(student, "ThreeLayerConvNet(3, 5, 4, 7)", model, CONV_SHAPES, values)
    x = np.random.default_rng(4305).standard_normal((3, 3, 32, 32)).astype(np.float32)
    v = values
    expected = ref_three_layer_convnet(x, v["conv1.weight"], v["conv1.bias"], v["conv2.weight"],
                                       v["conv2.bias"], v["fc.weight"].T, v["fc.bias"])
    check_close("ThreeLayerConvNet(3, 5, 4, 7)(x)", model(tensor(student, x)), expected)


@weight(2)
@number("4.3.5")
def test_three_layer_convnet_init(student):
    """ThreeLayerConvNet(3, 64, 48, 10): Kaiming normal weights, zero biases"""
    nb = notebook(student, "flatten", "ThreeLayerConvNet")
    student.seed(4306)
    model = nb.ThreeLayerConvNet(3, 64, 48, 10)
    shapes = {"conv1.weight": (64, 3, 5, 5), "conv1.bias": (64,), "conv2.weight": (48, 64, 3, 3),
              "conv2.bias": (48,), "fc.weight": (10, 48 * 32 * 32), "fc.bias": (10,)}
    fan_in = {"conv1.weight": 3 * 25, "conv2.weight": 64 * 9, "fc.weight": 48 * 32 * 32}
    state = model.state_dict()
    for key, ours in match_by_shape("ThreeLayerConvNet(3, 64, 48, 10)", state, shapes).items():
        if ours.endswith("bias"):
            ensure(not np.any(state[key]),
                   f"ThreeLayerConvNet: {key} should start at zero")
        else:
            check_kaiming(f"ThreeLayerConvNet: {key}", state[key], fan_in[ours], rel_tol=0.05)


@weight(1)
@number("4.3.6")
def test_three_layer_convnet_parameters(student):
    """ThreeLayerConvNet(3, 5, 4, 7) has exactly the parameters of its three layers"""
    nb = notebook(student, "flatten", "ThreeLayerConvNet")
    shapes = _param_shapes(student, nb.ThreeLayerConvNet(3, 5, 4, 7))
    count = sum(int(np.prod(s)) for s in shapes)
    want = sum(int(np.prod(s)) for s in CONV_SHAPES.values())
    ensure(count == want,
           f"ThreeLayerConvNet(3, 5, 4, 7) has {count} parameters (shapes {shapes}), expected {want}")
    ensure(sorted(shapes) == sorted(CONV_SHAPES.values()),
           f"ThreeLayerConvNet(3, 5, 4, 7): parameter shapes {shapes}")


# ---------------------------------------------------------------------------- the loops


BN_SHAPES = {"1.weight": (9, 12), "1.bias": (9,), "2.weight": (9,), "2.bias": (9,),
             "2.running_mean": (9,), "2.running_var": (9,), "4.weight": (4, 9), "4.bias": (4,)}


def _bn_net_values(seed):
    rng = np.random.default_rng(seed)
    values = {k: (0.6 * rng.standard_normal(s)).astype(np.float32) for k, s in BN_SHAPES.items()}
    # Running statistics far from a minibatch's own, so train and eval mode disagree.
    values["2.running_mean"] = (2.0 * rng.standard_normal(9)).astype(np.float32)
    values["2.running_var"] = (0.2 + 3 * rng.random(9)).astype(np.float32)
    values["2.weight"] = (1 + 0.3 * rng.standard_normal(9)).astype(np.float32)
    return values


def _bn_net():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Linear(9, 4))


def _bn_net_in_child(student, values):
    nn_child = student.module("torch.nn")
    model = nn_child.Sequential(nn_child.Flatten(), nn_child.Linear(12, 9), nn_child.BatchNorm1d(9),
                                nn_child.ReLU(), nn_child.Linear(9, 4))
    state = {k: tensor(student, v) for k, v in values.items()}
    state["2.num_batches_tracked"] = tensor(student, np.array(0), dtype="int64")
    model.load_state_dict(state)
    return model


def _bn_net_here(values):
    model = _bn_net()
    model.load_state_dict({**{k: torch.from_numpy(v) for k, v in values.items()},
                           "2.num_batches_tracked": torch.tensor(0)})
    return model


def _loader(student, x, y, batch_size):
    data = student.module("torch.utils.data")
    dataset = data.TensorDataset(tensor(student, x), tensor(student, y, dtype="int64"))
    return data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


@weight(2)
@number("4.3.7")
def test_check_accuracy_part34(student):
    """check_accuracy_part34: accuracy over all minibatches, with the model in eval mode"""
    nb = notebook(student, "check_accuracy_part34")
    use_device(student, nb)
    values = _bn_net_values(4308)
    rng = np.random.default_rng(4307)
    x = rng.standard_normal((23, 3, 4)).astype(np.float32)
    here = _bn_net_here(values)
    with torch.no_grad():
        preds = here.eval()(torch.from_numpy(x)).argmax(1).numpy()
        # What a model left in training mode predicts (batch statistics, minibatches of 5).
        train_preds = np.concatenate([here.train()(torch.from_numpy(x[i:i + 5])).argmax(1).numpy()
                                      for i in range(0, 23, 5)])
    # Wrong labels differ from both predictions; some right ones are right in eval mode only.
    y = np.array([min({0, 1, 2, 3} - {p, q}) for p, q in zip(preds, train_preds)])
    right = np.array([1, 2, 6, 7, 13, 19, 20, 22])
    y[right] = preds[right]
    assert np.mean(train_preds == y) != len(right) / 23  # the grader's own inputs discriminate
    model = _bn_net_in_child(student, values)
    model.train()
    acc = nb.check_accuracy_part34(_loader(student, x, y, 5), model)
    ensure(type(acc) is float,
           f"check_accuracy_part34 should return a Python float, got {type(acc).__name__}")
    check_scalar("check_accuracy_part34 over 23 examples in minibatches of 5 (eval mode)", acc,
                 len(right) / 23, tol=1e-9)


def _replay_training(values, x, y, batch_size, epochs, lr, momentum):
    model = _bn_net_here(values)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            model.train()
            loss = F.cross_entropy(model(xt[start:start + batch_size]), yt[start:start + batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses, {k: v.numpy() for k, v in model.state_dict().items()}


@weight(3)
@number("4.3.8")
def test_train_part34(student):
    """train_part34: optimizer steps in train mode (also after validation checks), loss history"""
    nb = notebook(student, "check_accuracy_part34", "train_part34")
    use_device(student, nb)
    rng = np.random.default_rng(4309)
    values = _bn_net_values(4310)
    x = rng.standard_normal((26, 3, 4)).astype(np.float32)
    y = rng.integers(0, 4, 26).astype(np.int64)
    model = _bn_net_in_child(student, values)
    optimizer = student.module("torch.optim").SGD(model.parameters(), lr=0.2, momentum=0.5)
    saved_every = nb.print_every
    nb.print_every = 2  # validation checks between the steps
    try:
        history = nb.train_part34(model, optimizer, _loader(student, x, y, 8),
                                  _loader(student, x[:10], y[:10], 5), epochs=2, progress=False)
    finally:
        nb.print_every = saved_every
    losses, final = _replay_training(values, x, y, 8, 2, 0.2, 0.5)
    ensure(type(history) is dict and "loss" in history,
           "train_part34 should return the history dict")
    check_close("the losses recorded by train_part34 (26 examples, minibatches of 8, 2 epochs)",
                np.asarray(history["loss"], dtype=np.float64), losses, tol=1e-4)
    state = model.state_dict()
    for key in ["1.weight", "1.bias", "2.weight", "2.running_mean", "2.running_var", "4.weight"]:
        check_close(f"parameter / buffer {key} of the test network after train_part34", state[key],
                    final[key], tol=1e-4)
