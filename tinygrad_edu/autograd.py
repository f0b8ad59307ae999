"""The autograd engine: graph nodes, grad mode, and the backward loop.

What lives here:
- `Function`: the base of every op, and so of every node of the graph.  `forward`
  computes on raw arrays; `backward` turns the gradient of the output into gradients
  of the inputs.  `reads` declares what backward needs, so a node keeps nothing else.
- `AccumulateGrad`: the leaf's end of the graph; it adds the gradient into `leaf.grad`.
- grad mode (`no_grad`, `enable_grad`, `set_grad_enabled`) and anomaly mode.
- `topological_order` and `backward`: the loop a learner steps through.

What does not: the `Tensor` class (tensor.py), `tg.grad` (tensor.py, built on
`backward`) and the ops themselves (ops/).  This file never imports `Tensor`; tensor.py
hands the class over once with `register_tensor_type`, for the two places that must
make tensors (a leaf's `.grad`, and `create_graph=True`).

The graph is made of nodes that link to nodes, as in PyTorch (docs/backward.md):

    loss.grad_fn                      the node (op) that made `loss`
    node.next_functions               ((node_or_None, 0), ...): one edge per input,
                                      to the node that made that input (as PyTorch;
                                      the engine reads the same as `node.next_nodes`)
    AccumulateGrad.variable           a leaf that requires grad (the edge's end)
    (None, 0)                         an input that needs no gradient

No intermediate Tensor is referenced by the graph: a node keeps only the arrays its
backward reads (`Function.reads`), and backward drops them as soon as it has used them.
The structure (nodes, edges, shapes) stays, so a graph can be walked and drawn after
`loss.backward()` for as long as `loss` is alive.

How backward is called:

    grads = node.backward(xp, grad, out, *inputs)

On the fast path (the usual `loss.backward()`), `grad` and the saved `out` and inputs
are raw arrays and `xp` is their array module (numpy or cupy): no tensors are made, so
the backward pass costs little more than hand-written NumPy.  An argument backward does
not read is `None`; where `reads` asks only for `x.shape` (to undo broadcasting, say),
`x` is the node that made x, which records x's shape and dtype (`node.shape`,
`node.dtype`), so the array itself need not stay alive.  With `create_graph=True` the
same code runs on Tensors and `xp` is the Tensor class (`xp.exp(x)` is then
`Tensor.exp(x)`), so the backward pass is itself recorded and can be differentiated.
One formula per op serves both.
"""

import collections
import functools
import gc
import itertools
import operator
import weakref

from . import backend


class _State:
    """Process-wide switches.  One object, so `apply` pays one attribute read."""

    __slots__ = (
        "grad_enabled",
        "anomaly",
        "version",
        "modified",
        "tensor_type",
        "apply",
        "tracer",
        "recording",
    )

    def __init__(self):
        self.grad_enabled = True  # record graphs?  (no_grad turns it off)
        self.anomaly = False  # check every forward and backward for NaN/inf?
        self.version = -1  # the `seq` number taken by the latest in-place change
        self.modified = {}  # id(array) -> (version, weakref) of its last in-place change
        self.tensor_type = None  # the Tensor class, set by tensor.py
        self.apply = None  # tensor.apply, set by tensor.py (Function.apply calls it)
        self.tracer = None  # a graph.trace_backward recording backward steps, if any
        self.recording = None  # the tg.jit recording being traced, if any (jit.py, below)


STATE = _State()

# Names users gave to op outputs (`h.name = "hidden"`), by node: the graph holds no tensor,
# so drawings and traces find the name here.  Weak: a name goes with its node.
NAMES = weakref.WeakKeyDictionary()

# Numbers nodes in creation order: a node's inputs are made before it, so sorting by
# this number is a topological order (see topological_order).
next_seq = itertools.count().__next__


def register_tensor_type(tensor_type, apply):
    """Called once by tensor.py: the Tensor class, and the function that runs an op."""
    STATE.tensor_type = tensor_type
    STATE.apply = apply


