"""The reference solution reproduces the expected values that the public version of
this homework publishes (its local tests), so course staff can reuse them.

The inputs are made the way those tests make them: integer draws after seeding
numpy with a value computed from the shape, divided by 20. The same values are the
notebook's public checks.
"""

import numpy as np
import pytest

F32 = np.float32


def grid(ndl, *shape, entropy=1):
    np.random.seed(np.prod(shape) * len(shape) * entropy)
    return ndl.Tensor(np.random.randint(0, 100, size=shape) / 20, dtype="float32")


def int_grid(ndl, *shape, low=0, high=10, entropy=1):
    np.random.seed(np.prod(shape) * len(shape) * entropy)
    return ndl.Tensor(np.random.randint(low, high, size=shape))


def close(actual, expected, tol=1e-5):
    actual = np.asarray(actual)
    # The published values are written as float32 literals.
    dtype = actual.dtype if actual.dtype == np.float32 else None
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=dtype), rtol=tol, atol=tol)


# ---------------------------------------------------------------- ops


def test_prng_matches(ndl):
    close(grid(ndl, 3, 3).numpy(), [[2.1, 0.95, 3.45], [3.1, 2.45, 2.3], [3.3, 0.4, 1.2]], 1e-8)


def test_logsoftmax(ndl):
    close(ndl.ops.logsoftmax(grid(ndl, 3, 3)).numpy(),
          [[-1.6436583, -2.7936583, -0.29365814], [-0.6787312, -1.3287311, -1.4787312],
           [-0.16337626, -3.0633762, -2.2633762]])
    close(ndl.ops.logsoftmax(grid(ndl, 3, 3) * 1e5).numpy(),
          [[-135000.02, -250000.0, 0.0], [0.0, -65000.0, -80000.0], [0.0, -290000.0, -210000.0]])
    x = grid(ndl, 3, 3)
    (ndl.ops.logsoftmax(x * 1.0) ** 2).sum().backward()
    close(x.grad.numpy(), [[-1.4585897, -5.008274, 6.4668627], [2.1793516, -0.81108296, -1.3682691],
                           [8.998467, -5.613649, -3.3848193]])


@pytest.mark.parametrize("shape, axes, expected", [
    ((3, 3, 3), (1, 2), [5.366029, 4.9753823, 6.208126]),
    ((3, 3, 3), None, [6.7517853]),
    ((1, 2, 3, 4), (0, 2), [[5.276974, 5.047317, 3.778802, 5.0103745],
                            [5.087831, 4.391712, 5.025037, 2.0214698]]),
    ((3, 10), (1,), [5.705309, 5.976375, 5.696459]),
])
def test_logsumexp_forward(ndl, shape, axes, expected):
    close(ndl.ops.logsumexp(grid(ndl, *shape), axes=axes).numpy(), expected)


def test_logsumexp_is_stable(ndl):
    big = np.array([[1e10, 1e9, 1e8, -10], [1e-10, 1e9, 1e8, -10]])
    close(ndl.ops.logsumexp(ndl.Tensor(big), (0,)).numpy(),
          [1.00000000e10, 1.00000000e09, 1.00000001e08, -9.30685282e00])
    x = ndl.Tensor(big)
    (ndl.ops.logsumexp(x, (0,)) ** 2).sum().backward()
    close(x.grad.numpy(), [[2.00000000e10, 9.99999999e08, 1.00000001e08, -9.30685282e00],
                           [0.0, 9.99999999e08, 1.00000001e08, -9.30685282e00]])


