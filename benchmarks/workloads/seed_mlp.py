"""`seed-mlp`: the seed article's network, one full-batch gradient-descent step.

Data: 1,000 points (x, y), both uniform in [-10, 10], target
z = sin(x) + x*cos(y) + y + 3**(x/3).  Inputs (per column) and target are standardized
to mean 0, std 1.  The article works in float64; this benchmark uses float32 on both
sides, the default dtype of tinygrad_edu.

Model: MLP [2, 64, 64, 64, 1], ReLU between layers, weights in (in, out) layout as in the
article (h @ W + b), He-normal weights, zero biases.
Loss: 0.5 * mean((pred - z)**2).
One step: forward, backward, and W -= 0.01 * dW for every parameter (full batch).
"""

import numpy as np

import tinygrad_edu as tg

from ._common import as_tg_params, mlp_params, np_sgd, tg_sgd

N_SAMPLES = 1000
SIZES = (2, 64, 64, 64, 1)
LR = 0.01
DTYPE = np.float32
TARGET = 1.15  # tinygrad_edu time / NumPy time we aim for (README.md)
MEMORY_TARGET = 1.15  # tinygrad_edu peak memory / NumPy peak memory, one step (README.md)


def make_data(rng, n):
    """The article's 2-D test function, inputs and target standardized."""
    x = rng.uniform(-10, 10, n)
    y = rng.uniform(-10, 10, n)
    z = np.sin(x) + x * np.cos(y) + y + 3 ** (x / 3)
    inputs = np.stack([x, y], axis=1)
    inputs = (inputs - inputs.mean(axis=0)) / inputs.std(axis=0)
    z = (z - z.mean()) / z.std()
    return inputs.astype(DTYPE), z.reshape(n, 1).astype(DTYPE)


def setup(seed):
    rng = np.random.default_rng(seed)
    inputs, target = make_data(rng, N_SAMPLES)
    params = mlp_params(rng, SIZES, DTYPE)
    return {
        "X": inputs,
        "Y": target,
        "np_params": params,
        "tg_X": tg.Tensor(inputs),
        "tg_Y": tg.Tensor(target),
        "tg_params": as_tg_params(params),
    }


def numpy_step(state):
    """Forward keeping each layer's input and pre-activation, backward by hand, update.

    Backward pops each saved array as it reads it, so that it is freed then, and the last
    gradient goes before the update: this side is the floor for `run.py --memory` too.
    """
    X, Y, params = state["X"], state["Y"], state["np_params"]
    n_layers = len(params) // 2
    layer_inputs = []
    pre_activations = []
    h = X
    for i in range(n_layers):
        layer_inputs.append(h)
        z = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            pre_activations.append(z)
            h = np.maximum(z, 0)
        else:
            h = z
    diff = h - Y
    loss = 0.5 * np.mean(diff * diff)

    grads = [None] * len(params)
    g = diff / diff.size  # d loss / d pred: 0.5 * 2 * diff / n
    del h, z, diff
    for i in range(n_layers - 1, -1, -1):
        grads[2 * i] = layer_inputs.pop().T @ g  # layer i's input: last read here
        grads[2 * i + 1] = g.sum(axis=0)
        if i > 0:
            g = g @ params[2 * i].T
            g = g * (pre_activations.pop() > 0)  # ReLU's derivative, at layer i - 1
    del g
    np_sgd(params, grads, LR)
    return loss, grads


def tg_step(state):
    """The same model as a user writes it with tinygrad_edu."""
    params = state["tg_params"]
    n_layers = len(params) // 2
    h = state["tg_X"]
    for i in range(n_layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = h.relu()
    loss = tg.mse_loss(h, state["tg_Y"]) * 0.5
    loss.backward()
    grads = tg_sgd(params, LR)
    return loss.data, grads
