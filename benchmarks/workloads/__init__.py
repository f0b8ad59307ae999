"""The benchmark workloads, by the name `run.py` accepts.

Each module has `setup(seed) -> state` (data and initial weights, one copy per side),
`numpy_step(state)` and `tg_step(state)` (one step each, returning the loss and the
gradients so run.py can check that both sides did the same work), `TARGET`, the
ratio tinygrad_edu time / NumPy time we aim for, and `MEMORY_TARGET`, the ratio of the
peak memory of one step (`run.py --memory`); either target may be None (none set).
A workload without a hand-written NumPy step (`tiny-gpt`) says what its reference side
is instead in `REFERENCE` (run.py marks its row) and why it cannot run in `unavailable()`.
"""

from . import (
    attention,
    chain,
    chain_wide,
    cnn_digits,
    mnist_mlp,
    overhead,
    overhead_f64,
    seed_mlp,
    tanh3,
    tiny_gpt,
)

WORKLOADS = {
    "overhead": overhead,
    "overhead-f64": overhead_f64,
    "seed-mlp": seed_mlp,
    "tanh-3": tanh3,
    "mnist-mlp": mnist_mlp,
    "cnn-digits": cnn_digits,
    "chain": chain,
    "chain-wide": chain_wide,
    "attention": attention,
    "tiny-gpt": tiny_gpt,
}
