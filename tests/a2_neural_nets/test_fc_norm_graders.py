"""The graders of parts 1 and 2 (fully connected nets, optimizers, normalization,
dropout) judged against the reference, the released stubs and known-correct
alternatives written differently. The known-wrong variants ("mutants") below are
graded by the kit's mutant harness (a2_mutants.py, test_a2_mutant_runs.py), several to a
run: they replace different functions, and each run names every grader it must cost.
"""
import shutil
from pathlib import Path

import pytest

from coursekit.manifest import load_assignment
from coursekit.testing import mutate

A = "a2_neural_nets"
FC = ["fc_layers", "fc_losses", "fc_sandwich", "fc_two_layer_net", "fc_multilayer_net",
      "fc_optimizers"]
NORM = ["norm_batchnorm", "norm_layernorm", "norm_dropout", "norm_fc_net"]


# ---------------------------------------------------------------- mutants

# Layer, loss and update-rule mutants (one per function).
LAYER_MUTANTS = {
    "scratch/layers.py": [
        # forgets the bias
        '''
        def affine_forward(x, w, b):
            out = x.reshape(x.shape[0], -1) @ w
            return out, (x, w, b)
        ''',
        # bias gradient summed over the wrong axis
        '''
        def affine_backward(dout, cache):
            x, w, b = cache
            dx = (dout @ w.T).reshape(x.shape)
            dw = x.reshape(x.shape[0], -1).T @ dout
            db = dout.sum(axis=1)
            return dx, dw, db
        ''',
        # leaky ReLU instead of ReLU
        '''
        def relu_forward(x):
            return np.maximum(0.01 * x, x), x
        ''',
        # passes the gradient where x == 0
        '''
        def relu_backward(dout, cache):
            return dout * (cache >= 0)
        ''',
        # gradient not averaged over the batch
        '''
        def softmax_loss(x, y):
            N = x.shape[0]
            shifted = x - x.max(axis=1, keepdims=True)
            probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            loss = -np.log(probs[np.arange(N), y]).mean()
            dx = probs.copy()
            dx[np.arange(N), y] -= 1
            return loss, dx
        ''',
        # counts the correct class's own margin of 1
        '''
        def svm_loss(x, y):
            N = x.shape[0]
            margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1.0)
            loss = margins.sum() / N
            dx = (margins > 0).astype(float)
            dx[np.arange(N), y] -= (margins > 0).sum(axis=1)
            return loss, dx / N
        ''',
    ],
    "scratch/optim.py": [
        # never stores the new velocity
        '''
        def sgd_momentum(w, dw, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-2)
            config.setdefault("momentum", 0.9)
            v = config.get("velocity", np.zeros_like(w))
            next_w = w + config["momentum"] * v - config["learning_rate"] * dw
            config["velocity"] = v
            return next_w, config
        ''',
        # divides by the mean square instead of its root
        '''
        def rmsprop(w, dw, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-2)
            config.setdefault("decay_rate", 0.99)
            config.setdefault("epsilon", 1e-8)
            config.setdefault("cache", np.zeros_like(w))
            cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw ** 2
            config["cache"] = cache
            return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config
        ''',
        # no bias correction
        '''
        def adam(w, dw, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-3)
            config.setdefault("beta1", 0.9)
            config.setdefault("beta2", 0.999)
            config.setdefault("epsilon", 1e-8)
            config.setdefault("m", np.zeros_like(w))
            config.setdefault("v", np.zeros_like(w))
            config.setdefault("t", 0)
            config["t"] += 1
            config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
            config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw ** 2
            next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
            return next_w, config
        ''',
    ],
}

