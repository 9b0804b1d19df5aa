"""a2 part 3 graders through the real autograder: full marks for the reference, zero for
the stubs, correct alternatives accepted. The known-wrong variants ("mutants") below are
graded by the kit's mutant harness (a2_mutants.py, test_a2_mutant_runs.py).

Grading runs are the slow part, so each mutant run carries several mutants, one per
question, in functions that do not call each other; each question's score then shows
the effect of its own mutant only. (conv_backward calls the student's forward pass, so
a forward mutant and a backward mutant never share a run.)
"""

A = "a2_neural_nets"
CONV_QUESTIONS = ("conv_forward", "conv_backward", "conv_max_pool", "conv_three_layer_net",
                  "conv_spatial_batchnorm", "conv_spatial_groupnorm")
POINTS = {"conv_forward": 6, "conv_backward": 8, "conv_max_pool": 8, "conv_three_layer_net": 10,
          "conv_spatial_batchnorm": 6, "conv_spatial_groupnorm": 8}
LAYERS, CNN = "scratch/layers.py", "scratch/classifiers/cnn.py"


def test_reference_scores_full_marks(grade, reference_submission):
    result = grade(A, reference_submission(A), only=CONV_QUESTIONS)
    assert result.by_question() == {q: (p, p) for q, p in POINTS.items()}, result.results
    assert result.score == sum(POINTS.values())


def test_stubs_score_zero_with_a_message_each(grade, stub_submission):
    result = grade(A, stub_submission(A), only=CONV_QUESTIONS)
    assert result.max_score == sum(POINTS.values())
    assert result.score == 0
    for t in result.results["tests"]:
        assert t["status"] == "failed"
        assert "is not implemented yet" in t["output"], (t["name"], t["output"])


# ---------------------------------------------------------------------------- mutants
# Each entry: (file, source, Class.method name or None). Expected scores per question
# and the graders that must fail are listed with each run.

PAD_ONCE = (LAYERS, '''
def conv_forward_naive(x, w, b, conv_param):
    # Mutant: zeros on the top and left only.
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + pad - HH) // stride
    W_out = 1 + (W + pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)
''', None)

STRIDE_IGNORED_FORWARD = (LAYERS, '''
def conv_forward_naive(x, w, b, conv_param):
    # Mutant: the output size uses the stride, the windows do not.
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, f, i, j] = np.sum(x_pad[n, :, i:i + HH, j:j + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)
''', None)

STRIDE_IGNORED_BACKWARD = (LAYERS, '''
def conv_backward_naive(dout, cache):
    # Mutant: the backward pass walks the windows with stride 1.
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, i:i + HH, j:j + WW]
                    dx_pad[n, :, i:i + HH, j:j + WW] += dout[n, f, i, j] * w[f]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
''', None)

DW_DB_WRONG = (LAYERS, '''
def conv_backward_naive(dout, cache):
    # Mutant: dw keeps only the last example's contribution; db sums over examples only.
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    for n in range(N):
        dw = np.zeros_like(w)
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    t, l = i * stride, j * stride
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, t:t + HH, l:l + WW]
                    dx_pad[n, :, t:t + HH, l:l + WW] += dout[n, f, i, j] * w[f]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=0)
''', None)

POOL_ALL_TIES = (LAYERS, '''
def max_pool_backward_naive(dout, cache):
    # Mutant: the gradient goes to every input equal to the window's maximum.
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
''', None)

POOL_AVERAGE = (LAYERS, '''
def max_pool_forward_naive(x, pool_param):
    # Mutant: average pooling.
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].mean(axis=(2, 3))
    return out, (x, pool_param)
''', None)

POOL_BACKWARD_STRIDE = (LAYERS, '''
def max_pool_backward_naive(dout, cache):
    # Mutant: windows placed pool_height / pool_width apart instead of stride apart.
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * ph:i * ph + ph, j * pw:j * pw + pw]
                    if window.size == 0:
                        continue
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * ph + k, j * pw + l] += dout[n, c, i, j]
    return dx
''', None)

SBN_NO_TRANSPOSE = (LAYERS, '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    # Mutant: reshapes to (-1, C) without moving the channel axis last.
    N, C, H, W = x.shape
    out, cache = batchnorm_forward(x.reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, C, H, W), cache
''', None)

SBN_TEST_USES_BATCH = (LAYERS, '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    # Mutant: test mode normalizes with the batch statistics too.
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out, cache = batchnorm_forward(rows, gamma, beta, dict(bn_param, mode="train"))
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache
''', None)