@pytest.mark.parametrize("shape, axes, expected", [
    ((3, 1), (1,), [[1.0], [7.3], [9.9]]),
    ((3, 3, 3), (1, 2), [[[1.4293308, 1.2933122, 0.82465225], [0.50017685, 2.1323113, 2.1323113],
                          [1.4293308, 0.58112264, 0.40951014]],
                         [[0.3578173, 0.07983983, 4.359107], [1.1300558, 0.561169, 0.1132981],
                          [0.9252113, 0.65198547, 1.7722803]],
                         [[0.2755132, 2.365242, 2.888913], [0.05291228, 1.1745441, 0.02627547],
                          [2.748018, 0.13681579, 2.748018]]]),
    ((3, 3, 3), (0, 2), [[[0.92824626, 0.839912, 0.5355515], [0.59857905, 2.551811, 2.551811],
                          [1.0213376, 0.41524494, 0.29261813]],
                         [[0.16957533, 0.03783737, 2.0658503], [0.98689, 0.49007502, 0.09894446],
                          [0.48244575, 0.3399738, 0.9241446]],
                         [[0.358991, 3.081887, 3.764224], [0.12704718, 2.820187, 0.06308978],
                          [3.9397335, 0.19614778, 3.9397335]]]),
    ((1, 2, 3, 4), None, [[[[0.96463485, 1.30212122, 0.09671321, 1.84779774],
                            [1.84779774, 0.39219132, 0.21523925, 0.30543892],
                            [0.01952606, 0.55654611, 0.32109909, 0.01598658]],
                           [[1.30212122, 0.83026929, 0.30543892, 0.01680623],
                            [0.29054249, 0.07532032, 1.84779774, 0.05307731],
                            [0.75125862, 0.26289377, 0.04802637, 0.03932065]]]]),
])
def test_logsumexp_backward(ndl, shape, axes, expected):
    x = grid(ndl, *shape)
    (ndl.ops.logsumexp(x, axes=axes) ** 2).sum().backward()
    close(x.grad.numpy(), expected)


# ---------------------------------------------------------------- init


def test_initializers(ndl):
    np.random.seed(42)
    close(ndl.init.kaiming_uniform(3, 5).numpy(),
          [[-0.35485414, 1.2748126, 0.65617794, 0.27904832, -0.9729262],
           [-0.97299445, -1.2499284, 1.0357026, 0.28599644, 0.58851814],
           [-1.3559918, 1.3291057, 0.9402898, -0.81362784, -0.8999349]], 1e-4)
    np.random.seed(42)
    close(ndl.init.kaiming_normal(3, 5).numpy(),
          [[0.4055654, -0.11289233, 0.5288355, 1.2435486, -0.19118543],
           [-0.19117202, 1.2894219, 0.62660784, -0.38332424, 0.4429984],
           [-0.37837896, -0.38026676, 0.19756137, -1.5621868, -1.4083896]], 1e-4)
    np.random.seed(42)
    close(ndl.init.xavier_uniform(3, 5, gain=1.5).numpy(),
          [[-0.32595432, 1.1709901, 0.60273796, 0.25632226, -0.8936898],
           [-0.89375246, -1.1481324, 0.95135355, 0.26270452, 0.54058844],
           [-1.245558, 1.2208616, 0.8637113, -0.74736494, -0.826643]], 1e-4)
    np.random.seed(42)
    close(ndl.init.xavier_normal(3, 5, gain=0.33).numpy(),
          [[0.08195783, -0.022813609, 0.10686861, 0.25129992, -0.038635306],
           [-0.038632598, 0.2605701, 0.12662673, -0.07746328, 0.08952241],
           [-0.07646392, -0.07684541, 0.039923776, -0.31569123, -0.28461143]], 1e-4)


# ---------------------------------------------------------------- nn modules


