"""PyTorch, CPU, eager mode: the workloads as a PyTorch user writes them.

Threads: PyTorch reads OMP_NUM_THREADS / MKL_NUM_THREADS when it starts, so the pins
run.py sets before any import apply to it too; `describe()` prints what it uses.
"""

import torch
import torch.nn.functional as F

from ..workloads import cnn_digits, mnist_mlp, overhead, seed_mlp, tanh3
from . import version

LIBRARY = "torch"
SKIPPED = {}


def describe():
    return f"{version(LIBRARY)}, {torch.get_num_threads()} intra-op thread(s)"


def params_of(state):
    return [torch.tensor(p, requires_grad=True) for p in state["np_params"]]  # copies


def sgd(params, lr):
    grads = [p.grad for p in params]
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return grads


def mlp(params, h):
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = torch.relu(h)
    return h


def make_overhead(state):
    x = torch.tensor(state["x"], requires_grad=True)

    def step():
        y = x
        for _ in range(state["rounds"]):
            y = torch.sin(torch.tanh(y) * overhead.SCALE) + overhead.SHIFT
        loss = y.sum()
        loss.backward()
        grad = x.grad
        x.grad = None
        return loss.detach(), [grad]

    return step


def make_seed_mlp(state):
    params = params_of(state)
    X, Y = torch.from_numpy(state["X"]), torch.from_numpy(state["Y"])

    def step():
        loss = F.mse_loss(mlp(params, X), Y) * 0.5
        loss.backward()
        return loss.detach(), sgd(params, seed_mlp.LR)

    return step


def make_tanh3(state):
    params = w0, b0, w1, b1 = params_of(state)
    x, target = torch.from_numpy(state["x"]), torch.from_numpy(state["target"])

    def step():
        loss = F.mse_loss(torch.tanh(x * w0 + b0) @ w1 + b1, target)
        loss.backward()
        return loss.detach(), sgd(params, tanh3.LR)

    return step


def make_mnist_mlp(state):
    params = params_of(state)
    X, labels = torch.from_numpy(state["X"]), torch.from_numpy(state["labels"])

    def step():
        loss = F.cross_entropy(mlp(params, X), labels)
        loss.backward()
        return loss.detach(), sgd(params, mnist_mlp.LR)

    return step


def make_cnn_digits(state):
    params = conv_w, conv_b, w, b = params_of(state)
    X, labels = torch.from_numpy(state["X"]), torch.from_numpy(state["labels"])

    def step():
        h = F.max_pool2d(torch.relu(F.conv2d(X, conv_w, conv_b, padding=1)), 2)
        loss = F.cross_entropy(h.flatten(1) @ w + b, labels)
        loss.backward()
        return loss.detach(), sgd(params, cnn_digits.LR)

    return step


STEPS = {
    "overhead": make_overhead,
    "overhead-f64": make_overhead,
    "seed-mlp": make_seed_mlp,
    "tanh-3": make_tanh3,
    "mnist-mlp": make_mnist_mlp,
    "cnn-digits": make_cnn_digits,
}
