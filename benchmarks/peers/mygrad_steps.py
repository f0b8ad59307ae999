"""MyGrad: the workloads as a MyGrad user writes them.

MyGrad turns a Python float into a float64 array, and with NumPy 2 (NEP 50) a float64
array times a float32 tensor is float64: `y * 0.9` would silently make the rest of the
float32 chain float64.  So the constants below are NumPy scalars of the workload's dtype.
"""

import mygrad as mg
from mygrad.nnet.activations import relu
from mygrad.nnet.layers import conv_nd, max_pool
from mygrad.nnet.losses import softmax_crossentropy

from ..workloads import cnn_digits, mnist_mlp, overhead, seed_mlp, tanh3
from . import version

LIBRARY = "mygrad"
SKIPPED = {}


def describe():
    return version(LIBRARY)


def params_of(state):
    return [mg.Tensor(p.copy()) for p in state["np_params"]]


def sgd(params, lr):
    """The in-place update on the arrays; MyGrad clears `.grad` itself when a tensor
    takes part in a new operation, so there is nothing to reset."""
    grads = [p.grad for p in params]
    for p in params:
        p.data -= lr * p.grad
    return grads


def mlp(params, h):
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = relu(h)
    return h


def make_overhead(state):
    x = mg.Tensor(state["x"].copy())
    scale, shift = x.dtype.type(overhead.SCALE), x.dtype.type(overhead.SHIFT)

    def step():
        y = x
        for _ in range(state["rounds"]):
            y = mg.sin(mg.tanh(y) * scale) + shift
        loss = y.sum()
        loss.backward()
        return loss, [x.grad]

    return step


def make_seed_mlp(state):
    params = params_of(state)
    X, Y = state["X"], state["Y"]  # arrays are constants to MyGrad
    half = X.dtype.type(0.5)

    def step():
        diff = mlp(params, X) - Y
        loss = mg.mean(diff**2) * half
        loss.backward()
        return loss, sgd(params, seed_mlp.LR)

    return step


def make_tanh3(state):
    params = w0, b0, w1, b1 = params_of(state)
    x, target = state["x"], state["target"]

    def step():
        diff = mg.tanh(x * w0 + b0) @ w1 + b1 - target
        loss = mg.mean(diff**2)
        loss.backward()
        return loss, sgd(params, tanh3.LR)

    return step


def make_mnist_mlp(state):
    params = params_of(state)
    X, labels = state["X"], state["labels"]

    def step():
        loss = softmax_crossentropy(mlp(params, X), labels)
        loss.backward()
        return loss, sgd(params, mnist_mlp.LR)

    return step


def make_cnn_digits(state):
    params = conv_w, conv_b, w, b = params_of(state)
    X, labels = state["X"], state["labels"]
    n = X.shape[0]

    def step():
        h = relu(conv_nd(X, conv_w, stride=1, padding=1) + conv_b.reshape(-1, 1, 1))
        h = max_pool(h, (2, 2), 2)
        loss = softmax_crossentropy(h.reshape(n, -1) @ w + b, labels)
        loss.backward()
        return loss, sgd(params, cnn_digits.LR)

    return step


STEPS = {
    "overhead": make_overhead,
    "overhead-f64": make_overhead,
    "seed-mlp": make_seed_mlp,
    "tanh-3": make_tanh3,
    "mnist-mlp": make_mnist_mlp,
    "cnn-digits": make_cnn_digits,
}
