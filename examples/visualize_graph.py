"""Draw the graph of the lecture's 1-3-1 network, with the backward order on it.

The network of examples/step_through_backprop.py (from the lecture "Neural Networks"):
y = w1 @ tanh(w0 * x + b0) + b1, 3 hidden units, fitted to a few points of x**(1/3)
with the sum of squared errors.

One plain backward pass runs inside `tg.trace_backward()`; the graph is drawn afterwards:
its structure outlives backward, only the arrays the ops kept are freed.  The picture
shows every op numbered in the order backward visited it (with what it kept for
backward), every value (its gradient; "value freed" where backward freed it), and the
parameters shaded with their values and gradients.  It needs a renderer: a system
Graphviz `dot`, or `pip install "tinygrad_edu[viz]"`.

`python examples/visualize_graph.py` writes out/graph_131.svg (out/ is not tracked by
git).  `--out PATH` writes PATH instead (.svg or .png); the picture in README.md and
docs/debugging.md is redrawn, from the repository root, with
`python examples/visualize_graph.py --out docs/graph_131.svg`.

`--attention` draws one causal attention head instead (docs/attention.md): three tokens,
query/key/value projections, F.scaled_dot_product_attention(..., is_causal=True); redraw
the picture there with
`python examples/visualize_graph.py --attention --out docs/attention_head.svg`.
"""

import argparse
import os
import sys

import numpy as np

import tinygrad_edu as tg

NUM_POINTS = 4  # points x in [0, 1]: few, so x, y and the prediction show their values
HIDDEN = 3  # hidden tanh units, as in the lecture
NOISE = 0.03  # standard deviation of the noise the lecture adds to x**(1/3)
RANKDIR = "TB"  # top to bottom: a long chain stays as narrow as a README column
OUT_PATH = os.path.join("out", "graph_131.svg")  # untracked; --out docs/graph_131.svg for README
ATTENTION_OUT_PATH = os.path.join("out", "attention_head.svg")  # --attention's default
TOKENS, WIDTH, HEAD_DIM = 3, 4, 2  # --attention: 3 tokens of width 4, one head of width 2


def build_loss(seed=0):
    """The lecture's network and loss on NUM_POINTS points, as in step_through_backprop.py.

    Returns the loss and the parameters: a graph refers to its leaves weakly, so the caller
    keeps the parameters alive to see them, and their gradients, in the drawing.
    """
    rng = np.random.default_rng(seed)
    x_values = np.linspace(0.0, 1.0, NUM_POINTS).reshape(1, NUM_POINTS)
    y_values = x_values ** (1.0 / 3.0) + rng.normal(scale=NOISE, size=x_values.shape)
    x = tg.Tensor(x_values, name="x")
    y = tg.Tensor(y_values, name="y")
    rng = np.random.default_rng(seed + 1)
    shapes = {"w0": (HIDDEN, 1), "b0": (HIDDEN, 1), "w1": (1, HIDDEN), "b1": (1, 1)}
    p = {}
    for name, shape in shapes.items():
        p[name] = tg.Tensor(rng.normal(size=shape), requires_grad=True, name=name)
    hidden = (p["w0"] * x + p["b0"]).tanh()
    y_pred = p["w1"] @ hidden + p["b1"]
    return ((y - y_pred) ** 2).sum(), p


def build_attention_loss(seed=0):
    """One causal attention head on TOKENS tokens: q, k, v = x Wq, x Wk, x Wv, then
    F.scaled_dot_product_attention(q, k, v, is_causal=True), and the sum of its squares as
    a stand-in loss.  Returns the loss and the parameters (kept alive, as above)."""
    from tinygrad_edu.nn import functional as F

    rng = np.random.default_rng(seed)
    x = tg.Tensor(rng.normal(size=(TOKENS, WIDTH)), name="x")
    p = {}
    for name in ("w_q", "w_k", "w_v"):
        p[name] = tg.Tensor(rng.normal(size=(WIDTH, HEAD_DIM)), requires_grad=True, name=name)
    out = F.scaled_dot_product_attention(x @ p["w_q"], x @ p["w_k"], x @ p["w_v"], is_causal=True)
    return (out * out).sum(), p


def main(path=OUT_PATH, seed=0, attention=False):
    """Run one traced backward pass and write the drawing to `path` (.svg or .png; its
    folder is made if missing).  Returns the trace (print it for the steps as a table).
    attention=True draws one causal attention head instead of the 1-3-1 network."""
    build = build_attention_loss if attention else build_loss
    loss, parameters = build(seed)  # keep the parameters: drawn with their gradients
    with tg.trace_backward() as steps:
        loss.backward()  # a plain backward: the graph can still be drawn afterwards
    drawing = tg.draw_graph(loss, steps=steps, rankdir=RANKDIR)
    written = drawing.render(path)  # a .svg or .png name: just the picture, at that path
    print(steps)
    print(f"wrote {written}")
    return steps


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help=f"the picture to write (default {OUT_PATH})")
    parser.add_argument(
        "--attention",
        action="store_true",
        help=f"draw one causal attention head (default path {ATTENTION_OUT_PATH})",
    )
    args = parser.parse_args()
    if args.out is None:
        args.out = ATTENTION_OUT_PATH if args.attention else OUT_PATH
    if os.path.splitext(args.out)[1].lower() not in (".svg", ".png"):
        parser.error(f"--out must end in .svg or .png, got {args.out!r}")
    try:
        main(path=args.out, attention=args.attention)
    except tg.RendererNotFoundError as error:
        print(f"visualize_graph: {error}", file=sys.stderr)  # says how to install one
        sys.exit(1)
