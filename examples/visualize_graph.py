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

Two larger graphs, drawn with their modules boxed (`model=`) and laid out top to bottom
(`rankdir="auto"`), so that they fit a notebook cell:
- `--demo` writes out/graph_demo.svg: one step of examples/demo.py's network
  [2, 64, 64, 64, 1] as an nn.Sequential of Linear and ReLU layers (here with its initial
  weights; `make demo` draws the trained ones into out/graph.svg).
- `--lstm` writes out/graph_lstm.svg: examples/char_rnn.py's CharLSTM reading two streams
  of its text, SEQ_LEN characters each; the LSTM's first and last time steps are drawn in
  full and the ones between folded into one note.
"""

import argparse
import os
import sys

import numpy as np

import tinygrad_edu as tg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # demo, char_rnn: next to this
import step_through_backprop as lecture  # noqa: E402  (the 1-3-1 network and its data)

RANKDIR = "auto"  # top to bottom for this deep, narrow graph: as narrow as a README column
OUT_PATH = os.path.join("out", "graph_131.svg")  # untracked; --out docs/graph_131.svg for README
ATTENTION_OUT_PATH = os.path.join("out", "attention_head.svg")  # --attention's default
TOKENS, WIDTH, HEAD_DIM = 3, 4, 2  # --attention: 3 tokens of width 4, one head of width 2

DEMO_PATH = os.path.join("out", "graph_demo.svg")  # --demo writes this
LSTM_PATH = os.path.join("out", "graph_lstm.svg")  # --lstm writes this
LSTM_STREAMS = 2  # sequences in the LSTM's batch (the drawing is the same for any number)


def build_loss(seed=0):
    """The lecture's network and loss (examples/step_through_backprop.py's own functions).

    Returns the loss and the parameters: a graph refers to its leaves weakly, so the caller
    keeps the parameters alive to see them, and their gradients, in the drawing.
    """
    x, y = lecture.make_data(seed)
    parameters = lecture.init_parameters(seed)
    return lecture.compute_loss(parameters, x, y), parameters


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


def demo_drawing():
    """The drawing of one step of demo.py's network, as `make demo` draws it."""
    import demo
    import seed_network

    inputs, targets = seed_network.make_data(seed=0)
    weights, biases = seed_network.init_parameters()
    loss, model = demo.graph_of_one_step(weights, biases, tg.Tensor(inputs), tg.Tensor(targets))
    return tg.draw_graph(loss, model=model, rankdir="auto")


def lstm_drawing(seed=0):
    """The drawing of char_rnn.py's CharLSTM on LSTM_STREAMS streams of SEQ_LEN characters,
    after one traced backward pass (ops numbered in backward order)."""
    import char_rnn

    text, alphabet = char_rnn.load_text()
    index = {char: i for i, char in enumerate(alphabet)}
    length = char_rnn.SEQ_LEN + 1  # inputs and, shifted by one, the targets
    ids = np.array([index[char] for char in text[: LSTM_STREAMS * length]])
    ids = ids.reshape(LSTM_STREAMS, length)
    tg.manual_seed(seed)
    model = char_rnn.CharLSTM(len(alphabet))
    logits, _ = model(tg.Tensor(ids[:, :-1]))
    targets = tg.Tensor(ids[:, 1:].reshape(-1))
    loss = tg.cross_entropy(logits.reshape(-1, len(alphabet)), targets)
    with tg.trace_backward() as steps:
        loss.backward()
    return tg.draw_graph(loss, steps=steps, model=model, rankdir="auto")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help=f"the picture to write (default {OUT_PATH})")
    parser.add_argument(
        "--attention",
        action="store_true",
        help=f"draw one causal attention head (default path {ATTENTION_OUT_PATH})",
    )
    parser.add_argument("--demo", action="store_true", help=f"also write {DEMO_PATH}")
    parser.add_argument("--lstm", action="store_true", help=f"also write {LSTM_PATH}")
    args = parser.parse_args()
    if args.out is None:
        args.out = ATTENTION_OUT_PATH if args.attention else OUT_PATH
    if os.path.splitext(args.out)[1].lower() not in (".svg", ".png"):
        parser.error(f"--out must end in .svg or .png, got {args.out!r}")
    try:
        main(path=args.out, attention=args.attention)
        if args.demo:
            print(f"wrote {demo_drawing().render(DEMO_PATH)}")
        if args.lstm:
            print(f"wrote {lstm_drawing().render(LSTM_PATH)}")
    except tg.RendererNotFoundError as error:
        print(f"visualize_graph: {error}", file=sys.stderr)  # says how to install one
        sys.exit(1)