# Normalization and dropout forward-pass mutants.
NORM_FORWARD_MUTANTS = [
    # unbiased variance
    '''
    def batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        D = x.shape[1]
        rm = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        rv = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
        cache = None
        if mode == "train":
            mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
            x_hat = (x - mu) / np.sqrt(var + eps)
            out = gamma * x_hat + beta
            rm = momentum * rm + (1 - momentum) * mu
            rv = momentum * rv + (1 - momentum) * var
            cache = (x_hat, x - mu, np.sqrt(var + eps), gamma)
        else:
            out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
        bn_param["running_mean"], bn_param["running_var"] = rm, rv
        return out, cache
    ''',
    # normalizes over the batch axis instead of each example's features
    '''
    def layernorm_forward(x, gamma, beta, ln_param):
        eps = ln_param.get("eps", 1e-5)
        mu = x.mean(axis=0)
        std = np.sqrt(x.var(axis=0) + eps)
        x_hat = (x - mu) / std
        return gamma * x_hat + beta, (x_hat, std, gamma)
    ''',
    # kept units scaled by 1 / (1 - p)
    '''
    def dropout_forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if mode == "train":
            mask = (np.random.rand(*x.shape) < p) / (1 - p)
            out = x * mask
        else:
            out = x
        return out.astype(x.dtype, copy=False), (dropout_param, mask)
    ''',
]

# A second mutant for some functions.
FC_SECOND_MUTANTS = {
    "scratch/layers.py": [
        # exp without subtracting the row maximum: overflows for large scores
        '''
        def softmax_loss(x, y):
            N = x.shape[0]
            e = np.exp(x)
            probs = e / e.sum(axis=1, keepdims=True)
            loss = -np.log(probs[np.arange(N), y]).mean()
            dx = probs.copy()
            dx[np.arange(N), y] -= 1
            return loss, dx / N
        ''',
    ],
    "scratch/layer_utils.py": [
        # the ReLU is forgotten in the forward pass
        '''
        def affine_relu_forward(x, w, b):
            a, fc_cache = affine_forward(x, w, b)
            return a, (fc_cache, a)
        ''',
        # skips the ReLU in the backward pass (the forward mutant above keeps the
        # reference's cache layout, so the backward grader still judges this one alone)
        '''
        def affine_relu_backward(dout, cache):
            fc_cache, relu_cache = cache
            return affine_backward(dout, fc_cache)
        ''',
    ],
    "scratch/optim.py": [
        # increments t after the bias correction (divides by zero at the first step)
        '''
        def adam(w, dw, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-3)
            config.setdefault("beta1", 0.9)
            config.setdefault("beta2", 0.999)
            config.setdefault("epsilon", 1e-8)
            config.setdefault("m", np.zeros_like(w))
            config.setdefault("v", np.zeros_like(w))
            config.setdefault("t", 0)
            t = config["t"]
            m = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
            v = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw ** 2
            m_hat = m / (1 - config["beta1"] ** t)
            v_hat = v / (1 - config["beta2"] ** t)
            next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
            config["t"], config["m"], config["v"] = t + 1, m, v
            return next_w, config
        ''',
    ],
}

NORM_SECOND_MUTANTS = [
    # updates the running averages at test time too
    '''
    def batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        D = x.shape[1]
        rm = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        rv = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
        mu, var = x.mean(axis=0), x.var(axis=0)
        cache = None
        if mode == "train":
            x_hat = (x - mu) / np.sqrt(var + eps)
            out = gamma * x_hat + beta
            cache = (x_hat, x - mu, np.sqrt(var + eps), gamma)
        else:
            out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1 - momentum) * var
        return out, cache
    ''',
    # forgets the gradient through the batch mean
    '''
    def batchnorm_backward(dout, cache):
        x_hat, xc, std, gamma = cache
        dx_hat = dout * gamma
        dx = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
        return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ''',
    # forgets the gradient through the variance
    '''
    def batchnorm_backward_alt(dout, cache):
        x_hat, _, std, gamma = cache
        dx_hat = dout * gamma
        dx = (dx_hat - dx_hat.mean(axis=0)) / std
        return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ''',
    # forgets the gradient through the mean
    '''
    def layernorm_backward(dout, cache):
        x_hat, std, gamma = cache
        dx_hat = dout * gamma
        dx = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / std
        return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ''',
    # ignores the mask in the backward pass
    '''
    def dropout_backward(dout, cache):
        return dout
    ''',
]

