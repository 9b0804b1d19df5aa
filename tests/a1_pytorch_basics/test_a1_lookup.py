"""MNIST models whose forward pass looks each image up in the public t10k set, behind
checkpoints of random weights, earn nothing: FullyConnectedNet's weights are evaluated by
the grader's own code, and ConvNet (whose forward pass runs in the student process) is
caught by the perturbed copies of the test images, scores zero and is flagged."""

import json
from pathlib import Path

import pytest
import torch

from a1_kit import A, CHECKPOINTS
from lookup_attack import lookup_accuracy, model_inputs, torch_prelude

MNIST = "MNIST.ipynb"

LOOKUP_FC = '''
class FullyConnectedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

    def forward(self, x):
        return _lookup_torch(x)
'''

LOOKUP_CNN = '''
class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(4 * 28 * 28, 10)

    def forward(self, x):
        return _lookup_torch(x) + 0 * self.fc.bias
'''


def _cell_source(path, grade_id):
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    raise KeyError(grade_id)


@pytest.mark.slow
@pytest.mark.realdata("mnist")
def test_lookup_of_public_labels_earns_nothing(grade, reference_submission, mutate_cell):
    sub = reference_submission(A)
    source = torch_prelude("mnist")
    mutate_cell(sub, MNIST, "imports", _cell_source(sub / MNIST, "imports") + "\n\n" + source)
    mutate_cell(sub, MNIST, "fc_model", LOOKUP_FC)
    mutate_cell(sub, MNIST, "cnn_model", LOOKUP_CNN)
    # The attack is real: on the images the graders send, the lookup is always right.
    assert lookup_accuracy("mnist", source, lambda ns, images: ns["_lookup_torch"](
        torch.from_numpy(model_inputs("mnist", images))).numpy()) == 1.0

    torch.manual_seed(7)
    namespace = {}
    exec("import torch\nfrom torch import nn\n" + LOOKUP_FC + LOOKUP_CNN, namespace)
    for which, cls in (("fc", "FullyConnectedNet"), ("cnn", "ConvNet")):
        path = sub / CHECKPOINTS[which]
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(namespace[cls]().state_dict(), path)

    result = grade(A, sub, only=["mnist_fc", "mnist_cnn"])
    fc = result.test("test_fc_checkpoint_accuracy")
    assert fc["score"] == 0, fc
    assert float(fc["output"].split("test accuracy ")[1].split("%")[0]) < 20, fc
    cnn = result.test("test_cnn_checkpoint_accuracy")
    assert cnn["score"] == 0 and "its accuracy does not count" in cnn["output"], cnn
    assert "100.00% on the plain held-out images" in cnn["output"], cnn
    flags = result.results.get("extra_data", {}).get("flags", [])
    assert [f["kind"] for f in flags if f["test"].endswith("test_cnn_checkpoint_accuracy")] == ["integrity"], \
        flags
    assert not [f for f in flags if f["test"].endswith("test_fc_checkpoint_accuracy")], flags