def test_linear(ndl):
    np.random.seed(1337)
    f = ndl.nn.Linear(7, 4)
    close(f.weight.numpy(), [
        [-4.4064468e-01, -6.3199449e-01, -4.1082984e-01, -7.5330488e-02],
        [-3.3144259e-01, 3.4056887e-02, -4.4079605e-01, 8.8153863e-01],
        [4.3108878e-01, -7.1237373e-01, -2.1057765e-01, 2.3793796e-01],
        [-6.9425780e-01, 8.9535803e-01, -1.0512712e-01, 5.3615785e-01],
        [5.4460180e-01, -2.5689366e-01, -1.5534532e-01, 1.5601574e-01],
        [4.8174453e-01, -5.7806653e-01, -3.9223823e-01, 3.1518409e-01],
        [-6.5129338e-04, -5.9517515e-01, -1.6083106e-01, -5.5698222e-01]])
    close(f.bias.numpy(), [[0.077647, 0.814139, -0.770975, 1.120297]])

    def run(x_shape, backward):
        np.random.seed(199)
        f = ndl.nn.Linear(10, 5)
        f.bias.data = grid(ndl, 5)
        x = grid(ndl, *x_shape)
        if not backward:
            return f(x).numpy()
        (f(x) ** 2).sum().backward()
        return x.grad.numpy()

    close(run((1, 10), False), [[3.849948, 9.50499, 2.38029, 5.572587, 5.668391]])
    close(run((3, 10), False), [[7.763089, 10.086785, 0.380316, 6.242502, 6.944664],
                                [2.548275, 7.747925, 5.343155, 2.065694, 9.871243],
                                [2.871696, 7.466332, 4.236925, 2.461897, 8.209476]])
    close(run((1, 3, 10), False), [[[4.351459, 8.782808, 3.935711, 3.03171, 8.014219],
                                    [5.214458, 8.728788, 2.376814, 5.672185, 4.974319],
                                    [1.343204, 8.639378, 2.604359, -0.282955, 9.864498]]])
    close(run((1, 10), True), [[20.61148, 6.920893, -1.625556, -13.497676, -6.672813,
                                18.762121, 7.286628, 8.18535, 2.741301, 5.723689]])
    close(run((3, 10), True), [
        [24.548800, 8.775347, 4.387898, -21.248514, -3.9669373, 24.256767, 6.3171115, 6.029777,
         0.8809935, 3.5995162],
        [12.233745, -3.792646, -4.1903896, -5.106719, -12.004269, 11.967942, 11.939469, 19.314493,
         10.631226, 14.510731],
        [12.920014, -1.4545978, -3.0892954, -6.762379, -9.713004, 12.523148, 9.904757, 15.442993,
         8.044141, 11.4106865]])
    close(run((1, 3, 10), True), [[
        [16.318823, 0.3890714, -2.3196607, -10.607947, -8.891977, 16.04581, 9.475689, 14.571134,
         6.581477, 10.204643],
        [20.291656, 7.48733, 1.2581345, -14.285493, -6.0252004, 19.621624, 4.343303, 6.973201,
         -0.8103489, 4.037069],
        [11.332953, -5.698288, -8.815561, -7.673438, -7.6161675, 9.361553, 17.341637, 17.269142,
         18.1076, 14.261493]]])


def test_relu_sequential_residual(ndl):
    nn = ndl.nn
    close(nn.ReLU()(grid(ndl, 2, 2)).numpy(), [[3.35, 4.2], [0.25, 4.5]])
    x = grid(ndl, 3, 2)
    (nn.ReLU()(x) ** 2).sum().backward()
    close(x.grad.numpy(), [[7.5, 2.7], [0.6, 0.2], [0.3, 6.7]])

    def sequential(backward):
        np.random.seed(42)
        f = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 5))
        x = grid(ndl, 3, 5)
        if not backward:
            return f(x).numpy()
        f(x).sum().backward()
        return x.grad.numpy()

    close(sequential(False), [[3.296263, 0.057031, 2.97568, -4.618432, -0.902491],
                              [2.465332, -0.228394, 2.069803, -3.772378, -0.238334],
                              [3.04427, -0.25623, 3.848721, -6.586399, -0.576819]])
    close(sequential(True), [[0.802697, -1.0971, 0.120842, 0.033051, 0.241105],
                             [-0.364489, 0.651385, 0.482428, 0.925252, -1.233545],
                             [0.802697, -1.0971, 0.120842, 0.033051, 0.241105]])

    def residual(backward):
        np.random.seed(42)
        f = nn.Residual(nn.Sequential(nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 5)))
        x = grid(ndl, 5, 5)
        if not backward:
            return f(x).numpy()
        f(x).sum().backward()
        return x.grad.numpy()

    close(residual(False), [[0.4660964, 3.8619597, -3.637068, 3.7489638, 2.4931884],
                            [-3.3769124, 2.5409935, -2.7110925, 4.9782896, -3.005401],
                            [-3.0222898, 3.796795, -2.101042, 6.785948, 0.9347453],
                            [-2.2496533, 3.635599, -2.1818666, 5.6361046, 0.9748006],
                            [-0.03458184, 0.0823682, -0.06686163, 1.9169499, 1.2638961]])
    close(residual(True), [[0.24244219, -0.19571924, -0.08556509, 0.9191598, 1.6787351]] * 5)