# Test-mode dropout scaled by p (the non-inverted convention).
NORM_EXTRA_MUTANTS = {
    "scratch/layers.py": ['''
    def dropout_forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if mode == "train":
            mask = (np.random.rand(*x.shape) < p) / p
            out = x * mask
        else:
            out = x * p
        return out.astype(x.dtype, copy=False), (dropout_param, mask)
    '''],
}

# The ReLU before batch normalization in the helper.
NORM_HELPER_MUTANTS = {
    "scratch/layer_utils.py": ['''
    def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
        a, fc_cache = affine_forward(x, w, b)
        r, relu_cache = relu_forward(a)
        out, bn_cache = batchnorm_forward(r, gamma, beta, bn_param)
        return out, (fc_cache, bn_cache, relu_cache)
    '''],
}

# Network mutants: (source, Class.method, graders that must reject it).
NET_MUTANTS = [
    # TwoLayerNet: W2 drawn before W1
    ('''
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        self.reg = reg
        W2 = np.random.randn(hidden_dim, num_classes) * weight_scale
        W1 = np.random.randn(input_dim, hidden_dim) * weight_scale
        self.params = {"W1": W1, "b1": np.zeros(hidden_dim), "W2": W2, "b2": np.zeros(num_classes)}
    ''', "TwoLayerNet.__init__", ["test_two_layer_init"]),
    # TwoLayerNet: a ReLU on the output scores too
    ('''
    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h, c1 = affine_relu_forward(X, W1, b1)
        scores, c2 = affine_relu_forward(h, W2, b2)
        if y is None:
            return scores
        loss, ds = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_relu_backward(ds, c2)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dh, c1)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        return loss, grads
    ''', "TwoLayerNet.loss", ["test_two_layer_scores"]),
    # FullyConnectedNet: each W drawn transposed, (out, in).T, a different draw order
    ('''
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for k in range(1, self.num_layers + 1):
            self.params["W%d" % k] = (np.random.randn(dims[k], dims[k - 1]) * weight_scale).T
            self.params["b%d" % k] = np.zeros(dims[k])
        self.dropout_param = {}
        self.bn_params = []
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)
    ''', "FullyConnectedNet.__init__", ["test_fc_init"]),
    # no ReLU after the hidden layers
    ('''
    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        L = self.num_layers
        h, caches = X, []
        for k in range(1, L + 1):
            h, c = affine_forward(h, self.params["W%d" % k], self.params["b%d" % k])
            caches.append(c)
        if y is None:
            return h
        loss, dh = softmax_loss(h, y)
        grads = {}
        for k in range(L, 0, -1):
            dh, grads["W%d" % k], grads["b%d" % k] = affine_backward(dh, caches[k - 1])
            loss += 0.5 * self.reg * np.sum(self.params["W%d" % k] ** 2)
            grads["W%d" % k] += self.reg * self.params["W%d" % k]
        return loss, grads
    ''', "FullyConnectedNet.loss", ["test_fc_scores", "test_fc_loss", "test_fc_gradients"]),
]

