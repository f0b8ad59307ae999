"""Train one small MLP on the CPU or on a CUDA GPU: the only difference is the device.

    python examples/gpu_train.py                   # on "cpu" (NumPy)
    python examples/gpu_train.py --device cuda     # on the first GPU (CuPy)
    python examples/gpu_train.py --smoke           # two short epochs on little data, no plot

The model (an MLP 2-256-256-3 with ReLU) learns to tell the three arms of a spiral apart
(tg.datasets.spirals), with cross-entropy and Adam in mini-batches.  Moving it to a GPU
takes two things: the model's parameters (`model.to(device)`) and the data
(`tg.Tensor(x, device=device)`); every op then runs on that device's arrays, and
`loss.item()` copies one number back to the host.  The script prints the time of each
epoch; the first epoch on a GPU also pays for compiling its kernels, so compare the
later ones.  A network this small is dominated by per-op Python overhead, so do not
expect a GPU to win by much here (benchmarks/gpu_check.py times a larger MLP).

Without a usable GPU, `--device cuda` prints the one-line reason (tg.DeviceError: CuPy
missing, no driver, ...) and exits with status 1, because the run asked for did not
happen.  With `--smoke` it exits with status 0 instead: a smoke run checks that the
script works and explains itself, so the test suite can run `--smoke --device cuda` on
the CPU-only machines this project is tested on.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

SAMPLES = 6000  # points on the spiral arms (train and test together)
CLASSES = 3  # spiral arms, one class each
NOISE = 0.2  # how far points stray from their arm (tg.datasets.spirals)
TEST_FRACTION = 0.2  # held out to measure accuracy
HIDDEN = 256  # neurons in each of the two hidden layers
BATCH_SIZE = 64  # samples per step
EPOCHS = 15  # passes over the training data
LEARNING_RATE = 3e-3  # Adam's step size
OUT_DIR = Path("out")  # the decision-region plot goes here, relative to the working directory
SMOKE_EPOCHS = 2  # --smoke: this many epochs
SMOKE_SAMPLES = 400  # --smoke: this many points


def make_model():
    """MLP 2 -> HIDDEN -> HIDDEN -> CLASSES with ReLU: one score per class."""
    return nn.Sequential(
        nn.Linear(2, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, CLASSES),
    )


@tg.no_grad()
def accuracy(model, x, y):
    """Fraction of rows whose highest score is the right class (x, y on the model's device)."""
    predicted = model(x).argmax(axis=1)
    return float((predicted == y).numpy().mean())


@tg.no_grad()
def plot_regions(model, x, y, path):
    """The class the model picks at each point of the plane, with the test points on top."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    axis = np.linspace(-1.1, 1.1, 200, dtype=np.float32)
    gx, gy = np.meshgrid(axis, axis)
    points = tg.Tensor(np.column_stack((gx.ravel(), gy.ravel())), device=x.device)
    regions = model(points).argmax(axis=1).numpy().reshape(gx.shape)
    colors = [plt.cm.tab10(k) for k in range(CLASSES)]  # class k: the same colour everywhere
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(gx, gy, regions, levels=np.arange(CLASSES + 1) - 0.5, colors=colors, alpha=0.25)
    ax.scatter(*x.numpy().T, c=[colors[k] for k in y.numpy()], s=6)
    ax.set_title(f"spirals: the class the MLP picks ({x.device.name})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def main(epochs=EPOCHS, seed=0, smoke=False, device="cpu"):
    """Train on `device` ("cpu", "cuda", "cuda:1", ...) and print each epoch's time.

    Raises tg.DeviceError (before any work) when the device cannot be used.
    Returns a dict: "device" (its name), "epoch_seconds" (one per epoch),
    "epoch_losses" (mean training loss per epoch), "train_accuracy", "test_accuracy"
    "seconds" (all epochs) and "plot" (a path or None).
    """
    device = tg.get_device(device)  # a DeviceError here says why the device is unusable
    samples = SAMPLES
    if smoke:
        epochs = min(epochs, SMOKE_EPOCHS)
        samples = SMOKE_SAMPLES
    inputs, labels = tg.datasets.spirals(samples, classes=CLASSES, noise=NOISE, seed=seed)
    (x_train, y_train), (x_test, y_test) = tg.datasets.train_test_split(
        inputs, labels, TEST_FRACTION, seed=seed
    )
    # The data goes to the device once; each batch is then cut there, never on the host.
    x_train = tg.Tensor(x_train, device=device)
    y_train = tg.Tensor(y_train, device=device)
    x_test = tg.Tensor(x_test, device=device)
    y_test = tg.Tensor(y_test, device=device)
    loader = tg.data.DataLoader(
        tg.data.TensorDataset(x_train, y_train), batch_size=BATCH_SIZE, shuffle=True, seed=seed
    )

    tg.manual_seed(seed)  # the same initial weights on every device
    model = make_model().to(device)
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    print(
        f"device {device.name}: MLP 2-{HIDDEN}-{HIDDEN}-{CLASSES}, "
        f"{len(loader)} batches of {BATCH_SIZE} per epoch"
    )

    epoch_seconds, epoch_losses = [], []
    start = time.perf_counter()
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = tg.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()  # copies one number to the host: waits for the GPU
        epoch_seconds.append(time.perf_counter() - epoch_start)
        epoch_losses.append(total / len(loader))
        print(f"epoch {epoch:3d}   loss {epoch_losses[-1]:.4f}   {epoch_seconds[-1]:.3f} s/epoch")
    seconds = time.perf_counter() - start

    train_accuracy = accuracy(model, x_train, y_train)
    test_accuracy = accuracy(model, x_test, y_test)
    later = epoch_seconds[1:] or epoch_seconds  # the first epoch includes warm-up
    print(
        f"{epochs} epochs on {device.name} in {seconds:.1f} s "
        f"(median {np.median(later):.3f} s per epoch after the first); "
        f"accuracy {train_accuracy:.1%} train, {test_accuracy:.1%} test"
    )
    path = None if smoke else plot_regions(model, x_test, y_test, OUT_DIR / "gpu_train.png")
    return {
        "device": device.name,
        "epoch_seconds": epoch_seconds,
        "epoch_losses": epoch_losses,
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "seconds": seconds,
        "plot": path,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help='"cpu" (default), "cuda" or "cuda:N"')
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the data")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--smoke", action="store_true", help="two short epochs on little data")
    args = parser.parse_args()
    try:
        main(epochs=args.epochs, seed=args.seed, smoke=args.smoke, device=args.device)
    except tg.DeviceError as error:
        # One line, whatever CuPy said; see the module docstring for the exit status.
        message = " ".join(str(error).split())
        print(f"gpu_train: {message}", file=sys.stdout if args.smoke else sys.stderr)
        sys.exit(0 if args.smoke else 1)
