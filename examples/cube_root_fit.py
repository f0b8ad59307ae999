"""Fit the lecture's 1-3-1 tanh network to y = x**(1/3): why gradients matter.

The lecture "Neural Networks" fits

    y = w1 @ tanh(w0 * x + b0) + b1        (1 input, 3 tanh neurons, 1 output: 10 parameters)

to 50 points of y = x**(1/3) + Normal(0, 0.03) on [0, 1], split 60/20/20 into train,
validation and test.  It then counts how many times the optimizer evaluates the loss:
about 3224 times when the optimizer has no gradient, about 123 times when the lecture
supplies a hand-derived Jacobian.  Here `loss.backward()` supplies the gradient, and the
same start (10 parameters drawn from Normal(0, 1), as the lecture does) is fitted four ways:

(a) plain gradient descent (`optim.SGD`, no momentum), one evaluation per step;
(b) Adam, one evaluation per step;
(c) L-BFGS with a strong-Wolfe line search (`optim.LBFGS`), counted by its own
    `state["func_evals"]`;
(d) Nelder-Mead, the classic gradient-free simplex method, written below in NumPy: it only
    ever asks for the loss (computed by tinygrad_edu under `no_grad`).

The loss is the mean squared error on the training points (the lecture sums the squares
instead, which only scales it: its final 0.0276 over 30 points is an MSE of 0.00092).
Note on the lecture's numbers: its "no gradient" run is scipy's default `minimize`, which
is BFGS with finite-difference gradients (11 loss evaluations per gradient here), not a
simplex method; both are counted in loss evaluations, so the two are comparable in kind.
An evaluation of (a)-(c) also runs backward, which costs about as much as the forward.

Finally, extrapolation: tanh saturates, so outside [0, 1] the network levels off to a
constant while x**(1/3) keeps growing (and below 0 the network still answers, where the
real x**(1/3) of the lecture is not defined).

    python examples/cube_root_fit.py           # all four fits, table, plot out/cube_root_fit.png
    python examples/cube_root_fit.py --smoke   # tiny budgets, no plot
"""

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

HIDDEN = 3  # tanh neurons, as the lecture's network
POINTS = 50  # x evenly spaced in [0, 1], as np.linspace(0, 1) in the lecture
NOISE = 0.03  # standard deviation of the Gaussian noise added to x**(1/3)
SPLIT = (0.6, 0.2, 0.2)  # train / validation / test fractions, as the lecture
DTYPE = np.float64  # the lecture fits in float64; L-BFGS's tolerances assume it too
GD_STEPS = 40000  # plain gradient descent is slow on this curved loss: many steps
GD_LR = 0.2  # its learning rate (0.5 diverges from this start: the first gradients are large)
ADAM_STEPS = 20000  # Adam steps
ADAM_LR = 0.05  # Adam's learning rate
LBFGS_MAX_ITER = 500  # L-BFGS iterations in its single step() call (it stops when converged)
NM_MAX_EVALS = 20000  # Nelder-Mead's budget of loss evaluations
NM_STEP = 0.1  # Nelder-Mead's initial simplex: x0 and x0 + NM_STEP along each axis
NM_XTOL = 1e-7  # Nelder-Mead stops when the simplex is this small (in every coordinate) ...
NM_FTOL = 1e-12  # ... and its loss values differ by at most this much
TARGET_MSE = 0.0012  # "fitted": train MSE at most this (the noise alone gives ~0.0009)
LECTURE_EVALS = {"without gradients": 3224, "with the analytic Jacobian": 123}  # lecture
SMOKE_BUDGET = 30  # --smoke: at most this many steps/evaluations per method, no plot
OUT_DIR = Path(__file__).resolve().parent.parent / "out"  # where the plot goes


class CubeRootNet(nn.Module):
    """y = w1 @ tanh(w0 * x + b0) + b1: x (N, 1) -> y (N, 1), 3 * HIDDEN + 1 parameters."""

    def __init__(self, hidden=HIDDEN):
        super().__init__()
        self.hidden = nn.Linear(1, hidden, dtype=DTYPE)  # w0 (hidden, 1), b0 (hidden,)
        self.output = nn.Linear(hidden, 1, dtype=DTYPE)  # w1 (1, hidden), b1 (1,)

    def forward(self, x):
        return self.output(self.hidden(x).tanh())


