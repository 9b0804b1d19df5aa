"""PyTorch.ipynb runs top to bottom on the reference solution with the manifest's CI
parameters (every training run cut to a few hundred steps on CPU), and the trained-model
graders score what it saved: full marks for the reference checkpoints and for
equivalent ones written differently, nothing for untrained, mismatched or missing
ones, and the retrain path (`coursekit grade --retrain`) retrains from scratch.

What CI can reach on two CPU cores: Parts II-IV keep their full one-epoch budget (about
90 s together) and their graders run with the real targets. The challenge trains for
CHALLENGE_MAX_STEPS = 30 steps only (its 70% takes about one epoch, 3-5 minutes on two
CPU cores, ten times that for the full budget), so its target is lowered to
CI_CHALLENGE_TARGET through the graders' documented parameter
(pytorch_support.SETTINGS_ENV). The full challenge run is test_pytorch_gpu.py.
"""

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from coursekit.manifest import load_assignment
from coursekit.notebook_runner import run_notebook
from coursekit.sandbox.definition_cells import load_notebook
from coursekit.testing import mutate_cell

A = "a2_neural_nets"
NB = "PyTorch.ipynb"
SOURCE = Path(__file__).resolve().parents[2] / "source" / A
TRAINING_POINTS = {"pytorch_barebones_training": 7, "pytorch_module_training": 7,
                   "pytorch_sequential_training": 4, "pytorch_challenge": 10}
CHECKPOINTS = {
    "barebones_fc": "checkpoints/pytorch_barebones_fc.pt",
    "barebones_convnet": "checkpoints/pytorch_barebones_convnet.pt",
    "module_fc": "checkpoints/pytorch_module_fc.pt",
    "module_convnet": "checkpoints/pytorch_module_convnet.pt",
    "sequential_convnet": "checkpoints/pytorch_sequential_convnet.pt",
    "challenge": "checkpoints/pytorch_challenge.pt",
}
# The CI run's challenge model (CHALLENGE_MAX_STEPS steps on CPU) sits near 40% on the
# held-out images (docs/retrain.md has the measurements).
CI_CHALLENGE_TARGET = 0.35
CI_SETTINGS = json.dumps({"targets": {"challenge": CI_CHALLENGE_TARGET}})
# The retrain run of the challenge gets the CI notebook's step budget, too.
CI_RETRAIN_SETTINGS = json.dumps({"targets": {"challenge": CI_CHALLENGE_TARGET},
                                  "retrain_max_steps": {"challenge": 30}})

pytestmark = [pytest.mark.slow, pytest.mark.realdata("cifar10")]


@pytest.fixture(scope="module")
def trained(build, tmp_path_factory):
    """A copy of the solutions folder after running the notebook with CI parameters."""
    manifest = load_assignment(SOURCE)
    params = {json.dumps(c.ci_parameters, sort_keys=True) for c in manifest.checkpoints
              if c.notebook == NB}
    assert len(params) == 1, "one notebook run must write every checkpoint"
    work = tmp_path_factory.mktemp("pytorch_notebook") / A
    shutil.copytree(build.solutions(A), work)
    started = time.monotonic()
    nb = run_notebook(work / NB, parameters=json.loads(params.pop()), timeout=900)
    print("PyTorch.ipynb ran in %.0f s" % (time.monotonic() - started))
    return work, nb


@pytest.fixture(scope="module")
def reference(build):
    """The solution notebook's definitions, in this (trusted) process."""
    return load_notebook(str(build.solutions(A) / NB))


def _submission(trained, tmp_path, name):
    work, _ = trained
    sub = tmp_path / name
    for rel in load_assignment(SOURCE).submission_files:
        if (work / rel).is_file():
            (sub / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / rel, sub / rel)
    return sub


def _outputs(nb):
    text, figures = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", ""))
            figures += "image/png" in out.get("data", {})
    return "".join(text), figures