# FullyConnectedNet mutants for normalization and dropout, and one more TwoLayerNet.loss
# mutant (it cannot share a submission with the one above): (source, name, graders).
NORM_NET_MUTANTS = [
    # TwoLayerNet: the regularization without its 0.5 (loss and gradient consistent)
    ('''
    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h, c1 = affine_relu_forward(X, W1, b1)
        scores, c2 = affine_forward(h, W2, b2)
        if y is None:
            return scores
        loss, ds = softmax_loss(scores, y)
        loss += self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(ds, c2)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dh, c1)
        grads["W1"] += 2 * self.reg * W1
        grads["W2"] += 2 * self.reg * W2
        return loss, grads
    ''', "TwoLayerNet.loss", ["test_two_layer_loss", "test_two_layer_gradients"]),
    # regularizes gamma as well as W
    ('''
    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        L = self.num_layers
        h, caches = X, []
        for k in range(1, L):
            w, b = self.params["W%d" % k], self.params["b%d" % k]
            if self.normalization == "batchnorm":
                h, c = affine_bn_relu_forward(h, w, b, self.params["gamma%d" % k],
                                              self.params["beta%d" % k], self.bn_params[k - 1])
            elif self.normalization == "layernorm":
                h, c = affine_ln_relu_forward(h, w, b, self.params["gamma%d" % k],
                                              self.params["beta%d" % k], self.bn_params[k - 1])
            else:
                h, c = affine_relu_forward(h, w, b)
            dc = None
            if self.use_dropout:
                h, dc = dropout_forward(h, self.dropout_param)
            caches.append((c, dc))
        scores, out_cache = affine_forward(h, self.params["W%d" % L], self.params["b%d" % L])
        if mode == "test":
            return scores
        loss, d = softmax_loss(scores, y)
        grads = {}
        for name, p in self.params.items():
            if name.startswith("W") or name.startswith("gamma"):
                loss += 0.5 * self.reg * np.sum(p * p)
        d, grads["W%d" % L], grads["b%d" % L] = affine_backward(d, out_cache)
        for k in range(L - 1, 0, -1):
            c, dc = caches[k - 1]
            if self.use_dropout:
                d = dropout_backward(d, dc)
            if self.normalization == "batchnorm":
                d, grads["W%d" % k], grads["b%d" % k], grads["gamma%d" % k], grads["beta%d" % k] = \\
                    affine_bn_relu_backward(d, c)
            elif self.normalization == "layernorm":
                d, grads["W%d" % k], grads["b%d" % k], grads["gamma%d" % k], grads["beta%d" % k] = \\
                    affine_ln_relu_backward(d, c)
            else:
                d, grads["W%d" % k], grads["b%d" % k] = affine_relu_backward(d, c)
        for name in grads:
            if name.startswith("W") or name.startswith("gamma"):
                grads[name] += self.reg * self.params[name]
        return loss, grads
    ''', "FullyConnectedNet.loss", ["test_batchnorm_net", "test_layernorm_net"]),
    # forgets to switch dropout on
    ('''
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = False
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for k in range(1, self.num_layers + 1):
            self.params["W%d" % k] = np.random.randn(dims[k - 1], dims[k]) * weight_scale
            self.params["b%d" % k] = np.zeros(dims[k])
            if normalization is not None and k < self.num_layers:
                self.params["gamma%d" % k] = np.ones(dims[k])
                self.params["beta%d" % k] = np.zeros(dims[k])
        self.dropout_param = {}
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)
    ''', "FullyConnectedNet.__init__", ["test_dropout_net"]),
]


# ---------------------------------------------------------------- correct alternatives

