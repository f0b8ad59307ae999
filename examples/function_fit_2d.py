"""Fit z = sin(x) + x*cos(y) + y + 3**(x/3) with the article's [2, 64, 64, 64, 1] network,
first on 1,000 samples, then on 10,000, and compare both with the truth on a grid.

The article "Neural Networks – Intuitively and Exhaustively Explained" (its section
"Implementing a Neural Network from Scratch") trains this network on 1,000 random points,
finds the fit "ok, but not as great as we might like", and then tries 10x more data.  This
script repeats that experiment with nn.Sequential and measures what the extra data buys:
both runs are scored on the same 100 x 100 grid over [-10, 10]^2 that the article draws.

- Network [2, 64, 64, 64, 1]: nn.Linear layers (PyTorch's default initialisation), ReLU
  after each hidden layer, a linear output.
- Data: tg.datasets.function_2d; inputs and target standardised with the training set's
  mean and standard deviation, as the article does (predictions are un-standardised for
  the plots and the error in z's own units).
- Loss: mean squared error on the standardised target (nn.MSELoss).
- Optimizer: Adam (lr 1e-3, annealed to 0 on a cosine curve over the run, so the last
  steps settle instead of jittering between batches), not the article's plain gradient
  descent.  Why: the article's
  gradient descent only trains because of its unusually large uniform(-1, 1) initial
  weights, and its loss was "still steadily declining" after 2,000 and 4,000 epochs.
  examples/seed_network.py reproduces that run exactly; here the question is what more
  data does, so we want each run trained close to convergence in a few seconds.  Adam
  gets there from an ordinary initialisation in a few thousand steps.
- Batches of 1,000 samples: the whole set in the first run (full-batch, as the article),
  a shuffled tenth of it per step in the second (tg.data.DataLoader).  Both runs take the
  same number of steps, so they cost the same; only the amount of data differs.

    python examples/function_fit_2d.py            # both runs, plots to out/function_fit_2d.png
    python examples/function_fit_2d.py --smoke    # a few steps on small data, no plot
"""

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

LAYER_SIZES = [2, 64, 64, 64, 1]  # inputs (x, y), three hidden ReLU layers, one output (z)
SAMPLE_SIZES = (1000, 10000)  # the article's two training sets: 1,000 then 10x more points
LOW, HIGH = -10.0, 10.0  # x and y are drawn uniformly from this interval
STEPS = 5000  # Adam steps per run (one batch each)
BATCH_SIZE = 1000  # samples per step: all of the first set, a tenth of the second
LEARNING_RATE = 1e-3  # Adam's starting step size (PyTorch's default), annealed to 0
GRID = 100  # the truth and the predictions are compared on a GRID x GRID mesh
LOG_EVERY = 1000  # print the loss every this many steps (and at the last one)
OUT_DIR = Path("out")  # plots go here, relative to the working directory
SMOKE_STEPS = 30  # --smoke: this many steps per run
SMOKE_SIZES = (200, 2000)  # --smoke: small data sets (batches of SMOKE_SIZES[0])


