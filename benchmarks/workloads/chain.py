"""`chain`: a long chain of `tanh(y * 1.005 + 0.001)` on a 100-element vector.

The chain, on a 100-element float32 vector x (standard normal, seed-dependent):

    y = x
    repeat 2,000 times:             # 6,000 recorded ops: a multiply, an add, a tanh
        y = tanh(y * 1.005 + 0.001)
    loss = sum(y)

then backward to d(loss)/dx.  No parameter update.  Like `overhead`, a measure of what the
engine adds per op, here above all in memory (`run.py --memory`): the hand-written NumPy
side keeps one array per round, the tanh's output, which is all its backward reads (the
multiply by a constant and the add need nothing), so with 100 numbers per array the Python
objects an engine keeps around each op weigh as much as the arrays themselves.

The gradient stays a normal float32 number: near the chain's fixed point (y = 0.177) each
round multiplies it by about 0.97, so after 2,000 rounds it is 1e-27 to 1e-20, far above
float32's smallest normal number (1.2e-38), and the start-up check of run.py can still
tell a wrong backward from a right one.  No denormals (see `overhead`).
`chain-wide` (workloads/chain_wide.py) runs 200 rounds on 20,000 numbers, where the arrays
dominate.
"""

import numpy as np

import tinygrad_edu as tg

N_ELEMENTS = 100  # small on purpose: each array costs about as much as the objects around it
N_ROUNDS = 2000  # rounds of tanh(y * SCALE + SHIFT)
SCALE = 1.005  # the multiply's constant
SHIFT = 0.001  # the add's constant
DTYPE = np.float32
TARGET = None  # no time target: `overhead` has the one for per-op time (README.md)
MEMORY_TARGET = 2.0  # tinygrad_edu peak memory / NumPy peak memory, one step (README.md)


def setup(seed, n_elements=N_ELEMENTS, rounds=N_ROUNDS):
    """The input vector, one copy per side (the tinygrad_edu one requires grad)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n_elements).astype(DTYPE)
    return {"x": x, "tg_x": tg.Tensor(x.copy(), requires_grad=True), "rounds": rounds}


def numpy_step(state):
    """Forward keeping each tanh's output, then backward, which pops each one as it reads
    it, so that it is freed then."""
    y = state["x"]
    tanh_out = []  # d tanh(u)/du = 1 - tanh(u)**2: the output is enough
    for _ in range(state["rounds"]):
        y = np.tanh(y * SCALE + SHIFT)
        tanh_out.append(y)
    loss = y.sum()

    grad = np.ones_like(y)  # d(sum)/dy
    while tanh_out:
        out = tanh_out.pop()
        grad = grad * (1 - out * out)
        # the add passes the gradient through unchanged
        grad = grad * SCALE
    return loss, [grad]


def tg_step(state):
    """The same chain written as a user would; `.backward()` does the rest."""
    x = state["tg_x"]
    y = x
    for _ in range(state["rounds"]):
        y = (y * SCALE + SHIFT).tanh()
    loss = y.sum()
    loss.backward()
    grad = x.grad.data
    x.grad = None  # the next step stores a fresh gradient instead of adding to this one
    return loss.data, [grad]