FC_ALTERNATIVES = {
    "scratch/layers.py": [
        '''
        def affine_forward(x, w, b):
            flat = x.reshape(len(x), w.shape[0])
            return np.einsum("nd,dm->nm", flat, w) + b[None, :], (x, w, b)
        ''',
        '''
        def affine_backward(dout, cache):
            x, w, b = cache
            N = x.shape[0]
            flat = x.reshape(N, -1)
            dw = np.zeros_like(w)
            for i in range(N):
                dw += np.outer(flat[i], dout[i])
            dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
            db = np.einsum("nm->m", dout)
            return dx, dw, db
        ''',
        '''
        def relu_forward(x):
            return x * (x > 0), x
        ''',
        '''
        def relu_backward(dout, cache):
            return np.where(cache > 0, dout, 0.0)
        ''',
        # probabilities first, then their log (a different stable form)
        '''
        def softmax_loss(x, y):
            N = x.shape[0]
            e = np.exp(x - np.max(x, axis=1)[:, None])
            probs = e / np.sum(e, axis=1)[:, None]
            loss = -np.sum(np.log(probs[range(N), list(y)])) / N
            onehot = np.zeros_like(x)
            onehot[range(N), list(y)] = 1
            return loss, (probs - onehot) / N
        ''',
        '''
        def svm_loss(x, y):
            N, C = x.shape
            loss = 0.0
            dx = np.zeros_like(x)
            for i in range(N):
                for j in range(C):
                    if j == y[i]:
                        continue
                    margin = x[i, j] - x[i, y[i]] + 1
                    if margin > 0:
                        loss += margin
                        dx[i, j] += 1
                        dx[i, y[i]] -= 1
            return loss / N, dx / N
        ''',
    ],
    "scratch/layer_utils.py": [
        '''
        def affine_relu_forward(x, w, b):
            a = x.reshape(x.shape[0], -1).dot(w) + b
            return np.maximum(a, 0), (x, w, a)
        ''',
        '''
        def affine_relu_backward(dout, cache):
            x, w, a = cache
            da = dout * (a > 0)
            return (da @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ da, da.sum(0)
        ''',
        # affine-norm-ReLU helpers with a dict cache, through the graph-form backward
        '''
        def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
            a, c_aff = affine_forward(x, w, b)
            n, c_bn = batchnorm_forward(a, gamma, beta, bn_param)
            out = np.maximum(n, 0)
            return out, {"aff": c_aff, "bn": c_bn, "n": n}
        ''',
        '''
        def affine_bn_relu_backward(dout, cache):
            dn = np.where(cache["n"] > 0, dout, 0.0)
            da, dgamma, dbeta = batchnorm_backward(dn, cache["bn"])
            dx, dw, db = affine_backward(da, cache["aff"])
            return dx, dw, db, dgamma, dbeta
        ''',
        '''
        def affine_ln_relu_forward(x, w, b, gamma, beta, ln_param):
            a, c_aff = affine_forward(x, w, b)
            n, c_ln = layernorm_forward(a, gamma, beta, ln_param)
            return np.maximum(n, 0), {"aff": c_aff, "ln": c_ln, "n": n}
        ''',
        '''
        def affine_ln_relu_backward(dout, cache):
            dn = dout * (cache["n"] > 0)
            da, dgamma, dbeta = layernorm_backward(dn, cache["ln"])
            return affine_backward(da, cache["aff"]) + (dgamma, dbeta)
        ''',
    ],
    "scratch/optim.py": [
        '''
        def sgd_momentum(w, dw, config=None):
            config = {} if config is None else config
            lr = config.setdefault("learning_rate", 1e-2)
            mu = config.setdefault("momentum", 0.9)
            v = config.get("velocity", np.zeros_like(w))
            v = mu * v
            v -= lr * dw
            config["velocity"] = v
            return w + v, config
        ''',
        '''
        def rmsprop(w, dw, config=None):
            config = {} if config is None else config
            for key, value in (("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)):
                config.setdefault(key, value)
            cache = config.get("cache", np.zeros_like(w))
            cache = cache + (1 - config["decay_rate"]) * (dw * dw - cache)
            config["cache"] = cache
            return w - config["learning_rate"] * dw / (cache ** 0.5 + config["epsilon"]), config
        ''',
        # the folded step size of the Adam paper's efficient form
        '''
        def adam(w, dw, config=None):
            config = {} if config is None else config
            for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999),
                               ("epsilon", 1e-8), ("t", 0)):
                config.setdefault(key, value)
            b1, b2 = config["beta1"], config["beta2"]
            t = config["t"] + 1
            m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
            v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw * dw
            step = config["learning_rate"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            next_w = w - step * m / (np.sqrt(v) + config["epsilon"] * np.sqrt(1 - b2 ** t))
            config.update(t=t, m=m, v=v)
            return next_w, config
        ''',
    ],
}