def test_flatten(ndl):
    close(ndl.nn.Flatten()(grid(ndl, 3, 3)).numpy(), [[2.1, 0.95, 3.45], [3.1, 2.45, 2.3], [3.3, 0.4, 1.2]])
    close(ndl.nn.Flatten()(grid(ndl, 3, 3, 3)).numpy(),
          [[3.35, 3.25, 2.8, 2.3, 3.75, 3.75, 3.35, 2.45, 2.1],
           [1.65, 0.15, 4.15, 2.8, 2.1, 0.5, 2.6, 2.25, 3.25],
           [2.4, 4.55, 4.75, 0.75, 3.85, 0.05, 4.7, 1.7, 4.7]])
    x = grid(ndl, 2, 2, 2, 2)
    (ndl.nn.Flatten()(x) ** 2).sum().backward()
    close(x.grad.numpy(), [[[[6.8, 3.8], [5.4, 5.1]], [[8.5, 4.8], [3.1, 1.0]]],
                           [[[9.3, 0.8], [3.4, 1.6]], [[9.4, 3.6], [6.6, 7.0]]]])


def test_softmax_loss(ndl):
    def loss(rows, classes):
        return ndl.nn.SoftmaxLoss()(grid(ndl, rows, classes), int_grid(ndl, rows, low=0, high=classes))

    close(loss(5, 10).numpy(), 4.041218)
    close(loss(3, 11).numpy(), 3.3196716)
    x = grid(ndl, 3, 11)
    ndl.nn.SoftmaxLoss()(x, int_grid(ndl, 3, low=0, high=11)).backward()
    close(x.grad.numpy(), [
        [0.0027466794, 0.020295369, 0.012940894, 0.04748398, 0.052477922, 0.090957515,
         0.0028875037, 0.012940894, 0.040869843, 0.04748398, -0.33108455],
        [0.0063174255, 0.001721699, 0.09400159, 0.0034670753, 0.038218185, 0.009424488,
         0.0042346967, 0.08090791, -0.29697907, 0.0044518122, 0.054234188],
        [0.14326698, 0.002624026, 0.0032049934, 0.01176007, 0.045363605, 0.0043262867,
         0.039044812, 0.017543964, 0.0037236712, -0.3119051, 0.04104668]])


def test_layernorm(ndl):
    close(ndl.nn.LayerNorm1d(3)(grid(ndl, 3, 3)).numpy(),
          [[-0.06525002, -1.1908097, 1.2560595], [1.3919864, -0.47999576, -0.911992],
           [1.3628436, -1.0085043, -0.3543393]])
    close(ndl.nn.LayerNorm1d(5)(grid(ndl, 1, 5)).numpy(),
          [[-1.0435007, -0.8478443, 0.7500162, -0.42392215, 1.565251]])
    x = grid(ndl, 2, 10)
    (ndl.nn.LayerNorm1d(10)(x) ** 4).sum().backward()
    close(x.grad.numpy(), [
        [-2.301574, 4.353944, -1.9396116, 2.4330146, -1.1070801, 0.01571643, -2.209449,
         0.49513134, -2.261348, 2.5212562],
        [-9.042961, -2.6184766, 4.5592957, -4.2109876, 3.4247458, -1.9075732, -2.2689414,
         2.110825, 5.044025, 4.910048]])
    x = grid(ndl, 1, 5)
    (ndl.nn.LayerNorm1d(5)(x) ** 4).sum().backward()
    close(x.grad.numpy(), [[0.150192, 0.702322, -3.321343, 0.31219, 2.156639]])


