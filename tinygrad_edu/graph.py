"""Seeing the graph: `to_dot`, `draw_graph` and `trace_backward`.

- `to_dot(t)`: the computation graph that produced `t` as Graphviz DOT text; needs no
  renderer.  It walks the nodes (`grad_fn`, `next_functions`): one ellipse per op (its
  class, parameters such as `axes`, and what it keeps for backward), one box per value
  an op made (its name, or shape and dtype; its numbers when small and still held; the
  gradient when known), one box per leaf (parameters shaded, with their gradients), a
  dashed box per constant an op keeps; edges in data-flow direction.  The ops of each
  `nn.Module` call sit in a box (a cluster) named after the module, nested as the calls
  were; repeated calls (an RNN's time steps) fold into one note between the first and
  the last (`_ScopeTree`, from the log in `autograd.SCOPES`).  `rankdir="auto"` lays deep
  graphs out top to bottom.
- `draw_graph(t, ...)`: the same as a `graphviz.Source` that shows inline in Jupyter
  (SVG) and renders with a system Graphviz `dot` or the pip-installable `graphviz-pure`
  (`pip install "tinygrad_edu[viz]"`), whichever is installed.  `render`, `view`, `pipe`
  and `save` behave as graphviz's; `.render("graph.svg")` / `.render("graph.png")`
  writes just that picture.
- `trace_backward()`: records each step of the backward pass in the order the engine
  takes them; `draw_graph(t, steps=steps)` numbers the ops in that order.

The graph is walked with a queue (a 10,000-op graph draws without recursion).  The
structure outlives backward, so a graph draws the same before and after a plain
`loss.backward()`, except that the values backward freed are marked "value freed"
(`retain_graph=True` keeps them); a value no op ever kept says "value not kept".
"""

import bisect
import collections
import functools
import html
import math
import operator
import os
import shutil
import subprocess
import sys
import sysconfig
import warnings

import numpy

from . import autograd, backend

SMALL = 8  # tensors with at most this many elements show their values
MAX_OPS = 400  # larger graphs draw the ops nearest the output and summarise the rest


# ---- trace_backward ------------------------------------------------------------------


def _stats(value):
    """(norm, min, max, has NaN or inf) of an array or Tensor, computed on the host."""
    data = value.data if isinstance(value, autograd.STATE.tensor_type) else value
    if isinstance(data, numpy.generic):  # NumPy's 0-d results
        data = numpy.asarray(data)
    array = backend.to_numpy(data).astype(numpy.float64)
    if array.size == 0:
        return (0.0, 0.0, 0.0, False)
    finite = bool(numpy.isfinite(array).all())
    return (
        float(numpy.sqrt((array * array).sum())),
        float(array.min()),
        float(array.max()),
        not finite,
    )


def _small_copy(value, limit=SMALL):
    """A host copy of an array or Tensor with at most `limit` elements, else None."""
    data = value.data if isinstance(value, autograd.STATE.tensor_type) else value
    if isinstance(data, numpy.generic):  # NumPy's 0-d results
        data = numpy.asarray(data)
    if data.size > limit:
        return None
    return numpy.array(backend.to_numpy(data), copy=True)


class BackwardStep:
    """One step of the backward pass: the op `node` turned `grad_out` into `grads_in`."""

    __slots__ = (
        "number",
        "op",
        "node",
        "in_shapes",
        "out_shape",
        "grad_out",
        "grads_in",
        "leaves",
        "grad_values",
    )

    def __init__(self, number, node, grad, grads_in):
        self.number = number
        self.node = node
        self.op = type(node).__name__
        self.in_shapes = input_shapes(node)
        self.out_shape = node.shape
        self.grad_out = _stats(grad)
        # A small gradient is kept itself (a host copy, so later steps cannot change it):
        # drawings print its numbers, not only its norm.  None when it is larger.
        self.grad_values = _small_copy(grad)
        self.grads_in = [None if g is None else _stats(g) for g in grads_in]
        # (name, shape, gradient stats) of the leaves this step passed a gradient to
        self.leaves = [
            (_leaf_label(next_node), next_node.shape, stats)
            for next_node, stats in zip(node.next_nodes, self.grads_in)
            if stats is not None and type(next_node) is autograd.AccumulateGrad
        ]

    def __repr__(self):
        return f"<BackwardStep {self.number}: {self.op} {self.in_shapes} -> {self.out_shape}>"


def input_shapes(node):
    """The shape of each input of an op node, from the node it links to, or from what the
    node saved; a constant whose value the node did not keep shows as "const"."""
    shapes = []
    saved = node.saved or ()
    for position, next_node in enumerate(node.next_nodes):
        value = saved[position + 1] if position + 1 < len(saved) else None
        if next_node is not None:
            shapes.append(next_node.shape)
        elif value is not None:
            shapes.append(tuple(value.shape))
        else:
            shapes.append("const")
    return shapes


