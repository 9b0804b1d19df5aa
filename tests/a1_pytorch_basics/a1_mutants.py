"""Known-wrong and known-correct versions of a1's answer cells.

Cell sources replace a whole notebook cell (found by grade_id) with `mutate_cell`.
MUTANT_RUNS groups mutants into one grading run each, chosen so that no mutant
changes what another run-mate's graders see: e.g. the reference `gradients` cell
does not call `forward` or `loss_fn`, so mutants of those can share a run with a
gradient mutant, while anything the training functions call never shares a run
with a training mutant.
"""

REG = "TwoLayerRegression.ipynb"
MNIST = "MNIST.ipynb"

# ---------------------------------------------------------------- regression: wrong

SIGMOID_SIGN = '''
def sigmoid(z):
    return 1.0 / (1.0 + torch.exp(z))
'''

FORWARD_NO_OUTPUT_BIAS = '''
def forward(X, W1, b1, W2, b2):
    return sigmoid(X @ W1 + b1) @ W2
'''

LOSS_MEAN = '''
def loss_fn(Y_pred, Y):
    return ((Y - Y_pred) ** 2).mean()
'''

GRADIENTS_TEMPLATE = '''
def gradients(X, Y, W1, b1, W2, b2):
    s = sigmoid(X @ W1 + b1)
    Y_pred = s @ W2 + b2
    dY_pred = {dY}
    dW2 = s.T @ dY_pred
    db2 = {db2}
    dh = (dY_pred @ W2.T) * {dsigma}
    dW1 = X.T @ dh
    db1 = {db1}
    return dW1, db1, dW2, db2
'''
RIGHT = {"dY": "2.0 * (Y_pred - Y)", "db2": "dY_pred.sum(dim=0)", "dsigma": "s * (1.0 - s)",
         "db1": "dh.sum(dim=0)"}
# sigma'(h) written as s * (1 + s) instead of s * (1 - s).
GRADIENTS_SIGMOID_DERIVATIVE = GRADIENTS_TEMPLATE.format(**dict(RIGHT, dsigma="s * (1.0 + s)"))
# Bias gradients averaged over the batch instead of summed.
GRADIENTS_BIAS_MEAN = GRADIENTS_TEMPLATE.format(**dict(RIGHT, db2="dY_pred.mean(dim=0)",
                                                       db1="dh.mean(dim=0)"))
# d||R||^2 / dR = R instead of 2R.
GRADIENTS_NO_FACTOR_2 = GRADIENTS_TEMPLATE.format(**dict(RIGHT, dY="Y_pred - Y"))

# Right values, but from autograd instead of by hand.
GRADIENTS_BY_AUTOGRAD = '''
def gradients(X, Y, W1, b1, W2, b2):
    params = [p.detach().clone().requires_grad_() for p in (W1, b1, W2, b2)]
    f = ((Y - (torch.sigmoid(X @ params[0] + params[1]) @ params[2] + params[3])) ** 2).sum()
    f.backward()
    return tuple(p.grad for p in params)
'''

GD_LOSS_AFTER_UPDATE = '''
def gradient_descent(X, Y, W1, b1, W2, b2, lr, num_steps):
    losses = []
    for _ in range(num_steps):
        dW1, db1, dW2, db2 = gradients(X, Y, W1, b1, W2, b2)
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
        losses.append(loss_fn(forward(X, W1, b1, W2, b2), Y).item())
    return (W1, b1, W2, b2), losses
'''

# Two bugs the two SGD graders catch separately: the step is not divided by the batch
# size (only visible with one batch holding all N examples), and the partial last batch
# is dropped (only visible when N is not a multiple of the batch size).
SGD_UNSCALED_DROPS_LAST = '''
def minibatch_sgd(X, Y, W1, b1, W2, b2, lr, batch_size, num_epochs, seed=0):
    generator = torch.Generator().manual_seed(seed)
    losses = []
    N = X.shape[0]
    for _ in range(num_epochs):
        order = torch.randperm(N, generator=generator)
        for start in range(0, N - batch_size + 1, batch_size):
            rows = order[start:start + batch_size]
            Xb, Yb = X[rows], Y[rows]
            losses.append(loss_fn(forward(Xb, W1, b1, W2, b2), Yb).item() / len(rows))
            dW1, db1, dW2, db2 = gradients(Xb, Yb, W1, b1, W2, b2)
            W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return (W1, b1, W2, b2), losses
'''

# Plain tensor attributes are not registered: state_dict() and parameters() miss them.
MODEL_PLAIN_TENSORS = '''
class TwoLayerRegression(nn.Module):
    def __init__(self, D, M, K):
        super().__init__()
        self.W1, self.b1, self.W2, self.b2 = init_params(D, M, K, dtype=torch.float32)

    def forward(self, X):
        return forward(X, self.W1, self.b1, self.W2, self.b2)
'''

