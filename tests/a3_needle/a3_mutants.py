"""Known-wrong versions of a3 (needle) answers, grouped into submissions.

Each entry: (name, question, [(file, "Class.method" or function, source)], graders
that must fail). Every other grader of that question must still give full marks, so
each mutation is caught by the grader meant to catch it, and only by it. `RUNS` (at
the end) is the same list in the form the kit's mutant harness reads
(coursekit.testing, docs/authoring.md section 6).
"""

import pytest

from coursekit.testing import Edit, Mutant, MutantRun

INIT = "python/needle/init/init_initializers.py"
OPS = "python/needle/ops/ops_logarithmic.py"
NN = "python/needle/nn/nn_basic.py"
OPTIM = "python/needle/optim.py"
DATA = "python/needle/data/data_basic.py"
TRANSFORMS = "python/needle/data/data_transforms.py"
MNIST = "python/needle/data/datasets/mnist_dataset.py"
NDARRAY = "python/needle/data/datasets/ndarray_dataset.py"
APP = "apps/mlp_resnet.py"

MUTANTS = [
    ("init_wrong_fans", "init", [
        (INIT, "xavier_uniform", '''
def xavier_uniform(fan_in, fan_out, gain=1.0, **kwargs):
    a = gain * math.sqrt(6.0 / fan_in)
    return rand(fan_in, fan_out, low=-a, high=a, **kwargs)
'''),
        (INIT, "xavier_normal", '''
def xavier_normal(fan_in, fan_out, gain=1.0, **kwargs):
    return randn(fan_in, fan_out, std=gain * 2.0 / (fan_in + fan_out), **kwargs)
'''),
        (INIT, "kaiming_uniform", '''
def kaiming_uniform(fan_in, fan_out, nonlinearity="relu", **kwargs):
    bound = math.sqrt(6.0 / fan_out)
    return rand(fan_in, fan_out, low=-bound, high=bound, **kwargs)
'''),
        (INIT, "kaiming_normal", '''
def kaiming_normal(fan_in, fan_out, nonlinearity="relu", **kwargs):
    return randn(fan_in, fan_out, std=2.0 / math.sqrt(fan_in), **kwargs)
'''),
    ], {"test_xavier_uniform", "test_xavier_normal", "test_kaiming_uniform", "test_kaiming_normal"}),

    ("logsumexp_unstable", "logsumexp", [
        (OPS, "LogSumExp.compute", '''
def compute(self, Z):
    return array_api.log(array_api.sum(array_api.exp(Z), axis=self.axes))
'''),
        (OPS, "LogSoftmax.compute", '''
def compute(self, Z):
    return Z - array_api.log(array_api.sum(array_api.exp(Z), axis=-1, keepdims=True))
'''),
    ], {"test_logsumexp_stable", "test_logsoftmax_forward"}),

    ("logsumexp_wrong_gradients", "logsumexp", [
        (OPS, "LogSumExp.gradient", '''
def gradient(self, out_grad, node):
    z = node.inputs[0]
    axes = range(len(z.shape)) if self.axes is None else self.axes
    kept = tuple(1 if k in axes else n for k, n in enumerate(z.shape))
    return exp(z - broadcast_to(reshape(node, kept), z.shape))
'''),
        (OPS, "LogSoftmax.gradient", '''
def gradient(self, out_grad, node):
    return out_grad - exp(node)
'''),
    ], {"test_logsumexp_gradient", "test_logsoftmax_gradient"}),

    ("logsumexp_keeps_dims", "logsumexp", [
        (OPS, "LogSumExp.compute", '''
def compute(self, Z):
    top = array_api.max(Z, axis=self.axes, keepdims=True)
    return array_api.log(array_api.sum(array_api.exp(Z - top), axis=self.axes, keepdims=True)) + top
'''),
    ], {"test_logsumexp_forward", "test_logsumexp_stable", "test_logsumexp_gradient"}),

    ("nn_order_and_reductions", "nn_basic", [
        (NN, "Linear.__init__", '''
def __init__(self, in_features, out_features, bias=True, device=None, dtype="float32"):
    super().__init__()
    self.in_features = in_features
    self.out_features = out_features
    b = init.kaiming_uniform(out_features, 1, device=device, dtype=dtype)
    self.bias = Parameter(b.reshape((1, out_features)))
    self.weight = Parameter(init.kaiming_uniform(in_features, out_features, device=device, dtype=dtype))
'''),
        (NN, "Flatten.forward", '''
def forward(self, X):
    return ops.transpose(X).reshape((X.shape[0], int(np.prod(X.shape[1:]))))
'''),
        (NN, "Sequential.forward", '''
def forward(self, x):
    for module in reversed(self.modules):
        x = module(x)
    return x
'''),
        (NN, "SoftmaxLoss.forward", '''
def forward(self, logits, y):
    n, k = logits.shape
    y_one_hot = init.one_hot(k, y, device=logits.device, dtype=logits.dtype)
    picked = ops.summation(logits * y_one_hot, axes=(1,))
    return ops.summation(ops.logsumexp(logits, axes=(1,)) - picked)
'''),
    ], {"test_linear_init", "test_flatten", "test_sequential", "test_softmax_loss"}),

    ("nn_shapes_and_skips", "nn_basic", [
        (NN, "Linear.forward", '''
def forward(self, X):
    return X @ self.weight + self.bias.broadcast_to((X.shape[0], self.out_features))
'''),
        (NN, "ReLU.forward", '''
def forward(self, x):
    return ops.relu(x) + x * 0.01
'''),
        (NN, "Residual.forward", '''
def forward(self, x):
    return self.fn(x)
'''),
    ], {"test_linear_forward", "test_linear_backward", "test_relu", "test_sequential",
        "test_residual_and_identity"}),

    ("norm_statistics_and_scaling", "nn_norm", [
        (NN, "BatchNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    if self.training:
        mean = ops.summation(x, axes=(0,)) / n
        centered = x - mean.reshape((1, d)).broadcast_to((n, d))
        var = ops.summation(centered**2, axes=(0,)) / n
        m = self.momentum
        self.running_mean = ((1 - m) * self.running_mean + m * mean.data).data
        self.running_var = ((1 - m) * self.running_var + m * (var.data * (n / (n - 1)))).data
    else:
        centered = x - self.running_mean.reshape((1, d)).broadcast_to((n, d))
        var = self.running_var
    std = ((var + self.eps) ** 0.5).reshape((1, d)).broadcast_to((n, d))
    return (self.weight.reshape((1, d)).broadcast_to((n, d)) * (centered / std)
            + self.bias.reshape((1, d)).broadcast_to((n, d)))
'''),
        (NN, "Dropout.forward", '''
def forward(self, x):
    if not self.training:
        return x
    keep = init.randb(*x.shape, p=1 - self.p, device=x.device, dtype=x.dtype)
    return x * keep / self.p
'''),
    ], {"test_batchnorm_running_statistics", "test_batchnorm_eval", "test_dropout"}),

    # eps added to the standard deviation instead of the variance: the forward grader
    # sees it with eps=0.5, the backward grader in the gradients of its eps=0.5 layer.
    ("layernorm_eps_outside_sqrt", "nn_norm", [
        (NN, "LayerNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    mean = (ops.summation(x, axes=(1,)) / d).reshape((n, 1)).broadcast_to((n, d))
    centered = x - mean
    var = (ops.summation(centered**2, axes=(1,)) / d).reshape((n, 1))
    std = (var ** 0.5 + self.eps).broadcast_to((n, d))
    return (self.weight.reshape((1, d)).broadcast_to((n, d)) * (centered / std)
            + self.bias.reshape((1, d)).broadcast_to((n, d)))
'''),
    ], {"test_layernorm_forward", "test_layernorm_backward"}),

    ("norm_modes_and_graph", "nn_norm", [
        (NN, "BatchNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    mean = ops.summation(x, axes=(0,)) / n
    centered = x - mean.reshape((1, d)).broadcast_to((n, d))
    var = (ops.summation(centered**2, axes=(0,)) / n).data
    if self.training:
        m = self.momentum
        self.running_mean = ((1 - m) * self.running_mean + m * mean.data).data
        self.running_var = ((1 - m) * self.running_var + m * var).data
    std = ((var + self.eps) ** 0.5).reshape((1, d)).broadcast_to((n, d))
    return (self.weight.reshape((1, d)).broadcast_to((n, d)) * (centered / std)
            + self.bias.reshape((1, d)).broadcast_to((n, d)))
'''),
        (NN, "LayerNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    mean = (ops.summation(x, axes=(0,)) / n).reshape((1, d)).broadcast_to((n, d))
    centered = x - mean
    var = (ops.summation(centered**2, axes=(0,)) / n).reshape((1, d)).broadcast_to((n, d))
    return (self.weight.reshape((1, d)).broadcast_to((n, d)) * (centered / (var + self.eps) ** 0.5)
            + self.bias.reshape((1, d)).broadcast_to((n, d)))
'''),
        (NN, "Dropout.forward", '''
def forward(self, x):
    if not self.training:
        return x
    keep = init.randb(*x.shape, p=self.p, device=x.device, dtype=x.dtype)
    return x * keep / (1 - self.p)
'''),
    ], {"test_batchnorm_eval", "test_batchnorm_backward", "test_layernorm_forward",
        "test_layernorm_backward", "test_dropout"}),

    ("norm_batchnorm_without_weight", "nn_norm", [
        (NN, "BatchNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    if self.training:
        mean = ops.summation(x, axes=(0,)) / n
        centered = x - mean.reshape((1, d)).broadcast_to((n, d))
        var = ops.summation(centered**2, axes=(0,)) / n
        m = self.momentum
        self.running_mean = ((1 - m) * self.running_mean + m * mean.data).data
        self.running_var = ((1 - m) * self.running_var + m * var.data).data
    else:
        centered = x - self.running_mean.reshape((1, d)).broadcast_to((n, d))
        var = self.running_var
    std = ((var + self.eps) ** 0.5).reshape((1, d)).broadcast_to((n, d))
    return centered / std + self.bias.reshape((1, d)).broadcast_to((n, d))
'''),
    ], {"test_batchnorm_train_forward", "test_batchnorm_backward"}),

    ("optim_momentum_and_bias_correction", "optim", [
        (OPTIM, "SGD.step", '''
def step(self):
    for p in self.params:
        if p.grad is None:
            continue
        w, g = p.numpy(), p.grad.numpy() + self.weight_decay * p.numpy()
        self.u[p] = self.momentum * self.u.get(p, 0.0) + g
        p.data = ndl.Tensor.make_const((w - self.lr * self.u[p]).astype(w.dtype))
'''),
        (OPTIM, "Adam.step", '''
def step(self):
    self.t += 1
    for p in self.params:
        if p.grad is None:
            continue
        w = p.numpy()
        g = p.grad.numpy() + self.weight_decay * w
        self.m[p] = self.beta1 * self.m.get(p, 0.0) + (1 - self.beta1) * g
        self.v[p] = self.beta2 * self.v.get(p, 0.0) + (1 - self.beta2) * g * g
        new_w = w - self.lr * self.m[p] / (np.sqrt(self.v[p]) + self.eps)
        p.data = ndl.Tensor.make_const(new_w.astype(w.dtype))
'''),
    ], {"test_sgd_momentum_weight_decay", "test_adam", "test_adam_weight_decay"}),

    ("optim_graph_state", "optim", [
        (OPTIM, "SGD.step", '''
def step(self):
    m = self.momentum
    for p in self.params:
        if p.grad is None:
            continue
        self.u[p] = m * self.u.get(p, 0.0) + (1 - m) * (p.grad + self.weight_decay * p)
        p.data = p.data - self.lr * self.u[p]
'''),
        (OPTIM, "Adam.step", '''
def step(self):
    self.t += 1
    b1, b2 = self.beta1, self.beta2
    for p in self.params:
        if p.grad is None:
            continue
        g = p.grad + self.weight_decay * p
        self.m[p] = b1 * self.m.get(p, 0.0) + (1 - b1) * g
        self.v[p] = b2 * self.v.get(p, 0.0) + (1 - b2) * g * g
        m_hat = self.m[p] / (1 - b1**self.t)
        v_hat = self.v[p] / (1 - b2**self.t)
        p.data = p.data - self.lr * m_hat / (v_hat**0.5 + self.eps)
'''),
    ], {"test_sgd_memory", "test_adam_memory"}),

    ("optim_sign_and_inplace_grad", "optim", [
        (OPTIM, "SGD.step", '''
def step(self):
    m = self.momentum
    for p in self.params:
        if p.grad is None:
            continue
        w = p.numpy()
        g = p.grad.numpy() + self.weight_decay * w
        self.u[p] = (1 - m) * g if p not in self.u else m * self.u[p] + (1 - m) * g
        p.data = ndl.Tensor.make_const((w + self.lr * self.u[p]).astype(w.dtype))
'''),
        (OPTIM, "Adam.step", '''
def step(self):
    self.t += 1
    b1, b2 = self.beta1, self.beta2
    for p in self.params:
        if p.grad is None:
            continue
        w = p.numpy()
        g = p.grad.numpy()
        g += self.weight_decay * w
        self.m[p] = b1 * self.m.get(p, 0.0) + (1 - b1) * g
        self.v[p] = b2 * self.v.get(p, 0.0) + (1 - b2) * g * g
        m_hat = self.m[p] / (1 - b1**self.t)
        v_hat = self.v[p] / (1 - b2**self.t)
        p.data = ndl.Tensor.make_const((w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(w.dtype))
'''),
    ], {"test_sgd", "test_sgd_momentum_weight_decay", "test_adam_weight_decay"}),

    ("data_axes_and_shuffle_once", "data", [
        (TRANSFORMS, "RandomFlipHorizontal.__call__", '''
def __call__(self, img):
    flip_img = np.random.rand() < self.p
    return img[::-1] if flip_img else img
'''),
        (TRANSFORMS, "RandomCrop.__call__", '''
def __call__(self, img):
    shift_x, shift_y = np.random.randint(low=-self.padding, high=self.padding + 1, size=2)
    h, w, _ = img.shape
    p = self.padding
    padded = np.pad(img, ((p, p), (p, p), (0, 0)))
    return padded[p + shift_y:p + shift_y + h, p + shift_x:p + shift_x + w, :]
'''),
        (DATA, "DataLoader.__iter__", '''
def __iter__(self):
    if self.shuffle and not hasattr(self, "ordering"):
        order = np.random.permutation(len(self.dataset))
        self.ordering = np.array_split(order, range(self.batch_size, len(self.dataset), self.batch_size))
    self._batch = 0
    return self
'''),
    ], {"test_random_flip", "test_random_crop", "test_mnist_dataset", "test_dataloader"}),

    ("data_scaling_and_length", "data", [
        (MNIST, "MNISTDataset.__getitem__", '''
def __getitem__(self, index):
    images = self.images[index] * 255
    if images.ndim == 3:
        return self.apply_transforms(images), self.labels[index]
    if self.transforms:
        images = np.stack([self.apply_transforms(img) for img in images])
    return images, self.labels[index]
'''),
        (NDARRAY, "NDArrayDataset.__len__", '''
def __len__(self):
    return len(self.arrays)
'''),
    ], {"test_mnist_dataset", "test_ndarray_dataset", "test_dataloader"}),

    ("mlp_unweighted_loss", "mlp_resnet", [
        (APP, "epoch", '''
def epoch(dataloader, model, opt=None):
    np.random.seed(4)
    loss_fn = nn.SoftmaxLoss()
    model.eval() if opt is None else model.train()
    wrong, seen, losses = 0, 0, []
    for X, y in dataloader:
        logits = model(X.reshape((X.shape[0], -1)))
        loss = loss_fn(logits, y)
        if opt is not None:
            opt.reset_grad()
            loss.backward()
            opt.step()
        wrong += int((logits.numpy().argmax(axis=1) != y.numpy()).sum())
        seen += y.shape[0]
        losses.append(float(loss.numpy()))
    return wrong / seen, float(np.mean(losses))
'''),
    ], {"test_epoch_evaluation", "test_epoch_training", "test_train_mnist"}),

    ("mlp_block_without_last_relu", "mlp_resnet", [
        (APP, "ResidualBlock", '''
def ResidualBlock(dim, hidden_dim, norm=nn.BatchNorm1d, drop_prob=0.1):
    return nn.Residual(nn.Sequential(nn.Linear(dim, hidden_dim), norm(hidden_dim), nn.ReLU(),
                                     nn.Dropout(drop_prob), nn.Linear(hidden_dim, dim), norm(dim)))
'''),
    ], {"test_residual_block", "test_mlp_resnet", "test_epoch_evaluation", "test_epoch_training",
        "test_train_mnist"}),

    ("mlp_wide_blocks", "mlp_resnet", [
        (APP, "MLPResNet", '''
def MLPResNet(dim, hidden_dim=100, num_blocks=3, num_classes=10, norm=nn.BatchNorm1d, drop_prob=0.1):
    blocks = [ResidualBlock(hidden_dim, hidden_dim, norm, drop_prob) for _ in range(num_blocks)]
    return nn.Sequential(nn.Linear(dim, hidden_dim), nn.ReLU(), *blocks, nn.Linear(hidden_dim, num_classes))
'''),
    ], {"test_mlp_resnet", "test_epoch_evaluation", "test_epoch_training", "test_train_mnist"}),

    ("mlp_modes_not_switched", "mlp_resnet", [
        (APP, "epoch", '''
def epoch(dataloader, model, opt=None):
    np.random.seed(4)
    loss_fn = nn.SoftmaxLoss()
    wrong, seen, total = 0, 0, 0.0
    for X, y in dataloader:
        logits = model(X.reshape((X.shape[0], -1)))
        loss = loss_fn(logits, y)
        if opt is not None:
            opt.reset_grad()
            loss.backward()
            opt.step()
        wrong += int((logits.numpy().argmax(axis=1) != y.numpy()).sum())
        seen += y.shape[0]
        total += float(loss.numpy()) * y.shape[0]
    return wrong / seen, total / seen
'''),
    ], {"test_epoch_evaluation", "test_epoch_training", "test_train_mnist"}),

    ("mlp_train_mnist_unshuffled", "mlp_resnet", [
        (APP, "train_mnist", '''
def train_mnist(batch_size=100, epochs=10, optimizer=ndl.optim.Adam, lr=0.001, weight_decay=0.001,
                hidden_dim=100, data_dir="data"):
    np.random.seed(4)
    def files(kind):
        return (os.path.join(data_dir, f"{kind}-images-idx3-ubyte.gz"),
                os.path.join(data_dir, f"{kind}-labels-idx1-ubyte.gz"))
    train = ndl.data.DataLoader(ndl.data.MNISTDataset(*files("train")), batch_size=batch_size)
    test = ndl.data.DataLoader(ndl.data.MNISTDataset(*files("t10k")), batch_size=batch_size)
    model = MLPResNet(784, hidden_dim)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        stats = epoch(train, model, opt)
    return (*stats, *epoch(test, model))
'''),
    ], {"test_train_mnist"}),
]

# Trains in the student process on real MNIST: graded on its own (slow, needs the data).
TRAINING_MUTANT = ("mnist_no_updates", "mnist_training", [
    (APP, "epoch", '''
def epoch(dataloader, model, opt=None):
    np.random.seed(4)
    loss_fn = nn.SoftmaxLoss()
    model.eval() if opt is None else model.train()
    wrong, seen, total = 0, 0, 0.0
    for X, y in dataloader:
        logits = model(X.reshape((X.shape[0], -1)))
        loss = loss_fn(logits, y)
        if opt is not None:
            loss.backward()
        wrong += int((logits.numpy().argmax(axis=1) != y.numpy()).sum())
        seen += y.shape[0]
        total += float(loss.numpy()) * y.shape[0]
    return wrong / seen, total / seen
'''),
], {"test_mnist_test_error"})


RUNS = [MutantRun(name, (question,), (Mutant(name, failing, tuple(Edit(*c) for c in changes)),))
        for name, question, changes, failing in MUTANTS]
RUNS.append(MutantRun(
    TRAINING_MUTANT[0], (TRAINING_MUTANT[1],),
    (Mutant(TRAINING_MUTANT[0], TRAINING_MUTANT[3], tuple(Edit(*c) for c in TRAINING_MUTANT[2]),
            says={name: "test error" for name in TRAINING_MUTANT[3]}, zero=TRAINING_MUTANT[3]),),
    marks=(pytest.mark.realdata("mnist"), pytest.mark.slow)))
