"""XOR: why a single perceptron fails and one hidden layer with a nonlinearity succeeds.

The text "Introduction to Neural Networks" (its section "The Perceptron and XOR") makes
the point this script measures:

- A perceptron computes z = w1*x + w2*y + b and answers "1" where z > 0.  The boundary
  z = 0 is a straight line, and no line puts (0, 1) and (1, 0) on one side and (0, 0) and
  (1, 1) on the other: XOR is not linearly separable, so the best a line can do is 3 of the
  4 points (75%).  Stacking more linear layers does not help, since W3 W2 W1 is still one
  matrix.
- Put a nonlinearity between two layers (Linear(2, 4) - Tanh - Linear(4, 1)) and the
  boundary can bend: the network gets all four points right.

Both models end in one logit, sigmoid(logit) is the probability of class 1, and the loss
is binary cross-entropy computed from the logit (`nn.BCEWithLogitsLoss`, stable for any
logit).  Both train full-batch with Adam on the four points of the truth table.  The
noisy points around the corners are only evaluated, to show that the hidden-layer network
learned the regions around the corners, not just four points.

    python examples/xor.py            # trains both, plots the boundaries to out/xor.png
    python examples/xor.py --smoke    # a few steps, no plot (a quick check that it runs)
"""

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

HIDDEN = 4  # hidden neurons of the network that solves XOR (2 can work; 4 fails far less)
STEPS = 500  # full-batch Adam steps for each model
LEARNING_RATE = 0.05  # Adam's step size: four points, so a large rate is safe
CLOUD_POINTS = 200  # noisy points around the four corners, used only for evaluation
CLOUD_NOISE = 0.1  # their standard deviation around each corner
LOG_EVERY = 100  # print the losses every this many steps
SMOKE_STEPS = 20  # --smoke: this many steps, no plot
OUT_DIR = Path("out")  # where the plot goes (relative to where you run it, as the others)


def perceptron():
    """One neuron: logit = w1*x + w2*y + b.  Its decision boundary is a line."""
    return nn.Linear(2, 1)


def hidden_layer_network(hidden=HIDDEN):
    """Two inputs, `hidden` tanh neurons, one logit: the boundary can bend."""
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def accuracy(model, inputs, labels):
    """Fraction of points where sigmoid(logit) > 0.5, i.e. logit > 0, matches the label."""
    with tg.no_grad():
        logits = model(tg.Tensor(inputs)).numpy().reshape(-1)
    return float(((logits > 0) == (labels == 1)).mean())


def train(model, inputs, labels, steps, log_every, name):
    """Full-batch Adam on binary cross-entropy; returns the loss after each step."""
    x = tg.Tensor(inputs)
    # A column of 0.0/1.0 floats, the shape and dtype of the logits (N, 1).
    y = tg.Tensor(labels.reshape(-1, 1).astype(np.float32))
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"  {name:<13} step {step:4d}   loss {losses[-1]:.4f}")
    return losses


def plot_boundaries(models, inputs, labels, path):
    """Each model's probability of class 1 over the plane, its 0.5 contour, the points."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    grid = np.linspace(-0.5, 1.5, 201, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    points = np.column_stack((gx.ravel(), gy.ravel()))
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.5))
    for ax, (title, model) in zip(axes, models.items()):
        with tg.no_grad():
            logits = model(tg.Tensor(points)).numpy().reshape(gx.shape)
        probability = 1.0 / (1.0 + np.exp(-logits))
        ax.contourf(gx, gy, probability, levels=np.linspace(0, 1, 21), cmap="RdBu_r")
        # The boundary is where the logit is 0.  Contouring the logit, not the probability,
        # still finds the perceptron's line when all its logits are tiny (probability 0.5).
        ax.contour(gx, gy, logits, levels=[0.0], colors="k")
        ax.scatter(*inputs[labels == 0].T, c="tab:blue", edgecolors="k", label="XOR = 0")
        ax.scatter(*inputs[labels == 1].T, c="tab:red", edgecolors="k", label="XOR = 1")
        ax.set_title(title)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    axes[0].legend(loc="upper center")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def main(steps=STEPS, seed=0, smoke=False, log_every=LOG_EVERY, plot=True):
    """Train the perceptron and the hidden-layer network on XOR and compare them.

    Returns a dict: "perceptron_accuracy", "hidden_accuracy" (on the four corners),
    "hidden_cloud_accuracy" (on noisy points around them), "perceptron_loss",
    "hidden_loss" (final training losses) and "seconds".  plot=False skips the plot.
    """
    if smoke:
        steps = min(steps, SMOKE_STEPS)
        plot = False
    tg.manual_seed(seed)  # the initial weights of both models
    inputs, labels = tg.datasets.xor()  # the truth table: 4 points, labels 0 1 1 0
    cloud_inputs, cloud_labels = tg.datasets.xor(n=CLOUD_POINTS, noise=CLOUD_NOISE, seed=seed)

    start = time.perf_counter()
    models = {"perceptron": perceptron(), "hidden layer": hidden_layer_network()}
    losses = {}
    for name, model in models.items():
        print(f"training the {name} model: {model}")
        losses[name] = train(model, inputs, labels, steps, log_every, name)
    seconds = time.perf_counter() - start

    results = {
        "perceptron_accuracy": accuracy(models["perceptron"], inputs, labels),
        "hidden_accuracy": accuracy(models["hidden layer"], inputs, labels),
        "hidden_cloud_accuracy": accuracy(models["hidden layer"], cloud_inputs, cloud_labels),
        "perceptron_loss": losses["perceptron"][-1],
        "hidden_loss": losses["hidden layer"][-1],
        "seconds": seconds,
    }
    print(f"\n{steps} steps each in {seconds:.1f} s")
    print(
        f"perceptron:   accuracy {results['perceptron_accuracy']:.0%} on the 4 points, "
        f"loss {results['perceptron_loss']:.4f}"
    )
    print(
        "  A perceptron's boundary is the line w1*x + w2*y + b = 0, and XOR is not linearly\n"
        "  separable: any line misclassifies at least one of the 4 points (<= 75%).  The\n"
        "  best it can do for the loss is to sit on the fence: logits near 0, loss near\n"
        f"  log(2) = {np.log(2):.4f}, and which side of 0 each tiny logit falls on is chance."
    )
    print(
        f"hidden layer: accuracy {results['hidden_accuracy']:.0%} on the 4 points, "
        f"{results['hidden_cloud_accuracy']:.0%} on {CLOUD_POINTS} noisy points around them, "
        f"loss {results['hidden_loss']:.4f}"
    )
    print("  tanh between the layers bends the boundary, so it can fence off two corners.")

    if plot:
        titles = {
            f"perceptron: {results['perceptron_accuracy']:.0%}": models["perceptron"],
            f"Linear(2, {HIDDEN}) - Tanh - Linear({HIDDEN}, 1): {results['hidden_accuracy']:.0%}": (
                models["hidden layer"]
            ),
        }
        plot_boundaries(titles, inputs, labels, OUT_DIR / "xor.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="Adam steps per model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    parser.add_argument("--smoke", action="store_true", help="a few steps, no plot")
    args = parser.parse_args()
    main(steps=args.steps, seed=args.seed, smoke=args.smoke)
