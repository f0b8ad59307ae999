"""The benchmark workloads, by the name `run.py` accepts.

Each module has `setup(seed) -> state` (data and initial weights, one copy per side),
`numpy_step(state)` and `tg_step(state)` (one step each, returning the loss and the
gradients so run.py can check that both sides did the same work), `TARGET`, the
ratio tinygrad_edu time / NumPy time we aim for, and `MEMORY_TARGET`, the ratio of the
peak memory of one step (`run.py --memory`); either target may be None (none set).
"""

from . import chain, chain_wide, cnn_digits, mnist_mlp, overhead, overhead_f64, seed_mlp, tanh3

WORKLOADS = {
    "overhead": overhead,
    "overhead-f64": overhead_f64,
    "seed-mlp": seed_mlp,
    "tanh-3": tanh3,
    "mnist-mlp": mnist_mlp,
    "cnn-digits": cnn_digits,
    "chain": chain,
    "chain-wide": chain_wide,
}