def test_batchnorm(ndl):
    nn = ndl.nn
    close(nn.BatchNorm1d(4)(grid(ndl, 4, 4)).numpy(), [
        [7.8712696e-01, -3.1676728e-01, -6.4885163e-01, 2.0828949e-01],
        [-7.9508079e-03, 1.0092355e00, 1.6221288e00, 8.5209310e-01],
        [8.5073310e-01, -1.4954363e00, -9.6686421e-08, -1.6852506e00],
        [-1.6299094e00, 8.0296844e-01, -9.7327745e-01, 6.2486827e-01]])
    bn = nn.BatchNorm1d(4)
    bn.weight.data = grid(ndl, 4, entropy=42)
    bn.bias.data = grid(ndl, 4, entropy=1337)
    close(bn(grid(ndl, 4, 4)).numpy(), [[7.49529, 0.047213316, 2.690084, 5.5227957],
                                         [4.116209, 3.8263211, 7.79979, 7.293256],
                                         [7.765616, -3.3119934, 4.15, 0.31556034],
                                         [-2.7771149, 3.23846, 1.9601259, 6.6683874]])
    bn = nn.BatchNorm1d(3)
    for i in range(10):
        x = grid(ndl, 4, 3, entropy=i)
        y = bn(x)
    close(bn.running_mean.numpy(), [2.020656, 1.69489, 1.498846])
    close(bn.running_var.numpy(), [1.412775, 1.386191, 1.096604])
    bn.eval()
    (y**2).sum().backward()
    close(x.grad.numpy(), [[8.7022781e-06, -4.9751252e-06, 9.5367432e-05],
                           [6.5565109e-06, -7.2401017e-06, -2.3484230e-05],
                           [-3.5762787e-06, -4.5262277e-07, 1.6093254e-05],
                           [-1.1682510e-05, 1.2667850e-05, -8.7976456e-05]])


def test_training_flags(ndl):
    nn = ndl.nn

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.stuff = {"layer1": nn.Linear(4, 4),
                          "layer2": [nn.Dropout(0.1), nn.Sequential(nn.Linear(4, 4))]}

    model = nn.Sequential(nn.BatchNorm1d(4), nn.Sequential(nn.LayerNorm1d(4), nn.Linear(4, 4),
                                                           nn.Dropout(0.1)),
                          nn.Linear(4, 4), Holder())
    refs = [model.modules[0], model.modules[1].modules[0], model.modules[1].modules[1],
            model.modules[1].modules[2], model.modules[2], model.modules[3],
            model.modules[3].stuff["layer1"], model.modules[3].stuff["layer2"][0],
            model.modules[3].stuff["layer2"][1].modules[0]]
    flags = [not m.training for m in refs]
    model.eval()
    flags += [not m.training for m in refs]
    model.train()
    flags += [not m.training for m in refs]
    assert flags == [False] * 9 + [True] * 9 + [False] * 9


def test_dropout(ndl):
    np.random.seed(3)
    x = grid(ndl, 2, 3)
    close(ndl.nn.Dropout(0.45)(x).numpy(), [[6.818182, 0.0, 0.0], [0.18181819, 0.0, 6.090909]])
    np.random.seed(3)
    x = grid(ndl, 2, 3)
    ndl.nn.Dropout(0.26)(x).sum().backward()
    close(x.grad.numpy(), [[1.3513514, 0.0, 0.0], [1.3513514, 0.0, 1.3513514]])


# ---------------------------------------------------------------- optimizers


def learn_1d(ndl, model_fn, optimizer, epochs=1, evaluate=False, **kwargs):
    """Train on 1024 made-up examples in batches of 32; the last batch's loss."""
    nn = ndl.nn
    np.random.seed(42)
    model = model_fn()
    X = grid(ndl, 1024, 64).numpy()
    y = int_grid(ndl, 1024, low=0, high=16).numpy().astype(np.uint8)
    loss_fn = nn.SoftmaxLoss()
    opt = optimizer(model.parameters(), **kwargs)
    for _ in range(epochs):
        for X0, y0 in zip(np.array_split(X, 32), np.array_split(y, 32)):
            opt.reset_grad()
            loss = loss_fn(model(ndl.Tensor(X0, dtype="float32")), ndl.Tensor(y0))
            loss.backward()
            before = model.parameters()[0].grad.numpy().copy()
            opt.step()
            np.testing.assert_array_equal(model.parameters()[0].grad.numpy(), before)
    if evaluate:
        model.eval()
        X_test = ndl.Tensor(grid(ndl, 32, 64).numpy())
        y_test = ndl.Tensor(int_grid(ndl, 32, low=0, high=16).numpy().astype(np.uint8))
        return loss_fn(model(X_test), y_test).numpy()
    return loss.numpy()


