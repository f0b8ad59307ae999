"""`overhead`: per-op cost on a long chain of cheap elementwise ops.

The chain, on a 100-element float32 vector x (standard normal, seed-dependent):

    y = x
    repeat 500 times:        # 2,000 ops, in this order
        y = tanh(y)
        y = y * 0.9
        y = sin(y)
        y = y + 0.1
    loss = sum(y)            # one more op, so that backward starts from a scalar

then backward to d(loss)/dx.  No parameter update.  Each NumPy call touches only 100
numbers, so the time is almost all per-op overhead: ufunc dispatch on both sides, plus
Tensor and node creation, graph traversal and gradient bookkeeping for tinygrad_edu.

A caveat about float32: every round of four ops multiplies the gradient by about 0.57
(the chain settles at y ~ 0.51), so going backward it falls below float32's smallest
normal number (1.2e-38) after ~780 ops and stays denormal (~1e-45) for the remaining
~1,200.  Arithmetic on denormals is slow on x86 (about +1.5 us per 100-element multiply
on the machine in README.md) and both sides pay it, which makes the ratio look better
than the true overhead ratio.  `overhead-f64` (workloads/overhead_f64.py) runs the same
chain in float64, where the gradient (~1e-97) stays normal; read both.  The denormal
gradient also makes the start-up check of run.py toothless (a wrong backward still gives
~1e-45), so `setup_for_check` adds a 20-round chain whose gradient is ~1e-3.
"""

import numpy as np

import tinygrad_edu as tg

N_ELEMENTS = 100  # small on purpose: the arithmetic itself should cost next to nothing
N_ROUNDS = 500  # rounds of (tanh, * 0.9, sin, + 0.1): 2,000 ops
CHECK_ROUNDS = 20  # short enough for a float32 gradient (~1e-3) that shows a wrong backward
SCALE = 0.9  # the multiply's constant
SHIFT = 0.1  # the add's constant
TARGET = 2.5  # tinygrad_edu time / NumPy time we aim for (README.md)
MEMORY_TARGET = None  # none set for this chain (README.md lists the memory targets)


def setup(seed, dtype=np.float32, rounds=N_ROUNDS):
    """The input vector, one copy per side (the tinygrad_edu one requires grad)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(N_ELEMENTS).astype(dtype)
    return {"x": x, "tg_x": tg.Tensor(x.copy(), requires_grad=True), "rounds": rounds}


def setup_for_check(seed):
    """An extra state for run.py's start-up check only: the same chain, short enough for
    its gradient to stay a normal float32 number, so a wrong backward shows."""
    return setup(seed, rounds=CHECK_ROUNDS)


def numpy_step(state):
    """Forward keeping what backward needs (tanh outputs, sin inputs), then backward, which
    pops each saved array as it reads it, so that it is freed then."""
    y = state["x"]
    tanh_out = []  # d tanh(u)/du = 1 - tanh(u)**2: the output is enough
    sin_in = []  # d sin(u)/du = cos(u): needs the input
    rounds = state["rounds"]
    for _ in range(rounds):
        y = np.tanh(y)
        tanh_out.append(y)
        y = y * SCALE
        sin_in.append(y)
        y = np.sin(y)
        y = y + SHIFT
    loss = y.sum()

    grad = np.ones_like(y)  # d(sum)/dy
    for _ in range(rounds):
        # the add passes the gradient through unchanged
        grad = grad * np.cos(sin_in.pop())
        grad = grad * SCALE
        out = tanh_out.pop()
        grad = grad * (1 - out * out)
    return loss, [grad]


def tg_step(state):
    """The same chain written as a user would; `.backward()` does the rest."""
    x = state["tg_x"]
    y = x
    for _ in range(state["rounds"]):
        y = y.tanh()
        y = y * SCALE
        y = y.sin()
        y = y + SHIFT
    loss = y.sum()
    loss.backward()
    grad = x.grad.data
    x.grad = None  # the next step stores a fresh gradient instead of adding to this one
    return loss.data, [grad]
