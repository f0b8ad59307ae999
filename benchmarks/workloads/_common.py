"""Helpers shared by the workloads: weight initialisation, weight copies, the SGD update.

Only what would otherwise be copied into several workloads lives here; the forward and
backward passes stay in each workload so that one file shows both sides of one problem.
"""

import numpy as np

import tinygrad_edu as tg


def he_normal(rng, fan_in, fan_out, dtype):
    """A (fan_in, fan_out) weight matrix for `X @ W` with ReLU after it (He et al., 2015).

    Drawn in float64 and then cast, so the float32 and float64 variants of a workload
    start from the same numbers (rounded).
    """
    return (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(dtype)


def mlp_params(rng, sizes, dtype):
    """[W0, b0, W1, b1, ...] for an MLP with layer widths `sizes`; biases start at zero."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(he_normal(rng, fan_in, fan_out, dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    return params


def as_tg_params(arrays):
    """Trainable tinygrad_edu copies of `arrays`.

    Copies, because both sides update their weights in place: sharing the arrays would let
    one side's step change the other side's starting point.
    """
    return [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]


def tg_sgd(params, lr):
    """One plain gradient-descent update, the way a user writes it without `optim`.

    Returns the gradient arrays (for the start-up check) before dropping them: `p.grad =
    None` is what makes the next backward store a fresh gradient instead of adding to it.
    """
    grads = [p.grad.data for p in params]
    with tg.no_grad():
        for p in params:
            p.data -= lr * p.grad.data
            p.grad = None
    return grads


def np_sgd(params, grads, lr):
    """The NumPy side's update: the same in-place arithmetic as `tg_sgd`."""
    for p, g in zip(params, grads):
        p -= lr * g
