"""PyTorch.ipynb graders (Parts II-IV functions) through the real autograder: full marks
for the reference, zero for the stubs, correct alternatives written differently
accepted. The known-wrong variants ("mutants") below are graded by the kit's mutant
harness (a2_mutants.py, test_a2_mutant_runs.py).

Grading runs are the slow part, so each run carries several mutants. Where a grader
also calls another student function (train_part2 uses two_layer_fc, train_part34 calls
check_accuracy_part34, the models use flatten / Flatten), a mutant of that function and
a mutant aimed at the grader never share a run, so each rejection is the mutant's own.
The trained models' graders are tested in test_pytorch_notebook.py.
"""

import ast
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from coursekit.manifest import load_assignment
from coursekit.testing import mutate_cell

A = "a2_neural_nets"
NB = "PyTorch.ipynb"
FUNCTION_POINTS = {"pytorch_barebones": 18, "pytorch_module": 16, "pytorch_sequential": 8}
TRAINING_POINTS = {"pytorch_barebones_training": 7, "pytorch_module_training": 7,
                   "pytorch_sequential_training": 4, "pytorch_challenge": 10}


# ---------------------------------------------------------------------------- helpers


def _cell_sources(notebook_path):
    nb = json.loads(Path(notebook_path).read_text())
    out = {}
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid:
            out[gid] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return out


def _replace_definitions(cell_source, new_source):
    """cell_source with each top-level def / class of new_source swapped in by name."""
    new_tree = ast.parse(new_source)
    new_lines = new_source.splitlines()
    lines = cell_source.splitlines()
    for node in new_tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        replacement = new_lines[node.lineno - 1:node.end_lineno]
        tree = ast.parse("\n".join(lines))
        (old,) = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == node.name]
        lines = lines[:old.lineno - 1] + replacement + lines[old.end_lineno:]
    return "\n".join(lines) + "\n"


def _insert_code_cell(sub, source):
    """Append an untagged code cell (a training cell, in the grader's eyes)."""
    path = Path(sub, NB)
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": source})
    path.write_text(json.dumps(nb, indent=1))


# ---------------------------------------------------------------------------- mutants
# grade_id -> replacement of one or more of that cell's definitions.

FLATTEN_CHANNELS_LAST = ("flatten", '''
def flatten(x):
    # Mutant: channels moved last before flattening (a different order of the values).
    return x.permute(0, *range(2, x.dim()), 1).reshape(x.shape[0], -1)
''')

TWO_LAYER_NO_RELU = ("two_layer_fc", '''
def two_layer_fc(x, params):
    # Mutant: no ReLU.
    w1, w2 = params
    return flatten(x).mm(w1).mm(w2)
''')

CONVNET_WRONG_PADDING = ("three_layer_convnet", '''
def three_layer_convnet(x, params):
    # Mutant: padding 1 in the first convolution.
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    a1 = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=1))
    a2 = F.relu(F.conv2d(a1, conv_w2, conv_b2, padding=1))
    return flatten(a2).mm(fc_w) + fc_b
''')

CONVNET_NO_SECOND_RELU = ("three_layer_convnet", '''
def three_layer_convnet(x, params):
    # Mutant: no ReLU after the second convolution.
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    a1 = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))
    a2 = F.conv2d(a1, conv_w2, conv_b2, padding=1)
    return flatten(a2).mm(fc_w) + fc_b
''')

RANDOM_WEIGHT_XAVIER = ("init_weights", '''
def random_weight(shape):
    # Mutant: Xavier (Glorot) normal, variance 2 / (fan_in + fan_out).
    if len(shape) == 2:
        fan_in, fan_out = shape[0], shape[1]
    else:
        fan_in, fan_out = int(np.prod(shape[1:])), shape[0] * int(np.prod(shape[2:]))
    w = torch.randn(shape, device=device, dtype=dtype) * math.sqrt(2.0 / (fan_in + fan_out))
    return w.requires_grad_()
''')

RANDOM_WEIGHT_FAN_OUT = ("init_weights", '''
def random_weight(shape):
    # Mutant: fan_in read as shape[1] for fully connected weights (nn.Linear's layout,
    # not the (D_in, D_out) one of this part).
    fan_in = int(np.prod(shape[1:]))
    w = torch.randn(shape, device=device, dtype=dtype) * math.sqrt(2.0 / fan_in)
    return w.requires_grad_()
''')

