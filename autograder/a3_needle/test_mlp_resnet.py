"""Question 7: ResidualBlock, MLPResNet, epoch and train_mnist.

Forward passes are replayed in the grader from the same seed: the modules' random
draws (weights, then dropout masks in forward order) come from the same stream.
"""

import numpy as np

import reference_needle as ref
from a3_support import readable, tensor, values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array, check_scalar

pytestmark = question("mlp_resnet")

NORMS = {"bn": "BatchNorm1d", "ln": "LayerNorm1d"}


def _app(student):
    return student.module("apps.mlp_resnet")


def _n_params(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


def _block_params(dim, hidden):
    return dim * hidden + hidden + 2 * hidden + hidden * dim + dim + 2 * dim


@weight(3)
@number("7.1")
def test_residual_block(student, ndl):
    app = _app(student)
    for norm in NORMS:
        got = _n_params(app.ResidualBlock(13, 6, getattr(ndl.nn, NORMS[norm])))
        if got != _block_params(13, 6):
            raise AssertionError(f"ResidualBlock(13, 6, {NORMS[norm]}) has {got} parameter entries, "
                                 f"expected {_block_params(13, 6)}")
    for seed, norm, p in [(3, "ln", 0.4), (8, "bn", 0.2)]:
        x = np.random.default_rng(seed).standard_normal((5, 9))
        student.seed(seed)
        block = app.ResidualBlock(9, 7, getattr(ndl.nn, NORMS[norm]), p)
        got = values("ResidualBlock output", block(tensor(ndl, x)))
        rs = np.random.RandomState(seed)
        expected = ref.forward(ref.residual_block(rs, 9, 7, norm, p), x.astype(np.float32), rs)
        check_array(f"ResidualBlock(9, 7, {NORMS[norm]}, {p}) in training mode after "
                    f"np.random.seed({seed})", got, expected, tol=1e-4)


@weight(3)
@number("7.2")
def test_mlp_resnet(student, ndl):
    app = _app(student)
    got = _n_params(app.MLPResNet(20, 16, 4, 7, ndl.nn.LayerNorm1d))
    expected = 20 * 16 + 16 + 4 * _block_params(16, 8) + 16 * 7 + 7
    if got != expected:
        raise AssertionError(f"MLPResNet(20, 16, 4, 7) has {got} parameter entries, expected {expected}")
    for seed, norm, p in [(6, "ln", 0.3), (11, "bn", 0.0)]:
        x = np.random.default_rng(seed).standard_normal((4, 10))
        student.seed(seed)
        model = app.MLPResNet(10, 12, 2, 5, getattr(ndl.nn, NORMS[norm]), p)
        got = values("MLPResNet output", model(tensor(ndl, x)))
        rs = np.random.RandomState(seed)
        spec = ref.mlp_resnet(rs, 10, 12, 2, 5, norm, p)
        check_array(f"MLPResNet(10, 12, 2, 5, {NORMS[norm]}, {p}) in training mode after "
                    f"np.random.seed({seed})", got, ref.forward(spec, x.astype(np.float32), rs), tol=1e-4)


def _data(seed, n, dim, classes):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dim)).astype(np.float32), rng.integers(0, classes, n).astype(np.uint8)


def _sizes(dim, hidden, blocks, classes):
    """Parameter sizes of MLPResNet(dim, hidden, blocks, classes), in parameters() order."""
    h2 = hidden // 2
    block = [hidden * h2, h2, h2, h2, h2 * hidden, hidden, hidden, hidden]
    return [dim * hidden, hidden] + block * blocks + [hidden * classes, classes]


def _model_and_spec(student, ndl, seed, dim, hidden, blocks, classes):
    """A student MLPResNet and the grader's replay of it, built from its own weights."""
    student.seed(seed)
    model = _app(student).MLPResNet(dim, hidden, blocks, classes)
    params = [values("parameter", p) for p in model.parameters()]
    sizes = [p.size for p in params]
    if sizes != _sizes(dim, hidden, blocks, classes):
        raise AssertionError(
            f"MLPResNet({dim}, {hidden}, {blocks}, {classes}).parameters() have sizes {sizes}, expected "
            f"{_sizes(dim, hidden, blocks, classes)} (see test 7.2); epoch() cannot be checked")
    return model, ref.mlp_resnet_from_weights(params, blocks)


