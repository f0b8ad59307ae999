"""The headline demo (`make demo`): train, measure, and draw.

1. Trains the source article's network [2, 64, 64, 64, 1] on
   z = sin(x) + x*cos(y) + y + 3**(x/3) with our autograd (examples/seed_network.py has
   the model and the data), with a progress bar, and prints the loss falling.
2. Times the same training step written by hand in NumPy and with tinygrad_edu, in this
   process, and prints the ratio (1.00 would be as fast as hand-written NumPy).
3. Writes the loss curve (out/loss.png, with matplotlib) and the computation graph of one
   step (out/graph.svg, with a Graphviz renderer, else out/graph.dot) to `out/`.  The graph
   is drawn from the trained network rebuilt as an `nn.Sequential` of Linear and ReLU
   layers (the same numbers), so each layer's ops sit in a box named after the layer,
   laid out top to bottom to fit a notebook cell.

Everything optional degrades to a printed note: no tqdm, no progress bar; no matplotlib,
no plot; no renderer, the DOT text instead of the picture.
"""

import argparse
import os
import sys
import time

# One BLAS thread: on a small shared machine a second thread made these 1000x64 matrix
# products several times slower.  Set before NumPy loads BLAS; your own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_network  # noqa: E402  (the article's model and data, next to this file)
import seed_network_numpy as by_hand  # noqa: E402  (the same network, backprop by hand)

STEPS = 1000  # full-batch gradient-descent steps (the article runs 2000)
TIMING_STEPS = 30  # steps timed on each side for the speed ratio
OUT_DIR = "out"  # where the plot and the drawing go


def _progress(steps, enabled):
    """tqdm's progress bar when installed, else a plain range."""
    if enabled:
        try:
            from tqdm import tqdm

            return tqdm(range(steps), desc="training", unit="step")
        except ImportError:
            pass
    return range(steps)


def train(steps, progress=True):
    """Train the article's network; returns (losses, weights, biases, inputs, targets)."""
    inputs, targets = seed_network.make_data(seed=0)
    x, z = tg.Tensor(inputs), tg.Tensor(targets)
    weights, biases = seed_network.init_parameters()
    losses = []
    for _ in _progress(steps, progress):
        loss = 0.5 * ((seed_network.forward(weights, biases, x) - z) ** 2).mean()
        loss.backward()
        with tg.no_grad():
            for p in weights + biases:
                p -= seed_network.LEARNING_RATE * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses, weights, biases, x, z


def speed_ratio(steps):
    """Median seconds per step of hand-written NumPy and of tinygrad_edu, and their ratio."""
    inputs, targets = seed_network.make_data(seed=0)
    lr = seed_network.LEARNING_RATE
    np_weights, np_biases = by_hand.init_parameters(seed_network.LAYER_SIZES)
    x, z = tg.Tensor(inputs), tg.Tensor(targets)
    weights, biases = seed_network.init_parameters()
    numpy_times, tg_times = [], []
    for _ in range(steps):  # interleaved, so both sides see the same machine
        start = time.perf_counter()
        layer_inputs, layer_outputs = by_hand.forward(np_weights, np_biases, inputs)
        grad_w, grad_b = by_hand.backward(np_weights, layer_inputs, layer_outputs, targets)
        for i in range(len(np_weights)):
            np_weights[i] -= lr * grad_w[i]
            np_biases[i] -= lr * grad_b[i]
        numpy_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        loss = 0.5 * ((seed_network.forward(weights, biases, x) - z) ** 2).mean()
        loss.backward()
        with tg.no_grad():
            for p in weights + biases:
                p -= lr * p.grad
                p.grad = None
        tg_times.append(time.perf_counter() - start)
    numpy_time, tg_time = float(np.median(numpy_times)), float(np.median(tg_times))
    return numpy_time, tg_time, tg_time / numpy_time


def as_sequential(weights, biases):
    """The network as nn.Sequential(Linear, ReLU, Linear, ReLU, ..., Linear) holding the
    same numbers.  The article's W is (inputs, outputs) and its b (1, outputs); a Linear
    keeps weight (outputs, inputs) and bias (outputs,), and computes x @ weight.T + bias."""
    layers = []
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        linear = nn.Linear(w.shape[0], w.shape[1])
        linear.weight = nn.Parameter(w.numpy().T)  # a copy, in the weights' own dtype
        linear.bias = nn.Parameter(b.numpy().reshape(-1))
        layers.append(linear)
        if i != last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def graph_of_one_step(weights, biases, x, z, points=4):
    """(loss, model): the loss of the network on the first `points` samples, computed by
    the network as an nn.Sequential (see as_sequential), after one backward pass, so a
    drawing shows every parameter's gradient.  Keep `model` alive while drawing: the
    drawing names the layers (and finds the parameters) through it."""
    model = as_sequential(weights, biases)
    loss = 0.5 * ((model(x[:points]) - z[:points]) ** 2).mean()
    loss.backward()  # the graph's structure outlives backward: draw it with its gradients
    return loss, model


def write_outputs(losses, weights, biases, x, z, out_dir):
    """The loss curve and the graph of one step into out_dir; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.semilogy(losses)
        ax.set_xlabel("step")
        ax.set_ylabel("loss 0.5 * mean((pred - z)^2)")
        ax.set_title("The article's network trained with tinygrad_edu")
        path = os.path.join(out_dir, "loss.png")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    except ImportError:
        print('(no matplotlib: pip install "tinygrad_edu[examples]" for the loss plot)')
    loss, model = graph_of_one_step(weights, biases, x, z)
    try:
        path = os.path.join(out_dir, "graph.svg")
        # "auto" lays this deep, narrow graph out top to bottom: it fits a notebook cell.
        tg.draw_graph(loss, model=model, rankdir="auto").render(path)
    except (tg.RendererNotFoundError, ImportError) as error:
        path = os.path.join(out_dir, "graph.dot")
        with open(path, "w") as file:
            file.write(tg.to_dot(loss, model=model, rankdir="auto"))
        print(f"(no Graphviz renderer, wrote the DOT text instead: {error})")
    written.append(path)
    return written


def main(steps=STEPS, timing_steps=TIMING_STEPS, out_dir=OUT_DIR, smoke=False):
    if smoke:
        steps, timing_steps = 20, 5
    print(f"Training the article's network [2, 64, 64, 64, 1] for {steps} steps ...")
    losses, weights, biases, x, z = train(steps, progress=not smoke)
    for step in sorted({0, steps // 4, steps // 2, 3 * steps // 4, steps - 1}):
        print(f"  step {step:5d}   loss {losses[step]:.6f}")
    numpy_time, tg_time, ratio = speed_ratio(timing_steps)
    print(
        f"One training step: hand-written NumPy {numpy_time * 1e3:.2f} ms, "
        f"tinygrad_edu {tg_time * 1e3:.2f} ms -> ratio {ratio:.2f} "
        "(1.00 = as fast as NumPy by hand; benchmarks/run.py measures more carefully)"
    )
    files = write_outputs(losses, weights, biases, x, z, out_dir)
    print("Wrote " + ", ".join(files))
    return {"losses": losses, "ratio": ratio, "files": files}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few steps, for tests")
    parser.add_argument("--out", default=OUT_DIR, help="directory for the plot and drawing")
    arguments = parser.parse_args()
    main(out_dir=arguments.out, smoke=arguments.smoke)
