"""DeZero (the library of "Deep Learning from Scratch 3"): the workloads as its user writes
them.

Two compatibility notes for DeZero 0.0.13 (the version on PyPI):
- its `transforms` module uses `np.int` as a default argument, an alias NumPy 1.24
  removed, so `import dezero` fails on a current NumPy; the alias is set for the import
  only, and DeZero uses it nowhere in the code run here;
- `import dezero` imports matplotlib (install it next to DeZero).
DeZero turns a Python number into a 0-d int64 or float64 array (`as_array`), and since
NumPy 2 (NEP 50) such an array is no longer a "weak" scalar: float32 combined with it
becomes float64.  The constants written below are NumPy scalars of the workload's dtype,
but DeZero's own backward formulas have such constants too (`1 - y * y` in tanh, `2. /
len(diff)` in mean_squared_error, `1/N` in softmax_cross_entropy), so from there on its
gradients are float64; run.py compares them rounded to float32 and says so.
DeZero has no `requires_grad`: its convolution's backward also computes the gradient of
the images (a col2im), which the other sides skip.
"""

import numpy as np

from ..workloads import cnn_digits, mnist_mlp, overhead, seed_mlp, tanh3
from . import version

if hasattr(np, "int"):  # an old NumPy, or someone else already set it
    import dezero
else:
    np.int = int
    try:
        import dezero
    finally:
        del np.int
import dezero.functions as F  # noqa: E402

LIBRARY = "dezero"
SKIPPED = {}
OTHER_DTYPE = "DeZero's backward constants are float64/int64 0-d arrays (NumPy 2 promotes)"


def describe():
    return version(LIBRARY)


def params_of(state):
    return [dezero.Variable(p.copy()) for p in state["np_params"]]


def sgd(params, lr):
    grads = [p.grad.data for p in params]
    for p in params:
        p.data -= lr * p.grad.data
        p.cleargrad()
    return grads


def mlp(params, h):
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = F.matmul(h, params[2 * i]) + params[2 * i + 1]
        if i < n_layers - 1:
            h = F.relu(h)
    return h


def make_overhead(state):
    x = dezero.Variable(state["x"].copy())
    scale, shift = x.dtype.type(overhead.SCALE), x.dtype.type(overhead.SHIFT)

    def step():
        y = x
        for _ in range(state["rounds"]):
            y = F.sin(F.tanh(y) * scale) + shift
        loss = F.sum(y)
        loss.backward()
        grad = x.grad.data
        x.cleargrad()
        return loss.data, [grad]

    return step


def make_seed_mlp(state):
    params = params_of(state)
    X, Y = state["X"], state["Y"]
    half = X.dtype.type(0.5)

    def step():
        # DeZero's mean_squared_error divides by len(diff), the batch: here the mean.
        loss = F.mean_squared_error(mlp(params, X), Y) * half
        loss.backward()
        return loss.data, sgd(params, seed_mlp.LR)

    return step


def make_tanh3(state):
    params = w0, b0, w1, b1 = params_of(state)
    x, target = state["x"], state["target"]

    def step():
        loss = F.mean_squared_error(F.matmul(F.tanh(x * w0 + b0), w1) + b1, target)
        loss.backward()
        return loss.data, sgd(params, tanh3.LR)

    return step


def make_mnist_mlp(state):
    params = params_of(state)
    X, labels = state["X"], state["labels"]

    def step():
        loss = F.softmax_cross_entropy(mlp(params, X), labels)
        loss.backward()
        return loss.data, sgd(params, mnist_mlp.LR)

    return step


def make_cnn_digits(state):
    params = conv_w, conv_b, w, b = params_of(state)
    X, labels = state["X"], state["labels"]
    n = X.shape[0]

    def step():
        h = F.pooling(F.relu(F.conv2d(X, conv_w, conv_b, pad=1)), 2, stride=2)
        loss = F.softmax_cross_entropy(F.matmul(h.reshape(n, -1), w) + b, labels)
        loss.backward()
        return loss.data, sgd(params, cnn_digits.LR)

    return step


STEPS = {
    "overhead": make_overhead,
    "overhead-f64": make_overhead,
    "seed-mlp": make_seed_mlp,
    "tanh-3": make_tanh3,
    "mnist-mlp": make_mnist_mlp,
    "cnn-digits": make_cnn_digits,
}