def _check_epoch(name, got, expected, n):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise AssertionError(f"{name}: expected (error rate, mean loss), got {got!r}")
    err, loss = got
    check_scalar(f"{name}: mean loss", loss, expected[1], tol=1e-4)
    if not abs(float(err) - expected[0]) <= 1.5 / n:
        raise AssertionError(f"{name}: error rate {err}, expected {expected[0]:.4f}")


@weight(2)
@number("7.3")
def test_epoch_evaluation(student, ndl):
    X, y = _data(1, 50, 12, 4)
    model, spec = _model_and_spec(student, ndl, 2, 12, 10, 2, 4)
    model.train()
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size=16, shuffle=False)
    got = _app(student).epoch(loader, model)
    batches = [(X[i], y[i]) for i in ref.batch_order(50, 16)]
    _check_epoch("epoch(loader, model) on 50 examples in batches of 16", got,
                 ref.run_epoch(spec, batches, None, training=False), 50)


@weight(3)
@number("7.4")
def test_epoch_training(student, ndl):
    X, y = _data(3, 50, 12, 4)
    model, spec = _model_and_spec(student, ndl, 4, 12, 10, 2, 4)
    model.eval()
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size=16, shuffle=False)
    # A zero learning rate keeps the weights, so the grader can replay the epoch:
    # training mode (batch statistics, dropout masks drawn after epoch's np.random.seed(4)).
    got = _app(student).epoch(loader, model, ndl.optim.SGD(model.parameters(), lr=0.0))
    batches = [(X[i], y[i]) for i in ref.batch_order(50, 16)]
    _check_epoch("epoch(loader, model, opt) with SGD(lr=0) on 50 examples in batches of 16", got,
                 ref.run_epoch(spec, batches, np.random.RandomState(4), training=True), 50)

    before = [values("parameter", p) for p in model.parameters()]
    _app(student).epoch(loader, model, ndl.optim.SGD(model.parameters(), lr=0.1))
    after = [values("parameter", p) for p in model.parameters()]
    if all(np.array_equal(a, b) for a, b in zip(before, after)):
        raise AssertionError("epoch(loader, model, opt) with SGD(lr=0.1) left every parameter "
                             "unchanged: it should take one optimizer step per batch")


@weight(3)
@number("7.5")
def test_train_mnist(student, ndl, shared_folder):
    rng = np.random.default_rng(12)
    split = {}
    for kind, n in [("train", 90), ("t10k", 40)]:
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        ref.write_idx_images(shared_folder / f"{kind}-images-idx3-ubyte.gz", images)
        ref.write_idx_labels(shared_folder / f"{kind}-labels-idx1-ubyte.gz", labels)
        readable(shared_folder / f"{kind}-images-idx3-ubyte.gz")
        readable(shared_folder / f"{kind}-labels-idx1-ubyte.gz")
        split[kind] = (images.reshape(n, 784).astype(np.float32) / np.float32(255), labels)

    got = _app(student).train_mnist(batch_size=32, epochs=2, optimizer=ndl.optim.SGD, lr=0.0,
                                    weight_decay=0.0, hidden_dim=8, data_dir=str(shared_folder))
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        raise AssertionError(f"train_mnist should return (train error, train loss, test error, test "
                             f"loss), got {got!r}")
    spec = ref.mlp_resnet(np.random.RandomState(4), 784, 8)
    X, y = split["train"]
    for _ in range(2):  # every epoch starts from np.random.seed(4): permutation, then dropout
        rs = np.random.RandomState(4)
        batches = [(X[i], y[i]) for i in ref.batch_order(90, 32, rs.permutation(90))]
        train = ref.run_epoch(spec, batches, rs, training=True)
    X, y = split["t10k"]
    test = ref.run_epoch(spec, [(X[i], y[i]) for i in ref.batch_order(40, 32)], None, training=False)
    name = ("train_mnist(batch_size=32, epochs=2, optimizer=SGD, lr=0, hidden_dim=8) on 90 training "
            "and 40 test images")
    _check_epoch(f"{name}: last training epoch", tuple(got[:2]), train, 90)
    _check_epoch(f"{name}: test set", tuple(got[2:]), test, 40)