GN_INTERLEAVED = (LAYERS, '''
def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    # Mutant: group g holds channels g, g + G, g + 2G, ... instead of consecutive ones.
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, C // G, G, H, W)
    mu = xg.mean(axis=(1, 3, 4), keepdims=True)
    std = np.sqrt(xg.var(axis=(1, 3, 4), keepdims=True) + eps)
    x_hat = ((xg - mu) / std).reshape(N, C, H, W)
    return gamma * x_hat + beta, (x_hat, std, gamma, G)
''', None)

GN_BATCH_STATS = (LAYERS, '''
def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    # Mutant: statistics of each group over the whole minibatch.
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    mu = xg.mean(axis=(0, 2), keepdims=True)
    std = np.sqrt(xg.var(axis=(0, 2), keepdims=True) + eps)
    x_hat = ((xg - mu) / std).reshape(N, C, H, W)
    return gamma * x_hat + beta, (x_hat, np.broadcast_to(std, (N, G, 1)), gamma, G)
''', None)

GN_PARAM_GRADS_FIRST_EXAMPLE = (LAYERS, '''
def spatial_groupnorm_backward(dout, cache):
    # Mutant: dgamma and dbeta from the first example only.
    x_hat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout[:1].sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat)[:1].sum(axis=(0, 2, 3), keepdims=True)
    dxh = (dout * gamma).reshape(N, G, -1)
    xh = x_hat.reshape(N, G, -1)
    dx = (dxh - dxh.mean(axis=2, keepdims=True) - xh * (dxh * xh).mean(axis=2, keepdims=True)) / std
    return dx.reshape(N, C, H, W), dgamma, dbeta
''', None)

_CNN_HEAD = '''
def loss(self, X, y=None):
    X = X.astype(self.dtype)
    W1, b1 = self.params["W1"], self.params["b1"]
    W2, b2 = self.params["W2"], self.params["b2"]
    W3, b3 = self.params["W3"], self.params["b3"]
    conv_param = {"stride": 1, "pad": (W1.shape[2] - 1) // 2}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
'''

CNN_FULL_REG = (CNN, _CNN_HEAD + '''
    # Mutant: regularization reg * sum(W ** 2), without the 0.5.
    pooled, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
    hidden, cache2 = affine_relu_forward(pooled, W2, b2)
    scores, cache3 = affine_forward(hidden, W3, b3)
    if y is None:
        return scores
    grads = {}
    loss, dscores = softmax_loss(scores, y)
    loss += self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
    dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
    dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, cache2)
    _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, cache1)
    for k in ("W1", "W2", "W3"):
        grads[k] += 2 * self.reg * self.params[k]
    return loss, grads
''', "ThreeLayerConvNet.loss")

CNN_NO_HIDDEN_RELU = (CNN, _CNN_HEAD + '''
    # Mutant: no ReLU after the hidden affine layer.
    pooled, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
    hidden, cache2 = affine_forward(pooled, W2, b2)
    scores, cache3 = affine_forward(hidden, W3, b3)
    if y is None:
        return scores
    grads = {}
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
    dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
    dpooled, grads["W2"], grads["b2"] = affine_backward(dhidden, cache2)
    _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, cache1)
    for k in ("W1", "W2", "W3"):
        grads[k] += self.reg * self.params[k]
    return loss, grads
''', "ThreeLayerConvNet.loss")

CNN_W1_UNREGULARIZED = (CNN, _CNN_HEAD + '''
    # Mutant: the regularization gradient of W1 is missing.
    pooled, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
    hidden, cache2 = affine_relu_forward(pooled, W2, b2)
    scores, cache3 = affine_forward(hidden, W3, b3)
    if y is None:
        return scores
    grads = {}
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
    dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
    dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, cache2)
    _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, cache1)
    for k in ("W2", "W3"):
        grads[k] += self.reg * self.params[k]
    return loss, grads
''', "ThreeLayerConvNet.loss")