class BackwardTrace(list):
    """The steps of one or more backward passes, in order.  `print(trace)` is a table."""

    def __str__(self):
        lines = [
            f"{'#':>3}  {'op':<14} {'inputs -> output':<34} {'|grad out|':>10} "
            f"{'|grads in|':<24} leaves"
        ]
        for step in self:
            shapes = ", ".join(str(s) for s in step.in_shapes) + f" -> {step.out_shape}"
            grads_in = ", ".join("-" if s is None else _short(s[0]) for s in step.grads_in)
            leaves = ", ".join(f"{name}{'!' if stats[3] else ''}" for name, _, stats in step.leaves)
            made_bad = any(g is not None and g[3] for g in step.grads_in)
            flag = " NaN/inf" if made_bad else ""  # flagged on the op whose backward made it
            lines.append(
                f"{step.number:>3}  {step.op:<14} {shapes:<34} "
                f"{_short(step.grad_out[0]):>10} {grads_in:<24} {leaves}{flag}"
            )
        return "\n".join(lines)


def _short(x):
    return f"{x:.3g}"


class trace_backward:
    """`with tg.trace_backward() as steps:` records every backward step taken inside."""

    __slots__ = ("steps", "previous")

    def __init__(self):
        self.steps = BackwardTrace()
        self.previous = None

    def __enter__(self):
        self.previous = autograd.STATE.tracer
        autograd.STATE.tracer = self
        return self.steps

    def __exit__(self, *exc_info):
        autograd.STATE.tracer = self.previous
        return False

    def record(self, node, grad, grads_in):
        """Called by the engine (autograd.backward) after each op's backward."""
        self.steps.append(BackwardStep(len(self.steps) + 1, node, grad, grads_in))


# ---- DOT text ----------------------------------------------------------------------


def _label(t):
    return t.name if t.name is not None else f"{t.shape}"


def _leaf_label(node):
    """The label of the leaf behind an AccumulateGrad node: its name, or its shape; a leaf
    the program has dropped (the graph holds leaves weakly) says so."""
    leaf = node.variable
    return _label(leaf) if leaf is not None else f"{node.shape} (dropped)"


def _values(array, limit=SMALL):
    if array.size > limit:
        return None
    host = backend.to_numpy(array)
    text = numpy.array2string(host, precision=3, separator=", ", suppress_small=True)
    return text.replace("\n", "")


def _op_params(node):
    """The simple parameters an op kept (axes, keepdims, slope, ...) as text."""
    parts = []
    for cls in type(node).__mro__:
        if cls is autograd.Function:
            break
        for slot in getattr(cls, "__slots__", ()):
            value = getattr(node, slot, None)
            if isinstance(value, (bool, int, float, str)) or (
                isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value)
            ):
                parts.append(f"{slot}={value}")
    return ", ".join(parts)


def _collect(roots):
    """Op and leaf nodes reachable from `roots` (Tensors), nearest the output first
    (breadth-first with a queue, no recursion), so a shortened drawing keeps the ops next
    to the output."""
    nodes, seen = [], set()
    queue = collections.deque(r._node() for r in roots if r.requires_grad)
    while queue:
        node = queue.popleft()
        if node is None or node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        queue.extend(node.next_nodes)
    return nodes


def _kept_values(ops):
    """{node: array} for every op output some node still holds: the op itself (`out`)
    or an op that saved it as an input.  Everything else was never kept or was freed."""
    values = {}
    for node in ops:
        if node.saved is None:
            continue
        if autograd.is_array(node.saved[0]):
            values[node] = node.saved[0]
        for next_node, value in zip(node.next_nodes, node.saved[1:]):
            if next_node is not None and autograd.is_array(value):
                values.setdefault(next_node, value)
    return values


def _ever_kept(ops):
    """The op nodes whose output some op keeps (or kept, before backward freed it): the op
    itself (`out`) or a consumer that reads it as an input, by their plans (what `reads`
    asks for), which outlive the arrays."""
    kept = set()
    for node in ops:
        codes = autograd.plan(type(node), node.needs_input_grad)
        if codes[0] == autograd.VALUE:
            kept.add(node)
        for next_node, code in zip(node.next_nodes, codes[1:]):
            if next_node is not None and code == autograd.VALUE:
                kept.add(next_node)
    return kept


def _kept(node):
    """What an op node keeps for backward ("out, y"), or that backward freed it."""
    if node.saved is None:
        return "saved values\nfreed by backward"  # two short lines: a narrower ellipse
    names = autograd.ARGUMENT_NAMES
    kept = [names[i] if i < len(names) else f"input {i - 1}" for i in range(len(node.saved))]
    kept = [name for name, value in zip(kept, node.saved) if autograd.is_array(value)]
    return "keeps " + (", ".join(kept) if kept else "nothing")


def _grad_color(norm, lo, hi):
    """White (small gradient) to red (large) on a log scale: vanishing and exploding
    gradients show up as pale and dark nodes."""
    if norm is None or not math.isfinite(norm):
        return "#ff00ff"
    span = max(hi - lo, 1e-12)
    level = (math.log10(norm + 1e-30) - lo) / span
    red = 255
    other = int(255 - 200 * min(max(level, 0.0), 1.0))
    return f"#{red:02x}{other:02x}{other:02x}"


# ---- module boxes and folded repeats -----------------------------------------------


