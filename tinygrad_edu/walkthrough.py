"""`tg.walkthrough(loss)`: watch backprop happen, one op at a time, in Jupyter or a browser.

A teacher draws the graph on the board and moves through the backward pass op by op,
writing down at each op the rule it applies and the numbers it produces.  This file makes
that page:

1. `walkthrough(loss)` runs `loss.backward()` while recording every step the engine takes
   (the same steps, in the same order, as `tg.trace_backward`), with the gradients
   themselves when they are small;
2. it draws the graph (graph.py's `to_dot`, laid out by a Graphviz renderer as SVG), with
   the values still held, then frees what a plain `backward()` frees;
3. the returned `Walkthrough` shows inline in Jupyter (`_repr_html_`) and `.save(path)`
   writes one self-contained HTML file: the SVG, the steps as JSON and a little
   JavaScript (tinygrad_edu/static/walkthrough.js), with no network access at all.

In the page, Prev / Next, the slider and the arrow keys move between steps.  At step k the
op being differentiated is highlighted, the edge its gradient arrives on and the edges its
gradients leave on are coloured by the size of the gradient (vanishing or exploding
gradients show at a glance), the ops already visited stay marked, and a side panel shows
the op's derivative rule (the first paragraph of its class docstring), the shapes, the
gradient that arrives and each one that leaves (values when small, norm / min / max when
large), and the leaves it passes a gradient to.  The last step also lists every leaf's
final `.grad`.
"""

import html
import inspect
import itertools
import json
import math
import os

import numpy

from . import autograd, graph

VALUES = 16  # gradients with at most this many elements are shown in full in the panel
_page_numbers = itertools.count(1)  # one element id per page shown in a notebook


# ---- recording the steps ------------------------------------------------------------------


class _Recorder(graph.trace_backward):
    """`trace_backward` that also keeps host copies of the small gradients of each step."""

    __slots__ = ("arrays",)

    def __init__(self):
        super().__init__()
        self.arrays = []  # per step: (grad out or None, [grad in or None, ...])

    def record(self, node, grad, grads_in):
        super().record(node, grad, grads_in)
        self.arrays.append(
            (
                graph._small_copy(grad, VALUES),
                [None if g is None else graph._small_copy(g, VALUES) for g in grads_in],
            )
        )


# ---- what the page shows ------------------------------------------------------------------


def _number(x):
    """A float as the panel prints it: 4 significant digits, JSON-safe for inf and NaN."""
    return f"{x:.4g}"


def _gradient(stats, array):
    """What the panel shows of one gradient: its values when small, and its statistics."""
    norm, lo, hi, bad = stats
    shown = {"norm": _number(norm), "min": _number(lo), "max": _number(hi), "bad": bad}
    if array is not None:
        shown["values"] = _values(array)
    shown["level"] = math.log10(norm) if norm > 0 and math.isfinite(norm) else None
    return shown


def _values(array):
    """A small array as the panel prints it (NumPy's printing, 4 decimals, a row a line),
    or None."""
    if array is None:
        return None
    return numpy.array2string(array, precision=4, separator=", ", floatmode="maxprec")


def rule(op_class):
    """The derivative rule of an op: the first paragraph of its class docstring, joined
    into one line ("out = tanh(x).   d(out)/dx = 1 - out**2.")."""
    doc = inspect.getdoc(op_class)
    if not doc or op_class.__doc__ is None:  # inherited from Function: nothing of its own
        return f"({op_class.__name__} has no docstring: its rule is in its backward method)"
    return " ".join(doc.split("\n\n")[0].split())


def _box(node):
    """The name of the box of the value `node` stands for, as graph.to_dot names it."""
    if node is None:
        return None
    if type(node) is autograd.AccumulateGrad:
        return f"leaf{node.seq}"
    return f"t{node.seq}"


def _what(node):
    """What an input is, in words: a leaf's name, an intermediate's name or the op that
    made it, or "a constant"."""
    if node is None:
        return "a constant"
    if type(node) is autograd.AccumulateGrad:
        return graph._leaf_label(node)
    name = autograd.NAMES.get(node)
    return name if name is not None else f"the output of {type(node).__name__}"