# run name -> (mutants, {question: expected score}, graders that must fail); a2_mutants.py
# turns each into a harness run.
MUTANT_RUNS = {
    "a": ([PAD_ONCE, POOL_ALL_TIES, SBN_NO_TRANSPOSE, GN_INTERLEAVED, CNN_FULL_REG],
          {"conv_forward": 0, "conv_max_pool": 6, "conv_spatial_batchnorm": 0,
           "conv_spatial_groupnorm": 0, "conv_three_layer_net": 5},
          ["test_max_pool_backward_ties", "test_cnn_loss", "test_cnn_gradients"]),
    "b": ([STRIDE_IGNORED_BACKWARD, POOL_AVERAGE, SBN_TEST_USES_BATCH, GN_BATCH_STATS,
           CNN_NO_HIDDEN_RELU],
          {"conv_backward": 2, "conv_max_pool": 5, "conv_spatial_batchnorm": 5,
           "conv_spatial_groupnorm": 0, "conv_three_layer_net": 2},
          ["test_conv_backward_dx", "test_conv_backward_dw", "test_max_pool_forward",
           "test_spatial_batchnorm_forward_test"]),
    "c": ([STRIDE_IGNORED_FORWARD, POOL_BACKWARD_STRIDE, GN_PARAM_GRADS_FIRST_EXAMPLE,
           CNN_W1_UNREGULARIZED],
          {"conv_forward": 2, "conv_max_pool": 3, "conv_spatial_groupnorm": 6,
           "conv_three_layer_net": 7},
          ["test_conv_forward_stride_and_padding", "test_conv_forward_rectangular",
           "test_max_pool_backward", "test_max_pool_backward_ties",
           "test_spatial_groupnorm_backward_params", "test_cnn_gradients"]),
    "d": ([DW_DB_WRONG],
          {"conv_backward": 3},
          ["test_conv_backward_dw", "test_conv_backward_db"]),
}


# ------------------------------------------------------------------------ alternatives
# Correct implementations written differently from the reference: vectorized where
# the reference loops and the other way round, other formulas for the same values.

ALTERNATIVES = [
    (LAYERS, '''
def conv_forward_naive(x, w, b, conv_param):
    # Vectorized: every window at once, then one einsum.
    s, p = conv_param["stride"], conv_param["pad"]
    HH, WW = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    win = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::s, ::s]
    out = np.einsum("ncijkl,fckl->nfij", win, w) + b[None, :, None, None]
    return out, (x, w, b, conv_param)
''', None),
    (LAYERS, '''
def conv_backward_naive(dout, cache):
    # Loops over output positions only; examples and filters at once.
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    F, C, HH, WW = w.shape
    N, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]      # (N, C, HH, WW)
            g = dout[:, :, i, j]                                       # (N, F)
            dw += np.tensordot(g, patch, axes=([0], [0]))
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.tensordot(g, w, axes=([1], [0]))
    db = np.einsum("nfij->f", dout)
    dx = dxp[:, :, p:dxp.shape[2] - p, p:dxp.shape[3] - p]
    return dx, dw, db
''', None),
    (LAYERS, '''
def max_pool_forward_naive(x, pool_param):
    # Four nested loops with Python's max over a flattened window.
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = (H - ph) // s + 1, (W - pw) // s + 1
    out = np.empty((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = max(x[n, c, i * s:i * s + ph, j * s:j * s + pw].ravel())
    return out, (x, pool_param)
''', None),
    (LAYERS, '''
def max_pool_backward_naive(dout, cache):
    # Per output position: argmax of every flattened window at once, scattered with
    # fancy indexing (distinct (n, c) pairs, so no index repeats within one assignment).
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x, dtype=float)
    n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(Ho):
        for j in range(Wo):
            flat = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
            first = flat.argmax(axis=2)
            dx[n_idx, c_idx, i * s + first // pw, j * s + first % pw] += dout[:, :, i, j]
    return dx
''', None),
    (LAYERS, '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    # Written out per channel over axes (0, 2, 3), without the vanilla layer.
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    C = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(C))
    rv = bn_param.get("running_var", np.zeros(C))
    g, bt = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    cache = None
    if bn_param["mode"] == "train":
        mu = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        x_hat = (x - mu) / np.sqrt(var + eps)
        out = g * x_hat + bt
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu.ravel()
        bn_param["running_var"] = momentum * rv + (1 - momentum) * var.ravel()
        cache = (x, mu, var, eps, g)
    else:
        out = g * (x - rm.reshape(1, C, 1, 1)) / np.sqrt(rv.reshape(1, C, 1, 1) + eps) + bt
    return out, cache
''', None),
    (LAYERS, '''
def spatial_batchnorm_backward(dout, cache):
    # Step by step through the graph, per channel.
    x, mu, var, eps, g = cache
    m = x.shape[0] * x.shape[2] * x.shape[3]
    axes = (0, 2, 3)
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dxh = dout * g
    dvar = np.sum(dxh * (x - mu), axis=axes, keepdims=True) * -0.5 * inv ** 3
    dmu = -np.sum(dxh * inv, axis=axes, keepdims=True) + dvar * np.mean(-2 * (x - mu), axis=axes, keepdims=True)
    dx = dxh * inv + dvar * 2 * (x - mu) / m + dmu / m
    return dx, dgamma, dbeta
''', None),
    (LAYERS, '''
def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    # Five-dimensional view (N, G, C/G, H, W), statistics over its last three axes.
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    x5 = x.reshape(N, G, C // G, H, W)
    mu = x5.mean(axis=(2, 3, 4), keepdims=True)
    var = x5.var(axis=(2, 3, 4), keepdims=True)
    out = gamma * ((x5 - mu) / np.sqrt(var + eps)).reshape(N, C, H, W) + beta
    return out, (x, gamma, G, eps)
''', None),
    (LAYERS, '''
def spatial_groupnorm_backward(dout, cache):
    # Recomputes the statistics, then the chain rule node by node.
    x, gamma, G, eps = cache
    N, C, H, W = x.shape
    x5 = x.reshape(N, G, -1)
    m = x5.shape[2]
    mu = x5.mean(axis=2, keepdims=True)
    xc = x5 - mu
    var = (xc ** 2).mean(axis=2, keepdims=True)
    inv = (var + eps) ** -0.5
    x_hat = (xc * inv).reshape(N, C, H, W)
    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3)).reshape(1, C, 1, 1)
    dbeta = np.sum(dout, axis=(0, 2, 3)).reshape(1, C, 1, 1)
    dxh = (dout * gamma).reshape(N, G, -1)
    dinv = np.sum(dxh * xc, axis=2, keepdims=True)
    dvar = dinv * -0.5 * inv ** 3
    dxc = dxh * inv + dvar * 2 * xc / m
    dx = dxc - dxc.mean(axis=2, keepdims=True)
    return dx.reshape(N, C, H, W), dgamma, dbeta