class Node:
    """What every node of the graph has (ops and leaves' accumulators alike).

    - `next_nodes`: per input, the node that made it, or None where it needs no
      gradient (the edges; `next_functions` shows them in PyTorch's form),
    - `shape`, `dtype`: of the value whose gradient this node receives (an op's output,
      or the leaf), so gradients can be checked and graphs drawn after backward,
    - `seq`: creation number (the topological order),
    - `hooks`: None, or functions run on the gradient this node receives
      (`Tensor.register_hook`, `retain_grad`).
    """

    __slots__ = ("next_nodes", "shape", "dtype", "seq", "hooks", "__weakref__")

    @property
    def next_functions(self):
        """The edges as PyTorch writes them: one `(node_or_None, 0)` per input."""
        return tuple([(node, 0) for node in self.next_nodes])

    @property
    def name(self):
        """The op's name, as PyTorch's `node.name()` without the call: "Tanh"."""
        return type(self).__name__

    @property
    def ndim(self):
        """The number of axes of the value this node stands for (see `Function.reads`)."""
        return len(self.shape)


class Function(Node):
    """Base class of every differentiable op (ours and users').

    A subclass writes:
    - `forward(self, *arrays, **params)`: computes the output from raw arrays with
      `self.xp` (numpy or cupy) and keeps on `self` any fact backward will need.
    - `backward(self, xp, grad, out, *inputs)`: returns one gradient per input, or
      `None` where `self.needs_input_grad[i]` is false.  Write it with operators,
      methods shared by arrays and Tensors (`.sum`, `.reshape`, `.T`, `.astype`) and
      functions from `xp`, so it works on both (see the module docstring).
    - `reads` (optional): what backward reads, per input's gradient, e.g. for Mul
      `{"grad_x": "y x.shape", "grad_y": "x y.shape"}`: the gradient of x reads the
      value of y and the shape of x.  Names are `out`, `x` (first input), `y` (second
      input); `name.shape` (or `name.dtype`) keeps only the shape and dtype: backward then
      gets the node that made that input, which records both.  The node
      keeps exactly what the gradients it must compute read, so `x * 2.0` keeps only
      the 2.0.  Without `reads` (None) the node keeps the output and every input: always
      correct, and what a user's op gets unless it says more.

    Call it with `MyOp.apply(*tensors, **params)`.

    Fields set by `apply` when the node is recorded (besides Node's):
    - `saved`: (out, x, y, ...) as backward receives them: an array where backward reads
      the value, the input's own node where it reads only the shape (a node knows the
      shape and dtype of its output), else None.  Set to None once backward has used it
      (unless retain_graph), which frees the arrays.
    - `needs_input_grad`: one bool per input, set before forward runs (all False when
      nothing will be recorded), so forward can skip what only backward uses (`Max`).
    """

    __slots__ = ("xp", "saved", "needs_input_grad")

    reads = None  # what backward reads; None = the output and every input
    # An op that keeps arrays on itself for backward (Max's mask) defines release(self)
    # to drop them; the engine calls it when it drops `saved`.
    release = None

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, xp, grad, out, *inputs):
        raise NotImplementedError(
            f"{type(self).__name__} must define backward(self, xp, grad, out, *inputs)"
        )

    @classmethod
    def apply(cls, *inputs, **params):
        """Run this op on Tensors (or numbers and arrays) and record it in the graph."""
        return STATE.apply(cls, *inputs, **params)

    def __repr__(self):
        shape = getattr(self, "shape", None)
        if shape is None:
            return f"<{type(self).__name__}>"
        return f"<{type(self).__name__} {shape} {self.dtype}>"


class AccumulateGrad(Node):
    """The leaf's end of the graph: the gradient that reaches it is added to `leaf.grad`.

    One per leaf that requires grad, made the first time an op records the leaf and kept
    by the leaf (`Tensor._accumulator`), so every graph reaches the leaf through the same
    node.  The node refers to its leaf weakly, so leaf and node do not keep each other
    alive: `.variable` is the leaf, or None once the program has dropped it (nobody can
    read that leaf's `.grad` any more, so backward skips it).
    """

    __slots__ = ("leaf",)

    def __init__(self, variable):
        self.leaf = weakref.ref(variable)
        self.next_nodes = ()
        self.shape = variable.data.shape
        self.dtype = variable.data.dtype
        self.seq = next_seq()  # before any node that uses the leaf: a topological order
        self.hooks = None

    @property
    def variable(self):
        """The leaf Tensor whose `.grad` this node fills (None if the leaf was dropped)."""
        return self.leaf()

    def __repr__(self):
        return f"<AccumulateGrad {self.shape} {self.dtype}>"


def accumulator(leaf):
    """The AccumulateGrad node of a leaf that requires grad, made on first use.

    A leaf outlives graphs, and its array may be replaced in between with one of another
    shape or dtype (`Module.to(dtype=...)`, `p.data = ...`); the node records the shape
    and dtype its graphs saw, so such a leaf gets a new node (its hooks move along)."""
    node = leaf._accumulator
    data = leaf.data
    if node is None or node.shape != data.shape or node.dtype is not data.dtype:
        hooks = None if node is None else node.hooks
        node = leaf._accumulator = AccumulateGrad(leaf)
        node.hooks = hooks
    return node


