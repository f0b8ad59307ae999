"""`overhead-f64`: the `overhead` chain (workloads/overhead.py) in float64.

Same 2,000 ops (tanh, * 0.9, sin, + 0.1, repeated 500 times) and sum on a 100-element
vector, but in float64, whose gradient (~1e-97 at x) stays a normal number, so neither
side spends time on denormal arithmetic.  This is the cleaner measure of per-op overhead;
`overhead` keeps the float32 case that the targets in README.md are written for.
"""

import numpy as np

from . import overhead
from .overhead import numpy_step, tg_step

__all__ = ["setup", "numpy_step", "tg_step", "TARGET", "MEMORY_TARGET"]

TARGET = overhead.TARGET  # the same goal as the float32 chain: the work per op is the same
MEMORY_TARGET = overhead.MEMORY_TARGET


def setup(seed):
    return overhead.setup(seed, dtype=np.float64)
