"""Classify 8x8 handwritten digits with a small convolutional network.

The same task as examples/digits_mlp.py, but the network sees each digit as an image,
(1, 8, 8), instead of a list of 64 numbers.  A convolution slides one small 3x3 filter
over the whole image, so a stroke detector learned in one corner works everywhere, with
9 weights per filter instead of one weight per pixel; max-pooling keeps the strongest
response in each 2x2 block, halving the image and forgiving small shifts.

    (N, 1, 8, 8) -> Conv2d(1, 8, 3, padding=1) -> [BatchNorm2d] -> ReLU -> MaxPool2d(2)
    (N, 8, 4, 4) -> Conv2d(8, 16, 3, padding=1) -> [BatchNorm2d] -> ReLU -> MaxPool2d(2)
    (N, 16, 2, 2) -> Flatten -> Linear(64, 64) -> ReLU -> [Dropout] -> Linear(64, 10)

Brackets: switched on with `--batchnorm` and `--dropout P`.  Training as in the MLP
example: `nn.CrossEntropyLoss` on the logits, minibatches from a `DataLoader`, Adam with a
cosine learning-rate schedule, train and test accuracy printed after every epoch.  Data:
`tg.datasets.digits()` (needs scikit-learn), split 80/20.  tinygrad_edu computes each
convolution as one matrix product over image patches (im2col, tinygrad_edu/ops/nn.py).

    python examples/digits_cnn.py                       # plot out/digits_cnn.png
    python examples/digits_cnn.py --batchnorm --dropout 0.2
    python examples/digits_cnn.py --smoke               # 2 epochs on 300 images, no plot
"""

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

CHANNELS = (8, 16)  # filters of the first and the second convolution
HIDDEN = 64  # neurons of the fully connected layer after the convolutions
EPOCHS = 20  # passes over the training set
BATCH_SIZE = 64  # images per minibatch (one optimizer step each)
LEARNING_RATE = 5e-3  # Adam's starting rate; the cosine schedule takes it down to ~0
TEST_FRACTION = 0.2  # share of the 1797 images held out for testing
SMOKE_EPOCHS = 2  # --smoke: this many epochs ...
SMOKE_IMAGES = 300  # ... on this many images, no plot
OUT_DIR = Path(__file__).resolve().parent.parent / "out"  # where the plot goes


def make_model(dropout=0.0, batchnorm=False):
    """The CNN above: (N, 1, 8, 8) images -> (N, 10) logits."""
    first, second = CHANNELS
    layers = [nn.Conv2d(1, first, 3, padding=1)]  # padding 1 keeps 8x8
    if batchnorm:
        layers.append(nn.BatchNorm2d(first))
    layers += [nn.ReLU(), nn.MaxPool2d(2)]  # -> (first, 4, 4)
    layers.append(nn.Conv2d(first, second, 3, padding=1))
    if batchnorm:
        layers.append(nn.BatchNorm2d(second))
    layers += [nn.ReLU(), nn.MaxPool2d(2)]  # -> (second, 2, 2)
    layers += [nn.Flatten(), nn.Linear(second * 2 * 2, HIDDEN), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(HIDDEN, 10))
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


def plot_results(history, model, path):
    """Loss and accuracies per epoch, and the first filters the network learned."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig = plt.figure(figsize=(12, 4))
    loss_ax = fig.add_subplot(1, 3, 1)
    loss_ax.plot(epochs, history["loss"])
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("mean training loss (cross-entropy)")
    loss_ax.set_yscale("log")
    acc_ax = fig.add_subplot(1, 3, 2)
    acc_ax.plot(epochs, history["train_accuracy"], label="train")
    acc_ax.plot(epochs, history["test_accuracy"], label="test")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy")
    acc_ax.legend()
    # The first convolution's 3x3 filters in two rows: what it looks for in a digit.
    filters = model[0].weight.numpy()[:, 0]  # (CHANNELS[0], 3, 3)
    columns = -(-len(filters) // 2)
    mosaic = np.full((2 * 4 - 1, columns * 4 - 1), np.nan)  # NaN gaps show as blank
    for k, kernel in enumerate(filters):
        row, column = divmod(k, columns)
        mosaic[row * 4 : row * 4 + 3, column * 4 : column * 4 + 3] = kernel
    limit = np.nanmax(np.abs(mosaic))  # symmetric colours: white is 0
    filter_ax = fig.add_subplot(1, 3, 3)
    filter_ax.imshow(mosaic, cmap="RdBu_r", vmin=-limit, vmax=limit)
    filter_ax.set_title(f"the {len(filters)} learned 3x3 filters of layer 1")
    filter_ax.axis("off")
    fig.suptitle("CNN on the 8x8 digits")
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
    """Train the CNN for `epochs` epochs; print loss and accuracies after each.

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
    images = images.reshape(-1, 1, 8, 8)  # rows of 64 pixels -> one-channel 8x8 images
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
        plot_results(history, model, OUT_DIR / "digits_cnn.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the data")
    parser.add_argument("--seed", type=int, default=0, help="split, weights, batch order")
    parser.add_argument("--dropout", type=float, default=0.0, metavar="P", help="dropout rate")
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm2d after each conv")
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
