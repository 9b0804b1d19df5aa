"""Optimizers (Question 5).

An optimizer updates the values of its parameters from their `.grad`. Two rules
keep training correct and its memory flat:
- never change `p.grad` in place (other code may still read it after `step`);
- keep the update and any state (momentum, moments) out of the computational graph:
  work on `p.data` / `p.grad.data` (detached tensors) or on the arrays behind them,
  and assign the new value with `p.data = ...`. A state tensor that still records
  its graph keeps every earlier step's graph alive.
"""

import numpy as np

import needle as ndl


class Optimizer:
    """Base class (provided)."""

    def __init__(self, params):
        self.params = params

    def step(self):
        raise NotImplementedError()

    def reset_grad(self):
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """Stochastic gradient descent with momentum and L2 weight decay.

    For each parameter w with gradient g, with u starting at 0:
        u <- momentum * u + (1 - momentum) * (g + weight_decay * w)
        w <- w - lr * u
    (With momentum = 0 this is plain SGD on the L2-regularized loss.)
    """

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.u = {}
        self.weight_decay = weight_decay

    def step(self):
        """Update every parameter that has a gradient; parameters keep their dtype."""
        # Hint: p.grad.numpy() and p.numpy() are the arrays behind the tensors;
        # build new arrays from them rather than writing into them.
        ### BEGIN SOLUTION
        m, wd = self.momentum, self.weight_decay
        for p in self.params:
            if p.grad is None:
                continue
            w = p.numpy()
            g = p.grad.numpy()
            if wd:
                g = g + wd * w
            u = self.u.get(p)
            u = (1 - m) * g if u is None else m * u + (1 - m) * g
            self.u[p] = u
            p.data = ndl.Tensor.make_const((w - self.lr * u).astype(w.dtype, copy=False))
        ### END SOLUTION


class Adam(Optimizer):
    """Adam with bias correction and L2 weight decay.

    For each parameter w with gradient g, at step t = 1, 2, ... (m and v start at 0):
        g <- g + weight_decay * w
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)
    One call to `step` is one value of t for all parameters.
    """

    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0

        self.m = {}
        self.v = {}

    def step(self):
        """Update every parameter that has a gradient; parameters keep their dtype."""
        ### BEGIN SOLUTION
        self.t += 1
        b1, b2, wd = self.beta1, self.beta2, self.weight_decay
        for p in self.params:
            if p.grad is None:
                continue
            w = p.numpy()
            g = p.grad.numpy()
            if wd:
                g = g + wd * w
            m = self.m.get(p)
            v = self.v.get(p)
            m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
            v = (1 - b2) * (g * g) if v is None else b2 * v + (1 - b2) * (g * g)
            self.m[p], self.v[p] = m, v
            m_hat = m / (1 - b1**self.t)
            v_hat = v / (1 - b2**self.t)
            new_w = w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
            p.data = ndl.Tensor.make_const(new_w.astype(w.dtype, copy=False))
        ### END SOLUTION