RANDOM_WEIGHT_NOT_LEAF = ("init_weights", '''
def random_weight(shape):
    # Mutant: gradient tracking switched on before scaling, so the result is not a leaf.
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    return torch.randn(shape, device=device, dtype=dtype, requires_grad=True) * math.sqrt(2.0 / fan_in)
''')

ZERO_WEIGHT_NO_GRAD = ("init_weights", '''
def zero_weight(shape):
    # Mutant: forgets requires_grad.
    return torch.zeros(shape, device=device, dtype=dtype)
''')

ACCURACY2_BATCH_MEAN = ("check_accuracy_part2", '''
def check_accuracy_part2(loader, model_fn, params):
    # Mutant: the mean of the per-minibatch accuracies (wrong when the last one is short).
    accs = []
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=dtype)
            preds = model_fn(x, params).argmax(dim=1)
            accs.append(float((preds == y.to(device)).float().mean()))
    acc = sum(accs) / len(accs)
    print("accuracy %.2f%%" % (100 * acc))
    return acc
''')

TRAIN2_NO_ZERO_GRAD = ("train_part2", '''
def train_part2(model_fn, params, learning_rate, loader_train, loader_val, epochs=1,
                max_steps=None, progress=True):
    # Mutant: gradients are never reset, so they pile up over the steps.
    history = {"loss": [], "val_acc": []}
    for epoch in range(epochs):
        for x, y in loader_train:
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.int64)
            loss = F.cross_entropy(model_fn(x, params), y)
            loss.backward()
            with torch.no_grad():
                for w in params:
                    w -= learning_rate * w.grad
            history["loss"].append(loss.item())
    history["val_acc"].append((len(history["loss"]), check_accuracy_part2(loader_val, model_fn, params)))
    return history
''')

TWO_LAYER_FC_NO_RELU = ("TwoLayerFC", '''
class TwoLayerFC(nn.Module):
    # Mutant: no ReLU in forward.
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, num_classes)
        for layer in (self.fc1, self.fc2):
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.fc2(self.fc1(flatten(x)))
''')

TWO_LAYER_FC_DEFAULT_INIT = ("TwoLayerFC", '''
class TwoLayerFC(nn.Module):
    # Mutant: PyTorch's default initialization instead of Kaiming normal / zeros.
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(flatten(x))))
''')

TWO_LAYER_FC_EXTRA_LAYER = ("TwoLayerFC", '''
class TwoLayerFC(nn.Module):
    # Mutant: an unused extra layer (its parameters count too).
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, num_classes)
        self.spare = nn.Linear(num_classes, num_classes)
        for layer in (self.fc1, self.fc2):
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(flatten(x))))
''')

CONVNET_MODULE_XAVIER = ("ThreeLayerConvNet", '''
class ThreeLayerConvNet(nn.Module):
    # Mutant: Xavier normal instead of Kaiming normal.
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1)
        self.fc = nn.Linear(channel_2 * 32 * 32, num_classes)
        for layer in (self.conv1, self.conv2, self.fc):
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(flatten(x))
''')

CONVNET_MODULE_NO_RELU = ("ThreeLayerConvNet", '''
class ThreeLayerConvNet(nn.Module):
    # Mutant: no ReLU after the first convolution.
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1)
        self.fc = nn.Linear(channel_2 * 32 * 32, num_classes)
        for layer in (self.conv1, self.conv2, self.fc):
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(self.conv2(x))
        return self.fc(flatten(x))
''')

CONVNET_MODULE_NO_BIAS = ("ThreeLayerConvNet", '''
class ThreeLayerConvNet(nn.Module):
    # Mutant: convolutions without biases.
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2, bias=False)
        self.conv2 = nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1, bias=False)
        self.fc = nn.Linear(channel_2 * 32 * 32, num_classes)
        for layer in (self.conv1, self.conv2, self.fc):
            nn.init.kaiming_normal_(layer.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(flatten(x))
''')

ACCURACY34_NO_EVAL = ("check_accuracy_part34", '''
def check_accuracy_part34(loader, model):
    # Mutant: leaves the model in training mode.
    num_correct, num_samples = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.int64)
            preds = model(x).argmax(dim=1)
            num_correct += int((preds == y).sum())
            num_samples += int(preds.shape[0])
    return float(num_correct) / num_samples
''')