def next_node(tensor):
    """The node an op's edge to input `tensor` leads to: the op that made it, the leaf's
    AccumulateGrad, or None for a tensor that needs no gradient (a constant)."""
    node = tensor.grad_fn
    if node is None and tensor.requires_grad:
        node = accumulator(tensor)
    return node


# ---- what a node keeps: its plan ---------------------------------------------------

VALUE, SHAPE = 2, 1  # a saved argument: the array itself, or its node (shape and dtype)
ARGUMENT_NAMES = ("out", "x", "y", "z")  # backward's arguments after grad, by position
_PLANS = {}  # op class -> {needs_input_grad: one code (VALUE, SHAPE, 0) per argument}


def plan_one(fn):
    """The plan of a one-input op (its input needs a gradient), cached by op class."""
    codes = PLANS_ONE[fn] = plan(fn, (True,))
    return codes


def plan_two(fn):
    """The plans of a two-input op, cached by op class as a table indexed by
    [x.requires_grad][y.requires_grad] (no tuple to build and hash per op)."""
    table = PLANS_TWO[fn] = (
        (None, plan(fn, (False, True))),
        (plan(fn, (True, False)), plan(fn, (True, True))),
    )
    return table


PLANS_ONE = {}  # op class -> plan, for ops with one input
PLANS_TWO = {}  # op class -> table of plans, for ops with two inputs


def plan(fn, needs_input_grad):
    """For op class `fn`, what to keep of (out, x, y, ...) when these inputs need a
    gradient: the union of what their gradients read (`fn.reads`).  Cached."""
    codes = _PLANS.get(fn, {}).get(needs_input_grad)
    if codes is not None:
        return codes
    count = len(needs_input_grad) + 1
    if fn.reads is None:
        codes = (VALUE,) * count
    else:
        names = ARGUMENT_NAMES[:count]
        kept = [0] * count
        for name, needed in zip(ARGUMENT_NAMES[1:], needs_input_grad):
            for word in fn.reads.get(f"grad_{name}", "").split() if needed else ():
                what, _, attribute = word.partition(".")
                if what not in names or attribute not in ("", "shape", "dtype"):
                    raise ValueError(
                        f"{fn.__name__}.reads: {word!r} is not one of out, x, y (optionally "
                        ".shape or .dtype) for an op with {count - 1} inputs"
                    )
                position = names.index(what)
                if attribute and (position == 0 or not needs_input_grad[position - 1]):
                    attribute = ""  # no node records this value's shape: keep the value
                kept[position] = max(kept[position], SHAPE if attribute else VALUE)
        codes = tuple(kept)
    _PLANS.setdefault(fn, {})[needs_input_grad] = codes
    return codes


# ---- grad mode ------------------------------------------------------------------


class set_grad_enabled:
    """Turn graph recording on or off; a context manager and a decorator."""

    __slots__ = ("mode", "previous")

    def __init__(self, mode):
        self.mode = bool(mode)
        self.previous = None

    def __enter__(self):
        self.previous = STATE.grad_enabled
        STATE.grad_enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        STATE.grad_enabled = self.previous
        return False

    def __call__(self, func):
        mode = self.mode

        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        wrapper.__wrapped__ = func
        return wrapper