SAVE_RESTORE_TEMPLATE = '''
def save_whole_model(model, path):
    {save_whole}


def load_whole_model(path):
    {load_whole}


def save_state_dict(model, path):
    {save_state}


def restore_from_state_dict(path, D, M, K):
    {restore}
'''
SAVE_RIGHT = {
    "save_whole": "torch.save(model, path)",
    "load_whole": "return torch.load(path, weights_only=False)",
    "save_state": "torch.save(model.state_dict(), path)",
    "restore": "model = TwoLayerRegression(D, M, K)\n"
               "    model.load_state_dict(torch.load(path, weights_only=True))\n"
               "    return model",
}
# The "state dict" file holds the pickled module; restoring reads it as a module.
SAVE_STATE_IS_WHOLE = SAVE_RESTORE_TEMPLATE.format(**dict(
    SAVE_RIGHT, save_state="torch.save(model, path)",
    restore="return torch.load(path, weights_only=False)"))
# Builds the model but never loads the file.
RESTORE_WITHOUT_LOADING = SAVE_RESTORE_TEMPLATE.format(**dict(
    SAVE_RIGHT, restore="return TwoLayerRegression(D, M, K)"))
# The "whole model" is only its state dict; loading rebuilds it from the shapes.
WHOLE_IS_STATE_DICT = SAVE_RESTORE_TEMPLATE.format(**dict(
    SAVE_RIGHT, save_whole="torch.save(model.state_dict(), path)",
    load_whole="state = torch.load(path, weights_only=True)\n"
               "    D, M = state['W1'].shape\n"
               "    model = TwoLayerRegression(D, M, state['W2'].shape[1])\n"
               "    model.load_state_dict(state)\n"
               "    return model"))

# ---------------------------------------------------------------- MNIST: wrong
# Same module names as the reference, so the reference checkpoints still load.

FC_NO_RELU = '''
class FullyConnectedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.Identity(), nn.Linear(256, 10))

    def forward(self, x):
        return self.layers(x)
'''

FC_SOFTMAX_OUTPUT = '''
class FullyConnectedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

    def forward(self, x):
        return torch.softmax(self.layers(x), dim=1)
'''

CNN_TEMPLATE = '''
class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), {drop}, nn.Linear(32 * 7 * 7, 128), nn.ReLU(), {drop}, nn.Linear(128, 10),
        )

    def forward(self, x):
        {forward}
'''
CNN_NO_DROPOUT = CNN_TEMPLATE.format(drop="nn.Identity()", forward="return self.classifier(self.features(x))")
# The batch norm layers exist (so the checkpoint loads) but forward() skips them.
CNN_BATCHNORM_UNUSED = CNN_TEMPLATE.format(drop="nn.Dropout(0.2)", forward="""f = self.features
        for i in (0, 2, 3, 4, 6, 7):
            x = f[i](x)
        return self.classifier(x)""")

# Checkpoint files in place of the trained ones: what a student who saves before
# training, or saves the module object instead of its state dict, would submit.
UNTRAINED = "untrained"
WHOLE_MODULE = "whole_module"

# ---------------------------------------------------------------- correct alternatives

ALT_SIGMOID = '''
def sigmoid(z):
    # exp(-log(1 + exp(-z))), never overflows
    return torch.exp(-torch.logaddexp(torch.zeros_like(z), -z))
'''

ALT_FORWARD = '''
def forward(X, W1, b1, W2, b2):
    return torch.addmm(b2, sigmoid(torch.addmm(b1, X, W1)), W2)
'''

ALT_LOSS = '''
def loss_fn(Y_pred, Y):
    r = (Y - Y_pred).reshape(-1)
    return r @ r
'''

# One example at a time: sums of outer products instead of matrix products.
ALT_GRADIENTS = '''
def gradients(X, Y, W1, b1, W2, b2):
    dW1, db1 = torch.zeros_like(W1), torch.zeros_like(b1)
    dW2, db2 = torch.zeros_like(W2), torch.zeros_like(b2)
    for x, y in zip(X, Y):
        s = sigmoid(x @ W1 + b1)
        g = 2 * (s @ W2 + b2 - y)
        dW2 += torch.outer(s, g)
        db2 += g
        dh = torch.einsum("mk,k->m", W2, g) * s * (1 - s)
        dW1 += torch.outer(x, dh)
        db1 += dh
    return dW1, db1, dW2, db2
'''