def _step_data(step, arrays, leaf_totals):
    """One step as the page's JSON: what the panel shows and which SVG parts to colour."""
    node = step.node
    grad_array, grads_in_arrays = arrays if arrays is not None else (None, [])
    names = autograd.ARGUMENT_NAMES[1:]
    inputs, leaves = [], []
    for position, (next_node, stats) in enumerate(zip(node.next_nodes, step.grads_in)):
        name = names[position] if position < len(names) else f"input {position}"
        array = grads_in_arrays[position] if position < len(grads_in_arrays) else None
        entry = {
            "name": name,
            "of": _what(next_node),
            "shape": str(step.in_shapes[position]),
            "box": _box(next_node) or "const",
            "grad": None if stats is None else _gradient(stats, array),
        }
        if stats is None:
            entry["why"] = "constant: no gradient" if next_node is None else "not needed"
        inputs.append(entry)
        if stats is not None and type(next_node) is autograd.AccumulateGrad:
            total = leaf_totals.get(next_node)
            if array is not None:
                total = array if total is None else total + array
            leaf_totals[next_node] = total
            leaves.append({"name": entry["of"], "box": entry["box"], "so_far": _values(total)})
    return {
        "number": step.number,
        "op": step.op,
        "node": f"op{node.seq}",
        "out": f"t{node.seq}",
        "rule": rule(type(node)),
        "params": graph._op_params(node),
        "out_shape": str(step.out_shape),
        "grad_out": _gradient(step.grad_out, grad_array),
        "inputs": inputs,
        "leaves": leaves,
    }


def _final_gradients(loss):
    """Every leaf behind `loss` that requires grad, with its .grad after backward."""
    final = []
    for node in graph._collect([loss]):
        if type(node) is not autograd.AccumulateGrad:
            continue
        leaf = node.variable
        if leaf is None:
            continue
        grad = leaf._grad
        entry = {"name": graph._label(leaf), "box": _box(node), "shape": str(leaf.shape)}
        if grad is None:
            entry["grad"] = None
        else:
            entry["grad"] = _gradient(graph._stats(grad), graph._small_copy(grad, VALUES))
        final.append(entry)
    final.sort(key=lambda entry: entry["name"])
    return final


# ---- the object the user gets ---------------------------------------------------------------


class Walkthrough:
    """A recorded backward pass with its graph: shows inline in Jupyter, `.save(path)`
    writes a self-contained HTML page.  `steps` is the trace (as `tg.trace_backward`
    gives), `svg` the drawing, `data` what the page shows at each step."""

    __slots__ = ("steps", "svg", "data", "title")

    def __init__(self, steps, svg, data, title):
        self.steps = steps
        self.svg = svg
        self.data = data
        self.title = title

    def __len__(self):
        return len(self.steps)

    def __repr__(self):
        return f"<Walkthrough of {len(self.steps)} backward steps: {self.title}>"

    def html(self, page_id=None):
        """The walkthrough as an HTML fragment (a <div> with its style and script)."""
        page_id = page_id or f"tg-walkthrough-{next(_page_numbers)}"
        svg = self.svg.replace('id="', f'id="{page_id}-')  # unique ids: many per notebook
        payload = json.dumps(self.data).replace("</", "<\\/")  # no early </script>
        return _TEMPLATE.format(
            id=page_id,
            title=html.escape(self.title),
            count=len(self.steps),
            style=_static("walkthrough.css"),
            svg=svg,
            data=payload,
            script=_static("walkthrough.js"),
        )

    def _repr_html_(self):
        return self.html()

    def save(self, path):
        """Write a self-contained HTML page (no network needed); returns the path."""
        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.title)}</title>\n</head>\n<body>\n"
            f"{self.html('tg-walkthrough')}\n</body>\n</html>\n"
        )
        with open(path, "w", encoding="utf-8") as file:
            file.write(page)
        return path


