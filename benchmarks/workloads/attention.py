"""`attention`: causal multi-head attention, forward and backward, against NumPy by hand.

Inputs: query, key and value of shape (16, 4, 32, 16) (batch, heads, positions, head
width: the attention inside tiny-gpt's step, at its batch size), standard normal,
float32, and a fixed random upstream gradient w of the output's shape.
Step: out = F.scaled_dot_product_attention(q, k, v, is_causal=True), loss = sum(out * w),
backward to q, k and v; no update (the inputs stay as they are, as in `overhead`).

The NumPy side is attention's backward written out (docs/attention.md):
dP = w V^T, dV = P^T w, dS = P * (dP - rowsum(dP * P)), dQ = dS K * scale,
dK = dS^T Q * scale.  Masked scores are -inf, so their weights and gradients are 0.
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F

SHAPE = (16, 4, 32, 16)  # batch, heads, positions, head width
DTYPE = np.float32
TARGET = None  # no target yet: the composition of ops against the fused formulas
MEMORY_TARGET = None


def setup(seed):
    rng = np.random.default_rng(seed)
    q, k, v, w = (rng.standard_normal(SHAPE).astype(DTYPE) for _ in range(4))
    length = SHAPE[-2]
    return {
        "np_inputs": (q, k, v),
        "w": w,
        "keep": np.tril(np.ones((length, length), dtype=bool)),
        "tg_inputs": [tg.Tensor(a, requires_grad=True) for a in (q, k, v)],
        "tg_w": tg.Tensor(w),
    }


def numpy_step(state):
    q, k, v = state["np_inputs"]
    w, keep = state["w"], state["keep"]
    scale = DTYPE(1.0 / np.sqrt(q.shape[-1]))
    scores = (q @ k.swapaxes(-2, -1)) * scale
    scores = np.where(keep, scores, DTYPE(-np.inf))
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = e / e.sum(axis=-1, keepdims=True)
    out = probs @ v
    loss = (out * w).sum()
    del scores, e, out

    grad_v = probs.swapaxes(-2, -1) @ w
    grad_probs = w @ v.swapaxes(-2, -1)
    # softmax's backward: zero where probs is 0 (the masked scores), rows summing to 0
    grad_scores = probs * (grad_probs - (grad_probs * probs).sum(axis=-1, keepdims=True))
    del grad_probs, probs
    grad_scores *= scale
    grad_q = grad_scores @ k
    grad_k = grad_scores.swapaxes(-2, -1) @ q
    return loss, [grad_q, grad_k, grad_v]


def tg_step(state):
    q, k, v = state["tg_inputs"]
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    loss = (out * state["tg_w"]).sum()
    loss.backward()
    grads = [t.grad.data for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    return loss.data, grads