# In-place updates on copies.
ALT_GRADIENT_DESCENT = '''
def gradient_descent(X, Y, W1, b1, W2, b2, lr, num_steps):
    params = [p.clone() for p in (W1, b1, W2, b2)]
    losses = []
    for _ in range(num_steps):
        losses.append(float(loss_fn(forward(X, *params), Y)))
        for p, g in zip(params, gradients(X, Y, *params)):
            p.sub_(lr * g)
    return tuple(params), losses
'''

ALT_MINIBATCH_SGD = '''
def minibatch_sgd(X, Y, W1, b1, W2, b2, lr, batch_size, num_epochs, seed=0):
    generator = torch.Generator().manual_seed(seed)
    params = [p.clone() for p in (W1, b1, W2, b2)]
    losses = []
    for _ in range(num_epochs):
        for rows in torch.randperm(X.shape[0], generator=generator).split(batch_size):
            n = rows.numel()
            losses.append(float(loss_fn(forward(X[rows], *params), Y[rows])) / n)
            for p, g in zip(params, gradients(X[rows], Y[rows], *params)):
                p.sub_(g, alpha=lr / n)
    return tuple(params), losses
'''

ALT_MODEL = '''
class TwoLayerRegression(nn.Module):
    def __init__(self, D, M, K):
        super().__init__()
        for name, value in zip(("W1", "b1", "W2", "b2"), init_params(D, M, K, dtype=torch.float32)):
            self.register_parameter(name, nn.Parameter(value))

    def forward(self, X):
        return torch.sigmoid(X @ self.W1 + self.b1) @ self.W2 + self.b2
'''

ALT_SAVE_RESTORE = '''
def save_whole_model(model, path):
    with open(path, "wb") as f:
        torch.save(model, f)


def load_whole_model(path):
    with open(path, "rb") as f:
        return torch.load(f, map_location="cpu", weights_only=False)


def save_state_dict(model, path):
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, path)


def restore_from_state_dict(path, D, M, K):
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = TwoLayerRegression(D, M, K)
    model.load_state_dict(state, strict=True)
    return model
'''

# Named layers and a functional forward; the reference checkpoints are renamed to fit.
ALT_FC = '''
class FullyConnectedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(784, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x.flatten(1))))
'''
ALT_FC_KEYS = {"layers.1": "hidden", "layers.3": "out"}

ALT_CNN = '''
class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.fc1, self.fc2 = nn.Linear(32 * 7 * 7, 128), nn.Linear(128, 10)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.fc1(self.drop(torch.flatten(x, 1))))
        return self.fc2(self.drop(x))
'''
ALT_CNN_KEYS = {"features.0": "conv1", "features.1": "bn1", "features.4": "conv2", "features.5": "bn2",
                "classifier.2": "fc1", "classifier.5": "fc2"}

ALTERNATIVES = {
    "sigmoid": ALT_SIGMOID, "forward": ALT_FORWARD, "loss_fn": ALT_LOSS, "gradients": ALT_GRADIENTS,
    "gradient_descent": ALT_GRADIENT_DESCENT, "minibatch_sgd": ALT_MINIBATCH_SGD,
    "model_class": ALT_MODEL, "save_restore": ALT_SAVE_RESTORE,
}

# ---------------------------------------------------------------- runs
# name -> (questions graded, {(notebook, grade_id): source} or checkpoint changes,
#          graders that must fail, graders that must pass). Graders not listed are
#          affected by a run-mate or not involved; they are not asserted on.