def mlp(ndl, *middle):
    nn = ndl.nn
    return lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), *middle, nn.Linear(32, 16))


def test_sgd(ndl):
    nn = ndl.nn
    SGD = ndl.optim.SGD
    close(learn_1d(ndl, mlp(ndl), SGD, lr=0.01, momentum=0.0), 3.207009)
    close(learn_1d(ndl, mlp(ndl), SGD, lr=0.01, momentum=0.9), 3.311805)
    close(learn_1d(ndl, mlp(ndl), SGD, lr=0.01, momentum=0.0, weight_decay=0.01), 3.202637)
    close(learn_1d(ndl, mlp(ndl), SGD, lr=0.01, momentum=0.9, weight_decay=0.01), 3.306993)
    model = lambda: nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Residual(nn.Linear(8, 8)),  # noqa: E731
                                  nn.Linear(8, 16))
    close(learn_1d(ndl, model, SGD, epochs=3, lr=0.01, weight_decay=0.001), 2.852236)


def test_adam(ndl):
    nn = ndl.nn
    Adam = ndl.optim.Adam
    close(learn_1d(ndl, mlp(ndl), Adam, lr=0.001), 3.703999)
    close(learn_1d(ndl, mlp(ndl), Adam, lr=0.001, weight_decay=0.01), 3.705134)
    close(learn_1d(ndl, mlp(ndl, nn.BatchNorm1d(32)), Adam, lr=0.001, weight_decay=0.001), 3.296256)
    close(learn_1d(ndl, mlp(ndl, nn.BatchNorm1d(32)), Adam, evaluate=True, lr=0.001,
                   weight_decay=0.001), 3.192054)
    close(learn_1d(ndl, mlp(ndl, nn.LayerNorm1d(32)), Adam, lr=0.01, weight_decay=0.01), 2.82192)


# ---------------------------------------------------------------- data

SAMPLE = [1, 42, 1000, 2000, 3000, 4000, 5000, 5005]


def mnist(ndl, folder, kind, transforms=None):
    return ndl.data.MNISTDataset(str(folder / f"{kind}-images-idx3-ubyte.gz"),
                                 str(folder / f"{kind}-labels-idx1-ubyte.gz"), transforms=transforms)


def norms_and_labels(dataset):
    norms = [np.linalg.norm(dataset[i][0]) for i in SAMPLE]
    return np.array(norms), np.array([dataset[i][1] for i in SAMPLE])


@pytest.mark.realdata("mnist")
def test_mnist_dataset(ndl, mnist_path):
    train = mnist(ndl, mnist_path, "train")
    assert len(train) == 60000
    assert train[0][0].shape == (28, 28, 1) and train[:5][0].shape == (5, 28, 28, 1)
    norms, labels = norms_and_labels(train)
    np.testing.assert_allclose(norms, [10.188792, 6.261355, 8.966858, 9.4346485, 9.086626,
                                       9.214664, 10.208544, 10.649756], rtol=1e-6)
    np.testing.assert_array_equal(labels, [0, 7, 0, 5, 9, 7, 7, 8])
    test = mnist(ndl, mnist_path, "t10k")
    assert len(test) == 10000
    norms, labels = norms_and_labels(test)
    close(norms, [9.857545, 8.980832, 8.57207, 6.891522, 8.192135, 9.400087, 8.645003, 7.405202])
    np.testing.assert_array_equal(labels, [2, 4, 9, 6, 6, 9, 3, 1])

    np.random.seed(0)
    data = ndl.data
    augmented = mnist(ndl, mnist_path, "train", [data.RandomCrop(28), data.RandomFlipHorizontal()])
    norms, labels = norms_and_labels(augmented)
    close(norms, [2.0228338, 0.0, 7.4892044, 0.0, 0.0, 3.8012788, 9.583429, 4.2152724])
    np.testing.assert_array_equal(labels, [0, 7, 0, 5, 9, 7, 7, 8])
    augmented = mnist(ndl, mnist_path, "train", [data.RandomCrop(12), data.RandomFlipHorizontal(0.4)])
    norms, _ = norms_and_labels(augmented)
    close(norms, [5.369537, 5.5454974, 8.966858, 7.547235, 8.785921, 7.848442, 7.1654058, 9.361828])
    assert augmented[0][0].shape == (28, 28, 1)


