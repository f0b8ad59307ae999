"""Acceptance test: our autograd reproduces the source article's hand-written backprop.

examples/seed_network.py trains the article's network with `loss.backward()`;
examples/seed_network_numpy.py trains it with the article's hand-derived gradients.  Same
initialisation (np.random.seed(99), uniform(-1, 1)), same float64 data, same loss
0.5 * mean((prediction - target)**2), same plain gradient descent: after 50 steps every
weight and bias must agree to 1e-9 relative.
"""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
STEPS = 50


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed_network = load_example("seed_network")
reference = load_example("seed_network_numpy")


def test_weights_match_hand_written_backprop_after_50_steps():
    losses, weights, biases = seed_network.main(steps=STEPS, seed=0, log_every=0)

    inputs, targets = seed_network.make_data(seed=0)
    ref_losses, ref_weights, ref_biases = reference.train(
        inputs,
        targets,
        steps=STEPS,
        lr=seed_network.LEARNING_RATE,
        layer_sizes=seed_network.LAYER_SIZES,
        seed=seed_network.INIT_SEED,
    )

    assert len(weights) == len(ref_weights) == len(seed_network.LAYER_SIZES) - 1
    assert len(biases) == len(ref_biases) == len(ref_weights)
    for i, (w, ref_w) in enumerate(zip(weights, ref_weights)):
        assert w.dtype == np.float64
        assert w.shape == ref_w.shape
        np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-9, atol=0, err_msg=f"W{i}")
    for i, (b, ref_b) in enumerate(zip(biases, ref_biases)):
        assert b.dtype == np.float64
        assert b.shape == ref_b.shape
        np.testing.assert_allclose(b.numpy(), ref_b, rtol=1e-9, atol=0, err_msg=f"b{i}")
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9, atol=0)

    # The comparison means something only if training moved the weights...
    _, start_weights, _ = reference.train(
        inputs, targets, steps=0, lr=0.0, layer_sizes=seed_network.LAYER_SIZES
    )
    for w, w0 in zip(weights, start_weights):
        assert np.abs(w.numpy() - w0).max() > 1e-4
    for b in biases:
        assert np.abs(b.numpy()).max() > 1e-6
    # ...and the loss fell.
    assert len(losses) == STEPS
    assert losses[-1] < 0.1 * losses[0]
    assert all(np.isfinite(losses))


def test_initial_weights_are_the_articles():
    _, weights, biases = seed_network.main(steps=0, log_every=0)
    np.random.seed(99)
    for w, (fan_in, fan_out) in zip(weights, [(2, 64), (64, 64), (64, 64), (64, 1)]):
        expected = np.random.uniform(-1, 1, size=(fan_in, fan_out))
        np.testing.assert_array_equal(w.numpy(), expected)
    for b in biases:
        assert b.shape == (1, b.shape[1])
        assert not b.numpy().any()


def test_data_follows_the_article():
    inputs, targets = seed_network.make_data(seed=0)
    assert inputs.shape == (1000, 2) and targets.shape == (1000, 1)
    assert inputs.dtype == targets.dtype == np.float64
    # Standardised inputs and target, as the article does before training.
    np.testing.assert_allclose(inputs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(inputs.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(targets.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(targets.std(), 1.0, rtol=1e-12)
    # x then y uniform in [-10, 10], z = sin(x) + x*cos(y) + y + 3**(x/3).
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, 1000)
    y = rng.uniform(-10, 10, 1000)
    z = np.sin(x) + x * np.cos(y) + y + 3 ** (x / 3)
    np.testing.assert_allclose(inputs[:, 0], (x - x.mean()) / x.std(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inputs[:, 1], (y - y.mean()) / y.std(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(targets[:, 0], (z - z.mean()) / z.std(), rtol=1e-12, atol=1e-12)
    # Another seed draws other points.
    other, _ = seed_network.make_data(seed=1)
    assert not np.allclose(other, inputs)


def test_demo_main_runs_and_loss_falls(capsys):
    losses, weights, biases = seed_network.main(steps=30, seed=0, log_every=10)
    printed = capsys.readouterr().out
    assert len(losses) == 30
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.1 * losses[0]
    assert losses[-1] < losses[10] < losses[0]
    # It logs steps 0, 10, 20 and the last one.
    assert [line.split()[1] for line in printed.splitlines() if line.startswith("step")] == [
        "0",
        "10",
        "20",
        "29",
    ]
    assert len(weights) == len(biases) == 4