def make_model():
    """[2, 64, 64, 64, 1]: Linear layers with ReLU between them, a linear output."""
    layers = []
    for i in range(len(LAYER_SIZES) - 1):
        layers.append(nn.Linear(LAYER_SIZES[i], LAYER_SIZES[i + 1]))
        if i < len(LAYER_SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Standardizer:
    """Subtract the training set's mean and divide by its standard deviation, and undo it."""

    def __init__(self, inputs, targets):
        self.input_mean = inputs.mean(axis=0)
        self.input_std = inputs.std(axis=0)
        self.target_mean = targets.mean()
        self.target_std = targets.std()

    def inputs(self, x):
        return ((x - self.input_mean) / self.input_std).astype(np.float32)

    def targets(self, z):
        return ((z - self.target_mean) / self.target_std).astype(np.float32)

    def untargets(self, z):
        return z * self.target_std + self.target_mean


def make_grid(points=GRID):
    """The evaluation mesh: gx, gy (points, points) and the true z on it (float64)."""
    axis = np.linspace(LOW, HIGH, points)
    gx, gy = np.meshgrid(axis, axis)
    return gx, gy, tg.datasets.function_2d_formula(gx, gy)


def predict(model, scale, gx, gy):
    """The model's z on the mesh, in z's own units."""
    points = np.column_stack((gx.ravel(), gy.ravel()))
    with tg.no_grad():
        z = model(tg.Tensor(scale.inputs(points))).numpy()
    return scale.untargets(z.reshape(gx.shape).astype(np.float64))


def progress(iterable, enabled, description):
    """A tqdm progress bar around `iterable` when tqdm is installed and `enabled`."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return iterable
        return tqdm(iterable, desc=description, leave=False)
    return iterable


def plot(gx, gy, truth, runs, path):
    """Truth, each run's prediction and error on the mesh, and the loss curves, to `path`."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    fig, axes = plt.subplots(2, 1 + len(runs), figsize=(5 * (1 + len(runs)), 8.5))
    # One colour scale for the truth and every prediction, wide enough for all of them.
    low = min([truth.min()] + [run["prediction"].min() for run in runs])
    high = max([truth.max()] + [run["prediction"].max() for run in runs])
    levels = np.linspace(low, high, 25)
    image = axes[0, 0].contourf(gx, gy, truth, levels=levels, cmap="viridis")
    axes[0, 0].set_title("truth: sin(x) + x cos(y) + y + 3^(x/3)")
    fig.colorbar(image, ax=axes[0, 0])
    errors = [np.abs(run["prediction"] - truth) for run in runs]
    # The largest errors sit in a few corners; scale the colours to the rest, so that the
    # pattern of the error shows (extend="max" colours the corners with the top colour).
    error_levels = np.linspace(0.0, max(np.percentile(e, 99) for e in errors), 25)
    for column, (run, error) in enumerate(zip(runs, errors), 1):
        image = axes[0, column].contourf(gx, gy, run["prediction"], levels=levels, cmap="viridis")
        axes[0, column].set_title(f"prediction, {run['samples']:,} samples")
        fig.colorbar(image, ax=axes[0, column])
        image = axes[1, column].contourf(
            gx, gy, error, levels=error_levels, cmap="magma", extend="max"
        )
        axes[1, column].set_title(
            f"|error|, {run['samples']:,} samples: RMSE {run['grid_rmse']:.3f}"
        )
        fig.colorbar(image, ax=axes[1, column])
    for run in runs:
        axes[1, 0].semilogy(run["losses"], label=f"{run['samples']:,} samples")
    axes[1, 0].set_title("training loss (standardised MSE)")
    axes[1, 0].set_xlabel("step")
    axes[1, 0].legend()
    for ax in axes[0].tolist() + axes[1, 1:].tolist():
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def main(steps=STEPS, seed=0, smoke=False, sample_sizes=SAMPLE_SIZES, log_every=LOG_EVERY):
    """Train one fresh network per entry of `sample_sizes` and score each on the grid.

    Returns a dict: "runs", one dict per sample size with "samples", "first_loss" and
    "final_loss" (training loss at the first and last step), "train_mse" and "grid_mse"
    (standardised MSE on all training samples and on the grid, after training),
    "grid_rmse" (on the grid, in z's units), "seconds", "losses" (every step's) and
    "prediction" (z on the grid, GRID x GRID); and "plot" (a path or None).
    """
    batch_size = BATCH_SIZE
    if smoke:
        steps = min(steps, SMOKE_STEPS)
        sample_sizes = SMOKE_SIZES
        batch_size = SMOKE_SIZES[0]
    gx, gy, truth = make_grid()

    runs = []
    for samples in sample_sizes:
        tg.manual_seed(seed)  # the same initial weights for every run
        inputs, targets = tg.datasets.function_2d(samples, LOW, HIGH, seed=seed)
        scale = Standardizer(inputs, targets)
        x = scale.inputs(inputs)
        z = scale.targets(targets)
        loader = tg.data.DataLoader(
            tg.data.TensorDataset(x, z), batch_size=batch_size, shuffle=True, seed=seed
        )
        model = make_model()
        optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
        schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        loss_fn = nn.MSELoss()
        print(f"{samples:,} samples, batches of {batch_size}, {steps} Adam steps")

        losses = []
        batches = iter(loader)
        start = time.perf_counter()
        bar = progress(range(steps), not smoke, f"{samples:,} samples")
        say = getattr(bar, "write", print)  # tqdm.write prints above the bar, not through it
        for step in bar:
            batch = next(batches, None)
            if batch is None:  # one pass over the data is done: start a new shuffled one
                batches = iter(loader)
                batch = next(batches)
            xb, zb = batch
            optimizer.zero_grad()
            loss = loss_fn(model(xb), zb)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            if log_every and (step % log_every == 0 or step == steps - 1):
                say(f"  step {step:5d}   loss {losses[-1]:.5f}")
        seconds = time.perf_counter() - start

        with tg.no_grad():
            train_mse = loss_fn(model(tg.Tensor(x)), tg.Tensor(z)).item()
        prediction = predict(model, scale, gx, gy)
        grid_mse = float(((prediction - truth) ** 2).mean() / scale.target_std**2)
        grid_rmse = float(np.sqrt(((prediction - truth) ** 2).mean()))
        print(
            f"  {seconds:.1f} s; standardised MSE: {train_mse:.5f} on the training samples, "
            f"{grid_mse:.5f} on the {GRID}x{GRID} grid (RMSE {grid_rmse:.3f} in z's units)"
        )
        runs.append(
            {
                "samples": samples,
                "first_loss": losses[0],
                "final_loss": losses[-1],
                "train_mse": train_mse,
                "grid_mse": grid_mse,
                "grid_rmse": grid_rmse,
                "seconds": seconds,
                "losses": losses,
                "prediction": prediction,
            }
        )

    print("\nsamples   train MSE   grid MSE   grid/train")
    for run in runs:
        ratio = run["grid_mse"] / run["train_mse"]
        mse = f"{run['train_mse']:9.5f}   {run['grid_mse']:8.5f}"
        print(f"{run['samples']:7,}   {mse}   {ratio:10.1f}")
    # grid/train near 1: the network does as well on points it never saw as on its own.
    first, last = runs[0], runs[-1]
    print(
        f"grid MSE with {last['samples']:,} samples is {last['grid_mse'] / first['grid_mse']:.2f}"
        f" times that with {first['samples']:,}"
    )
    path = None if smoke else plot(gx, gy, truth, runs, OUT_DIR / "function_fit_2d.png")
    return {"runs": runs, "plot": path}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="Adam steps per run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--smoke", action="store_true", help="a few steps, small data, no plot")
    args = parser.parse_args()
    main(steps=args.steps, seed=args.seed, smoke=args.smoke)