def _load(path):
    import torch
    return torch.load(path, map_location="cpu", weights_only=True)


def _save(path, config, state):
    import torch
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": config, "state_dict": {k: v.detach().cpu() for k, v in state.items()}}, path)


def test_notebook_runs_and_saves_checkpoints(trained):
    work, nb = trained
    text, figures = _outputs(nb)
    for check in ["flatten: OK", "two_layer_fc: OK", "three_layer_convnet: OK", "init_weights: OK",
                  "TwoLayerFC: OK", "ThreeLayerConvNet: OK", "sequential models: OK"]:
        assert check in text, check
    reached = re.findall(r"validation accuracy: ([0-9.]+)%", text)
    print("validation accuracies of the CI run (Parts II-IV, one epoch each):", reached)
    assert len(reached) == 6 and "s per epoch on " in text
    assert "test accuracy of the challenge model" in text
    assert figures >= 8  # the image grid and one pair of curves per training run
    for key, rel in CHECKPOINTS.items():
        saved = _load(work / rel)
        assert set(saved) == {"config", "state_dict"} and saved["state_dict"], key
        assert "saved " + rel in text


def test_reference_checkpoints_full_marks(trained, grade, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_PYTORCH_GRADING", CI_SETTINGS)
    result = grade(A, _submission(trained, tmp_path, "ref"), only=list(TRAINING_POINTS))
    for t in result.results["tests"]:
        print(t["name"], t["score"], t["max_score"], t.get("output", "")[:200])
    assert result.by_question() == {q: (p, p) for q, p in TRAINING_POINTS.items()}, result.results
    (row,) = result.results["leaderboard"]
    assert row["name"] == "CIFAR-10 test accuracy (%)" and row["value"] >= 100 * (CI_CHALLENGE_TARGET - 0.01)
    # The honest challenge model passes the check against looked-up labels.
    assert not result.results.get("extra_data", {}).get("flags"), result.results["extra_data"]


def test_bad_checkpoints_score_zero(trained, grade, tmp_path, reference, monkeypatch):
    """Untrained weights, a checkpoint of another model, a damaged and a missing file."""
    import torch
    monkeypatch.setenv("COURSEKIT_PYTORCH_GRADING", CI_SETTINGS)
    sub = _submission(trained, tmp_path, "bad")
    torch.manual_seed(5)
    untrained_params = [reference.random_weight((3072, 512)), reference.random_weight((512, 10))]
    _save(sub / CHECKPOINTS["barebones_fc"], {"hidden_size": 512},
          {"w1": untrained_params[0], "w2": untrained_params[1]})
    (sub / CHECKPOINTS["barebones_convnet"]).write_bytes(b"not a checkpoint")
    _save(sub / CHECKPOINTS["module_fc"], reference.PART3_FC, reference.TwoLayerFC(**reference.PART3_FC).state_dict())
    # The Part III FC's weights saved as the ConvNet: they do not fit ThreeLayerConvNet.
    shutil.copyfile(trained[0] / CHECKPOINTS["module_fc"], sub / CHECKPOINTS["module_convnet"])
    _save(sub / CHECKPOINTS["sequential_convnet"], reference.PART4_CONVNET,
          reference.build_sequential_convnet(**reference.PART4_CONVNET).state_dict())
    (sub / CHECKPOINTS["challenge"]).unlink()
    result = grade(A, sub, only=list(TRAINING_POINTS))
    expected = {
        "test_barebones_fc_accuracy": "below the 39% needed",
        "test_barebones_convnet_accuracy": "cannot be read with torch.load",
        "test_module_fc_accuracy": "below the 39% needed",
        "test_module_convnet_accuracy": "expected one 5x5 convolution of the 3 colour channels, found 0",
        "test_sequential_convnet_accuracy": "below the 54% needed",
        "test_challenge_accuracy": "is missing from your submission",
    }
    for name, message in expected.items():
        t = result.test(name)
        assert t["score"] == 0 and message in t["output"], (name, t)


ALTERNATIVE_SEQUENTIAL = '''
def build_sequential_fc(input_size, hidden_size, num_classes):
    return nn.Sequential(Flatten(), nn.Linear(input_size, hidden_size), nn.ReLU(),
                         nn.Linear(hidden_size, num_classes))


def build_sequential_convnet(in_channel, channel_1, channel_2, num_classes):
    from collections import OrderedDict
    return nn.Sequential(OrderedDict([
        ("conv_a", nn.Conv2d(in_channel, channel_1, 5, padding=2)), ("relu_a", nn.ReLU()),
        ("conv_b", nn.Conv2d(channel_1, channel_2, 3, padding=1)), ("relu_b", nn.ReLU()),
        ("flat", nn.Flatten()), ("scores", nn.Linear(channel_2 * 32 * 32, num_classes))]))


def nesterov_sgd(model, learning_rate):
    return optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, nesterov=True)
'''

# The reference challenge network written as a class with named stages and functional
# pooling; its parameters and buffers come in the same order as the reference's.
ALTERNATIVE_CHALLENGE = '''
def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a, self.b = conv_bn_relu(c, c), conv_bn_relu(c, c)

    def forward(self, x):
        return x + self.b(self.a(x))


class ChallengeNet(nn.Module):
    def __init__(self, width, num_classes):
        super().__init__()
        self.stem = conv_bn_relu(3, width)
        self.down1 = conv_bn_relu(width, 2 * width)
        self.res1 = Block(2 * width)
        self.down2 = conv_bn_relu(2 * width, 4 * width)
        self.down3 = conv_bn_relu(4 * width, 8 * width)
        self.res2 = Block(8 * width)
        self.head = nn.Linear(8 * width, num_classes)

    def forward(self, x):
        x = self.res1(F.max_pool2d(self.down1(self.stem(x)), 2))
        x = F.max_pool2d(self.down3(F.max_pool2d(self.down2(x), 2)), 2)
        return self.head(torch.amax(self.res2(x), dim=(2, 3))) / 8


CHALLENGE_CONFIG = {"width": 32}


def build_challenge_model(width=32, num_classes=10):
    return ChallengeNet(width, num_classes)
'''


def _renamed_by_order(state, model):
    """`state`'s tensors under `model`'s state_dict names, matched by position."""
    names = list(model.state_dict())
    assert [tuple(v.shape) for v in state.values()] == [tuple(model.state_dict()[n].shape) for n in names]
    return dict(zip(names, state.values()))


def test_equivalent_checkpoints_full_marks(trained, grade, tmp_path, monkeypatch):
    """Reference weights in other forms: hidden units and filters permuted (the same
    functions), and ThreeLayerConvNet, the Sequential ConvNet and the challenge network
    written with other layer names and structure."""
    import torch
    monkeypatch.setenv("COURSEKIT_PYTORCH_GRADING", CI_SETTINGS)
    work, _ = trained
    sub = _submission(trained, tmp_path, "alt")
    rng = np.random.default_rng(9)

    saved = _load(work / CHECKPOINTS["barebones_fc"])
    w1, w2 = saved["state_dict"]["w1"], saved["state_dict"]["w2"]
    perm = torch.from_numpy(rng.permutation(w1.shape[1]))
    _save(sub / CHECKPOINTS["barebones_fc"], saved["config"], {"w1": w1[:, perm], "w2": w2[perm]})

    saved = _load(work / CHECKPOINTS["barebones_convnet"])
    s = dict(saved["state_dict"])
    perm = torch.from_numpy(rng.permutation(s["conv_w1"].shape[0]))
    s["conv_w1"], s["conv_b1"], s["conv_w2"] = s["conv_w1"][perm], s["conv_b1"][perm], s["conv_w2"][:, perm]
    _save(sub / CHECKPOINTS["barebones_convnet"], saved["config"], s)

    mutate_cell(sub, NB, "ThreeLayerConvNet", '''
class ThreeLayerConvNet(nn.Module):
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channel, channel_1, 5, padding="same"), nn.ReLU(),
            nn.Conv2d(channel_1, channel_2, 3, padding="same"), nn.ReLU())
        self.classifier = nn.Linear(32 * 32 * channel_2, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
''')
    saved = _load(work / CHECKPOINTS["module_convnet"])
    names = {"conv1": "features.0", "conv2": "features.2", "fc": "classifier"}
    renamed = {names[k.split(".")[0]] + "." + k.split(".")[1]: v for k, v in saved["state_dict"].items()}
    _save(sub / CHECKPOINTS["module_convnet"], saved["config"], renamed)

    mutate_cell(sub, NB, "sequential_models", ALTERNATIVE_SEQUENTIAL)
    mutate_cell(sub, NB, "challenge_model", ALTERNATIVE_CHALLENGE)
    alternatives = load_notebook(str(sub / NB))
    for key, model in [("sequential_convnet", alternatives.build_sequential_convnet(3, 32, 16, 10)),
                       ("challenge", alternatives.build_challenge_model(32))]:
        saved = _load(work / CHECKPOINTS[key])
        _save(sub / CHECKPOINTS[key], saved["config"], _renamed_by_order(saved["state_dict"], model))

    result = grade(A, sub, only=list(TRAINING_POINTS))
    for t in result.results["tests"]:
        assert t["score"] == t["max_score"] > 0, (t["name"], t.get("output", "")[:500])


def test_retrain_trains_from_scratch(trained, grade, tmp_path, monkeypatch):
    """`--retrain`: the Sequential ConvNet is trained again for one full epoch with seed 0
    and meets the real 55% target, the challenge model for the CI step budget (the
    submitted checkpoints are deleted, so they cannot be used); a training function that
    trains nothing scores zero, although its submission still holds a good checkpoint."""
    monkeypatch.setenv("COURSEKIT_PYTORCH_GRADING", CI_RETRAIN_SETTINGS)
    sub = _submission(trained, tmp_path, "retrain")
    for rel in CHECKPOINTS.values():
        (sub / rel).unlink()
    result = grade(A, sub, only=["pytorch_sequential_training", "pytorch_challenge"], retrain=True)
    for name in ["test_sequential_convnet_accuracy", "test_challenge_accuracy"]:
        t = result.test(name)
        assert t["score"] == t["max_score"] > 0, (t, result.log[-3000:])
    print("retrained challenge model (30 steps):", result.results["leaderboard"])

    lazy = _submission(trained, tmp_path, "retrain_lazy")
    mutate_cell(lazy, NB, "run_part4_convnet", '''
PART4_CONVNET = {"in_channel": 3, "channel_1": 32, "channel_2": 16, "num_classes": 10}


def run_part4_convnet(data, epochs=1, max_steps=None, progress=True):
    # Mutant: returns the untrained model.
    return build_sequential_convnet(**PART4_CONVNET), {"loss": [], "val_acc": []}
''')
    result = grade(A, lazy, only=["pytorch_sequential_training"], retrain=True)
    t = result.test("test_sequential_convnet_accuracy")
    assert t["score"] == 0 and "below the 54% needed" in t["output"], t


# Every trained model of Parts II-V with a forward pass that looks each image up in the
# public CIFAR-10 test batch (the layers exist, so checkpoints of the right shapes load).
LOOKUP_CELLS = {
    "two_layer_fc": '''
def two_layer_fc(x, params):
    return _lookup_torch(x)
''',
    "three_layer_convnet": '''
def three_layer_convnet(x, params):
    return _lookup_torch(x)
''',
    "TwoLayerFC": '''
class TwoLayerFC(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        return _lookup_torch(x)
''',
    "ThreeLayerConvNet": '''
class ThreeLayerConvNet(nn.Module):
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1)
        self.fc = nn.Linear(channel_2 * 32 * 32, num_classes)

    def forward(self, x):
        return _lookup_torch(x)
''',
    "sequential_models": '''
class _Lookup(nn.Sequential):
    def forward(self, x):
        return _lookup_torch(x)


def build_sequential_fc(input_size, hidden_size, num_classes):
    return _Lookup(Flatten(), nn.Linear(input_size, hidden_size), nn.ReLU(),
                   nn.Linear(hidden_size, num_classes))


def build_sequential_convnet(in_channel, channel_1, channel_2, num_classes):
    return _Lookup(nn.Conv2d(in_channel, channel_1, 5, padding=2), nn.ReLU(),
                   nn.Conv2d(channel_1, channel_2, 3, padding=1), nn.ReLU(), Flatten(),
                   nn.Linear(channel_2 * 32 * 32, num_classes))


def nesterov_sgd(model, learning_rate):
    return optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, nesterov=True)
''',
    "challenge_model": '''
class LookupNet(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        return _lookup_torch(x) + 0 * self.head.bias


CHALLENGE_CONFIG = {"width": 8}


def build_challenge_model(width=8, num_classes=10):
    return LookupNet(width)
''',
}


def test_lookup_of_public_labels_earns_nothing(trained, grade, tmp_path, monkeypatch):
    """Random weights behind forward passes that look the public labels up: Parts II-IV
    are evaluated by the grader's own code from the weights, so they score at chance; the
    challenge model, whose forward pass runs in the student process, is caught by the
    perturbed copies of the held-out images, scores zero and is flagged for the staff."""
    import torch
    from lookup_attack import lookup_accuracy, model_inputs, torch_prelude

    monkeypatch.setenv("COURSEKIT_PYTORCH_GRADING", CI_SETTINGS)
    work, _ = trained
    sub = _submission(trained, tmp_path, "lookup")
    source = torch_prelude("cifar10")
    imports = _cell_source(sub / NB, "imports")
    mutate_cell(sub, NB, "imports", imports + "\n\n" + source)
    for grade_id, cell in LOOKUP_CELLS.items():
        mutate_cell(sub, NB, grade_id, cell)
    # The attack is real: on the images the graders send, the lookup is always right.
    assert lookup_accuracy("cifar10", "import numpy as np\n" + source, lambda ns, images: ns["_lookup_torch"](
        torch.from_numpy(model_inputs("cifar10", images))).numpy()) == 1.0

    generator = torch.Generator().manual_seed(11)
    for key, rel in CHECKPOINTS.items():
        if key == "challenge":
            _save(sub / rel, {"width": 8}, {"head.weight": torch.randn(10, 8, generator=generator),
                                            "head.bias": torch.zeros(10)})
            continue
        saved = _load(work / rel)
        _save(sub / rel, saved["config"], {k: torch.randn(v.shape, generator=generator) * 0.05
                                          for k, v in saved["state_dict"].items()})
    result = grade(A, sub, only=list(TRAINING_POINTS))
    for t in result.results["tests"]:
        assert t["score"] == 0, (t["name"], t["output"][:500])
    for name in ["test_barebones_fc_accuracy", "test_barebones_convnet_accuracy", "test_module_fc_accuracy",
                 "test_module_convnet_accuracy", "test_sequential_convnet_accuracy"]:
        acc = float(re.search(r"([0-9.]+)% accuracy on", result.test(name)["output"]).group(1))
        assert acc < 20, (name, result.test(name)["output"])
    challenge = result.test("test_challenge_accuracy")["output"]
    assert "its accuracy does not count" in challenge and "100.00% on the plain held-out images" in challenge, \
        challenge
    flags = result.results.get("extra_data", {}).get("flags", [])
    assert [f["kind"] for f in flags if f["test"].endswith("test_challenge_accuracy")] == ["integrity"], flags


def _cell_source(path, grade_id):
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    raise KeyError(grade_id)
