"""`chain-wide`: the `chain` (workloads/chain.py) on 20,000 numbers, 200 rounds.

The same `tanh(y * 1.005 + 0.001)`, repeated 200 times (600 recorded ops), then `sum`, on a
20,000-element float32 vector; backward to d(loss)/dx, no update.  Each array holds 80 kB,
so here the arrays dominate the memory of a step and the objects around them do not: the
hand-written NumPy side keeps 200 tanh outputs (16 MB), and an engine should keep little
more.
"""

from . import chain
from .chain import numpy_step, tg_step

__all__ = ["setup", "numpy_step", "tg_step", "TARGET", "MEMORY_TARGET"]

N_ELEMENTS = 20_000
N_ROUNDS = 200
TARGET = None  # no time target (README.md)
MEMORY_TARGET = 1.15  # tinygrad_edu peak memory / NumPy peak memory, one step (README.md)


def setup(seed):
    return chain.setup(seed, n_elements=N_ELEMENTS, rounds=N_ROUNDS)
