"""Acceptance tests of the training stack (nn, optim, data): real problems must be learned.

Each test runs an example's `main(...)` (examples/*.py, imported by path, as
test_seed_reproduction.py does) with a fixed seed and shorter settings than the full run,
and checks the outcome it returns:

- XOR: a single perceptron cannot separate it (<= 75%), one tanh hidden layer does (100%).
- Cube root, the lecture's 1-3-1 tanh net: L-BFGS with gradients from backward() fits it
  in at least 10x fewer loss evaluations than gradient-free Nelder-Mead, to a loss at
  least as good (within 1.5x).
- 8x8 digits: an MLP reaches >= 95% test accuracy; a small CNN (Conv2d, MaxPool2d,
  Linear) learns them well above chance and its loss falls.
- A long training loop keeps memory flat and frees each step's graph.

Budget: the whole file runs in well under a minute on a 2-core machine.
"""

import gc
import importlib.util
import tracemalloc
import weakref
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


xor = load_example("xor")
cube_root_fit = load_example("cube_root_fit")
digits_mlp = load_example("digits_mlp")
digits_cnn = load_example("digits_cnn")


def test_xor_needs_a_hidden_layer():
    results = xor.main(seed=0, log_every=0, plot=False)  # full run: 500 steps, < 1 s

    assert results["hidden_accuracy"] == 1.0
    assert results["hidden_cloud_accuracy"] >= 0.99  # the regions, not just four points
    assert results["hidden_loss"] < 0.05
    # No line separates XOR, so a perceptron gets at most 3 of the 4 points ...
    assert results["perceptron_accuracy"] <= 0.75
    # ... and, by symmetry, its best cross-entropy is log(2): it must have converged there.
    assert abs(results["perceptron_loss"] - np.log(2)) < 1e-3


def test_lbfgs_needs_far_fewer_evaluations_than_nelder_mead_on_the_cube_root():
    # Gradient descent and Adam are part of the example's table, not of this test.
    results = cube_root_fit.main(seed=0, gd_steps=5, adam_steps=5, plot=False)
    lbfgs, nelder_mead = results["lbfgs"], results["nelder-mead"]

    # Both really fit: far below the starting loss, down to about the noise level.
    assert lbfgs["train_mse"] <= cube_root_fit.TARGET_MSE
    assert nelder_mead["train_mse"] <= cube_root_fit.TARGET_MSE
    assert results["start_mse"] > 100 * lbfgs["train_mse"]
    # Nelder-Mead stopped because it converged, not because its budget ran out.
    assert nelder_mead["evals"] < cube_root_fit.NM_MAX_EVALS
    # The lecture's point: gradients cut the loss evaluations by an order of magnitude,
    # both in total and to first reach the same loss ...
    assert lbfgs["evals"] * 10 <= nelder_mead["evals"]
    assert lbfgs["evals_to_target"] * 10 <= nelder_mead["evals_to_target"]
    # ... for a loss at least comparable to the gradient-free one.
    assert lbfgs["train_mse"] <= 1.5 * nelder_mead["train_mse"]
    assert lbfgs["test_mse"] <= 3 * cube_root_fit.TARGET_MSE


def test_mlp_reaches_95_percent_on_the_digits():
    results = digits_mlp.main(epochs=10, seed=0, plot=False)  # full run: 20 epochs

    assert results["test_accuracy"] >= 0.95
    assert results["train_accuracy"] >= 0.95
    assert results["steps"] == 10 * 23  # 1438 training images in batches of 64


def test_small_cnn_learns_the_digits():
    results = digits_cnn.main(epochs=8, seed=0, plot=False)  # full run: 20 epochs
    losses = results["history"]["loss"]

    assert results["test_accuracy"] >= 0.90  # chance is 0.10
    assert losses[-1] < losses[0] / 4
    assert all(later < earlier for earlier, later in zip(losses[:4], losses[1:5]))


def test_training_loop_memory_stays_flat_and_graphs_are_freed():
    """400 steps of model + optimizer + scheduler + DataLoader under tracemalloc.

    Each step's peak traced memory (reset before every step) includes everything still
    alive from earlier steps, so a graph kept alive per step (~0.5 MB of activations and
    gradients here) would make the last step's peak many times the 20th's.  The arrays
    are sized to dominate: CPython keeps freed small objects (tuples, floats) on free
    lists that tracemalloc still counts, which adds a bounded ~0.2 MB over the first few
    hundred steps.  The garbage collector is off during the loop: a step's graph must be
    freed by reference counting alone, as soon as the loss is dropped (nodes hold their
    inputs, never their outputs, so there are no cycles).
    """
    steps, features, hidden = 400, 128, 512
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1024, features)).astype(np.float32)
    y = rng.integers(0, 10, 1024)
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(features, hidden),
        nn.BatchNorm1d(hidden),  # running statistics updated in place: must not keep graphs
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(hidden, 10),
    )
    loader = tg.data.DataLoader(tg.data.TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.9)
    # Filled in place, so that recording the measurements allocates nothing.
    peaks = np.zeros(steps, dtype=np.int64)
    losses = np.zeros(steps)
    old_loss = old_logits = None

    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        step = 0
        while step < steps:
            for xb, yb in loader:
                tracemalloc.reset_peak()
                optimizer.zero_grad()
                logits = model(xb)
                loss = loss_fn(logits, yb)
                loss.backward()
                optimizer.step()
                losses[step] = loss.item()
                peaks[step] = tracemalloc.get_traced_memory()[1]
                if step == 10:
                    old_loss, old_logits = weakref.ref(loss), weakref.ref(logits)
                step += 1
                if step == steps:
                    break
            scheduler.step()
        del loss, logits
        loss_alive, logits_alive = old_loss() is not None, old_logits() is not None
    finally:
        tracemalloc.stop()
        gc.enable()

    assert not loss_alive, "the loss of step 10 is still alive: its graph is kept somewhere"
    assert not logits_alive, "the logits of step 10 are still alive: the graph is not freed"
    assert peaks[-1] <= 1.5 * peaks[19], f"peak memory grew from {peaks[19]} to {peaks[-1]} B"
    assert losses[-16:].mean() < losses[:16].mean()  # it did train