TRAIN34_TRAIN_MODE_ONCE = ("train_part34", '''
def train_part34(model, optimizer, loader_train, loader_val, epochs=1, max_steps=None,
                 progress=True):
    # Mutant: train mode set once, so the steps after a validation check run in eval mode.
    model = model.to(device=device)
    model.train()
    history = {"loss": [], "val_acc": []}
    step = 0
    for epoch in range(epochs):
        for x, y in loader_train:
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.int64)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            history["loss"].append(loss.item())
            if step % print_every == 0:
                history["val_acc"].append((step, check_accuracy_part34(loader_val, model)))
    history["val_acc"].append((step, check_accuracy_part34(loader_val, model)))
    return history
''')

FLATTEN_MODULE_WRONG = ("Flatten", '''
class Flatten(nn.Module):
    # Mutant: flattens the whole batch into one vector.
    def forward(self, x):
        return x.reshape(1, -1)
''')

SEQUENTIAL_FC_NO_RELU = ("sequential_models", '''
def build_sequential_fc(input_size, hidden_size, num_classes):
    # Mutant: no ReLU.
    return nn.Sequential(Flatten(), nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, num_classes))
''')

SEQUENTIAL_CONVNET_WRONG_PADDING = ("sequential_models", '''
def build_sequential_convnet(in_channel, channel_1, channel_2, num_classes):
    # Mutant: padding 1 and 0 (the fully connected layer is sized for the smaller images).
    return nn.Sequential(
        nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=1), nn.ReLU(),
        nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1), nn.ReLU(),
        Flatten(), nn.Linear(channel_2 * 30 * 30, num_classes))
''')

NESTEROV_OFF = ("sequential_models", '''
def nesterov_sgd(model, learning_rate):
    # Mutant: momentum without Nesterov.
    return optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)
''')

# Each run: {grade_id: [replacement sources]} and the graders each must fail.
MUTANT_RUNS = {
    "mutants_a": ([CONVNET_WRONG_PADDING, RANDOM_WEIGHT_XAVIER, ACCURACY2_BATCH_MEAN, TRAIN2_NO_ZERO_GRAD,
                   TWO_LAYER_FC_NO_RELU, CONVNET_MODULE_XAVIER, ACCURACY34_NO_EVAL,
                   SEQUENTIAL_CONVNET_WRONG_PADDING, NESTEROV_OFF],
                  ["test_three_layer_convnet", "test_random_weight", "test_check_accuracy_part2",
                   "test_train_part2", "test_two_layer_fc_forward", "test_three_layer_convnet_init",
                   "test_check_accuracy_part34", "test_sequential_convnet", "test_nesterov_sgd"]),
    "mutants_b": ([TWO_LAYER_NO_RELU, CONVNET_NO_SECOND_RELU, ZERO_WEIGHT_NO_GRAD, RANDOM_WEIGHT_FAN_OUT,
                   CONVNET_MODULE_NO_RELU, TWO_LAYER_FC_DEFAULT_INIT, TRAIN34_TRAIN_MODE_ONCE,
                   SEQUENTIAL_FC_NO_RELU],
                  ["test_two_layer_fc", "test_three_layer_convnet", "test_zero_weight", "test_random_weight",
                   "test_three_layer_convnet_forward", "test_two_layer_fc_init", "test_train_part34",
                   "test_sequential_fc"]),
    "mutants_c": ([FLATTEN_CHANNELS_LAST, RANDOM_WEIGHT_NOT_LEAF, TWO_LAYER_FC_EXTRA_LAYER,
                   CONVNET_MODULE_NO_BIAS, FLATTEN_MODULE_WRONG],
                  ["test_flatten", "test_random_weight", "test_two_layer_fc_parameters",
                   "test_three_layer_convnet_parameters", "test_flatten_module"]),
}

# ---------------------------------------------------------------------------- alternatives

