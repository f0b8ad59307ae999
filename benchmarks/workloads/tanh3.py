"""`tanh-3`: the smallest network, 1-3-1 with tanh, one gradient-descent step.

Data: 30 points x = linspace(0, 1, 30), target x**(1/3), as columns of shape (30, 1).
Model: pred = tanh(x * w0 + b0) @ w1 + b1 with w0 (1, 3), b0 (3,), w1 (3, 1), b1 (1,)
(the first layer is a broadcast multiply, since it has one input).  Standard-normal
initial weights and biases, float32.
Loss: mean((pred - target)**2).  One step: forward, backward, p -= 0.1 * dp.

Every array here holds at most 90 numbers, so like `overhead` this measures per-op
cost, but on a realistic little training step (about 15 recorded ops).
"""

import numpy as np

import tinygrad_edu as tg

from ._common import as_tg_params, np_sgd, tg_sgd

N_POINTS = 30
HIDDEN = 3
LR = 0.1
DTYPE = np.float32
TARGET = 2.5  # tinygrad_edu time / NumPy time we aim for (README.md)
# tinygrad_edu peak memory / NumPy peak memory, one step: with arrays of at most 90 numbers
# the Python objects around them (tensors, nodes) weigh as much as the arrays (README.md).
MEMORY_TARGET = 2.0


def setup(seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, N_POINTS).reshape(N_POINTS, 1)
    target = np.cbrt(x)
    shapes = [(1, HIDDEN), (HIDDEN,), (HIDDEN, 1), (1,)]
    params = [rng.standard_normal(shape).astype(DTYPE) for shape in shapes]
    x, target = x.astype(DTYPE), target.astype(DTYPE)
    return {
        "x": x,
        "target": target,
        "np_params": params,
        "tg_x": tg.Tensor(x),
        "tg_target": tg.Tensor(target),
        "tg_params": as_tg_params(params),
    }


def numpy_step(state):
    """Forward, backward by hand, update; the activations and the last gradient go before
    the update (this side is the floor for `run.py --memory` too)."""
    x, target = state["x"], state["target"]
    w0, b0, w1, b1 = params = state["np_params"]
    h = np.tanh(x * w0 + b0)
    pred = h @ w1 + b1
    diff = pred - target
    loss = np.mean(diff * diff)

    g = diff * (2 / diff.size)  # d loss / d pred
    grad_w1 = h.T @ g
    grad_b1 = g.sum(axis=0)
    g = (g @ w1.T) * (1 - h * h)  # through tanh: 1 - tanh**2
    grad_w0 = (g * x).sum(axis=0, keepdims=True)  # w0 was broadcast over the 30 rows
    grad_b0 = g.sum(axis=0)
    del h, pred, diff, g
    grads = [grad_w0, grad_b0, grad_w1, grad_b1]
    np_sgd(params, grads, LR)
    return loss, grads


def tg_step(state):
    w0, b0, w1, b1 = params = state["tg_params"]
    pred = (state["tg_x"] * w0 + b0).tanh() @ w1 + b1
    loss = tg.mse_loss(pred, state["tg_target"])
    loss.backward()
    grads = tg_sgd(params, LR)
    return loss.data, grads
