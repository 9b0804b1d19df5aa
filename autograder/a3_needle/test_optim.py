"""Question 5: SGD and Adam.

A small two-layer problem is built in the student process from the provided
operators only, so these tests depend on nothing but the optimizers. After every
step the parameters are compared with the update rule applied in the grader to the
same gradients (read back from the student process), starting from the same values.
"""

import numpy as np

import reference_needle as ref
from a3_support import values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("optim")

N, D, H, C = 8, 5, 4, 3


class Problem:
    """loss = sum((relu(X W1) W2 - T)^2) / N with Parameters W1 (D, H) and W2 (H, C)."""

    def __init__(self, ndl, seed):
        rng = np.random.default_rng(seed)
        self.ndl = ndl
        self.start = [rng.standard_normal((D, H)).astype(np.float32) * 0.5,
                      rng.standard_normal((H, C)).astype(np.float32) * 0.5]
        self.params = [ndl.nn.Parameter(w, dtype="float32") for w in self.start]
        self.batches = [(rng.standard_normal((N, D)), rng.standard_normal((N, C))) for _ in range(3)]

    def backward(self, k):
        ops = self.ndl.ops
        X, T = (self.ndl.Tensor(a, dtype="float32", requires_grad=False) for a in self.batches[k % 3])
        W1, W2 = self.params
        diff = ops.add(ops.matmul(ops.relu(ops.matmul(X, W1)), W2), ops.negate(T))
        loss = ops.divide_scalar(ops.summation(ops.power_scalar(diff, 2)), N)
        loss.backward()

    def grads(self):
        out = []
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                raise AssertionError(f"parameter {i} has no .grad after backward()")
            out.append(values(f"parameter {i}'s grad", g).astype(np.float64))
        return out

    def weights(self):
        return [values(f"parameter {i}", p).astype(np.float64) for i, p in enumerate(self.params)]


def _follow(ndl, name, make_student_opt, reference, steps=6, seed=0):
    """Run `steps` steps of the student's optimizer next to the reference one."""
    problem = Problem(ndl, seed)
    opt = make_student_opt(problem.params)
    current = [w.astype(np.float64) for w in problem.start]
    for k in range(steps):
        opt.reset_grad()
        problem.backward(k)
        grads = problem.grads()
        opt.step()
        after = problem.grads()
        for i, (g0, g1) in enumerate(zip(grads, after)):
            if not np.array_equal(g0, g1):
                raise AssertionError(f"{name}: step() changed parameter {i}'s .grad; an optimizer must "
                                     "not modify gradients in place")
        reference.step(current, grads)
        got = problem.weights()
        for i, (w, w_ref) in enumerate(zip(got, current)):
            check_array(f"{name}: parameter {i} after step {k + 1}", w, w_ref, tol=1e-4)
        current = got  # compare one step at a time: float32 rounding does not add up


@weight(2)
@number("5.1")
def test_sgd(ndl):
    _follow(ndl, "SGD(lr=0.1)", lambda ps: ndl.optim.SGD(ps, lr=0.1), ref.SGD(0.1), seed=1)


@weight(3)
@number("5.2")
def test_sgd_momentum_weight_decay(ndl):
    _follow(ndl, "SGD(lr=0.05, momentum=0.8)", lambda ps: ndl.optim.SGD(ps, lr=0.05, momentum=0.8),
            ref.SGD(0.05, momentum=0.8), seed=2)
    _follow(ndl, "SGD(lr=0.1, momentum=0.5, weight_decay=0.3)",
            lambda ps: ndl.optim.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.3),
            ref.SGD(0.1, momentum=0.5, weight_decay=0.3), seed=3)


@weight(3)
@number("5.3")
def test_adam(ndl):
    _follow(ndl, "Adam(lr=0.02)", lambda ps: ndl.optim.Adam(ps, lr=0.02), ref.Adam(0.02), seed=4)
    _follow(ndl, "Adam(lr=0.05, beta1=0.5, beta2=0.9, eps=0.01)",
            lambda ps: ndl.optim.Adam(ps, lr=0.05, beta1=0.5, beta2=0.9, eps=0.01),
            ref.Adam(0.05, beta1=0.5, beta2=0.9, eps=0.01), seed=5)


@weight(2)
@number("5.4")
def test_adam_weight_decay(ndl):
    _follow(ndl, "Adam(lr=0.01, weight_decay=0.2)",
            lambda ps: ndl.optim.Adam(ps, lr=0.01, weight_decay=0.2),
            ref.Adam(0.01, weight_decay=0.2), seed=6)


def _tensor_growth(student, ndl, make_opt, step, warmup=2, steps=5):
    """Live needle tensors gained over `steps` steps (after `warmup` steps)."""
    gc = student.module("gc")
    problem = Problem(ndl, 7)
    opt = make_opt(problem.params)
    start = None
    for k in range(warmup + steps):
        if k == warmup:
            gc.collect()
            start = ndl.autograd.TENSOR_COUNTER
        opt.reset_grad()
        problem.backward(k)
        if step:
            opt.step()
            for i, p in enumerate(problem.params):
                if p.op is not None or len(p.inputs) != 0:
                    raise AssertionError(f"after step(), parameter {i} is the output of an operation; "
                                         "assign new values with p.data = ... so it stays a leaf")
    gc.collect()
    return ndl.autograd.TENSOR_COUNTER - start


def _check_memory(student, ndl, name, make_opt):
    # The grader's own handles keep some tensors alive; count them without step() ...
    baseline = _tensor_growth(student, ndl, make_opt, step=False)
    # ... and any extra tensors that survive the steps belong to the optimizer.
    extra = _tensor_growth(student, ndl, make_opt, step=True) - baseline
    if extra > 2:
        raise AssertionError(
            f"{name}: {extra} more tensors stay alive after 5 steps than without step(); the "
            "optimizer keeps references that grow with every step (compute updates on .data or "
            "on arrays, so momentum / moment estimates do not record a graph)")


@weight(2)
@number("5.5")
def test_sgd_memory(student, ndl):
    _check_memory(student, ndl, "SGD(lr=0.01, momentum=0.9, weight_decay=0.01)",
                  lambda ps: ndl.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=0.01))


@weight(2)
@number("5.6")
def test_adam_memory(student, ndl):
    _check_memory(student, ndl, "Adam(lr=0.01, weight_decay=0.01)",
                  lambda ps: ndl.optim.Adam(ps, lr=0.01, weight_decay=0.01))