''', None),
    (CNN, '''
def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
             num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
    # np.random.normal instead of randn; parameters cast as they are made.
    C, H, W = input_dim
    self.reg, self.dtype = reg, dtype
    shapes = {"W1": (num_filters, C, filter_size, filter_size),
              "W2": (num_filters * (H // 2) * (W // 2), hidden_dim),
              "W3": (hidden_dim, num_classes)}
    self.params = {}
    for k, shape in shapes.items():
        self.params[k] = np.random.normal(0.0, weight_scale, size=shape).astype(dtype)
        self.params["b" + k[1]] = np.zeros(shape[0] if k == "W1" else shape[1], dtype=dtype)
''', "ThreeLayerConvNet.__init__"),
    (CNN, '''
def loss(self, X, y=None):
    # The layers one by one, with the naive convolution and pooling.
    p = self.params
    X = X.astype(self.dtype)
    fs = p["W1"].shape[2]
    a, c_conv = conv_forward_naive(X, p["W1"], p["b1"], {"stride": 1, "pad": fs // 2})
    r, c_relu = relu_forward(a)
    pooled, c_pool = max_pool_forward_naive(r, {"pool_height": 2, "pool_width": 2, "stride": 2})
    h, c_aff = affine_forward(pooled, p["W2"], p["b2"])
    hr, c_relu2 = relu_forward(h)
    scores, c_out = affine_forward(hr, p["W3"], p["b3"])
    if y is None:
        return scores
    data_loss, d = softmax_loss(scores, y)
    weights = [p["W1"], p["W2"], p["W3"]]
    loss = data_loss + self.reg * sum((wt ** 2).sum() for wt in weights) / 2
    g = {}
    d, g["W3"], g["b3"] = affine_backward(d, c_out)
    d = relu_backward(d, c_relu2)
    d, g["W2"], g["b2"] = affine_backward(d, c_aff)
    d = max_pool_backward_naive(d, c_pool)
    d = relu_backward(d, c_relu)
    _, g["W1"], g["b1"] = conv_backward_naive(d, c_conv)
    for k in ("W1", "W2", "W3"):
        g[k] = g[k] + self.reg * p[k]
    return loss, g
''', "ThreeLayerConvNet.loss"),
]


def test_alternative_implementations_score_full_marks(grade, reference_submission, mutate):
    sub = reference_submission(A)
    for relpath, source, name in ALTERNATIVES:
        mutate(sub, relpath, source, name=name)
    result = grade(A, sub, only=CONV_QUESTIONS)
    assert result.by_question() == {q: (p, p) for q, p in POINTS.items()}, result.results
