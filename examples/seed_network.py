"""Train a small neural network on a 2-D function, with tinygrad_edu doing the backprop.

This is the network from the article "Neural Networks – Intuitively and Exhaustively
Explained" (its section "Implementing a Neural Network from Scratch"), rebuilt on our
autograd: the article writes every gradient by hand; here `loss.backward()` finds them.

- Network [2, 64, 64, 64, 1]: ReLU after each hidden layer, a linear output.
- Weights as in the article: `np.random.seed(99)`, then for each layer in order
  `np.random.uniform(-1, 1, size=(inputs, outputs))`; biases start at zero, shape (1, outputs).
- Data: z = sin(x) + x*cos(y) + y + 3**(x/3) at 1,000 random points, x and y uniform in
  [-10, 10].  Inputs and target are standardised, as the article does before training.
- Loss 0.5 * mean((prediction - z)**2), whose gradient is the article's dA = prediction - z
  averaged over the batch; plain gradient descent (W -= lr * dW), as the article.

Run it with `make demo` or `python examples/seed_network.py`.  The article's hand-written
NumPy version lives in examples/seed_network_numpy.py; tests/test_seed_reproduction.py
checks that both give the same weights.
"""

import time

import numpy as np

import tinygrad_edu as tg

LAYER_SIZES = [2, 64, 64, 64, 1]  # inputs (x, y), three hidden layers, one output (z)
INIT_SEED = 99  # the article seeds NumPy's global generator with 99 before drawing weights
NUM_SAMPLES = 1000  # random (x, y) points, as the article's first training run
LOW, HIGH = -10.0, 10.0  # x and y are drawn uniformly from this interval
LEARNING_RATE = 0.001  # the article's lr
STEPS = 1000  # full-batch steps; the article runs 2000 (main(steps=2000) for the full run)
LOG_EVERY = 100  # print the loss every this many steps (and at the last one)


def target_function(x, y):
    """The article's "random function" of two inputs that the network learns."""
    return np.sin(x) + x * np.cos(y) + y + 3 ** (x / 3)


def make_data(seed=0):
    """(inputs (N, 2), targets (N, 1)) as float64 NumPy arrays, both standardised.

    The article draws x, then y, with `np.random.uniform(low, high, n)` and no seed; a
    seeded generator makes the run repeatable.  Standardising (subtract the mean, divide by
    the standard deviation) follows the article, and it is needed: on the raw data
    (inputs up to 10, targets from about -16 to 52) these large initial weights make the
    first steps overshoot, and the loss overflows to NaN within ten steps.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(LOW, HIGH, NUM_SAMPLES)
    y = rng.uniform(LOW, HIGH, NUM_SAMPLES)
    z = target_function(x, y)
    inputs = np.column_stack((x, y))
    inputs = (inputs - inputs.mean(axis=0)) / inputs.std(axis=0)
    z = (z - z.mean()) / z.std()
    # A column, so that prediction (N, 1) - target (N, 1) does not broadcast to (N, N).
    targets = z.reshape(-1, 1)
    return inputs, targets


def init_parameters():
    """The article's initial weights and biases as float64 Tensors that require grad.

    Note: this reseeds NumPy's global generator, exactly as the article does.
    """
    np.random.seed(INIT_SEED)
    weights, biases = [], []
    for i in range(len(LAYER_SIZES) - 1):
        fan_in, fan_out = LAYER_SIZES[i], LAYER_SIZES[i + 1]
        w = np.random.uniform(-1, 1, size=(fan_in, fan_out))
        b = np.zeros((1, fan_out))
        weights.append(tg.Tensor(w, requires_grad=True, name=f"W{i}"))
        biases.append(tg.Tensor(b, requires_grad=True, name=f"b{i}"))
    return weights, biases


def forward(weights, biases, inputs):
    """Prediction (N, 1): x @ W + b for each layer, ReLU on all but the last."""
    h = inputs
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + b
        if i != last:
            h = h.relu()
    return h


def main(steps=STEPS, seed=0, log_every=LOG_EVERY):
    """Train for `steps` full-batch gradient-descent steps and print the loss falling.

    `seed` picks the data sample; the weights always start from the article's seed 99.
    Returns (losses, weights, biases): the loss before each step (a list of floats) and
    the trained parameters (lists of Tensors).
    """
    inputs, targets = make_data(seed)
    x = tg.Tensor(inputs)  # float64, because NumPy arrays keep their dtype
    z = tg.Tensor(targets)
    weights, biases = init_parameters()
    parameters = weights + biases

    losses = []
    start = time.perf_counter()
    for step in range(steps):
        prediction = forward(weights, biases, x)
        loss = 0.5 * ((prediction - z) ** 2).mean()
        loss.backward()
        with tg.no_grad():  # the update itself must not be recorded in a graph
            for p in parameters:
                p -= LEARNING_RATE * p.grad
                p.grad = None  # backward adds into .grad, so clear it for the next step
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:5d}   loss {losses[-1]:.6f}")

    seconds = time.perf_counter() - start
    if losses:
        print(f"{steps} steps in {seconds:.1f} s: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    return losses, weights, biases


if __name__ == "__main__":
    main()
