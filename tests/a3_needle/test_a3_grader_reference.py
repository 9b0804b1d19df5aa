"""The graders' own numpy reference (autograder/a3_needle/reference_needle.py)
reproduces the public homework's published values by itself, without the needle
package: the graders' expected values come from a correct method."""

import gzip

import numpy as np
import pytest


@pytest.fixture(scope="module")
def ref(graders_path):
    import reference_needle

    return reference_needle


def grid_array(*shape, entropy=1):
    rs = np.random.RandomState(np.prod(shape) * len(shape) * entropy)
    return (rs.randint(0, 100, size=shape) / 20).astype(np.float32)


def close(actual, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=tol, atol=tol)


def test_initializers(ref):
    close(ref.kaiming_uniform(np.random.RandomState(42), 3, 5)[0],
          [-0.35485414, 1.2748126, 0.65617794, 0.27904832, -0.9729262], 1e-6)
    close(ref.kaiming_normal(np.random.RandomState(42), 3, 5)[2],
          [-0.37837896, -0.38026676, 0.19756137, -1.5621868, -1.4083896], 1e-6)
    close(ref.xavier_uniform(np.random.RandomState(42), 3, 5, 1.5)[1],
          [-0.89375246, -1.1481324, 0.95135355, 0.26270452, 0.54058844], 1e-6)
    close(ref.xavier_normal(np.random.RandomState(42), 3, 5, 0.33)[0],
          [0.08195783, -0.022813609, 0.10686861, 0.25129992, -0.038635306], 1e-6)
    weight, bias = ref.linear_params(np.random.RandomState(1337), 7, 4)
    close(weight[6], [-6.5129338e-04, -5.9517515e-01, -1.6083106e-01, -5.5698222e-01])
    close(bias, [[0.077647, 0.814139, -0.770975, 1.120297]])


def test_logsumexp_and_logsoftmax(ref):
    close(ref.logsumexp(grid_array(3, 3, 3), (1, 2)), [5.366029, 4.9753823, 6.208126])
    close(ref.logsumexp(grid_array(1, 2, 3, 4), (0, 2)),
          [[5.276974, 5.047317, 3.778802, 5.0103745], [5.087831, 4.391712, 5.025037, 2.0214698]])
    z = grid_array(3, 3, 3)
    close(ref.logsumexp_grad(z, (1, 2), 2 * ref.logsumexp(z, (1, 2)))[0],
          [[1.4293308, 1.2933122, 0.82465225], [0.50017685, 2.1323113, 2.1323113],
           [1.4293308, 0.58112264, 0.40951014]])
    z = grid_array(3, 3)
    close(ref.logsoftmax(z)[0], [-1.6436583, -2.7936583, -0.29365814])
    close(ref.logsoftmax_grad(z, 2 * ref.logsoftmax(z))[2], [8.998467, -5.613649, -3.3848193])


def test_softmax_loss(ref):
    labels = np.random.RandomState(5 * 1 * 1).randint(0, 10, size=5)
    loss, _ = ref.softmax_loss(grid_array(5, 10), labels)
    close(loss, 4.041218)
    labels = np.random.RandomState(3).randint(0, 11, size=3)
    _, grad = ref.softmax_loss(grid_array(3, 11), labels)
    close(grad[2, -3:], [0.0037236712, -0.3119051, 0.04104668])


def test_norms(ref):
    x = grid_array(2, 10)
    y, cache = ref.layernorm(x, np.ones(10), np.zeros(10))
    close(y[0, :3], [0.8297899, 1.6147263, -1.525019])
    dx, _, _ = ref.layernorm_backward(4 * y**3, cache)
    close(dx[1, :3], [-9.042961, -2.6184766, 4.5592957], 1e-4)

    out, _, _, _ = ref.batchnorm_train(grid_array(4, 4), grid_array(4, entropy=42), grid_array(4, entropy=1337))
    close(out[0], [7.49529, 0.047213316, 2.690084, 5.5227957])
    spec = ref.norm_spec("bn", 3)
    for i in range(10):
        ref.forward(spec, grid_array(4, 3, entropy=i))
    close(spec[3], [2.020656, 1.69489, 1.498846])
    close(spec[4], [1.412775, 1.386191, 1.096604])


def test_dropout(ref):
    rs = np.random.RandomState(6 * 2 * 1)
    x = rs.randint(0, 100, size=(2, 3)) / 20
    keep = ref.dropout_mask(rs, (2, 3), 0.45)
    close(x * keep / 0.55, [[6.818182, 0.0, 0.0], [0.18181819, 0.0, 6.090909]])


def test_model_replay(ref):
    rs = np.random.RandomState(2)
    x = rs.randn(1, 15)
    block = ref.residual_block(rs, 15, 10, "ln", 0.5)
    close(ref.forward(block, x, rs), [[0.0, 1.358399, 0.0, 1.384224, 0.0, 0.0, 0.255451, 0.077662, 0.0,
                                       0.939582, 0.525591, 1.99213, 0.0, 0.0, 1.012827]])
    rs = np.random.RandomState(4)
    x = rs.randn(2, 15).astype(np.float32)
    model = ref.mlp_resnet(rs, 15, 25, 5, 14, "bn", 0.0)
    close(ref.forward(model, x, rs)[1, :4], [0.6653336, -2.4708004, 2.0572243, -1.0791507], 1e-4)


@pytest.mark.realdata("mnist")
def test_transforms_on_mnist(ref, mnist_path):
    with gzip.open(mnist_path / "train-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    sample = [1, 42, 1000, 2000, 3000, 4000, 5000, 5005]
    rs = np.random.RandomState(0)
    norms = [np.linalg.norm(ref.flip(rs, ref.crop(rs, images[i] / np.float32(255), 28), 0.5))
             for i in sample]
    close(norms, [2.0228338, 0.0, 7.4892044, 0.0, 0.0, 3.8012788, 9.583429, 4.2152724])
    for i in sample:  # the published test reads each item twice (image, then label)
        ref.flip(rs, ref.crop(rs, images[i], 28), 0.5)
    norms = [np.linalg.norm(ref.flip(rs, ref.crop(rs, images[i] / np.float32(255), 12), 0.4))
             for i in sample]
    close(norms, [5.369537, 5.5454974, 8.966858, 7.547235, 8.785921, 7.848442, 7.1654058, 9.361828])
