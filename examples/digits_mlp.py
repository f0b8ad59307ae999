"""Classify 8x8 handwritten digits with a multilayer perceptron.

The slides "From Neural Networks to Deep Learning" describe the
classic image classifier: one input neuron per pixel (there 28x28 = 784, here the 8x8
digits that ship with scikit-learn: 64), hidden layers, and one output neuron per class
(10), trained with categorical cross-entropy.  This script builds that network with
`tinygrad_edu.nn`, feeds it minibatches from a `DataLoader`, trains it with Adam and a
cosine learning-rate schedule, and prints the train and test accuracy after every epoch.

- Network 64-128-64-10 with ReLU; optionally Dropout after each hidden activation
  (`--dropout P`) and BatchNorm1d before it (`--batchnorm`).
- The softmax lives inside the loss: `nn.CrossEntropyLoss` takes the 10 raw scores
  (logits) and computes -log softmax(logits)[label] stably; the predicted class is the
  largest logit (softmax does not change which one that is).
- Data: `tg.datasets.digits()` (1797 images, pixels scaled to [0, 1]), split 80/20 into
  train and test with `tg.datasets.train_test_split`.  Needs scikit-learn.

    python examples/digits_mlp.py                      # 20 epochs, plot out/digits_mlp.png
    python examples/digits_mlp.py --dropout 0.2 --batchnorm
    python examples/digits_mlp.py --smoke              # 2 epochs on 300 images, no plot
"""

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

HIDDEN_SIZES = (128, 64)  # hidden layer widths between the 64 pixels and the 10 classes
EPOCHS = 20  # passes over the training set
BATCH_SIZE = 64  # images per minibatch (one optimizer step each)
LEARNING_RATE = 5e-3  # Adam's starting rate; the cosine schedule takes it down to ~0
TEST_FRACTION = 0.2  # share of the 1797 images held out for testing
SMOKE_EPOCHS = 2  # --smoke: this many epochs ...
SMOKE_IMAGES = 300  # ... on this many images, no plot
OUT_DIR = Path(__file__).resolve().parent.parent / "out"  # where the plot goes


def make_model(dropout=0.0, batchnorm=False, hidden_sizes=HIDDEN_SIZES):
    """64 -> hidden ... -> 10 logits: Linear, [BatchNorm1d], ReLU, [Dropout] per hidden layer."""
    layers = []
    width = 64
    for size in hidden_sizes:
        layers.append(nn.Linear(width, size))
        if batchnorm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def accuracy(model, x, labels):
    """Fraction of images whose largest logit is the right digit (eval mode, no graph)."""
    model.eval()  # Dropout off, BatchNorm uses its running statistics
    with tg.no_grad():
        predicted = model(x).argmax(axis=1).numpy()
    model.train()
    return float((predicted == labels).mean())


def progress(total, show):
    """A tqdm progress bar over `total` steps when tqdm is installed and `show`; else None."""
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: without it the loop just runs
        return None
    return tqdm(total=total, leave=False, mininterval=0.5)


def plot_history(history, path):
    """Training loss and train/test accuracy per epoch."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(epochs, history["loss"])
    left.set_xlabel("epoch")
    left.set_ylabel("mean training loss (cross-entropy)")
    left.set_yscale("log")
    right.plot(epochs, history["train_accuracy"], label="train")
    right.plot(epochs, history["test_accuracy"], label="test")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.legend()
    fig.suptitle("MLP on the 8x8 digits")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def main(
    epochs=EPOCHS,
    seed=0,
    smoke=False,
    dropout=0.0,
    batchnorm=False,
    device="cpu",
    plot=True,
):
    """Train the MLP for `epochs` epochs; print loss and accuracies after each.

    `seed` picks the split, the initial weights, the batch order and the dropout masks.
    Returns a dict: "train_accuracy", "test_accuracy", "loss" (mean training loss of the
    last epoch), "history" (lists "loss", "train_accuracy", "test_accuracy", "lr", one
    entry per epoch), "steps" and "seconds".
    """
    images, labels = tg.datasets.digits()
    if smoke:
        epochs = min(epochs, SMOKE_EPOCHS)
        images, labels = images[:SMOKE_IMAGES], labels[:SMOKE_IMAGES]
        plot = False
    (x_train, y_train), (x_test, y_test) = tg.datasets.train_test_split(
        images, labels, TEST_FRACTION, seed=seed
    )
    train_x, test_x = tg.Tensor(x_train, device=device), tg.Tensor(x_test, device=device)
    train_set = tg.data.TensorDataset(train_x, tg.Tensor(y_train, device=device))

    tg.manual_seed(seed)  # initial weights and dropout masks
    model = make_model(dropout, batchnorm).to(device)
    loader = tg.data.DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    print(f"{len(x_train)} training and {len(x_test)} test images; model:\n{model}")

    history = {"loss": [], "train_accuracy": [], "test_accuracy": [], "lr": []}
    bar = progress(epochs * len(loader), show=not smoke)
    say = print if bar is None else bar.write  # keeps the bar below the printed lines
    steps = 0
    start = time.perf_counter()
    for epoch in range(epochs):
        total_loss = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(yb)
            steps += 1
            if bar is not None:
                bar.update()
        history["lr"].append(scheduler.get_last_lr()[0])
        scheduler.step()  # once per epoch, after the optimizer steps
        history["loss"].append(total_loss / len(x_train))
        history["train_accuracy"].append(accuracy(model, train_x, y_train))
        history["test_accuracy"].append(accuracy(model, test_x, y_test))
        last = {name: values[-1] for name, values in history.items()}
        say(
            f"epoch {epoch + 1:3d}   lr {last['lr']:.5f}   loss {last['loss']:.4f}   "
            f"train {last['train_accuracy']:6.1%}   test {last['test_accuracy']:6.1%}"
        )
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - start

    results = {
        "train_accuracy": history["train_accuracy"][-1],
        "test_accuracy": history["test_accuracy"][-1],
        "loss": history["loss"][-1],
        "history": history,
        "steps": steps,
        "seconds": seconds,
    }
    print(
        f"{epochs} epochs ({steps} steps) in {seconds:.1f} s: train accuracy "
        f"{results['train_accuracy']:.1%}, test accuracy {results['test_accuracy']:.1%}"
    )
    if plot:
        plot_history(history, OUT_DIR / "digits_mlp.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the data")
    parser.add_argument("--seed", type=int, default=0, help="split, weights, batch order")
    parser.add_argument("--dropout", type=float, default=0.0, metavar="P", help="dropout rate")
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm1d in hidden layers")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--smoke", action="store_true", help="2 epochs, 300 images, no plot")
    args = parser.parse_args()
    main(
        epochs=args.epochs,
        seed=args.seed,
        smoke=args.smoke,
        dropout=args.dropout,
        batchnorm=args.batchnorm,
        device=args.device,
    )