class _Scope:
    """One module call or RNN time step that made some of the drawn ops (autograd.SCOPES)."""

    __slots__ = (
        "module",  # the module called (for a time step: the RNN / LSTM), None at the top
        "start",  # the first creation number (seq) of the call
        "end",  # one past its last
        "step",  # (layer, t) for a time step, None for a module call
        "parent",
        "children",  # the calls made inside it, in order
        "ops",  # the op nodes it made itself (not inside a child call)
        "items",  # (seq, op class name, node) of every op made inside it, in order
        "number",  # its cluster's number in the DOT text
        "hidden",  # folded into a note
    )

    def __init__(self, module, start, end, step):
        self.module = module
        self.start = start
        self.end = end
        self.step = step
        self.parent = None
        self.children = []
        self.ops = []
        self.items = []
        self.number = 0
        self.hidden = False

    def kind(self):
        """What must match for two neighbouring calls to fold together."""
        if self.step is not None:
            return ("time step", id(self.module), self.step[0])
        return ("call", type(self.module))


class _ScopeTree:
    """Which module call (or time step) made each op, from the log `Module.__call__` and
    the RNN layers keep (autograd.SCOPES): an op whose `seq` lies in a call's interval was
    made inside it, the innermost interval winning.  The calls nest as their intervals do.

    Built with a sweep over the ops and the calls sorted by creation number (no recursion);
    calls that made none of the drawn ops are dropped.
    """

    def __init__(self, ops, model):
        self.root = _Scope(None, -1, math.inf, None)
        self.scope_of = {}  # op node -> the innermost call that made it (None: top level)
        self.notes = []  # (scope, name, text) of the notes standing for folded calls
        self.names = {}  # id(module) -> its qualified name in `model`
        if model is not None:
            self.names = {id(module): name for name, module in model.named_modules()}
        ordered = sorted(ops, key=_creation_number)
        self.scopes = self._read_log(ordered)
        stack = [self.root]
        position = 0
        for node in ordered:
            while position < len(self.scopes) and self.scopes[position].start <= node.seq:
                scope = self.scopes[position]
                position += 1
                while stack[-1].end <= scope.start:  # calls that ended before this one began
                    stack.pop()
                scope.parent = stack[-1]
                stack.append(scope)
            while stack[-1].end <= node.seq:
                stack.pop()
            stack[-1].ops.append(node)
        # Children after parents in `scopes` (sorted by start, outer first): walking it
        # backwards hands each call's ops up to its parent before the parent is used.
        for scope in reversed(self.scopes):
            scope.items.extend((node.seq, type(node).__name__, node) for node in scope.ops)
            scope.items.sort(key=_first)
            if scope.items and scope.parent is not None:
                scope.parent.items.extend(scope.items)
        self.root.items.extend((node.seq, type(node).__name__, node) for node in self.root.ops)
        self.root.items.sort(key=_first)
        self.scopes = [scope for scope in self.scopes if scope.items]
        self.seqs = {
            scope: [item[0] for item in scope.items] for scope in [self.root, *self.scopes]
        }
        for number, scope in enumerate(self.scopes):
            scope.number = number
            scope.parent.children.append(scope)
            for node in scope.ops:
                self.scope_of[node] = scope
        self.owner = {}  # id(parameter) -> the first call of the module that holds it
        for scope in self.scopes:
            if scope.step is None:
                for param in scope.module._parameters.values():
                    if param is not None:
                        self.owner.setdefault(id(param), scope)

    @staticmethod
    def _read_log(ordered):
        """The logged calls that overlap the ops' creation numbers, outer calls first."""
        if not ordered:
            return []
        first, last = ordered[0].seq, ordered[-1].seq
        scopes = []
        for ref, start, end, step in list(autograd.SCOPES):
            if end <= first or start > last:
                continue
            module = ref()
            if module is not None:  # a module the program dropped has no name to show
                scopes.append(_Scope(module, start, end, step))
        scopes.sort(key=_outer_first)
        return scopes

    def fold(self):
        """Replace the middle ones of each run of three or more neighbouring calls of the
        same kind that made the same ops (in the same order) by one note.  Returns
        {op node: the note's name} for every op of a folded call."""
        folded = {}
        for parent in [self.root, *self.scopes]:  # parents before their children
            if parent.parent is not None and parent.parent.hidden:
                parent.hidden = True
            if parent.hidden:
                continue
            direct = [node.seq for node in parent.ops]  # sorted: ops are visited in order
            run = []
            for child in [*parent.children, None]:  # None ends the last run
                if run and child is not None and self._same(run[-1], child, direct):
                    run.append(child)
                    continue
                if len(run) >= 3:
                    self._fold_run(parent, run, folded)
                run = [child]
        return folded

    @staticmethod
    def _same(before, after, direct):
        """Whether `after` repeats `before` right after it (no op of the parent between)."""
        if before.kind() != after.kind():
            return False
        if [item[1] for item in before.items] != [item[1] for item in after.items]:
            return False
        between = bisect.bisect_left(direct, after.start) - bisect.bisect_left(direct, before.end)
        return between == 0

    def _fold_run(self, parent, run, folded):
        middle = run[1:-1]
        name = f"fold{len(self.notes)}"
        count = len(run[0].items)
        if run[0].step is not None:
            what = "time steps"
        else:
            what = f"calls of {type(run[0].module).__name__}"
        text = f"... {len(middle)} more {what} ({count} ops each)"
        self.notes.append((parent if parent is not self.root else None, name, text))
        for scope in middle:
            scope.hidden = True
            for item in scope.items:
                folded[item[2]] = name

    def place_of_leaf(self, leaf):
        """The box a parameter is drawn in: its module's first call (or the nearest box
        around it that is drawn), None (the top level) for any other leaf."""
        scope = self.owner.get(id(leaf.variable)) if leaf.variable is not None else None
        while scope is not None and scope.hidden:
            scope = scope.parent
        return None if scope is self.root else scope

    def order_edges(self, drawn, folded, leaf_places):
        """Invisible edges that keep the boxes of one parent in call order, one below the
        other (or beside, left to right): from the value made last before a box begins (or
        the note standing for it) to the nodes in the box that nothing made inside it leads
        to (its parameters, and its ops whose inputs all come from outside), which
        Graphviz would otherwise float up beside earlier boxes and so widen the picture.
        drawn: the op nodes drawn in full; folded: {op node: its note}."""
        entries = {}  # scope -> names of the nodes through which the box is entered
        for name, scope in leaf_places.items():
            if scope is not None:
                entries.setdefault(scope, []).append(name)
        for node in drawn:
            scope = self.scope_of.get(node)
            if scope is not None and not any(
                isinstance(next_node, autograd.Function) and next_node.seq >= scope.start
                for next_node in node.next_nodes
            ):
                entries.setdefault(scope, []).append(f"op{node.seq}")
        edges = []
        for scope in self.scopes:
            if scope.hidden or scope not in entries:
                continue
            before = None  # the last thing drawn in the parent before this box
            items = scope.parent.items
            position = bisect.bisect_left(self.seqs[scope.parent], scope.start)
            while position > 0 and before is None:  # skips ops cut off by max_ops
                position -= 1
                node = items[position][2]
                if node in folded:
                    before = folded[node]
                elif node in drawn:
                    before = f"t{node.seq}"
            if before is not None:
                edges += [(before, name) for name in entries[scope]]
        return edges

    def label(self, scope):
        if scope.step is not None:
            layer, t = scope.step
            if getattr(scope.module, "num_layers", 1) > 1:
                return f"layer {layer}, time step {t}"
            return f"time step {t}"
        name = self.names.get(id(scope.module))
        kind = type(scope.module).__name__
        return f"{name}: {kind}" if name else kind

    def dot_lines(self, decls):
        """The node lines in `decls` ((scope or None, line)), each inside the nested
        `subgraph cluster_N` blocks of its calls; boxes with nothing drawn are left out."""
        by_scope = {}
        for scope, line in decls:
            by_scope.setdefault(scope, []).append(line)
        used = set()
        for scope in by_scope:
            while scope is not None and scope is not self.root and scope not in used:
                used.add(scope)
                scope = scope.parent
        lines = list(by_scope.get(None, ()))
        todo = [s for s in reversed(self.root.children) if s in used]
        depth = {}
        while todo:  # an explicit stack: a closing brace is pushed under the children
            scope = todo.pop()
            if isinstance(scope, str):
                lines.append(scope)
                continue
            level = depth[scope] = depth.get(scope.parent, 0) + 1
            pad = "  " * level
            style = "dashed,rounded" if scope.step is not None else "rounded"
            lines.append(f"{pad}subgraph cluster_{scope.number} {{")
            lines.append(
                f'{pad}  label={_quote(self.label(scope))}; style="{style}"; color="#7f8c9b"; '
                'fontname="Helvetica"; fontsize=11; labeljust=l;'
            )
            lines += [pad + line for line in by_scope.get(scope, ())]
            todo.append(f"{pad}}}")
            todo += [s for s in reversed(scope.children) if s in used]
        return lines


