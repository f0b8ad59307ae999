"""`mnist-mlp`: an MNIST-sized classifier, one minibatch SGD step, on synthetic data.

Data (no download): one minibatch of 128 "images", 784 pixels uniform in [0, 1), and
128 labels drawn uniformly from 0..9, from a fixed seed.  The numbers are random, but
the shapes and the work per step are those of MNIST training.
Model: MLP 784-128-64-10, ReLU, weights in (in, out) layout (h @ W + b), He-normal
weights, zero biases, float32.
Loss: softmax cross-entropy averaged over the batch; `tg.cross_entropy` on the
tinygrad_edu side, a hand-written stable log-softmax on the NumPy side.
One step: forward, backward, p -= 0.01 * dp.
"""

import numpy as np

import tinygrad_edu as tg

from ._common import as_tg_params, mlp_params, np_sgd, tg_sgd

BATCH = 128
SIZES = (784, 128, 64, 10)
LR = 0.01
DTYPE = np.float32
TARGET = 1.10  # tinygrad_edu time / NumPy time we aim for (README.md)
MEMORY_TARGET = 1.15  # tinygrad_edu peak memory / NumPy peak memory, one step (README.md)


def setup(seed):
    rng = np.random.default_rng(seed)
    images = rng.random((BATCH, SIZES[0])).astype(DTYPE)
    labels = rng.integers(0, SIZES[-1], BATCH)
    params = mlp_params(rng, SIZES, DTYPE)
    return {
        "X": images,
        "labels": labels,
        "rows": np.arange(BATCH),
        "np_params": params,
        # A data loader hands out tensors, so the conversion is not part of the step.
        "tg_X": tg.Tensor(images),
        "tg_labels": tg.Tensor(labels),
        "tg_params": as_tg_params(params),
    }


def numpy_step(state):
    """Forward keeping each layer's input and pre-activation, backward by hand, update.

    Backward pops each saved array as it reads it, so that it is freed then, and the last
    gradient goes before the update: this side is the floor for `run.py --memory` too.
    """
    X, labels, rows, params = state["X"], state["labels"], state["rows"], state["np_params"]
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
    # Stable softmax cross-entropy: shifting by the row maximum keeps exp from overflowing.
    shifted = h - h.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(total)
    loss = -log_probs[rows, labels].mean()

    g = exp / total  # d loss / d logits = (softmax - one_hot) / batch
    del h, z, shifted, exp, total, log_probs
    g[rows, labels] -= 1
    g /= len(labels)
    grads = [None] * len(params)
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
    params = state["tg_params"]
    n_layers = len(params) // 2
    h = state["tg_X"]
    for i in range(n_layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = h.relu()
    loss = tg.cross_entropy(h, state["tg_labels"])
    loss.backward()
    grads = tg_sgd(params, LR)
    return loss.data, grads
