"""Seeing the graph: `to_dot`, `draw_graph` and `trace_backward`.

- `to_dot(t)`: the computation graph that produced `t` as Graphviz DOT text; needs no
  renderer.  One box per tensor (its name, or shape and dtype; values when small; the
  gradient when known), one ellipse per op (its class and parameters such as `axes`),
  edges in data-flow direction; parameters (leaves that require grad) are shaded.
- `draw_graph(t, ...)`: the same as a `graphviz.Source` that shows inline in Jupyter
  (SVG) and renders with a system Graphviz `dot` or the pip-installable `graphviz-pure`
  (`pip install "tinygrad_edu[viz]"`), whichever is installed.  `render`, `view`, `pipe`
  and `save` behave as graphviz's; `.render("graph.svg")` / `.render("graph.png")`
  writes just that picture.
- `trace_backward()`: records each step of the backward pass in the order the engine
  takes them; `draw_graph(t, steps=steps)` numbers the ops in that order.

The graph is walked with an explicit stack (a 10,000-op graph draws without recursion).
Backward frees the graph it walked unless `retain_graph=True`, so draw after
`loss.backward(retain_graph=True)` to see the gradients on a full graph.
"""

import collections
import functools
import html
import math
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


class BackwardStep:
    """One step of the backward pass: `op` turned `grad_out` into `grads_in`."""

    __slots__ = (
        "number",
        "op",
        "node",
        "output",
        "in_shapes",
        "out_shape",
        "grad_out",
        "grads_in",
        "leaves",
    )

    def __init__(self, number, node, output, grad, grads_in):
        self.number = number
        self.node = node
        self.op = type(node).__name__
        self.output = output
        self.in_shapes = [x.shape for x in node.inputs]
        self.out_shape = output.shape
        self.grad_out = _stats(grad)
        self.grads_in = [None if g is None else _stats(g) for g in grads_in]
        # (name, shape, gradient stats) of the leaves this step passed a gradient to
        self.leaves = [
            (_label(x), x.shape, stats)
            for x, stats in zip(node.inputs, self.grads_in)
            if stats is not None and x.grad_fn is None and x.requires_grad
        ]

    def __repr__(self):
        return f"<BackwardStep {self.number}: {self.op} {self.in_shapes} -> {self.out_shape}>"


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

    def record(self, node, output, grad, grads_in):
        """Called by the engine (autograd.backward) after each op's backward."""
        self.steps.append(BackwardStep(len(self.steps) + 1, node, output, grad, grads_in))


# ---- DOT text ----------------------------------------------------------------------


def _label(t):
    return t.name if t.name is not None else f"{t.shape}"


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
    """Tensors reachable from `roots`, nearest the output first (breadth-first with a
    queue, no recursion), so a shortened drawing keeps the ops next to the output."""
    tensors, seen = [], set()
    queue = collections.deque(roots)
    while queue:
        t = queue.popleft()
        if id(t) in seen:
            continue
        seen.add(id(t))
        tensors.append(t)
        if t.grad_fn is not None:
            queue.extend(t.grad_fn.inputs)
    return tensors


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


def to_dot(
    t,
    show_data=True,
    show_grad=True,
    rankdir="LR",
    steps=None,
    color_by_grad=False,
    max_ops=MAX_OPS,
):
    """The graph that produced Tensor `t` (or a list of Tensors) as DOT text.

    steps: a trace from `trace_backward`; ops are then numbered in backward order and
    intermediate gradients come from the trace.  color_by_grad: shade tensors by the
    size of their gradient.  max_ops: beyond this many ops only the ops nearest the
    output are drawn, with one node saying how many were left out.
    """
    roots = list(t) if isinstance(t, (list, tuple)) else [t]
    tensors = _collect(roots)
    # Nodes are named by creation number: tensor t17, and op17 for the op that made it.
    # The same script gives the same text (a drawing committed to git changes only when
    # the graph does), unlike names made from id().
    tname = {id(x): f"t{x._seq}" for x in tensors}
    oname = {id(x.grad_fn): f"op{x._seq}" for x in tensors if x.grad_fn is not None}
    step_of = {}
    grad_of = {}  # id(tensor) -> gradient stats from the trace
    if steps is not None:
        for step in steps:
            step_of[id(step.node)] = step.number
            grad_of[id(step.output)] = step.grad_out
    ops = [x for x in tensors if x.grad_fn is not None]
    drawn_ops = ops[:max_ops]
    hidden = len(ops) - len(drawn_ops)
    drawn = {id(x) for x in drawn_ops}
    for x in drawn_ops:
        drawn.update(id(i) for i in x.grad_fn.inputs)
    drawn.update(id(r) for r in roots)

    norms = [s[0] for s in grad_of.values() if s] + [
        _stats(x._grad)[0] for x in tensors if x._grad is not None
    ]
    logs = [math.log10(n + 1e-30) for n in norms if math.isfinite(n)]
    lo, hi = (min(logs), max(logs)) if logs else (0.0, 1.0)

    lines = [
        "digraph tinygrad_edu {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555"];',
    ]
    for x in tensors:
        if id(x) not in drawn:
            continue
        rows = [f"<b>{html.escape(_label(x))}</b>"]
        if x.name is not None:
            rows.append(html.escape(str(x.shape)))
        rows.append(
            html.escape(str(x.dtype)) + ("" if x.device.name == "cpu" else f" {x.device.name}")
        )
        if show_data:
            values = _values(x.data)
            if values is not None:
                rows.append("data " + html.escape(values))
        grad_stats = None
        if show_grad:
            if x._grad is not None:
                grad_stats = _stats(x._grad)
                values = _values(x._grad.data)
                rows.append("grad " + html.escape(values if values else f"|g|={grad_stats[0]:.3g}"))
            elif id(x) in grad_of and grad_of[id(x)] is not None:
                grad_stats = grad_of[id(x)]
                rows.append(f"grad |g|={grad_stats[0]:.3g}")
        is_parameter = x.grad_fn is None and x.requires_grad
        style = 'style="filled,rounded", fillcolor="#cfe8ff"' if is_parameter else 'style="rounded"'
        if color_by_grad and grad_stats is not None:
            style = f'style="filled,rounded", fillcolor="{_grad_color(grad_stats[0], lo, hi)}"'
        if is_parameter:
            style += ", penwidth=2.5"  # parameters stand out, whatever the fill
        label = "<" + "<br/>".join(rows) + ">"
        lines.append(f"  {tname[id(x)]} [shape=box, {style}, label={label}];")
    for x in drawn_ops:
        node = x.grad_fn
        name = type(node).__name__
        params = _op_params(node)
        number = step_of.get(id(node))
        text = (f"{number}. " if number is not None else "") + name
        if params:
            text += "\n" + params
        label = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        op = oname[id(node)]
        lines.append(f'  {op} [shape=ellipse, style=filled, fillcolor="#fff3c4", label="{label}"];')
        for i in node.inputs:
            lines.append(f"  {tname[id(i)]} -> {op};")
        lines.append(f"  {op} -> {tname[id(x)]};")
    if hidden:
        lines.append(f'  more [shape=note, label="... {hidden} more ops not drawn"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


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
):
    """The graph that produced `t` as a drawing (a graphviz.Source whose format is
    "svg"): shows inline in Jupyter, `.source` is the DOT text, `.render("graph.svg")` /
    `.render("graph.png")` writes that file, and `render`, `view`, `pipe`, `save` take
    graphviz's arguments.  Arguments as `to_dot`."""
    source = to_dot(t, show_data, show_grad, rankdir, steps, color_by_grad, max_ops)
    return _graph_class()(source, format="svg")