ALTERNATIVES = [
    ("flatten", '''
def flatten(x):
    return torch.flatten(x, start_dim=1)
'''),
    ("two_layer_fc", '''
def two_layer_fc(x, params):
    h = torch.clamp(torch.matmul(x.view(x.size(0), -1), params[0]), min=0)
    return torch.matmul(h, params[1])
'''),
    ("three_layer_convnet", '''
def three_layer_convnet(x, params):
    out = x
    for w, b in ((params[0], params[1]), (params[2], params[3])):
        same = (w.shape[-1] - 1) // 2
        out = F.conv2d(out, w, b, stride=1, padding=same).clamp_min(0)
    return F.linear(out.flatten(1), params[4].t(), params[5])
'''),
    ("init_weights", '''
def random_weight(shape):
    fan_in = math.prod(shape[1:]) if len(shape) > 2 else shape[0]
    w = torch.empty(*shape, dtype=dtype, device=device)
    with torch.no_grad():
        w.normal_(0.0, (2.0 / fan_in) ** 0.5)
    return w.requires_grad_(True)


def zero_weight(shape):
    return torch.zeros(*shape, dtype=dtype, device=device).requires_grad_()
'''),
    ("check_accuracy_part2", '''
def check_accuracy_part2(loader, model_fn, params):
    hits = []
    with torch.inference_mode():
        for x, y in loader:
            scores = model_fn(x.to(device=device, dtype=dtype), params)
            hits.append(scores.max(dim=1).indices.cpu().eq(y))
    hits = torch.cat(hits)
    acc = hits.double().mean().item()
    print("Got %d / %d correct (%.2f%%)" % (int(hits.sum()), len(hits), 100 * acc))
    return acc
'''),
    ("train_part2", '''
def train_part2(model_fn, params, learning_rate, loader_train, loader_val, epochs=1,
                max_steps=None, progress=True):
    # Gradients from torch.autograd.grad; .grad is never used.
    history = {"loss": [], "val_acc": []}
    step = 0
    done = False
    for epoch in range(epochs):
        for x, y in loader_train:
            loss = F.cross_entropy(model_fn(x.to(device=device, dtype=dtype), params), y.to(device))
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for w, g in zip(params, grads):
                    w.sub_(g, alpha=learning_rate)
            step += 1
            history["loss"].append(float(loss))
            if step % print_every == 0:
                history["val_acc"].append((step, check_accuracy_part2(loader_val, model_fn, params)))
            if max_steps is not None and step >= max_steps:
                done = True
                break
        if done:
            break
    history["val_acc"].append((step, check_accuracy_part2(loader_val, model_fn, params)))
    return history
'''),
    ("TwoLayerFC", '''
class TwoLayerFC(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(input_size, hidden_size), nn.ReLU(),
                                 nn.Linear(hidden_size, num_classes))
        for m in self.net:
            if isinstance(m, nn.Linear):
                with torch.no_grad():
                    m.weight.normal_(0.0, math.sqrt(2.0 / m.in_features))
                    m.bias.zero_()

    def forward(self, x):
        return self.net(x)
'''),
    ("ThreeLayerConvNet", '''
class ThreeLayerConvNet(nn.Module):
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channel, channel_1, 5, padding="same"), nn.ReLU(),
            nn.Conv2d(channel_1, channel_2, 3, padding="same"), nn.ReLU())
        self.classifier = nn.Linear(32 * 32 * channel_2, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.constant_(m.bias, 0.0)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
'''),
    ("check_accuracy_part34", '''
def check_accuracy_part34(loader, model):
    was_training = model.training
    model.train(False)
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            pred = model(x.to(device=device, dtype=dtype)).argmax(1).cpu()
            correct += (pred == y).sum().item()
            total += y.numel()
    model.train(was_training)
    print("Got %d / %d correct" % (correct, total))
    return correct / total
'''),
    ("train_part34", '''
def train_part34(model, optimizer, loader_train, loader_val, epochs=1, max_steps=None,
                 progress=True):
    model = model.to(device=device)
    history = {"loss": [], "val_acc": []}
    step = 0
    for epoch in range(epochs):
        for x, y in loader_train:
            optimizer.zero_grad(set_to_none=True)
            model.train(True)
            loss = F.cross_entropy(model(x.to(device=device, dtype=dtype)), y.to(device))
            loss.backward()
            optimizer.step()
            step += 1
            history["loss"].append(loss.detach().item())
            if step % print_every == 0:
                history["val_acc"].append((step, check_accuracy_part34(loader_val, model)))
            if max_steps is not None and step >= max_steps:
                break
        if max_steps is not None and step >= max_steps:
            break
    history["val_acc"].append((step, check_accuracy_part34(loader_val, model)))
    return history
'''),
    ("Flatten", '''
class Flatten(nn.Flatten):
    pass
'''),
    ("sequential_models", '''
def build_sequential_fc(input_size, hidden_size, num_classes):
    from collections import OrderedDict
    return nn.Sequential(OrderedDict([
        ("flat", nn.Flatten()), ("hidden", nn.Linear(input_size, hidden_size)),
        ("act", nn.ReLU(inplace=True)), ("out", nn.Linear(hidden_size, num_classes))]))


def build_sequential_convnet(in_channel, channel_1, channel_2, num_classes):
    layers = [nn.Conv2d(in_channel, channel_1, (5, 5), padding=(2, 2)), nn.ReLU()]
    layers += [nn.Conv2d(channel_1, channel_2, (3, 3), padding=(1, 1)), nn.ReLU()]
    layers += [Flatten(), nn.Linear(channel_2 * 1024, num_classes)]
    return nn.Sequential(*layers)


def nesterov_sgd(model, learning_rate):
    return optim.SGD(list(model.parameters()), learning_rate, momentum=0.9, dampening=0,
                     weight_decay=0, nesterov=True)
'''),
]