ALTERNATIVE_NETS = [
    ('''
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {}
        for i, (a, b) in enumerate([(input_dim, hidden_dim), (hidden_dim, num_classes)], start=1):
            self.params["W%d" % i] = weight_scale * np.random.normal(size=(a, b))
            self.params["b%d" % i] = np.zeros(b)
    ''', "TwoLayerNet.__init__"),
    ('''
    def loss(self, X, y=None):
        p = self.params
        Xf = X.reshape(X.shape[0], -1)
        a = Xf @ p["W1"] + p["b1"]
        h = np.maximum(a, 0)
        scores = h @ p["W2"] + p["b2"]
        if y is None:
            return scores
        N = X.shape[0]
        z = scores - scores.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        loss = -logp[np.arange(N), y].mean() + 0.5 * self.reg * sum((p[k] ** 2).sum() for k in ("W1", "W2"))
        ds = np.exp(logp)
        ds[np.arange(N), y] -= 1
        ds /= N
        grads = {"W2": h.T @ ds + self.reg * p["W2"], "b2": ds.sum(0)}
        da = (ds @ p["W2"].T) * (a > 0)
        grads["W1"] = Xf.T @ da + self.reg * p["W1"]
        grads["b1"] = da.sum(0)
        return loss, grads
    ''', "TwoLayerNet.loss"),
    # plain layer calls kept in lists instead of the sandwich helpers, with every
    # normalization and dropout path
    ('''
    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "train" if y is not None else "test"
        self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        L = self.num_layers
        norm = {"batchnorm": (batchnorm_forward, batchnorm_backward),
                "layernorm": (layernorm_forward, layernorm_backward)}.get(self.normalization)
        stack = []
        h = X
        for k in range(1, L + 1):
            h, c_aff = affine_forward(h, self.params["W%d" % k], self.params["b%d" % k])
            if k == L:
                stack.append((c_aff, None, None, None))
                break
            c_norm = c_drop = None
            if norm is not None:
                h, c_norm = norm[0](h, self.params["gamma%d" % k], self.params["beta%d" % k],
                                    self.bn_params[k - 1])
            h, c_relu = relu_forward(h)
            if self.use_dropout:
                h, c_drop = dropout_forward(h, self.dropout_param)
            stack.append((c_aff, c_norm, c_relu, c_drop))
        if mode == "test":
            return h
        loss, d = softmax_loss(h, y)
        grads = {}
        for k in range(L, 0, -1):
            c_aff, c_norm, c_relu, c_drop = stack[k - 1]
            if k < L:
                if c_drop is not None:
                    d = dropout_backward(d, c_drop)
                d = relu_backward(d, c_relu)
                if c_norm is not None:
                    d, grads["gamma%d" % k], grads["beta%d" % k] = norm[1](d, c_norm)
            W = self.params["W%d" % k]
            d, dW, grads["b%d" % k] = affine_backward(d, c_aff)
            grads["W%d" % k] = dW + self.reg * W
            loss += 0.5 * self.reg * float(np.sum(np.square(W)))
        return loss, grads
    ''', "FullyConnectedNet.loss"),
]

NORM_ALTERNATIVES = [
    # batch statistics with np.var / np.std, and a different cache
    '''
    def batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        N, D = x.shape
        running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
        cache = None
        if mode == "train":
            mean = np.mean(x, axis=0)
            var = np.var(x, axis=0)
            inv = 1.0 / np.sqrt(var + eps)
            out = gamma * ((x - mean) * inv) + beta
            running_mean = momentum * running_mean + (1 - momentum) * mean
            running_var = momentum * running_var + (1 - momentum) * var
            cache = {"x": x, "mean": mean, "inv": inv, "gamma": gamma}
        elif mode == "test":
            out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta
        else:
            raise ValueError(mode)
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        return out, cache
    ''',
    # the sum form of the gradient
    '''
    def batchnorm_backward(dout, cache):
        x, mean, inv, gamma = cache["x"], cache["mean"], cache["inv"], cache["gamma"]
        N = x.shape[0]
        x_hat = (x - mean) * inv
        dbeta = np.sum(dout, axis=0)
        dgamma = np.sum(dout * x_hat, axis=0)
        dx = (gamma * inv / N) * (N * dout - dbeta - x_hat * dgamma)
        return dx, dgamma, dbeta
    ''',
    '''
    def batchnorm_backward_alt(dout, cache):
        x, mean, inv, gamma = cache["x"], cache["mean"], cache["inv"], cache["gamma"]
        N = x.shape[0]
        x_hat = (x - mean) * inv
        dxhat = dout * gamma
        dvar = np.sum(dxhat * (x - mean), axis=0) * -0.5 * inv ** 3
        dmean = -np.sum(dxhat * inv, axis=0) + dvar * np.mean(-2.0 * (x - mean), axis=0)
        dx = dxhat * inv + dvar * 2.0 * (x - mean) / N + dmean / N
        return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)
    ''',
    # layer norm as batch norm on the transposed input
    '''
    def layernorm_forward(x, gamma, beta, ln_param):
        eps = ln_param.get("eps", 1e-5)
        xt = x.T
        mean = xt.mean(axis=0)
        inv = 1.0 / np.sqrt(xt.var(axis=0) + eps)
        x_hat = ((xt - mean) * inv).T
        return x_hat * gamma + beta, (x_hat, inv, gamma)
    ''',
    '''
    def layernorm_backward(dout, cache):
        x_hat, inv, gamma = cache
        D = x_hat.shape[1]
        dxhat = (dout * gamma).T
        xt = x_hat.T
        dx = (inv / D) * (D * dxhat - dxhat.sum(axis=0) - xt * (dxhat * xt).sum(axis=0))
        return dx.T, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ''',
    # a mask drawn with a binomial sampler instead of rand() < p
    '''
    def dropout_forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        rng = np.random.RandomState(dropout_param.get("seed"))
        mask = None
        if mode == "train":
            mask = rng.binomial(1, p, size=x.shape) / p
            out = x * mask
        else:
            out = x.copy()
        return out.astype(x.dtype), (dropout_param, mask)
    ''',
    '''
    def dropout_backward(dout, cache):
        dropout_param, mask = cache
        return dout * mask if dropout_param["mode"] == "train" else dout
    ''',
]


