"""Minibatch stochastic gradient descent for classification models."""
import copy

import numpy as np
from tqdm.auto import tqdm

from . import optim


class Solver:
    """Trains a classification model with minibatch stochastic gradient descent.

    The model must provide:
    - model.params: dict mapping parameter names to numpy arrays.
    - model.loss(X, y=None):
      - X: array of shape (N, d_1, ..., d_k), a minibatch of inputs.
      - y: integer array of shape (N,), labels in [0, C); None at test time.
      - returns scores of shape (N, C) when y is None, otherwise (loss, grads) where
        grads has the same keys as model.params.
    If the model has a `bn_params` list (batch normalization state), it is saved
    along with the parameters of the best model.

    Example:

        data = {"X_train": ..., "y_train": ..., "X_val": ..., "y_val": ...}
        model = MyAwesomeModel(hidden_size=100, reg=10)
        solver = Solver(model, data, update_rule="sgd",
                        optim_config={"learning_rate": 1e-4},
                        lr_decay=0.95, num_epochs=5, batch_size=200, print_every=100)
        solver.train()

    After train() returns, model.params holds the parameters that did best on the
    validation set, and the solver has:
    - loss_history: the loss of every iteration.
    - train_acc_history, val_acc_history: accuracies at the end of every epoch
      (and after the first iteration).
    - best_val_acc, best_params.
    """

    def __init__(self, model, data, **kwargs):
        """
        Required arguments:
        - model: a model object as described in the class docstring.
        - data: dict with "X_train", "y_train", "X_val", "y_val" (inputs of shape
          (N, d_1, ..., d_k), labels of shape (N,)).

        Optional arguments:
        - update_rule: name of a function in scratch/optim.py (default "sgd").
        - optim_config: dict of hyperparameters for the update rule; every parameter
          gets its own copy. Must hold at least "learning_rate".
        - lr_decay: the learning rate is multiplied by this after every epoch.
        - batch_size: minibatch size (default 100).
        - num_epochs: number of passes over the training data (default 10).
        - num_train_samples: training examples used to estimate training accuracy
          (default 1000; None for all).
        - num_val_samples: validation examples used for validation accuracy
          (default None: all).
        - checkpoint_name: when given, the model is saved after every epoch to
          "<checkpoint_name>_epoch_<k>.npz".
        - print_every: print the training loss every this many iterations.
        - verbose: print progress and show a progress bar.
        """
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)

        if len(kwargs) > 0:
            extra = ", ".join('"%s"' % k for k in list(kwargs.keys()))
            raise ValueError("Unrecognized arguments %s" % extra)

        if not hasattr(optim, self.update_rule):
            raise ValueError('Invalid update_rule "%s"' % self.update_rule)
        self.update_rule = getattr(optim, self.update_rule)

        self._reset()

    def _reset(self):
        """Clear the bookkeeping; called by the constructor."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.best_bn_params = None
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []

        # Each parameter keeps its own optimizer state (velocity, moments, ...).
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self):
        """One gradient update on a random minibatch. Called by train()."""
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(loss)

        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        filename = "%s_epoch_%d.npz" % (self.checkpoint_name, self.epoch)
        if self.verbose:
            tqdm.write('Saving checkpoint to "%s"' % filename)
        arrays = {"param_" + k: v for k, v in self.model.params.items()}
        np.savez(
            filename,
            epoch=self.epoch,
            batch_size=self.batch_size,
            lr_decay=self.lr_decay,
            loss_history=np.asarray(self.loss_history),
            train_acc_history=np.asarray(self.train_acc_history),
            val_acc_history=np.asarray(self.val_acc_history),
            **arrays,
        )

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Accuracy of the model on the given data.

        Inputs:
        - X: array of shape (N, d_1, ..., d_k).
        - y: integer array of shape (N,).
        - num_samples: when given, evaluate on this many randomly chosen examples.
        - batch_size: examples per forward pass (bounds the memory used).

        Returns:
        - acc: fraction of examples the model classifies correctly.
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)
            N = num_samples
            X = X[mask]
            y = y[mask]

        num_batches = (N + batch_size - 1) // batch_size
        y_pred = []
        for i in range(num_batches):
            scores = self.model.loss(X[i * batch_size:(i + 1) * batch_size])
            y_pred.append(np.argmax(scores, axis=1))
        y_pred = np.hstack(y_pred)
        return np.mean(y_pred == y)

    def train(self):
        """Run the optimization; model.params ends up as the best parameters."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        progress = tqdm(range(num_iterations), disable=not self.verbose, leave=False)
        for t in progress:
            self._step()

            if self.verbose and t % self.print_every == 0:
                tqdm.write(
                    "(Iteration %d / %d) loss: %f"
                    % (t + 1, num_iterations, self.loss_history[-1])
                )

            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for k in self.optim_configs:
                    self.optim_configs[k]["learning_rate"] *= self.lr_decay

            first_it = t == 0
            last_it = t == num_iterations - 1
            if first_it or last_it or epoch_end:
                train_acc = self.check_accuracy(
                    self.X_train, self.y_train, num_samples=self.num_train_samples
                )
                val_acc = self.check_accuracy(
                    self.X_val, self.y_val, num_samples=self.num_val_samples
                )
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self._save_checkpoint()
                progress.set_postfix(train_acc=train_acc, val_acc=val_acc)

                if self.verbose:
                    tqdm.write(
                        "(Epoch %d / %d) train acc: %f; val_acc: %f"
                        % (self.epoch, self.num_epochs, train_acc, val_acc)
                    )

                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}
                    if getattr(self.model, "bn_params", None):
                        self.best_bn_params = copy.deepcopy(self.model.bn_params)

        # Swap the best parameters (and their batch statistics) into the model.
        self.model.params = self.best_params
        if self.best_bn_params is not None:
            self.model.bn_params = self.best_bn_params