def get_flat(model):
    """All parameters as one NumPy vector (a copy), in `model.parameters()` order."""
    return np.concatenate([p.numpy().reshape(-1) for p in model.parameters()])


def set_flat(model, vector):
    """Write a vector made by `get_flat` back into the parameters, in place."""
    offset = 0
    for p in model.parameters():
        p.data[...] = vector[offset : offset + p.size].reshape(p.shape)
        offset += p.size


def mse(model, x, y):
    """Mean squared error of the model on (x, y) as a float, without recording a graph."""
    with tg.no_grad():
        return tg.mse_loss(model(x), y).item()


def nelder_mead(f, x0, max_evals, step=NM_STEP, xtol=NM_XTOL, ftol=NM_FTOL):
    """Minimise f(vector) -> float without gradients: the Nelder-Mead simplex method
    with the standard coefficients (reflect 1, expand 2, contract 1/2, shrink 1/2).

    Keeps n + 1 points (a simplex) in n dimensions and replaces the worst one by its mirror
    image through the centroid of the others, stretched or shrunk as the new value warrants.
    Stops when the simplex is smaller than xtol and its values agree within ftol, or after
    max_evals calls of f (the budget is checked between moves).  Returns (best x, f(best x)).
    """
    n = len(x0)
    simplex = np.vstack([x0] + [x0 + step * unit for unit in np.eye(n)])
    values = np.array([f(point) for point in simplex])
    evals = n + 1
    while evals < max_evals:
        order = np.argsort(values, kind="stable")  # best first, worst last
        simplex, values = simplex[order], values[order]
        spread_x = np.abs(simplex[1:] - simplex[0]).max()
        if spread_x <= xtol and np.abs(values[1:] - values[0]).max() <= ftol:
            break
        centroid = simplex[:-1].mean(axis=0)  # of every point but the worst
        reflected = centroid + (centroid - simplex[-1])
        f_reflected = f(reflected)
        evals += 1
        if f_reflected < values[0]:  # better than the best: try going twice as far
            expanded = centroid + 2.0 * (centroid - simplex[-1])
            f_expanded = f(expanded)
            evals += 1
            if f_expanded < f_reflected:
                simplex[-1], values[-1] = expanded, f_expanded
            else:
                simplex[-1], values[-1] = reflected, f_reflected
            continue
        if f_reflected < values[-2]:  # better than the second worst: keep it
            simplex[-1], values[-1] = reflected, f_reflected
            continue
        # Still among the worst: contract halfway towards the centroid, from the better of
        # the reflected point (outside contraction) and the worst point (inside).
        outside = f_reflected < values[-1]
        towards = reflected if outside else simplex[-1]
        contracted = centroid + 0.5 * (towards - centroid)
        f_contracted = f(contracted)
        evals += 1
        if f_contracted < min(f_reflected, values[-1]):
            simplex[-1], values[-1] = contracted, f_contracted
            continue
        # Nothing helped: shrink every point halfway towards the best one.
        simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
        values[1:] = [f(point) for point in simplex[1:]]
        evals += n
    best = int(np.argmin(values))
    return simplex[best], values[best]


def progress(steps, description, show):
    """range(steps), wrapped in a tqdm progress bar when tqdm is installed and `show`."""
    if show:
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is optional: without it the loop just runs
            return range(steps)
        return tqdm(range(steps), desc=description, leave=False, mininterval=0.5)
    return range(steps)


def fit_first_order(model, x, y, optimizer, steps, show_progress):
    """`steps` steps of a gradient optimizer (plain gradient descent: SGD on the full
    batch; or Adam); returns the train loss at each evaluation, one per step."""
    history = []
    for _ in progress(steps, type(optimizer).__name__, show_progress):
        optimizer.zero_grad()
        loss = tg.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def fit_lbfgs(model, x, y, max_iter):
    """L-BFGS with a strong-Wolfe line search: one step() runs until it converges (or
    max_iter).  Returns the train loss at each evaluation (each call of the closure)."""
    optimizer = optim.LBFGS(
        model.parameters(),
        max_iter=max_iter,
        max_eval=max_iter * 5 // 4,
        line_search_fn="strong_wolfe",
    )
    history = []

    def closure():
        optimizer.zero_grad()
        loss = tg.mse_loss(model(x), y)
        loss.backward()
        history.append(loss.item())
        return loss

    optimizer.step(closure)
    # The optimizer's own count; it must agree with the closure calls we saw.
    evals = optimizer.state[next(iter(model.parameters()))]["func_evals"]
    assert evals == len(history), (evals, len(history))
    return history