_TEMPLATE = """<div id="{id}" class="tg-walkthrough" tabindex="0">
<style>{style}</style>
<div class="tg-bar">
  <button type="button" class="tg-prev">&#9664; Prev</button>
  <input type="range" class="tg-slider" min="1" max="{count}" value="1">
  <button type="button" class="tg-next">Next &#9654;</button>
  <span class="tg-step-label"></span>
  <span class="tg-title">{title}</span>
  <span class="tg-hint">Arrows show the forward pass; gradients flow back against them.
  Keys: &larr; &rarr;</span>
</div>
<div class="tg-main">
  <div class="tg-graph">{svg}</div>
  <div class="tg-panel"></div>
</div>
<script type="application/json" class="tg-data">{data}</script>
<script>{script}
tgWalkthrough(document.getElementById("{id}"));</script>
</div>"""


def _static(name):
    """The text of a file in tinygrad_edu/static/ (the page's CSS and JavaScript)."""
    path = os.path.join(os.path.dirname(__file__), "static", name)
    with open(path, encoding="utf-8") as file:
        return file.read()


def _inline_svg(svg):
    """Graphviz's SVG file, cut down to the <svg> element an HTML page can hold: no XML
    header, doctype or comments, and no namespace URLs (HTML does not need them, and the
    page should hold no address at all)."""
    start = svg.index("<svg")
    svg = svg[start:]
    svg = svg.replace(' xmlns="http://www.w3.org/2000/svg"', "")
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    while "<!--" in svg:
        begin = svg.index("<!--")
        svg = svg[:begin] + svg[svg.index("-->", begin) + 3 :]
    return svg


def _free_saved(steps):
    """Free what a plain backward() frees: each visited op's saved arrays."""
    for step in steps:
        node = step.node
        node.saved = None
        if node.release is not None:
            node.release()


def walkthrough(
    loss,
    grad=None,
    steps=None,
    rankdir="auto",
    max_ops=graph.MAX_OPS,
    model=None,
    collapse=True,
    title=None,
):
    """Run one backward pass of `loss` and return a `Walkthrough` of it.

    Without `steps`, this calls `loss.backward(grad)` itself (leaves' `.grad` are set as
    usual) and records each step with its small gradients.  With `steps` (a trace from
    `with tg.trace_backward() as steps: loss.backward()`), it shows that pass instead,
    with gradient norms, min and max only.  The drawing takes `draw_graph`'s options:
    rankdir ("auto": top to bottom for chains), model (names the module boxes), collapse
    (fold repeated time steps) and max_ops (larger graphs draw the ops nearest the
    output); every step is in the panel, drawn or not.  Needs a Graphviz renderer
    (graphviz-pure comes with `pip install "tinygrad_edu[viz]"`).
    """
    options = dict(rankdir=rankdir, max_ops=max_ops, model=model, collapse=collapse)
    if not isinstance(loss, autograd.STATE.tensor_type):
        raise TypeError(f"walkthrough(loss) takes a Tensor, got {type(loss).__name__}")
    if steps is None:
        if not loss.requires_grad:
            raise RuntimeError(
                "walkthrough: this tensor has no graph (it does not require grad), so there "
                "is no backward pass to show"
            )
        recorder = _Recorder()
        with recorder:
            loss.backward(grad, retain_graph=True)  # keep the values until they are drawn
        steps, arrays = recorder.steps, recorder.arrays
        dot = graph.to_dot(loss, show_grad=False, steps=steps, **options)
        _free_saved(steps)
    else:
        arrays = [None] * len(steps)
        dot = graph.to_dot(loss, show_grad=False, steps=steps, **options)
    if not steps:
        raise RuntimeError("walkthrough: the backward pass took no steps (no op to show)")
    svg = _inline_svg(graph.render_dot(dot, "svg", quiet=True).decode("utf-8"))
    leaf_totals = {}
    data = {
        "steps": [_step_data(s, a, leaf_totals) for s, a in zip(steps, arrays)],
        "final": _final_gradients(loss),
    }
    name = loss.name if loss.name is not None else f"a {type(steps[0].node).__name__} output"
    return Walkthrough(steps, svg, data, title or f"Backward of {name}")