_creation_number = autograd._creation_number  # node -> seq
_first = operator.itemgetter(0)


def _outer_first(scope):
    return (scope.start, -scope.end)


def to_dot(
    t,
    show_data=True,
    show_grad=True,
    rankdir="LR",
    steps=None,
    color_by_grad=False,
    max_ops=MAX_OPS,
    model=None,
    collapse=True,
):
    """The graph that produced Tensor `t` (or a list of Tensors) as DOT text.

    rankdir: "LR" (left to right), "TB" (top to bottom), or "auto": "TB" when the graph
    is deeper (its longest path) than wide (the most nodes side by side), else "LR".
    steps: a trace from `trace_backward`; ops are then numbered in backward order and
    intermediate gradients come from the trace.  color_by_grad: shade tensors by the
    size of their gradient.  max_ops: beyond this many ops only the ops nearest the
    output are drawn, with one node saying how many were left out.
    The ops each `nn.Module` call made are drawn in a box labelled with the module's class
    (nested as the calls were; a parameter sits in its module's box); model: the model,
    whose `named_modules()` names add the qualified name ("lstm: LSTM").
    collapse: where consecutive calls (an RNN's time steps, a module called in a loop) made
    the same ops, draw the first and the last and one note for those between (False: all).
    """
    roots = list(t) if isinstance(t, (list, tuple)) else [t]
    nodes = _collect(roots)
    ops = [n for n in nodes if isinstance(n, autograd.Function)]
    leaves = [n for n in nodes if type(n) is autograd.AccumulateGrad]
    tree = _ScopeTree(ops, model)
    folded = tree.fold() if collapse else {}  # op node -> the note drawn in its place
    drawn_ops, count = [], 0  # the ops drawn (and folded ones, for their edges)
    for node in ops:
        if node not in folded:
            if count == max_ops:
                break
            count += 1
        drawn_ops.append(node)
    hidden = len(ops) - len(folded) - count
    # Boxes are named by creation number: t17 for the value op17 made, leaf5 for a leaf.
    # The same script gives the same text (a drawing committed to git changes only when
    # the graph does), unlike names made from id().
    root_of = {r._node(): r for r in roots if r.requires_grad}  # the tensors we were given
    values = _kept_values(ops)
    ever_kept = _ever_kept(ops)
    step_of = {}
    grad_of = {}  # node -> gradient stats of its output, from the trace
    grad_values_of = {}  # node -> its output's gradient itself, when small
    if steps is not None:
        for step in steps:
            step_of[step.node] = step.number
            grad_of[step.node] = step.grad_out
            grad_values_of[step.node] = step.grad_values
    alive = [n.variable for n in leaves if n.variable is not None]

    norms = [s[0] for s in grad_of.values() if s]
    norms += [_stats(x._grad)[0] for x in alive if x._grad is not None]
    logs = [math.log10(n + 1e-30) for n in norms if math.isfinite(n)]
    lo, hi = (min(logs), max(logs)) if logs else (0.0, 1.0)
    colors = (color_by_grad, lo, hi)

    # Every node's DOT line goes to the box (scope) it is drawn in, None for the top level;
    # edges are (tail, head) names, written after all the nodes.
    decls = []
    edges = []
    for number, r in enumerate(r for r in roots if not r.requires_grad):  # no graph at all
        rows = _tensor_rows(r, r.name, r.data if show_data else None, None, None)
        decls.append((None, _box(f"r{number}", rows, False, None, None, colors)))
    drawn_leaves = set()
    for node in drawn_ops:
        for next_node in node.next_nodes:
            if type(next_node) is autograd.AccumulateGrad:
                drawn_leaves.add(next_node)
    drawn_leaves.update(n for n in root_of if type(n) is autograd.AccumulateGrad)
    for leaf in leaves:
        if leaf not in drawn_leaves:
            continue
        x = leaf.variable
        place = tree.place_of_leaf(leaf)
        if x is None:  # the graph holds leaves weakly: this one the program has dropped
            rows = _tensor_rows(leaf, f"{leaf.shape} (dropped)", None, None, None)
            decls.append((place, _box(f"leaf{leaf.seq}", rows, True, None, None, colors)))
            continue
        grad = x._grad if show_grad else None
        rows = _tensor_rows(x, x.name, x.data if show_data else None, grad, None)
        decls.append((place, _box(f"leaf{leaf.seq}", rows, True, grad, None, colors)))
    constants = {}  # id(array) -> the name of its box
    drawn = set(drawn_ops)
    for node in drawn_ops:  # values made by ops left out of a shortened drawing
        for edge_end in node.next_nodes:
            if isinstance(edge_end, autograd.Function) and edge_end not in drawn:
                drawn.add(edge_end)
                rows = _tensor_rows(edge_end, None, values.get(edge_end), None, None)
                decls.append((None, _box(f"t{edge_end.seq}", rows, False, None, None, colors)))
    for node in drawn_ops:
        op = f"op{node.seq}"
        if node in folded:  # drawn as its note: only the edges into it, which lead there
            for next_node in node.next_nodes:
                if type(next_node) is autograd.AccumulateGrad:
                    edges.append((f"leaf{next_node.seq}", op))
                elif next_node is not None:
                    edges.append((f"t{next_node.seq}", op))
            continue
        place = tree.scope_of.get(node)
        root = root_of.get(node)
        value = root.data if root is not None else values.get(node)
        grad = root._grad if root is not None and show_grad else None
        stats = grad_of.get(node) if show_grad else None
        grad_values = grad_values_of.get(node) if show_grad else None
        name = root.name if root is not None else autograd.NAMES.get(node)
        rows = _tensor_rows(node, name, value if show_data else None, grad, stats, grad_values)
        if value is None and show_data and root is None:
            rows.append("<i>value freed</i>" if node in ever_kept else "<i>value not kept</i>")
        decls.append((place, _box(f"t{node.seq}", rows, False, grad, stats, colors)))
        params = _op_params(node)
        number = step_of.get(node)
        text = (f"{number}. " if number is not None else "") + type(node).__name__
        if params:
            text += "\n" + params
        text += "\n" + _kept(node)
        # No margin: an ellipse already leaves room around its text (and is narrower so).
        style = 'shape=ellipse, margin="0,0", style=filled, fillcolor="#fff3c4"'
        decls.append((place, f"  {op} [{style}, label={_quote(text)}];"))
        saved = node.saved or ()
        for position, next_node in enumerate(node.next_nodes):
            if next_node is None:  # a constant: drawn only where the op kept its value
                value = saved[position + 1] if position + 1 < len(saved) else None
                if not autograd.is_array(value):
                    continue
                const = constants.get(id(value))
                if const is None:  # one box per constant, however many ops share it
                    const = constants[id(value)] = f"c{len(constants)}"
                    rows = _tensor_rows(value, "constant", value if show_data else None, None, None)
                    style = 'shape=box, style="dashed,rounded"'
                    decls.append((place, f"  {const} [{style}, label={_html(rows)}];"))
                edges.append((const, op))
            elif type(next_node) is autograd.AccumulateGrad:
                edges.append((f"leaf{next_node.seq}", op))
            else:
                edges.append((f"t{next_node.seq}", op))
        edges.append((op, f"t{node.seq}"))
    for place, name, text in tree.notes:
        style = 'shape=note, style=filled, fillcolor="#eeeeee"'
        decls.append((place, f"  {name} [{style}, label={_quote(text)}];"))
    if hidden:
        decls.append((None, f'  more [shape=note, label="... {hidden} more ops not drawn"];'))
    leaf_places = {}
    for place, line in decls:
        name = line.split(" ", 3)[2]
        if name.startswith("leaf"):
            leaf_places[name] = place
    drawn_in_full = {node for node in drawn_ops if node not in folded}
    order = tree.order_edges(drawn_in_full, folded, leaf_places)
    # A folded op's box and ellipse are both its note; edges inside one note go.
    redirect = {}
    for node, note in folded.items():
        redirect[f"op{node.seq}"] = note
        redirect[f"t{node.seq}"] = note
    edge_lines, seen = [], set()
    for tail, head in edges:
        if tail in redirect or head in redirect:  # one edge per pair at a note
            tail, head = redirect.get(tail, tail), redirect.get(head, head)
            if tail == head or (tail, head) in seen:
                continue
        seen.add((tail, head))
        edge_lines.append(f"  {tail} -> {head};")  # a value used twice keeps its two edges
    if rankdir == "auto":
        rankdir = _auto_rankdir([line.split(" ", 3)[2] for _, line in decls], seen)
    lines = [
        "digraph tinygrad_edu {",
        f"  rankdir={rankdir};",
        "  graph [nodesep=0.12];",  # nodes side by side closer: wide graphs fit a page
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555"];',
    ]
    lines += tree.dot_lines(decls)
    lines += edge_lines
    lines += [f"  {tail} -> {head} [style=invis];" for tail, head in order]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text):
    """`text` as a quoted DOT string (newlines become line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _auto_rankdir(names, edges):
    """Top to bottom ("TB") when the drawing is deeper (nodes on its longest path) than
    wide (the most nodes on one level, a node's level being the length of the longest path
    into it), else "LR".  Levels are found in order of readiness (a queue, no recursion)."""
    level = dict.fromkeys(names, 0)
    waiting = dict.fromkeys(names, 0)  # edges into each node not yet passed on
    after = {name: [] for name in names}
    for tail, head in edges:
        if tail in level and head in level:
            after[tail].append(head)
            waiting[head] += 1
    queue = collections.deque(name for name in names if waiting[name] == 0)
    while queue:
        name = queue.popleft()
        for head in after[name]:
            level[head] = max(level[head], level[name] + 1)
            waiting[head] -= 1
            if waiting[head] == 0:
                queue.append(head)
    if not level:
        return "LR"
    width = max(collections.Counter(level.values()).values())
    depth = max(level.values()) + 1
    return "TB" if depth > width else "LR"


def _tensor_rows(x, name, value, grad, grad_stats, grad_values=None):
    """The rows of a value's box: name (or shape), shape, dtype, values, gradient.
    `x` is anything with .shape and .dtype (a Tensor, an op node, an array).
    grad_values: a traced gradient itself (small ones are kept), shown instead of its norm."""
    shape = tuple(x.shape)
    rows = [f"<b>{html.escape(name if name is not None else str(shape))}</b>"]
    if name is not None:
        rows.append(html.escape(str(shape)))
    device = getattr(x, "device", None)
    device = "" if device is None or str(device) == "cpu" else f" {device}"
    rows.append(html.escape(str(x.dtype)) + device)
    if value is not None:
        text = _values(value)
        if text is not None:
            rows.append("data " + html.escape(text))
    if grad is not None:
        text = _values(grad.data)
        rows.append("grad " + html.escape(text if text else f"|g|={_stats(grad)[0]:.3g}"))
    elif grad_values is not None:
        rows.append("grad " + html.escape(_values(grad_values)))
    elif grad_stats is not None:
        rows.append(f"grad |g|={grad_stats[0]:.3g}")
    return rows


def _html(rows):
    return "<" + "<br/>".join(rows) + ">"


def _box(name, rows, is_parameter, grad, grad_stats, colors):
    """One DOT line: a tensor's box; parameters shaded and thick, or coloured by the size
    of the gradient (color_by_grad)."""
    color_by_grad, lo, hi = colors
    style = 'style="filled,rounded", fillcolor="#cfe8ff"' if is_parameter else 'style="rounded"'
    stats = _stats(grad) if grad is not None else grad_stats
    if color_by_grad and stats is not None:
        style = f'style="filled,rounded", fillcolor="{_grad_color(stats[0], lo, hi)}"'
    if is_parameter:
        style += ", penwidth=2.5"  # parameters stand out, whatever the fill
    return f"  {name} [shape=box, {style}, label={_html(rows)}];"


# ---- rendering ---------------------------------------------------------------------


class RendererNotFoundError(RuntimeError):
    """No program that turns DOT text into pictures was found (the message says how to
    get one)."""


def find_renderer():
    """The path of a DOT renderer: a system Graphviz `dot`, else `graphviz-pure`."""
    scripts = sysconfig.get_path("scripts")
    candidates = [shutil.which("dot"), shutil.which("graphviz-pure")]
    candidates.append(os.path.join(os.path.dirname(sys.executable), "graphviz-pure"))
    if scripts:
        candidates.append(os.path.join(scripts, "graphviz-pure"))
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise RendererNotFoundError(
        "drawing needs a Graphviz renderer and none was found. Install one with "
        '`pip install "tinygrad_edu[viz]"` (graphviz-pure, no root needed) or your '
        "system's Graphviz (`apt-get install graphviz`, `brew install graphviz`). "
        "tg.to_dot(t) gives the DOT text without any renderer."
    )


def render_dot(source, format="svg", engine="dot", program=None, extra_args=(), quiet=False):
    """Bytes of `source` (DOT text) laid out by `engine` and written as `format`.

    format: what the renderer's `-T` takes ("svg", "png", or graphviz's "png:cairo").
    program: the renderer to run (a system `dot` or `graphviz-pure`); by default the one
    `find_renderer()` finds.  The tests pass it to check each renderer in turn.
    quiet: drop the renderer's warnings (by default they go to stderr, as in graphviz).
    """
    if program is None:
        program = find_renderer()
    # -K names the layout engine.  Without it Graphviz picks the engine from the name the
    # program was started under: a `dot` reached through a link named `graphviz-pure`
    # fails ("no layout engine support"), one named `neato` lays out as neato.  Both the
    # system `dot` and graphviz-pure understand -K, so a file name never changes a picture.
    command = [program, f"-K{engine}", f"-T{format}", *extra_args]
    result = subprocess.run(command, input=source.encode(), capture_output=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{os.path.basename(program)} failed: {result.stderr.decode()[-500:]}")
    if result.stderr and not quiet:
        sys.stderr.write(result.stderr.decode(errors="replace"))
    return result.stdout


PICTURE_SUFFIXES = (".svg", ".png")  # `.render("graph.svg")` writes the picture right there


@functools.lru_cache(maxsize=None)  # one class for every drawing (isinstance works)
def _graph_class():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            'draw_graph needs the graphviz package: pip install "tinygrad_edu[viz]" '
            "(tg.to_dot(t) works without it)"
        ) from None

    class GraphDrawing(graphviz.Source):
        """A graphviz.Source of our DOT text that renders with whichever renderer is
        installed (system `dot` or graphviz-pure) rather than only a `dot` on PATH.

        `render`, `view`, `pipe` and `save` take graphviz.Source's arguments, with its
        defaults, and give its results; `render` adds one short form (see there).
        """

        def pipe(
            self,
            format=None,
            renderer=None,
            formatter=None,
            neato_no_op=None,
            quiet=False,
            *,
            engine=None,
            encoding=None,
        ):
            """The picture as bytes (str when `encoding` is given), as graphviz.Source.pipe;
            `format` defaults to the drawing's `.format` ("svg")."""
            format = self.format if format is None else format
            engine = self.engine if engine is None else engine
            self._check_parameters(engine, format, renderer, formatter)
            output = ":".join(part for part in (format, renderer, formatter) if part is not None)
            extra_args = [f"-n{neato_no_op:d}"] if neato_no_op else []
            data = render_dot(self.source, output, engine, extra_args=extra_args, quiet=quiet)
            return data if encoding is None else data.decode(encoding)

        def render(
            self,
            filename=None,
            directory=None,
            view=False,
            cleanup=False,
            format=None,
            renderer=None,
            formatter=None,
            neato_no_op=None,
            quiet=False,
            quiet_view=False,
            *,
            outfile=None,
            engine=None,
            raise_if_result_exists=False,
            overwrite_source=False,
        ):
            """Write the drawing to files and return the picture's path, as
            graphviz.Source.render: the DOT text goes to `filename` (default `.filename`,
            in `directory`), the picture to `filename + "." + format`, or to `outfile`
            (format from its suffix); `cleanup` deletes the DOT file, `view` opens the
            picture.  So `.render("g3", format="png")` writes g3 and g3.png.

            Our short form: with neither `format` nor `outfile`, a filename ending in
            .svg or .png is the picture's own path, and no DOT file is written:
            `.render("graph.svg")` writes graph.svg (graphviz would write the DOT text
            there and the picture to graph.svg.svg).
            """
            if raise_if_result_exists and overwrite_source:
                raise ValueError("overwrite_source cannot be combined with raise_if_result_exists")
            dot_path = None  # the DOT file written next to the picture (none in the short form)
            suffix = "" if filename is None else os.path.splitext(filename)[1].lower()
            if suffix in PICTURE_SUFFIXES and format is None and outfile is None:
                folder = self.directory if directory is None else directory
                picture = os.path.join(folder, filename)
                format = suffix[1:]
                if os.path.dirname(picture):
                    os.makedirs(os.path.dirname(picture), exist_ok=True)  # as graphviz does
            else:
                # graphviz's steps, in its order: the DOT file is written before rendering.
                if outfile is not None:
                    picture = os.fspath(outfile)
                    format = self._outfile_format(picture, format)
                    if directory is None:
                        picture = os.path.join(self.directory, picture)
                    if filename is None:
                        filename = os.path.splitext(picture)[0] + ".gv"
                dot_path = self.save(filename, directory=directory)
                if outfile is None:
                    format = self.format if format is None else format
                    parts = [part for part in (formatter, renderer, format) if part is not None]
                    picture = dot_path + "." + ".".join(parts)
                same = os.path.realpath(picture) == os.path.realpath(dot_path)
                if same and not overwrite_source:
                    raise ValueError(
                        f"outfile {picture!r} must be different from the DOT file "
                        f"{dot_path!r} (pass overwrite_source=True to override)"
                    )
            if raise_if_result_exists and os.path.exists(picture):
                raise graphviz.FileExistsError(f"output file exists: {picture!r}")
            data = self.pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine)
            with open(picture, "wb") as file:
                file.write(data)
            if cleanup and dot_path is not None:
                os.remove(dot_path)
            if view or quiet_view:
                graphviz.view(picture, quiet=quiet_view)  # the platform's viewer
            return picture

        def view(self, filename=None, directory=None, cleanup=False, quiet=False, quiet_view=False):
            """Render and open the picture with the platform's viewer (xdg-open, open,
            start), as graphviz.Source.view: `render(..., view=True)`."""
            return self.render(
                filename=filename,
                directory=directory,
                view=True,
                cleanup=cleanup,
                quiet=quiet,
                quiet_view=quiet_view,
            )

        def _repr_mimebundle_(self, include=None, exclude=None, **_):
            """What Jupyter shows: graphviz's SVG (or the picture types in `include`).
            When no picture can be made, a short message saying why (with the install
            hint) and the DOT text, as text/plain and text/html."""
            try:
                return super()._repr_mimebundle_(include, exclude, **_)
            except Exception as error:
                # Any error, not only a missing renderer: a display hook that raises makes
                # Jupyter print a full traceback, then try the next hook, which fails the
                # same way.  The message carries the error's own text, so nothing is lost.
                return self._cannot_draw(error)

        def _repr_svg_(self):
            """SVG for front ends that ask for it by this name; None (nothing to show)
            when it cannot be made, never an exception: `_repr_mimebundle_` says why."""
            try:
                return self.pipe(format="svg", encoding="utf-8")
            except Exception:
                return None

        def _cannot_draw(self, error):
            """A display of `error`'s message and the DOT text, instead of the picture."""
            message = f"This graph cannot be drawn here: {error}"
            plain = f"{message}\n\n{self.source}"
            page = f"<p>{html.escape(message)}</p>\n<pre>{html.escape(self.source)}</pre>"
            return {"text/plain": plain, "text/html": page}

        @staticmethod
        def _check_parameters(engine, format, renderer, formatter):
            """The checks graphviz makes before running a renderer, with its errors."""
            for kind, value, known in [
                ("engine", engine, graphviz.ENGINES),
                ("format", format, graphviz.FORMATS),
                ("renderer", renderer, graphviz.RENDERERS),
                ("formatter", formatter, graphviz.FORMATTERS),
            ]:
                if value is not None and value.lower() not in known:
                    raise ValueError(f"unknown {kind}: {value!r} (must be one of {sorted(known)})")
            if formatter is not None and renderer is None:
                raise graphviz.RequiredArgumentError("formatter given without renderer")

        @staticmethod
        def _outfile_format(outfile, format):
            """The format of `outfile` as graphviz decides it: its suffix, unless `format`
            says otherwise (then a warning); `format` is needed when the suffix is not one."""
            suffix = os.path.splitext(outfile)[1][1:].lower()
            if suffix in graphviz.FORMATS:
                if format is not None and format.lower() != suffix:
                    message = f"expected format {suffix!r} from outfile differs from {format!r}"
                    warnings.warn(message, graphviz.FormatSuffixMismatchWarning, stacklevel=3)
                    return format
                return suffix
            if format is None:
                raise graphviz.RequiredArgumentError(
                    f"cannot infer rendering format from outfile {outfile!r} "
                    "(provide format or an outfile ending in a format, such as .svg)"
                )
            message = f"unknown outfile suffix {suffix!r} (expected: {'.' + format!r})"
            warnings.warn(message, graphviz.UnknownSuffixWarning, stacklevel=3)
            return format

    return GraphDrawing


def draw_graph(
    t,
    show_data=True,
    show_grad=True,
    rankdir="LR",
    steps=None,
    color_by_grad=False,
    max_ops=MAX_OPS,
    model=None,
    collapse=True,
):
    """The graph that produced `t` as a drawing (a graphviz.Source whose format is
    "svg"): shows inline in Jupyter, `.source` is the DOT text, `.render("graph.svg")` /
    `.render("graph.png")` writes that file, and `render`, `view`, `pipe`, `save` take
    graphviz's arguments.  Arguments as `to_dot`; rankdir="auto" picks top to bottom
    for deep graphs, and model= names the module boxes."""
    source = to_dot(
        t, show_data, show_grad, rankdir, steps, color_by_grad, max_ops, model, collapse
    )
    return _graph_class()(source, format="svg")