def fit_nelder_mead(model, x, y, max_evals):
    """Nelder-Mead on the flattened parameters; returns the loss at each evaluation."""
    history = []

    def loss_of(vector):
        set_flat(model, vector)
        history.append(mse(model, x, y))
        return history[-1]

    best, _ = nelder_mead(loss_of, get_flat(model), max_evals)
    set_flat(model, best)  # the last evaluated point is not necessarily the best
    return history


def evals_to_reach(history, target):
    """1-based count of evaluations until the loss first reaches `target`, or None."""
    below = np.flatnonzero(np.asarray(history) <= target)
    return int(below[0]) + 1 if below.size else None


def plot_fits(models, splits, path):
    """Left: the fits on [0, 1] with the data; right: the same fits on [-1, 2]."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (low, high) in zip(axes, ((0.0, 1.0), (-1.0, 2.0))):
        grid = np.linspace(low, high, 301)
        for (name, part), marker in zip(splits.items(), "o^s"):
            ax.scatter(part[0][:, 0], part[1][:, 0], marker=marker, s=18, label=f"{name} data")
        for name, model in models.items():
            with tg.no_grad():
                prediction = model(tg.Tensor(grid.reshape(-1, 1).astype(DTYPE))).numpy()
            ax.plot(grid, prediction[:, 0], label=name)
        real = grid[grid >= 0]
        ax.plot(real, real ** (1.0 / 3.0), "k--", label="x**(1/3)")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    axes[0].set_title("fits on the data, [0, 1]")
    axes[1].set_title("extrapolation, [-1, 2]: tanh levels off, x**(1/3) keeps growing")
    axes[1].axvspan(0.0, 1.0, color="0.92", zorder=0)  # where the training data live
    # Below 0 the fits plunge to their own (different) tanh plateaus, some far below -2;
    # clipping the axis keeps the interesting part readable.
    axes[1].set_ylim(-2.0, 2.0)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def main(
    seed=0,
    smoke=False,
    gd_steps=GD_STEPS,
    adam_steps=ADAM_STEPS,
    lbfgs_max_iter=LBFGS_MAX_ITER,
    nm_max_evals=NM_MAX_EVALS,
    plot=True,
):
    """Fit the network four ways from one start and compare loss evaluations and MSEs.

    `seed` picks the noise, the split and the starting parameters.  Returns a dict keyed
    by method ("gradient descent", "adam", "lbfgs", "nelder-mead"), each a dict with
    "evals", "evals_to_target" (None if TARGET_MSE was never reached), "train_mse",
    "val_mse", "test_mse", "seconds"; plus "start_mse" and "extrapolation" (the L-BFGS
    net and x**(1/3) at x = 2, 10, 100).  plot=False skips the plot.
    """
    if smoke:
        gd_steps, adam_steps = min(gd_steps, SMOKE_BUDGET), min(adam_steps, SMOKE_BUDGET)
        lbfgs_max_iter = min(lbfgs_max_iter, SMOKE_BUDGET // 2)
        nm_max_evals = min(nm_max_evals, SMOKE_BUDGET)
        plot = False
    x, y = tg.datasets.cube_root(n=POINTS, noise=NOISE, seed=seed, dtype=DTYPE)
    train, val, test = tg.datasets.train_val_test_split(x, y, SPLIT, seed=seed)
    tensors = {
        name: (tg.Tensor(a), tg.Tensor(b))
        for name, (a, b) in zip(("train", "val", "test"), (train, val, test))
    }
    x_train, y_train = tensors["train"]

    # One start for every method: Normal(0, 1) parameters, as the lecture's
    # np.random.normal(size=(10,)).
    start = np.random.default_rng(seed).standard_normal(3 * HIDDEN + 1)
    show = not smoke  # progress bars for the long loops of the full run
    fits = {
        "gradient descent": lambda m: fit_first_order(
            m, x_train, y_train, optim.SGD(m.parameters(), lr=GD_LR), gd_steps, show
        ),
        "adam": lambda m: fit_first_order(
            m, x_train, y_train, optim.Adam(m.parameters(), lr=ADAM_LR), adam_steps, show
        ),
        "lbfgs": lambda m: fit_lbfgs(m, x_train, y_train, lbfgs_max_iter),
        "nelder-mead": lambda m: fit_nelder_mead(m, x_train, y_train, nm_max_evals),
    }
    first = CubeRootNet()
    set_flat(first, start)
    results = {"start_mse": mse(first, x_train, y_train)}
    models = {}
    for name, fit in fits.items():
        model = CubeRootNet()
        set_flat(model, start)
        began = time.perf_counter()
        history = fit(model)
        seconds = time.perf_counter() - began
        models[name] = model
        results[name] = {
            "evals": len(history),
            "evals_to_target": evals_to_reach(history, TARGET_MSE),
            "train_mse": mse(model, x_train, y_train),
            "val_mse": mse(model, *tensors["val"]),
            "test_mse": mse(model, *tensors["test"]),
            "seconds": seconds,
        }

    print(
        f"1-{HIDDEN}-1 tanh network on y = x**(1/3) + noise: {len(train[0])} train, "
        f"{len(val[0])} validation, {len(test[0])} test points; train MSE at the start "
        f"{results['start_mse']:.4f}"
    )
    print(
        f"\n{'method':<17} {'loss evals':>10} {'to MSE<=' + str(TARGET_MSE):>14} "
        f"{'train MSE':>10} {'val MSE':>10} {'test MSE':>10} {'seconds':>8}"
    )
    for name in fits:
        r = results[name]
        reached = "never" if r["evals_to_target"] is None else str(r["evals_to_target"])
        print(
            f"{name:<17} {r['evals']:>10} {reached:>14} {r['train_mse']:>10.6f} "
            f"{r['val_mse']:>10.6f} {r['test_mse']:>10.6f} {r['seconds']:>8.2f}"
        )
    print("\nthe lecture (scipy.optimize.minimize, sum of squares on its 30 points):")
    for what, evals in LECTURE_EVALS.items():
        print(f"  {what:<28} {evals:>5} loss evaluations")
    lbfgs, nm = results["lbfgs"], results["nelder-mead"]
    print(
        f"here: Nelder-Mead used {nm['evals']} evaluations, L-BFGS {lbfgs['evals']} "
        f"({nm['evals'] / max(lbfgs['evals'], 1):.0f}x fewer) for a train MSE of "
        f"{lbfgs['train_mse']:.6f} against {nm['train_mse']:.6f}."
    )

    points = np.array([[2.0], [10.0], [100.0]], dtype=DTYPE)
    with tg.no_grad():
        extrapolated = models["lbfgs"](tg.Tensor(points)).numpy()[:, 0]
    results["extrapolation"] = {
        float(p): (float(net), float(p) ** (1.0 / 3.0))
        for p, net in zip(points[:, 0], extrapolated)
    }
    print("extrapolation of the L-BFGS fit (tanh saturates, the cube root does not):")
    for p, (net, truth) in results["extrapolation"].items():
        print(f"  x = {p:5.0f}:   network {net:7.3f}   x**(1/3) {truth:7.3f}")

    if plot:
        labels = {
            f"gradient descent ({results['gradient descent']['evals']} evals)": models[
                "gradient descent"
            ],
            f"Adam ({results['adam']['evals']} evals)": models["adam"],
            f"L-BFGS ({lbfgs['evals']} evals)": models["lbfgs"],
            f"Nelder-Mead ({nm['evals']} evals)": models["nelder-mead"],
        }
        splits = {"train": train, "validation": val, "test": test}
        plot_fits(labels, splits, OUT_DIR / "cube_root_fit.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="noise, split and start")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets, no plot")
    args = parser.parse_args()
    main(seed=args.seed, smoke=args.smoke)