class no_grad(set_grad_enabled):
    """`with tg.no_grad():` (or `@tg.no_grad()` / `@tg.no_grad`) records no graph."""

    __slots__ = ()

    def __new__(cls, func=None):
        if func is not None:  # used as @tg.no_grad, without parentheses
            return set_grad_enabled(False)(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """`with tg.enable_grad():` records again inside a `no_grad` block."""

    __slots__ = ()

    def __new__(cls, func=None):
        if func is not None:  # used as @tg.enable_grad, without parentheses
            return set_grad_enabled(True)(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__(True)


def is_grad_enabled():
    return STATE.grad_enabled


class detect_anomaly:
    """`with tg.detect_anomaly():` checks every op's forward output and every backward
    gradient for NaN/inf and raises at the first op that makes one, naming it."""

    __slots__ = ("previous",)

    def __init__(self):
        self.previous = None

    def __enter__(self):
        self.previous = STATE.anomaly
        STATE.anomaly = True
        return self

    def __exit__(self, *exc_info):
        STATE.anomaly = self.previous
        return False


def check_finite(xp, array, what):
    """Raise FloatingPointError naming `what` when `array` has NaN or inf."""
    if array.dtype.kind in "fc" and not bool(xp.isfinite(array).all()):
        raise FloatingPointError(f"detect_anomaly: {what} produced NaN or inf")


# ---- the backward pass ------------------------------------------------------------


def topological_order(*roots):
    """Every node that leads to `roots`, outputs first (the order backward visits them).

    Two steps, no recursion (a chain of 100,000 ops is fine):
    1. collect the nodes reachable from `roots` along the edges (`next_nodes`), with an
       explicit stack;
    2. sort them by `seq`, the number each node gets when it is made, newest first.
       An op's inputs always exist before its output, so this is a topological order,
       and a deterministic one.
    """
    found = set(roots)
    stack = list(roots)
    while stack:
        for next_node in stack.pop().next_nodes:
            if next_node is not None and next_node not in found:
                found.add(next_node)
                stack.append(next_node)
    return sorted(found, key=_creation_number, reverse=True)


_creation_number = operator.attrgetter("seq")  # node -> its creation number (C-fast)


def backward(roots, grads, retain_graph=False, create_graph=False, wanted=None):
    """Backpropagate: pass each node's gradient to the nodes of its inputs, outputs first.

    `roots` is a tuple of nodes (`loss.grad_fn`) and `grads` their gradients dL/d(root):
    arrays, or Tensors when `create_graph`.  Leaves that require grad receive their
    gradient in `.grad` (added to what is there).  `tg.grad` passes `wanted`, a dict
    {node: None}; the gradients reaching those nodes are captured there instead, and no
    `.grad` is touched.
    """
    order = topological_order(*roots)
    pending = {}  # gradients not yet passed on, by node
    for root, g in zip(roots, grads):
        pending[root] = g if root not in pending else pending[root] + g
    # ids of arrays a leaf's .grad must not share: the caller's own gradients, and arrays
    # already stored in another leaf's .grad during this pass
    stored = {id(g) for g in grads}
    anomaly = STATE.anomaly
    last_inplace = STATE.version  # hooks aside, nothing changes arrays during backward
    tracer = STATE.tracer  # `with tg.trace_backward()` records each step
    # Backward runs with grad mode set to create_graph (a recorded backward only when asked
    # for) and with Python's cyclic garbage collector paused: the loop makes many
    # short-lived objects and no reference cycles, so the collector would find nothing
    # (measured: about 7% of a 2,000-op backward); reference counting frees everything.
    # Written out rather than as two `with` blocks: stepping in a debugger does not
    # detour through their __enter__ methods, and it costs less on small graphs.
    grad_mode, collecting = STATE.grad_enabled, gc.isenabled()
    STATE.grad_enabled = create_graph
    gc.disable()
    try:
        for node in order:
            grad = pending.pop(node, None)
            if grad is None:
                continue
            if node.hooks is not None:
                grad = _call_hooks(node, grad, create_graph, wanted is None)
            if wanted is not None and node in wanted:  # tg.grad: hand it back
                wanted[node] = grad
            if type(node) is AccumulateGrad:  # a leaf: its gradient is complete
                if wanted is None:
                    _accumulate(node.leaf(), grad, create_graph, stored)  # the leaf, or None
                continue
            if node.saved is None:
                raise RuntimeError(
                    f"backward through {type(node).__name__} a second time: its saved "
                    "values were freed by the first backward. Pass retain_graph=True to "
                    "the first backward() if you need to backpropagate twice."
                )
            if node.seq < last_inplace:  # an in-place change since the node was made
                _check_versions(node)
            if create_graph:
                saved = _saved_tensors(node, grad.device)
                grads_in = node.backward(STATE.tensor_type, grad, *saved)
            else:
                grads_in = node.backward(node.xp, grad, *node.saved)
            if type(grads_in) is not tuple or len(grads_in) != len(node.next_nodes):
                grads_in = _check_gradient_count(node, grads_in)
            if tracer is not None:
                tracer.record(node, grad, grads_in)
            if not retain_graph:
                node.saved = None  # the activations go now; the edges stay
                if node.release is not None:
                    node.release()
            for next_node, grad_x in zip(node.next_nodes, grads_in):
                if next_node is None or grad_x is None:
                    continue
                if grad_x.shape != next_node.shape:
                    raise RuntimeError(
                        f"{type(node).__name__}.backward returned a gradient of shape "
                        f"{tuple(grad_x.shape)} for an input of shape {next_node.shape}"
                    )
                if grad_x.dtype is not next_node.dtype and grad_x.dtype != next_node.dtype:
                    grad_x = grad_x.astype(next_node.dtype)  # a float64 constant met float32
                if anomaly:
                    data = grad_x.data if create_graph else grad_x
                    check_finite(node.xp, data, f"the backward of {type(node).__name__}")
                if next_node in pending:
                    pending[next_node] = pending[next_node] + grad_x
                else:
                    pending[next_node] = grad_x
    finally:
        STATE.grad_enabled = grad_mode
        if collecting:
            gc.enable()


def _check_gradient_count(node, grads_in):
    """backward must return a tuple (or list) with one entry per input; say so clearly."""
    name = type(node).__name__
    count = len(node.next_nodes)
    if not isinstance(grads_in, (tuple, list)):
        raise RuntimeError(
            f"{name}.backward returned {type(grads_in).__name__}; it must return a tuple "
            f"with one gradient (or None) per input, e.g. `return (grad_x,)`"
        )
    if len(grads_in) != count:
        raise RuntimeError(
            f"{name}.backward returned {len(grads_in)} gradients for {count} "
            "inputs; return one per input (None where no gradient is needed)"
        )
    return tuple(grads_in)


def _saved_tensors(node, device):
    """create_graph=True: the saved arrays as Tensors linked into the graph, so the
    recorded backward is differentiable: `out` as the output of `node` itself, an input
    as the output of its own node (or the leaf it is), a constant as a constant."""
    wrap = STATE.tensor_type._wrap
    out, *inputs = node.saved
    values = [out]
    if is_array(out):
        values[0] = wrap(out, device, requires_grad=True)
        values[0].grad_fn = node
    for next_node, value in zip(node.next_nodes, inputs):
        if is_array(value):
            value = wrap(value, device, next_node is not None)
            if type(next_node) is AccumulateGrad:
                value._accumulator = next_node  # gradients reach the real leaf
            elif next_node is not None:
                value.grad_fn = next_node
        values.append(value)
    return values


def is_array(value):
    """Is this entry of `node.saved` an array (not None, and not a node standing in for a
    value whose shape is all backward reads)?"""
    return value is not None and not isinstance(value, Node)


def _as_array(value, device):
    """NumPy turns 0-d results into scalars (numpy.float64); a .grad holds an array."""
    if type(value) is device.array_type:
        return value
    return device.xp.asarray(value)


def _accumulate(tensor, grad, create_graph, stored):
    """Add `grad` into `tensor.grad` (a Tensor), never changing an array in place."""
    if tensor is None:  # the leaf was dropped by the user: nobody can read its .grad
        return
    Tensor = STATE.tensor_type
    if not create_graph:
        if type(grad) is not tensor.device.array_type:
            grad = _as_array(grad, tensor.device)
        # An array handed to two leaves (as `a + b` does), or a read-only broadcast
        # view, must not become a .grad that one in-place edit would change twice.
        if grad.base is not None or id(grad) in stored:
            grad = grad.copy()
        stored.add(id(grad))
        grad = Tensor._wrap(grad, tensor.device)
    elif id(grad) in stored:  # recorded gradients: a copy that stays in the graph
        grad = grad + 0.0
    stored.add(id(grad))
    if tensor._grad is None:
        tensor._grad = grad
    else:
        tensor._grad = tensor._grad + grad


class RetainGrad:
    """The hook `Tensor.retain_grad()` adds: stores the gradient into the tensor, which
    it holds weakly, so the graph keeps no intermediate tensor alive."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = weakref.ref(tensor)

    def __call__(self, grad):
        tensor = self.tensor()
        if tensor is not None:
            if not STATE.grad_enabled:  # a plain backward: a copy, never a shared array
                grad = STATE.tensor_type._wrap(grad.data.copy(), grad.device)
            tensor._grad = grad if tensor._grad is None else tensor._grad + grad


def _call_hooks(node, grad, create_graph, store):
    """Run `register_hook` functions; each sees the gradient and may return a new one.
    `store` is False for tg.grad, which fills no `.grad` (so retain_grad's hook waits)."""
    Tensor = STATE.tensor_type
    if create_graph:
        value = grad
    else:
        device = backend.device_of_array(grad) or backend.CPU
        value = Tensor._wrap(_as_array(grad, device), device)
    for hook in node.hooks:
        if not store and type(hook) is RetainGrad:
            continue
        result = hook(value)
        if result is not None:
            if not isinstance(result, Tensor) or result.shape != node.shape:
                raise RuntimeError(
                    f"a hook registered on a tensor of shape {node.shape} returned "
                    f"{result!r}; it must return None or a Tensor of the same shape"
                )
            value = result
    return value if create_graph else value.data


def note_inplace(array):
    """Record that `array` (and the array it is a view of) was changed in place.

    Nothing is paid per op for this check: an in-place change takes a number from the
    same counter as nodes (`seq`), so "changed after the node was made" is "a larger
    number", and backward looks here for a node's saved arrays only when some in-place
    change happened since it was made (`node.seq < STATE.version`).  Entries are by
    id(array); one left from an array that has since died never matches wrongly, because
    an array that reuses its id was made later, so every node that saved it is newer.
    """
    STATE.version = next_seq()
    modified = STATE.modified
    if len(modified) > 4096:  # forget the arrays that died
        for key in [k for k, (_, ref) in modified.items() if ref is not None and ref() is None]:
            del modified[key]
    for a in (array, array.base):
        if a is not None:
            try:
                ref = weakref.ref(a)
            except TypeError:  # an array type without weak references: kept by id only
                ref = None
            modified[id(a)] = (STATE.version, ref)


def _check_versions(node):
    """Raise if a value `node` saved (an input, or its output) was changed in place
    after the node was made: backward would read stale values."""
    for position, value in enumerate(node.saved):
        if not is_array(value):
            continue
        for a in (value, value.base):
            version = STATE.modified.get(id(a), (-1, None))[0] if a is not None else -1
            if version > node.seq:
                which = "its output" if position == 0 else f"input {position - 1}"
                raise RuntimeError(
                    f"{type(node).__name__}: {which} (shape {tuple(value.shape)}, "
                    f"{value.dtype}) was modified in place after the forward pass, so the "
                    "saved values are stale and the gradient would be wrong. Compute out of "
                    "place (x = x + y) or run the in-place change after backward()."
                )


# ---- host functions: library code that reads array values in Python (tg.jit) ----------


# While tg.jit (jit.py) records a step, STATE.recording is that recording, and each call
# of a host function becomes one instruction of it.


def host_function(func):
    """Mark a library function that reads array values in Python (Adam's `float(step)`
    for its bias corrections, an index check) and returns arrays or None.  Eager calls go
    straight to `func`; a tg.jit recording keeps the call as one instruction and calls
    `func` again, on that replay's arrays, every time it replays."""

    def wrapper(*args, **kwargs):
        if STATE.recording is None:
            return func(*args, **kwargs)
        return STATE.recording.host_call(func, args, kwargs)

    return functools.update_wrapper(wrapper, func)  # func's name and docstring


def host_value(func):
    """Mark a library function that returns a Python value read from arrays (a bool,
    an int) on which the caller's Python then branches (`if ignored: ...`).  Eager calls
    go straight to `func`.  A tg.jit recording keeps the value it saw as a constant and
    adds one instruction that calls `func` again on every replay and raises
    tg.JitError if the value changed (the recorded branch would then be the wrong one)."""

    def wrapper(*args, **kwargs):
        if STATE.recording is None:
            return func(*args, **kwargs)
        return STATE.recording.host_value(func, args, kwargs)

    return functools.update_wrapper(wrapper, func)  # func's name and docstring


# ---- where ops were made: module calls and time steps (drawings group ops by them) ----

# One entry per nn.Module call (Module.__call__) and per time step of nn.RNN / nn.LSTM:
# (weak reference to the module, first seq, end seq, step), step None for a module call
# and (layer, t) for a time step.  Every node whose `seq` lies in [first, end) was made
# during that call, the innermost entry being the one that made it.  Two counter reads per
# call and nothing per op: `apply` stays as fast as before.  Bounded: the oldest entries
# drop out, so a long training run costs no memory; a graph made more than SCOPE_LOG_SIZE
# calls ago draws without its module boxes.  graph.to_dot reads it.
SCOPE_LOG_SIZE = 20_000
SCOPES = collections.deque(maxlen=SCOPE_LOG_SIZE)


def note_scope(owner, start, step=None):
    """Log that the nodes numbered from `start` (a `next_seq()` taken before) until now
    were made by a call of module `owner`, or by its time step `step` = (layer, t)."""
    SCOPES.append((weakref.ref(owner), start, next_seq(), step))