def test_dataloader_ndarray(ndl):
    data = ndl.data
    for batch_size in [1, 10, 100]:
        np.random.seed(0)
        dataset = data.NDArrayDataset(np.random.rand(100, 10, 10))
        for i, batch in enumerate(data.DataLoader(dataset, batch_size=batch_size, shuffle=False)):
            expected = dataset[i * batch_size:(i + 1) * batch_size][0].reshape((batch_size, 10, 10))
            np.testing.assert_allclose(batch[0].numpy(), expected)
    np.random.seed(0)
    loader = iter(data.DataLoader(data.NDArrayDataset(np.arange(100)), batch_size=1, shuffle=True))
    firsts = [next(loader)[0].numpy().item() for _ in range(10)]
    assert firsts == [26, 86, 2, 55, 75, 93, 16, 73, 54, 95]
    loader = iter(data.DataLoader(data.NDArrayDataset(np.arange(100)), batch_size=10, shuffle=True))
    norms = [np.linalg.norm(next(loader)[0].numpy()) for _ in range(10)]
    np.testing.assert_allclose(norms, [164.805946, 173.43875, 169.841102, 189.050258, 195.880065,
                                       206.387984, 209.909504, 185.776748, 145.948621, 160.252925])


# ---------------------------------------------------------------- MLP ResNet


def n_params(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


def test_mlp_resnet_structure(ndl, mlp_resnet):
    nn = ndl.nn
    assert n_params(mlp_resnet.ResidualBlock(15, 2, nn.BatchNorm1d)) == 111
    assert n_params(mlp_resnet.ResidualBlock(784, 100, nn.LayerNorm1d)) == 159452
    assert n_params(mlp_resnet.MLPResNet(150, 100, 5, 10, nn.LayerNorm1d)) == 68360
    assert n_params(mlp_resnet.MLPResNet(10, 100, 1, 100, nn.BatchNorm1d)) == 21650

    np.random.seed(2)
    x = ndl.Tensor(np.random.randn(1, 15))
    close(mlp_resnet.ResidualBlock(15, 10, nn.LayerNorm1d, 0.5)(x).numpy(),
          [[0.0, 1.358399, 0.0, 1.384224, 0.0, 0.0, 0.255451, 0.077662, 0.0, 0.939582, 0.525591,
            1.99213, 0.0, 0.0, 1.012827]])

    def forward(dim, hidden, blocks, classes, norm, p):
        np.random.seed(4)
        x = ndl.Tensor(np.random.randn(2, dim), dtype=np.float32)
        return mlp_resnet.MLPResNet(dim, hidden, blocks, classes, norm, p)(x).numpy()

    close(forward(10, 5, 2, 5, nn.LayerNorm1d, 0.5),
          [[3.046162, 1.44972, -1.921363, 0.021816, -0.433953],
           [3.489114, 1.820994, -2.111306, 0.226388, -1.029428]])
    close(forward(15, 25, 5, 14, nn.BatchNorm1d, 0.0), [
        [0.92448235, -2.745743, -1.5077105, 1.130784, -1.2078242, -0.09833566, -0.69301605,
         2.8945382, 1.259397, 0.13866742, -2.963875, -4.8566914, 1.7062538, -4.846424],
        [0.6653336, -2.4708004, 2.0572243, -1.0791507, 4.3489094, 3.1086435, 0.0304327,
         -1.9227124, -1.416201, -7.2151937, -1.4858506, 7.1039696, -2.1589825, -0.7593413]])


# The published epoch(), evaluation and train_mnist values on full MNIST are checked
# by hw2.ipynb's public checks: test_a3_notebook.py runs them with the solution.
