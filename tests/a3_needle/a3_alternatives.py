"""Correct answers written differently from the reference solution.

A submission with all of these must get full marks: the graders check behaviour,
not one way of writing it.
"""

from a3_mutants import APP, DATA, INIT, MNIST, NDARRAY, NN, OPS, OPTIM, TRANSFORMS

ALTERNATIVES = [
    # ---- init: the bounds simplified algebraically, draws made with rand(low=0, high=1)
    (INIT, "xavier_uniform", '''
def xavier_uniform(fan_in, fan_out, gain=1.0, **kwargs):
    a = gain * (6 / (fan_in + fan_out)) ** 0.5
    return rand(fan_in, fan_out, low=-a, high=a, **kwargs)
'''),
    (INIT, "xavier_normal", '''
def xavier_normal(fan_in, fan_out, gain=1.0, **kwargs):
    return randn(fan_in, fan_out, std=gain * (2 / (fan_in + fan_out)) ** 0.5, **kwargs)
'''),
    (INIT, "kaiming_uniform", '''
def kaiming_uniform(fan_in, fan_out, nonlinearity="relu", **kwargs):
    bound = (6 / fan_in) ** 0.5
    return rand(fan_in, fan_out, low=-bound, high=bound, **kwargs)
'''),
    (INIT, "kaiming_normal", '''
def kaiming_normal(fan_in, fan_out, nonlinearity="relu", **kwargs):
    return randn(fan_in, fan_out, mean=0, std=(2 / fan_in) ** 0.5, **kwargs)
'''),

    # ---- ops: logsoftmax through logsumexp; gradients from the input instead of the output
    (OPS, "LogSumExp.compute", '''
def compute(self, Z):
    axes = tuple(range(Z.ndim)) if self.axes is None else self.axes
    top = Z.max(axis=axes)
    expanded = array_api.expand_dims(top, axis=axes)
    return top + array_api.log(array_api.exp(Z - expanded).sum(axis=axes))
'''),
    (OPS, "LogSumExp.gradient", '''
def gradient(self, out_grad, node):
    z = node.inputs[0]
    axes = set(range(len(z.shape))) if self.axes is None else {a % len(z.shape) for a in self.axes}
    kept = [1 if k in axes else n for k, n in enumerate(z.shape)]
    shifted = exp(z - broadcast_to(reshape(node, kept), z.shape))
    return multiply(broadcast_to(reshape(out_grad, kept), z.shape), shifted)
'''),
    (OPS, "LogSoftmax.compute", '''
def compute(self, Z):
    return Z - LogSumExp(axes=(Z.ndim - 1,)).compute(Z)[..., None]
'''),
    (OPS, "LogSoftmax.gradient", '''
def gradient(self, out_grad, node):
    z = node.inputs[0]
    n, c = z.shape
    lse = broadcast_to(reshape(logsumexp(z, axes=(1,)), (n, 1)), (n, c))
    probs = exp(z - lse)
    total = broadcast_to(reshape(summation(out_grad, axes=(1,)), (n, 1)), (n, c))
    return out_grad + negate(probs * total)
'''),

    # ---- nn: 2-D matmul with reshapes, a reduce over modules, loss from logsoftmax
    (NN, "Linear.forward", '''
def forward(self, X):
    lead = X.shape[:-1]
    flat = X.reshape((int(np.prod(lead)), self.in_features)) @ self.weight
    if self.bias is not None:
        flat = flat + self.bias.broadcast_to(flat.shape)
    return flat.reshape(tuple(lead) + (self.out_features,))
'''),
    (NN, "ReLU.forward", '''
def forward(self, x):
    return ops.ReLU()(x)
'''),
    (NN, "Sequential.forward", '''
def forward(self, x):
    import functools
    return functools.reduce(lambda value, module: module(value), self.modules, x)
'''),
    (NN, "Flatten.forward", '''
def forward(self, X):
    size = 1
    for n in X.shape[1:]:
        size *= n
    return ops.reshape(X, (X.shape[0], size))
'''),
    (NN, "Residual.forward", '''
def forward(self, x):
    return x + self.fn(x)
'''),
    (NN, "Identity.forward", '''
def forward(self, x):
    return x * 1
'''),
    (NN, "SoftmaxLoss.forward", '''
def forward(self, logits, y):
    n, k = logits.shape
    picked = ops.logsoftmax(logits) * init.one_hot(k, y, dtype=logits.dtype)
    return -ops.summation(picked) / n
'''),
    (NN, "LayerNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    def rows(t):
        return ops.broadcast_to(ops.reshape(t, (n, 1)), (n, d))
    mean = rows(ops.summation(x, axes=(1,)) / d)
    second = rows(ops.summation(x * x, axes=(1,)) / d)
    var = second - mean * mean
    normalized = (x - mean) * (var + self.eps) ** -0.5
    return (ops.broadcast_to(ops.reshape(self.weight, (1, d)), (n, d)) * normalized
            + ops.broadcast_to(ops.reshape(self.bias, (1, d)), (n, d)))
'''),
    (NN, "BatchNorm1d.forward", '''
def forward(self, x):
    n, d = x.shape
    def cols(t):
        return ops.broadcast_to(ops.reshape(t, (1, d)), (n, d))
    if not self.training:
        normalized = (x - cols(self.running_mean)) / cols((self.running_var + self.eps) ** 0.5)
    else:
        mean = ops.summation(x / n, axes=(0,))
        diff = x - cols(mean)
        var = ops.summation(diff * diff / n, axes=(0,))
        self.running_mean = (self.running_mean * (1 - self.momentum) + mean.detach() * self.momentum).detach()
        self.running_var = (self.running_var * (1 - self.momentum) + var.detach() * self.momentum).detach()
        normalized = diff / cols((var + self.eps) ** 0.5)
    return cols(self.weight) * normalized + cols(self.bias)
'''),
    (NN, "Dropout.forward", '''
def forward(self, x):
    if self.training:
        mask = init.randb(*x.shape, p=1 - self.p)
        return x * ndl_tensor(mask.numpy().astype("float32") * (1.0 / (1 - self.p)))
    return x
'''),

    # ---- optim: the update computed with tensors on .data, state kept as detached tensors
    (OPTIM, "SGD.step", '''
def step(self):
    for p in self.params:
        if p.grad is None:
            continue
        grad = p.grad.data + p.data * self.weight_decay
        if p in self.u:
            grad = self.u[p] * self.momentum + grad * (1 - self.momentum)
        else:
            grad = grad * (1 - self.momentum)
        self.u[p] = grad.detach()
        p.data = (p.data - self.u[p] * self.lr).detach()
'''),
    (OPTIM, "Adam.step", '''
def step(self):
    self.t = self.t + 1
    for p in self.params:
        if p.grad is None:
            continue
        g = p.grad.data + p.data * self.weight_decay
        m = g * (1 - self.beta1) + (self.m[p] * self.beta1 if p in self.m else 0)
        v = g * g * (1 - self.beta2) + (self.v[p] * self.beta2 if p in self.v else 0)
        self.m[p], self.v[p] = m.detach(), v.detach()
        denom = (v / (1 - self.beta2 ** self.t)) ** 0.5 + self.eps
        p.data = (p.data - (m / (1 - self.beta1 ** self.t)) / denom * self.lr).detach()
'''),

    # ---- data: explicit copies and loops
    (TRANSFORMS, "RandomFlipHorizontal.__call__", '''
def __call__(self, img):
    flip_img = np.random.rand() < self.p
    if not flip_img:
        return img
    return np.flip(img, axis=1).copy()
'''),
    (TRANSFORMS, "RandomCrop.__call__", '''
def __call__(self, img):
    shift_x, shift_y = np.random.randint(low=-self.padding, high=self.padding + 1, size=2)
    h, w = img.shape[0], img.shape[1]
    out = np.zeros_like(img)
    rows_src = slice(max(shift_x, 0), min(h, h + shift_x))
    cols_src = slice(max(shift_y, 0), min(w, w + shift_y))
    rows_dst = slice(max(-shift_x, 0), max(-shift_x, 0) + (rows_src.stop - rows_src.start))
    cols_dst = slice(max(-shift_y, 0), max(-shift_y, 0) + (cols_src.stop - cols_src.start))
    if rows_src.stop > rows_src.start and cols_src.stop > cols_src.start:
        out[rows_dst, cols_dst] = img[rows_src, cols_src]
    return out
'''),
    (MNIST, "MNISTDataset.__init__", '''
def __init__(self, image_filename, label_filename, transforms=None):
    super().__init__(transforms)
    with gzip.open(image_filename) as fh:
        raw = fh.read()
    count, rows, cols = struct.unpack(">III", raw[4:16])
    self.pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    with gzip.open(label_filename) as fh:
        self.targets = np.frombuffer(fh.read(), dtype=np.uint8, offset=8)
    self.shape = (rows, cols, 1)
'''),
    (MNIST, "MNISTDataset.__getitem__", '''
def __getitem__(self, index):
    if isinstance(index, (int, np.integer)):
        image = self.pixels[index].reshape(self.shape).astype(np.float32) / 255
        return self.apply_transforms(image), self.targets[index]
    batch = self.pixels[index].reshape((-1,) + self.shape).astype(np.float32) / 255
    return np.array([self.apply_transforms(image) for image in batch]), self.targets[index]
'''),
    (MNIST, "MNISTDataset.__len__", '''
def __len__(self):
    return len(self.targets)
'''),
    (NDARRAY, "NDArrayDataset.__len__", '''
def __len__(self):
    return len(self.arrays[0])
'''),
    (NDARRAY, "NDArrayDataset.__getitem__", '''
def __getitem__(self, i):
    return tuple([array[i] for array in self.arrays])
'''),
    (DATA, "DataLoader.__iter__", '''
def __iter__(self):
    n = len(self.dataset)
    order = np.random.permutation(n) if self.shuffle else np.arange(n)
    self._pending = [order[start:start + self.batch_size] for start in range(0, n, self.batch_size)]
    return self
'''),
    (DATA, "DataLoader.__next__", '''
def __next__(self):
    if not self._pending:
        raise StopIteration
    return tuple(Tensor(part) for part in self.dataset[self._pending.pop(0)])
'''),

    # ---- app: nested lists, loop counters over dataloader.dataset, model built first
    (APP, "ResidualBlock", '''
def ResidualBlock(dim, hidden_dim, norm=nn.BatchNorm1d, drop_prob=0.1):
    layers = [nn.Linear(dim, hidden_dim), norm(hidden_dim), nn.ReLU(), nn.Dropout(drop_prob)]
    layers += [nn.Linear(hidden_dim, dim), norm(dim)]
    return nn.Sequential(nn.Residual(nn.Sequential(*layers)), nn.ReLU())
'''),
    (APP, "MLPResNet", '''
def MLPResNet(dim, hidden_dim=100, num_blocks=3, num_classes=10, norm=nn.BatchNorm1d, drop_prob=0.1):
    modules = [nn.Linear(dim, hidden_dim), nn.ReLU()]
    for _ in range(num_blocks):
        modules.append(ResidualBlock(hidden_dim, hidden_dim // 2, norm=norm, drop_prob=drop_prob))
    modules.append(nn.Linear(hidden_dim, num_classes))
    return nn.Sequential(*modules)
'''),
    (APP, "epoch", '''
def epoch(dataloader, model, opt=None):
    np.random.seed(4)
    if opt:
        model.train()
    else:
        model.eval()
    criterion = nn.SoftmaxLoss()
    errors, losses = [], []
    for X, y in dataloader:
        out = model(ndl.ops.reshape(X, (X.shape[0], int(np.prod(X.shape[1:])))))
        loss = criterion(out, y)
        errors.append(np.sum(np.argmax(out.numpy(), axis=1) != y.numpy()))
        losses.append(loss.numpy() * X.shape[0])
        if opt:
            opt.reset_grad()
            loss.backward()
            opt.step()
    n = len(dataloader.dataset)
    return float(np.sum(errors)) / n, float(np.sum(losses)) / n
'''),
    (APP, "train_mnist", '''
def train_mnist(batch_size=100, epochs=10, optimizer=ndl.optim.Adam, lr=0.001, weight_decay=0.001,
                hidden_dim=100, data_dir="data"):
    np.random.seed(4)
    model = MLPResNet(784, hidden_dim=hidden_dim)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    path = lambda name: os.path.join(data_dir, name)  # noqa: E731
    train_data = ndl.data.MNISTDataset(path("train-images-idx3-ubyte.gz"), path("train-labels-idx1-ubyte.gz"))
    test_data = ndl.data.MNISTDataset(path("t10k-images-idx3-ubyte.gz"), path("t10k-labels-idx1-ubyte.gz"))
    results = None
    for _ in range(epochs):
        results = epoch(ndl.data.DataLoader(train_data, batch_size, shuffle=True), model, opt)
    return tuple(results) + tuple(epoch(ndl.data.DataLoader(test_data, batch_size), model))
'''),
]

# Helper the Dropout alternative uses, appended to nn_basic.py.
NN_APPENDIX = '''

def ndl_tensor(array):
    return Tensor(array, dtype="float32", requires_grad=False)
'''
