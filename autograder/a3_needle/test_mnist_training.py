"""Question 8: the MLP ResNet learns MNIST.

The student's MLPResNet, DataLoader and epoch train in the student process on a
fixed subset of the MNIST training set; the grader then asks for logits on held-out
test digits and computes the error itself (the test labels never leave the grader).
"""

import numpy as np

from a3_support import tensor, values
from coursekit.data.loaders import load_mnist
from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import accuracy

pytestmark = question("mnist_training")

N_TRAIN, N_TEST, EPOCHS = 10_000, 2_000, 2
THRESHOLD = 0.15  # test error; the reference solution reaches 0.06 to 0.07 (seeds 0 to 3)


def _subset(data_dir, kind, n, seed):
    images, labels = load_mnist(data_dir, kind=kind)
    idx = np.random.default_rng(seed).permutation(len(labels))[:n]
    return images[idx].reshape(n, 784).astype(np.float32) / np.float32(255), labels[idx]


@weight(13)
@number("8.1")
@timeout(600)
def test_mnist_test_error(student, ndl, data_dir):
    X, y = _subset(data_dir, "train", N_TRAIN, seed=0)
    X_test, y_test = _subset(data_dir, "t10k", N_TEST, seed=1)
    app = student.module("apps.mlp_resnet")
    student.seed(0)
    model = app.MLPResNet(784, 100)
    opt = ndl.optim.Adam(model.parameters(), lr=0.005, weight_decay=0.001)
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size=100, shuffle=True)
    for _ in range(EPOCHS):
        app.epoch(loader, model, opt)
    model.eval()
    logits = values("model logits", model(tensor(ndl, X_test, requires_grad=False)))
    error = 1 - accuracy(logits, y_test, name="model logits")
    if not error < THRESHOLD:
        raise AssertionError(
            f"test error {error:.3f} on {N_TEST} held-out MNIST digits after {EPOCHS} epochs of "
            f"Adam(lr=0.005, weight_decay=0.001) on {N_TRAIN} training digits, batches of 100; "
            f"expected below {THRESHOLD} (the reference solution reaches about 0.065)")
    print(f"test error {error:.4f}")