MUTANT_RUNS = {
    "chain_rule": (
        ("forward", "gradients", "save_restore", "mnist_fc", "mnist_cnn"),
        {(REG, "forward"): FORWARD_NO_OUTPUT_BIAS,
         (REG, "gradients"): GRADIENTS_SIGMOID_DERIVATIVE,
         (REG, "save_restore"): SAVE_STATE_IS_WHOLE,
         (MNIST, "fc_model"): FC_SOFTMAX_OUTPUT,
         (MNIST, "cnn_model"): CNN_NO_DROPOUT},
        {"test_forward", "test_grad_W1", "test_grad_b1", "test_state_dict_round_trip",
         "test_fc_architecture", "test_cnn_architecture"},
        {"test_sigmoid", "test_loss", "test_grad_W2", "test_grad_b2", "test_whole_model_round_trip",
         "test_fc_checkpoint_accuracy", "test_cnn_checkpoint_accuracy"},
    ),
    "bias_sums": (
        ("forward", "gradients", "save_restore", "mnist_fc", "mnist_cnn"),
        {(REG, "loss_fn"): LOSS_MEAN,
         (REG, "gradients"): GRADIENTS_BIAS_MEAN,
         (REG, "save_restore"): RESTORE_WITHOUT_LOADING,
         (MNIST, "fc_model"): FC_NO_RELU,
         (MNIST, "cnn_model"): CNN_BATCHNORM_UNUSED,
         ("checkpoint", "fc"): WHOLE_MODULE},
        {"test_loss", "test_grad_b1", "test_grad_b2", "test_state_dict_round_trip",
         "test_fc_architecture", "test_fc_checkpoint_accuracy", "test_cnn_architecture"},
        {"test_sigmoid", "test_forward", "test_grad_W1", "test_grad_W2",
         "test_module_parameters_and_forward", "test_whole_model_round_trip"},
    ),
    "factor_two": (
        ("gradients", "save_restore", "mnist_fc", "mnist_cnn"),
        {(REG, "gradients"): GRADIENTS_NO_FACTOR_2,
         (REG, "save_restore"): WHOLE_IS_STATE_DICT,
         ("checkpoint", "fc"): UNTRAINED,
         ("checkpoint", "cnn"): UNTRAINED},
        {"test_grad_W1", "test_grad_b1", "test_grad_W2", "test_grad_b2", "test_whole_model_round_trip",
         "test_fc_checkpoint_accuracy", "test_cnn_checkpoint_accuracy"},
        {"test_module_parameters_and_forward", "test_state_dict_round_trip",
         "test_fc_architecture", "test_cnn_architecture"},
    ),
    "training": (
        ("training", "save_restore"),
        {(REG, "gradient_descent"): GD_LOSS_AFTER_UPDATE,
         (REG, "minibatch_sgd"): SGD_UNSCALED_DROPS_LAST,
         (REG, "model_class"): MODEL_PLAIN_TENSORS},
        {"test_gradient_descent", "test_minibatch_sgd_one_batch_is_gradient_descent",
         "test_minibatch_sgd_batches", "test_module_parameters_and_forward"},
        set(),
    ),
    "sigmoid_autograd": (
        ("forward", "gradients"),
        {(REG, "sigmoid"): SIGMOID_SIGN,
         (REG, "gradients"): GRADIENTS_BY_AUTOGRAD},
        {"test_sigmoid", "test_forward", "test_grad_W1", "test_grad_b1", "test_grad_W2", "test_grad_b2"},
        {"test_loss"},
    ),
}

# ---------------------------------------------------------------- the harness's form
# The runs above as coursekit.testing.MutantRun (docs/authoring.md, section 6): each run
# is one mutant (its edits together) that the graders in its must-fail set reject; the
# harness also requires every other grader of the run's questions to give full marks.

import pytest  # noqa: E402

from coursekit.testing import Edit, Mutant, MutantRun  # noqa: E402

# Words a grader's message must hold, where the reason it fails is the point.
SAYS = {
    "training": {"test_minibatch_sgd_batches": "expected 12 entries, got 9"},
    # The autograd version uses torch.sigmoid, so only its use of autograd can fail it.
    "sigmoid_autograd": {"test_grad_W2": "without autograd"},
    # Refused when loading, whatever the class does.
    "bias_sums": {"test_fc_checkpoint_accuracy": "holds a pickled torch.nn.modules.container.Sequential"},
}
# Untrained models must earn nothing.
ZERO = {"factor_two": {"test_fc_checkpoint_accuracy", "test_cnn_checkpoint_accuracy"}}
# Graders that use a mutated cell of their run: the round trips build the model class
# that MODEL_PLAIN_TENSORS breaks; the model class's forward calls the forward() cell,
# which chain_rule breaks; the CNN checkpoint is run through the submitted ConvNet, whose
# forward skips batch norm in bias_sums.
DEPENDENTS = {"training": {"test_state_dict_round_trip", "test_whole_model_round_trip"},
              "chain_rule": {"test_module_parameters_and_forward"},
              "bias_sums": {"test_cnn_checkpoint_accuracy"}}


def _checkpoint_edit(which, kind):
    def edit(submission, request):
        from a1_kit import write_checkpoint

        write_checkpoint(submission, which, kind, request.getfixturevalue("build"))
    return edit


def _edits(changes):
    return tuple(_checkpoint_edit(what, new) if where == "checkpoint" else Edit(where, what, new)
                 for (where, what), new in changes.items())


def _needs_mnist(questions):
    return bool({"mnist_fc", "mnist_cnn"} & set(questions))


RUNS = [
    MutantRun(name, questions,
              (Mutant(name, must_fail | DEPENDENTS.get(name, set()), _edits(changes),
                      says=SAYS.get(name, {}),
                      zero=ZERO.get(name, set())),),
              marks=(pytest.mark.realdata("mnist"), pytest.mark.slow) if _needs_mnist(questions) else (),
              base="full_reference" if _needs_mnist(questions) else "reference")
    for name, (questions, changes, must_fail, _must_pass) in MUTANT_RUNS.items()
]
