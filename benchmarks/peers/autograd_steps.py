"""HIPS autograd: the workloads as its user writes them, one loss function of the
parameters, differentiated with `value_and_grad`.

Cross-entropy is the stable log-softmax written with `autograd.numpy` (autograd's own
`logsumexp` lives in `autograd.scipy`, which needs SciPy).  The convolution is the NumPy
side's im2col of the (constant) images and one matrix product, as in
workloads/cnn_digits.py; autograd has no convolution of its own.
"""

import autograd.numpy as anp
from autograd import value_and_grad

from ..workloads import cnn_digits, mnist_mlp, overhead, seed_mlp, tanh3
from . import version

LIBRARY = "autograd"
SKIPPED = {}


def describe():
    return version(LIBRARY)


def trainer(loss_fn, state, lr):
    """A step: loss and gradients of `loss_fn(params)`, then the in-place update."""
    params = [p.copy() for p in state["np_params"]]
    loss_and_grads = value_and_grad(loss_fn)

    def step():
        loss, grads = loss_and_grads(params)
        for p, g in zip(params, grads):
            p -= lr * g
        return loss, grads

    return step


def mlp(params, h):
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = anp.maximum(h, 0.0)
    return h


def cross_entropy(logits, labels):
    shifted = logits - anp.max(logits, axis=1, keepdims=True)
    log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.mean(log_probs[anp.arange(len(labels)), labels])


def make_overhead(state):
    x = state["x"].copy()

    def chain(y):
        for _ in range(state["rounds"]):
            y = anp.sin(anp.tanh(y) * overhead.SCALE) + overhead.SHIFT
        return anp.sum(y)

    loss_and_grad = value_and_grad(chain)

    def step():
        loss, grad = loss_and_grad(x)
        return loss, [grad]

    return step


def make_seed_mlp(state):
    X, Y = state["X"], state["Y"]

    def loss_fn(params):
        diff = mlp(params, X) - Y
        return 0.5 * anp.mean(diff * diff)

    return trainer(loss_fn, state, seed_mlp.LR)


def make_tanh3(state):
    x, target = state["x"], state["target"]

    def loss_fn(params):
        w0, b0, w1, b1 = params
        diff = anp.tanh(x * w0 + b0) @ w1 + b1 - target
        return anp.mean(diff * diff)

    return trainer(loss_fn, state, tanh3.LR)


def make_mnist_mlp(state):
    X, labels = state["X"], state["labels"]
    return trainer(lambda params: cross_entropy(mlp(params, X), labels), state, mnist_mlp.LR)


def make_cnn_digits(state):
    X, labels = state["X"], state["labels"]
    n, channels, pooled = X.shape[0], cnn_digits.CHANNELS, cnn_digits.POOLED

    def loss_fn(params):
        conv_w, conv_b, w, b = params
        cols = cnn_digits.im2col(X)  # plain NumPy: the images are constants
        z = cols @ conv_w.reshape(channels, -1).T + conv_b  # rows (n, i, j), columns c
        blocks = anp.maximum(z, 0.0).reshape(n, pooled, 2, pooled, 2, channels)
        h = anp.max(blocks, axis=(2, 4))  # splits the gradient among ties, as NumPy's side
        flat = anp.transpose(h, (0, 3, 1, 2)).reshape(n, -1)
        return cross_entropy(flat @ w + b, labels)

    return trainer(loss_fn, state, cnn_digits.LR)


STEPS = {
    "overhead": make_overhead,
    "overhead-f64": make_overhead,
    "seed-mlp": make_seed_mlp,
    "tanh-3": make_tanh3,
    "mnist-mlp": make_mnist_mlp,
    "cnn-digits": make_cnn_digits,
}
