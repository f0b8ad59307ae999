"""The autograd engine: the `Function` base class, grad mode, and backward.

What lives here:
- `Function`: the base of every op.  `forward` computes on raw arrays; `backward`
  turns the gradient of the output into gradients of the inputs.
- grad mode (`no_grad`, `enable_grad`, `set_grad_enabled`) and anomaly mode.
- `topological_order` and `backward`: the loop a learner steps through.
- `grad`: gradients of outputs with respect to chosen inputs, without touching `.grad`.

What does not: the `Tensor` class (tensor.py) and the ops themselves (ops/).  This
file never imports `Tensor`; tensor.py hands it over once with `register_tensor_type`.

How backward is called (docs/backward.md has the long version):

    grads = node.backward(xp, grad, out, *inputs)

On the fast path (the usual `loss.backward()`), `grad`, `out` and `inputs` are raw
arrays and `xp` is their array module (numpy or cupy): no tensors are made, so the
backward pass costs little more than hand-written NumPy.  With `create_graph=True`
the same code runs on Tensors and `xp` is the Tensor class (`xp.exp(x)` is then
`Tensor.exp(x)`), so the backward pass is itself recorded and can be differentiated.
One formula per op serves both.
"""

import gc
import operator


class _State:
    """Process-wide switches.  One object, so `apply` pays one attribute read."""

    __slots__ = ("grad_enabled", "anomaly", "version", "tensor_type", "tracer")

    def __init__(self):
        self.grad_enabled = True  # record graphs?  (no_grad turns it off)
        self.anomaly = False  # check every forward and backward for NaN/inf?
        self.version = 0  # bumped by every in-place change of a tensor
        self.tensor_type = None  # the Tensor class, set by tensor.py
        self.tracer = None  # a graph.trace_backward recording backward steps, if any


STATE = _State()


def register_tensor_type(tensor_type):
    """Called once by tensor.py: lets the engine wrap arrays into Tensors."""
    STATE.tensor_type = tensor_type


class Function:
    """Base class of every differentiable op (ours and users').

    A subclass writes:
    - `forward(self, *arrays, **params)`: computes the output from raw arrays with
      `self.xp` (numpy or cupy) and keeps on `self` any fact backward will need.
    - `backward(self, xp, grad, out, *inputs)`: returns one gradient per input, or
      `None` where `self.needs_input_grad[i]` is false.  Write it with operators,
      methods shared by arrays and Tensors (`.sum`, `.reshape`, `.T`, `.astype`) and
      functions from `xp`, so it works on both (see the module docstring).

    Call it with `MyOp.apply(*tensors, **params)`.

    Fields set by `apply` when the node is recorded:
    - `inputs`: the input Tensors (the graph's edges; the node never holds its output,
      so dropping the loss frees the graph by reference counting),
    - `saved`: the input arrays forward saw (what backward gets on the fast path),
    - `needs_input_grad`: one bool per input,
    - `stamp`: the in-place version counter when the node was made.
    """

    __slots__ = ("xp", "inputs", "saved", "needs_input_grad", "stamp")

    def __init__(self, xp):
        self.xp = xp

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, xp, grad, out, *inputs):
        raise NotImplementedError(
            f"{type(self).__name__} must define backward(self, xp, grad, out, *inputs)"
        )

    @classmethod
    def apply(cls, *inputs, **params):
        """Run this op on Tensors (or numbers and arrays) and record it in the graph."""
        from .tensor import apply  # tensor.py imports this module, so import late

        return apply(cls, *inputs, **params)

    def release(self):
        """Drop what backward needs, and the edges to the inputs, so intermediate results
        are freed right after backward; a later backward through this node fails clearly.
        (Draw a graph after backward with `backward(retain_graph=True)`.)"""
        self.saved = None
        self.inputs = ()

    def __repr__(self):
        inputs = getattr(self, "inputs", None)
        if not inputs:
            return f"<{type(self).__name__}>"
        shown = ", ".join(f"{x.name or x.shape} {x.dtype}" for x in inputs)
        return f"<{type(self).__name__} of {shown}>"


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
    """Every tensor that needs a gradient and leads to `roots`, inputs before outputs.

    Two steps, no recursion (a chain of 100,000 ops is fine):
    1. collect the tensors reachable from `roots` with an explicit stack;
    2. sort them by `_seq`, the number each tensor gets when it is made.  An op's
       inputs always exist before its output, so creation order is a topological
       order, and a deterministic one.
    """
    found = {id(root): root for root in roots}
    stack = list(roots)
    while stack:
        node = stack.pop().grad_fn
        if node is None:
            continue
        for x in node.inputs:
            if x.requires_grad and id(x) not in found:
                found[id(x)] = x
                stack.append(x)
    return sorted(found.values(), key=_creation_number)


