"""An MLP with residual blocks, trained on MNIST with needle (Question 7).

Run from the kit folder: `python apps/mlp_resnet.py` trains with the defaults on the
MNIST files in data/.
"""

import os
import sys

# Make `import needle` work however this file is reached (notebook, tests, command line).
_KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.join(_KIT, "python") not in sys.path:
    sys.path.insert(0, os.path.join(_KIT, "python"))

import numpy as np  # noqa: E402

import needle as ndl  # noqa: E402
import needle.nn as nn  # noqa: E402

np.random.seed(0)


def ResidualBlock(dim, hidden_dim, norm=nn.BatchNorm1d, drop_prob=0.1):
    """One residual block.

    Returns a Module mapping (N, dim) to (N, dim):
        ReLU(x + norm(Linear(Dropout(ReLU(norm(Linear(x)))))))
    i.e. Sequential(Residual(Sequential(Linear(dim, hidden_dim), norm(hidden_dim),
    ReLU(), Dropout(drop_prob), Linear(hidden_dim, dim), norm(dim))), ReLU()).
    Create the modules in this order: it fixes the random draws.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Residual(nn.Sequential(
            nn.Linear(dim, hidden_dim),
            norm(hidden_dim),
            nn.ReLU(),
            nn.Dropout(drop_prob),
            nn.Linear(hidden_dim, dim),
            norm(dim),
        )),
        nn.ReLU(),
    )
    ### END SOLUTION


def MLPResNet(dim, hidden_dim=100, num_blocks=3, num_classes=10, norm=nn.BatchNorm1d,
              drop_prob=0.1):
    """The network: Linear(dim, hidden_dim), ReLU, then `num_blocks` blocks
    ResidualBlock(hidden_dim, hidden_dim // 2, norm, drop_prob), then
    Linear(hidden_dim, num_classes), all in one Sequential.

    Returns a Module mapping (N, dim) inputs to (N, num_classes) logits.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Linear(dim, hidden_dim),
        nn.ReLU(),
        *[ResidualBlock(hidden_dim, hidden_dim // 2, norm, drop_prob) for _ in range(num_blocks)],
        nn.Linear(hidden_dim, num_classes),
    )
    ### END SOLUTION


def epoch(dataloader, model, opt=None):
    """One pass over `dataloader`.

    Inputs:
    - dataloader: yields (X, y) batches; X of shape (B, ...) is flattened to (B, D).
    - model: maps (B, D) to (B, num_classes) logits.
    - opt: an Optimizer. Given: training mode (model.train()) and one optimizer step
      per batch on the SoftmaxLoss. None: evaluation mode (model.eval()), no updates.

    Returns: (error rate, mean loss) over all examples: the fraction misclassified
    (argmax of the logits) and the batch losses weighted by batch size, divided by
    the number of examples.
    """
    np.random.seed(4)
    ### BEGIN SOLUTION
    loss_fn = nn.SoftmaxLoss()
    if opt is None:
        model.eval()
    else:
        model.train()
    n_seen, n_wrong, loss_sum = 0, 0, 0.0
    for X, y in dataloader:
        X = X.reshape((X.shape[0], -1)) if len(X.shape) != 2 else X
        logits = model(X)
        loss = loss_fn(logits, y)
        if opt is not None:
            opt.reset_grad()
            loss.backward()
            opt.step()
        batch = y.shape[0]
        n_seen += batch
        n_wrong += int((logits.numpy().argmax(axis=1) != y.numpy()).sum())
        loss_sum += float(loss.numpy()) * batch
    return n_wrong / n_seen, loss_sum / n_seen
    ### END SOLUTION


def train_mnist(batch_size=100, epochs=10, optimizer=ndl.optim.Adam, lr=0.001,
                weight_decay=0.001, hidden_dim=100, data_dir="data"):
    """Train MLPResNet(784, hidden_dim) on MNIST.

    Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from `data_dir`; trains for
    `epochs` epochs on the training set (shuffled batches of `batch_size`) with
    optimizer(model.parameters(), lr=lr, weight_decay=weight_decay); then evaluates
    on the test set.

    Returns: (train error, train loss) of the last training epoch, then (test error,
    test loss).
    """
    np.random.seed(4)
    ### BEGIN SOLUTION
    def files(kind):
        return (os.path.join(data_dir, f"{kind}-images-idx3-ubyte.gz"),
                os.path.join(data_dir, f"{kind}-labels-idx1-ubyte.gz"))

    train_loader = ndl.data.DataLoader(ndl.data.MNISTDataset(*files("train")),
                                       batch_size=batch_size, shuffle=True)
    test_loader = ndl.data.DataLoader(ndl.data.MNISTDataset(*files("t10k")),
                                      batch_size=batch_size)
    model = MLPResNet(784, hidden_dim)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        train_err, train_loss = epoch(train_loader, model, opt)
    test_err, test_loss = epoch(test_loader, model)
    return train_err, train_loss, test_err, test_loss
    ### END SOLUTION


if __name__ == "__main__":
    train_mnist(data_dir=os.path.join(_KIT, "data"))