# ---------------------------------------------------------------- submissions, graded once

def _apply(sub, mutants):
    """mutants: {relpath: [source, ...]} or [(source, "Class.method", ...), ...]."""
    if isinstance(mutants, dict):
        for relpath, sources in mutants.items():
            for src in sources:
                mutate(sub, relpath, src)
    else:
        for src, name, *_ in mutants:
            mutate(sub, "scratch/classifiers/fc_net.py", src, name=name)


SUBMISSIONS = {
    # name: (start from, changes, questions graded)
    "reference": ("solutions", [], FC + NORM),
    "stubs": ("release", [], FC + NORM + ["fc_best_model"]),
    "alternatives": ("solutions", [FC_ALTERNATIVES, ALTERNATIVE_NETS,
                                   {"scratch/layers.py": NORM_ALTERNATIVES}], FC + NORM),
}


@pytest.fixture(scope="module")
def graded(build, grade, tmp_path_factory):
    """graded(name) -> the GradeResult of SUBMISSIONS[name], computed once."""
    files = load_assignment(Path(__file__).resolve().parents[2] / "source" / A).submission_files
    cache = {}

    def get(name):
        if name not in cache:
            start, changes, questions = SUBMISSIONS[name]
            src = build.solutions(A) if start == "solutions" else build.release(A)
            sub = tmp_path_factory.mktemp(name)
            for rel in files:
                if (src / rel).is_file():
                    (sub / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src / rel, sub / rel)
            for mutants in changes:
                _apply(sub, mutants)
            cache[name] = grade(A, sub, only=questions)
        return cache[name]

    return get


def _full_marks(result, questions):
    for qid in questions:
        score, top = result.question(qid)
        failing = [t["name"] + ": " + t.get("output", "")[:500] for t in result.results["tests"]
                   if t.get("extra_data", {}).get("question") == qid and t["score"] < t["max_score"]]
        assert top > 0 and score == top, (qid, failing, result.log[-2000:])


def test_reference_full_marks(graded):
    _full_marks(graded("reference"), FC + NORM)


def test_stubs_score_zero(graded):
    result = graded("stubs")
    assert result.max_score > 0 and result.score == 0
    for t in result.results["tests"]:
        assert t["score"] == 0 and t["output"].strip(), t
    assert "affine_forward is not implemented yet" in result.test("test_affine_forward")["output"]
    assert "best_fc.npz is missing" in result.test("test_best_model_accuracy")["output"]


def test_alternatives_accepted(graded):
    _full_marks(graded("alternatives"), FC + NORM)