_creation_number = operator.attrgetter("_seq")  # tensor -> its creation number (C-fast)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """Gradients of `outputs` with respect to `inputs`, returned, not stored in `.grad`.

    `outputs` and `inputs` are Tensors or sequences of Tensors; `grad_outputs` gives
    dL/d(output) for each output (may be None for outputs with one element).  An input
    that the outputs do not depend on gets a gradient of zeros.
    """
    Tensor = STATE.tensor_type
    single = isinstance(inputs, Tensor)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"tg.grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    for x in inputs:
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise ValueError("tg.grad: every input must be a Tensor with requires_grad=True")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = {id(x): None for x in inputs}
    roots, root_grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"tg.grad: output of shape {out.shape} does not require grad "
                "(it was computed under no_grad or from constants only)"
            )
        roots.append(out)
        root_grads.append(out._initial_grad(g, create_graph, "tg.grad"))
    backward(tuple(roots), tuple(root_grads), retain_graph, create_graph, wanted)
    results = []
    for x in inputs:
        g = wanted[id(x)]
        if g is None:
            g = Tensor(x.xp.zeros_like(x.data), device=x.device)
        elif not create_graph:
            g = Tensor._wrap(_as_array(g, x.device), x.device)
        results.append(g)
    return results[0] if single else tuple(results)


def backward(roots, grads, retain_graph=False, create_graph=False, wanted=None):
    """Backpropagate: pass each tensor's gradient to its inputs, outputs first.

    `roots` is a Tensor (or a tuple of them) and `grads` its gradient dL/d(root): an
    array, or a Tensor when `create_graph`.  Leaves that require grad receive their
    gradient in `.grad` (added to what is there).  `tg.grad` passes `wanted`, a dict
    {id(tensor): None}; gradients of those tensors are then captured there instead.
    """
    if not isinstance(roots, tuple):
        roots, grads = (roots,), (grads,)
    Tensor = STATE.tensor_type
    order = topological_order(*roots)
    pending = {}  # gradients not yet passed on, by tensor id
    for root, g in zip(roots, grads):
        pending[id(root)] = g if id(root) not in pending else pending[id(root)] + g
    # ids of arrays a leaf's .grad must not share: the caller's own gradients, and arrays
    # already stored in another leaf's .grad during this pass
    stored = {id(g) for g in grads}
    anomaly = STATE.anomaly
    tracer = STATE.tracer  # `with tg.trace_backward()` records each step
    with set_grad_enabled(create_graph), _paused_gc():
        for tensor in reversed(order):
            grad = pending.pop(id(tensor), None)
            if grad is None:
                continue
            if tensor._hooks is not None:
                grad = _call_hooks(tensor, grad, create_graph)
            node = tensor.grad_fn
            if node is None or tensor._retains_grad or wanted is not None:
                if wanted is None:  # a leaf keeps its gradient (added to any before)
                    _accumulate(tensor, grad, create_graph, stored)
                elif id(tensor) in wanted:  # tg.grad: hand it back instead
                    wanted[id(tensor)] = grad
                if node is None:
                    continue
            if node.saved is None:
                raise RuntimeError(
                    f"backward through {type(node).__name__} a second time: its saved "
                    "values were freed by the first backward. Pass retain_graph=True to "
                    "the first backward() if you need to backpropagate twice."
                )
            if node.stamp != STATE.version:
                _check_versions(node, tensor)
            if create_graph:
                grads_in = node.backward(Tensor, grad, tensor, *node.inputs)
            else:
                grads_in = node.backward(node.xp, grad, tensor.data, *node.saved)
            if type(grads_in) is not tuple or len(grads_in) != len(node.inputs):
                grads_in = _check_gradient_count(node, grads_in)
            if tracer is not None:
                tracer.record(node, tensor, grad, grads_in)
            for x, grad_x in zip(node.inputs, grads_in):
                if grad_x is None or not x.requires_grad:
                    continue
                if grad_x.shape != x.data.shape:
                    raise RuntimeError(
                        f"{type(node).__name__}.backward returned a gradient of shape "
                        f"{tuple(grad_x.shape)} for an input of shape {x.shape}"
                    )
                if grad_x.dtype is not x.data.dtype and grad_x.dtype != x.data.dtype:
                    grad_x = grad_x.astype(x.data.dtype)  # e.g. a float64 constant met float32
                if anomaly:
                    data = grad_x.data if create_graph else grad_x
                    check_finite(x.xp, data, f"the backward of {type(node).__name__}")
                key = id(x)
                pending[key] = grad_x if key not in pending else pending[key] + grad_x
            if not retain_graph:
                node.release()  # a second backward then fails clearly


class _paused_gc:
    """Pause Python's cyclic garbage collector for the backward loop: the loop makes many
    short-lived objects and no reference cycles, so the collector would find nothing
    (measured: about 7% of a 2,000-op backward).  Reference counting still frees
    everything as usual."""

    __slots__ = ("was_enabled",)

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info):
        if self.was_enabled:
            gc.enable()
        return False


def _check_gradient_count(node, grads_in):
    """backward must return a tuple (or list) with one entry per input; say so clearly."""
    name = type(node).__name__
    if not isinstance(grads_in, (tuple, list)):
        raise RuntimeError(
            f"{name}.backward returned {type(grads_in).__name__}; it must return a tuple "
            f"with one gradient (or None) per input, e.g. `return (grad_x,)`"
        )
    if len(grads_in) != len(node.inputs):
        raise RuntimeError(
            f"{name}.backward returned {len(grads_in)} gradients for {len(node.inputs)} "
            "inputs; return one per input (None where no gradient is needed)"
        )
    return tuple(grads_in)


def _as_array(value, device):
    """NumPy turns 0-d results into scalars (numpy.float64); a .grad holds an array."""
    if type(value) is device.array_type:
        return value
    return device.xp.asarray(value)


def _accumulate(tensor, grad, create_graph, stored):
    """Add `grad` into `tensor.grad` (a Tensor), never changing an array in place."""
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


def _call_hooks(tensor, grad, create_graph):
    """Run `register_hook` functions; each sees the gradient and may return a new one."""
    Tensor = STATE.tensor_type
    value = grad if create_graph else Tensor._wrap(_as_array(grad, tensor.device), tensor.device)
    for hook in tensor._hooks:
        result = hook(value)
        if result is not None:
            if not isinstance(result, Tensor) or result.shape != tensor.shape:
                raise RuntimeError(
                    f"a hook registered on a tensor of shape {tensor.shape} returned "
                    f"{result!r}; it must return None or a Tensor of the same shape"
                )
            value = result
    return value if create_graph else value.data


def _check_versions(node, out):
    """Raise if an input (or the output) of `node` was changed in place after it ran."""
    for position, x in enumerate(node.inputs + (out,)):
        version = x._version[0] if type(x._version) is list else x._version  # see detach()
        if version > node.stamp:
            which = "its output" if position == len(node.inputs) else f"input {position}"
            raise RuntimeError(
                f"{type(node).__name__}: {which} (shape {x.shape}, {x.dtype}) was modified "
                "in place after the forward pass, so the saved values are stale and the "
                "gradient would be wrong. Compute out of place (x = x + y) or run the "
                "in-place change after backward()."
            )