# ---------------------------------------------------------------------------- runs


def _apply(sub, sol_cells, changes):
    merged = {}
    for grade_id, source in changes:
        merged.setdefault(grade_id, sol_cells[grade_id])
        merged[grade_id] = _replace_definitions(merged[grade_id], textwrap.dedent(source).strip("\n"))
    return merged


@pytest.fixture(scope="module")
def graded(build, grade, tmp_path_factory):
    """graded(name) -> the GradeResult of that run, computed once per module."""
    files = load_assignment(Path(__file__).resolve().parents[2] / "source" / A).submission_files
    cache = {}

    def get(name):
        if name in cache:
            return cache[name]
        start = build.release(A) if name == "stubs" else build.solutions(A)
        sub = tmp_path_factory.mktemp(name)
        for rel in files:
            if (start / rel).is_file():
                (sub / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(start / rel, sub / rel)
        sol_cells = _cell_sources(build.solutions(A) / NB)
        changes = ALTERNATIVES if name == "alternatives" else []
        for grade_id, source in _apply(sub, sol_cells, changes).items():
            mutate_cell(sub, NB, grade_id, source)
        questions = list(FUNCTION_POINTS)
        if name == "reference":
            # A training cell that ran while grading would end the student process.
            _insert_code_cell(sub, "import os\nos._exit(3)  # training cells never run while grading\n")
        if name == "stubs":
            questions += list(TRAINING_POINTS)
        cache[name] = grade(A, sub, only=questions)
        return cache[name]

    return get


def _full_marks(result, points):
    for qid, top in points.items():
        score, max_score = result.question(qid)
        failing = [(t["name"], t.get("output", "")[:400]) for t in result.results["tests"]
                   if t.get("extra_data", {}).get("question") == qid and t["score"] < t["max_score"]]
        assert max_score == top and score == top, (qid, score, max_score, failing, result.log[-2000:])


def test_reference_scores_full_marks(graded):
    """The solution notebook, with an extra training cell that would kill the student
    process if it ran: only definition cells load while grading."""
    _full_marks(graded("reference"), FUNCTION_POINTS)


def test_stubs_score_zero_with_a_message_each(graded):
    result = graded("stubs")
    assert result.max_score == sum(FUNCTION_POINTS.values()) + sum(TRAINING_POINTS.values())
    assert result.score == 0, [(t["name"], t["score"]) for t in result.results["tests"] if t["score"]]
    for t in result.results["tests"]:
        assert t["status"] == "failed" and t["output"].strip(), t
        if t["extra_data"]["question"] in FUNCTION_POINTS:
            assert "not implemented yet" in t["output"], (t["name"], t["output"])
        elif t["extra_data"]["question"] != "pytorch_challenge":
            assert "is missing from your submission" in t["output"], (t["name"], t["output"])
        else:  # the challenge's model cell is a solution region at the top level
            assert "challenge_model" in t["output"], (t["name"], t["output"])


def test_correct_alternatives_score_full_marks(graded):
    _full_marks(graded("alternatives"), FUNCTION_POINTS)
