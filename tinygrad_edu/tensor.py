"""`Tensor`, the one function that makes op outputs (`apply`), and tensor functions.

A Tensor wraps a backend array (`.data`: NumPy on "cpu", CuPy on "cuda") and, when
it was computed from tensors that require a gradient, the node that made it
(`.grad_fn`).  Every operator and method below is one explicit call into `apply`
with an op class from ops/, so `a * b` reaches `Mul.forward` in three frames:
`Tensor.__mul__` -> `apply` -> `Mul.forward`.

What does not live here: the ops' math (ops/), the backward loop (autograd.py),
factories such as `zeros` and `randn` (creation.py).
"""

import math
import numbers
import warnings

import numpy

from . import autograd, backend
from .autograd import (
    PLANS_ONE,
    PLANS_TWO,
    SHAPE,
    STATE,
    VALUE,
    RetainGrad,
    accumulator,
    check_finite,
)
from .autograd import next_node as _next_node
from .autograd import next_seq as _next_seq
from .ops import elementwise as E
from .ops import linalg as L
from .ops import nn as N
from .ops import reduce as R
from .ops import shape as S
from .ops._helpers import normalize_axis

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

# 0-d constant tensors made from Python numbers, by (type, value, dtype, device).
_CONSTANTS = {}


def apply(fn, *inputs, **params):
    """Run op class `fn` on `inputs` (Tensors) and record it when a gradient is needed.

    1. check that all inputs share one device, 2. run `forward` on their arrays,
    3. wrap the result in a Tensor, 4. if grad mode is on and some input requires a
    gradient, make the op node the result's `grad_fn` (so backward can find it).
    This runs for every op, so it is written for speed: one- and two-input ops (nearly
    all of them) skip the generic loops.
    """
    device = inputs[0].device
    count = len(inputs)
    if count == 1:
        arrays = (inputs[0].data,)
        needs_input_grad = _ONE_NEEDS if inputs[0].requires_grad else _ONE_NEEDS_NOT
    elif count == 2:
        x, y = inputs
        if y.device is not device:
            _raise_mixed_devices(fn.__name__, inputs)
        arrays = (x.data, y.data)
        needs_input_grad = _TWO_NEEDS[x.requires_grad][y.requires_grad]
    else:
        for x in inputs:
            if x.device is not device:
                _raise_mixed_devices(fn.__name__, inputs)
        arrays = tuple([x.data for x in inputs])
        needs_input_grad = tuple([x.requires_grad for x in inputs])
    node = _new(fn)  # object.__new__: no Python-level __init__ frame per op
    node.xp = device.xp
    try:
        data = node.forward(*arrays, **params)
    except ValueError as error:  # NumPy's bare broadcasting errors name no op
        shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
        raise ValueError(f"{fn.__name__} of shapes {shapes}: {error}") from None
    if type(data) is not device.array_type:
        data, device = _fix_output(fn, data, device)
    if STATE.anomaly:
        check_finite(device.xp, data, f"the forward of {fn.__name__}")
    out = _new(Tensor)  # Tensor._wrap written out: one call less per op
    out.data = data
    out._grad = None
    out.device = device
    out._name = None
    out._accumulator = None
    if True not in needs_input_grad or not STATE.grad_enabled:
        out.grad_fn = None  # a constant: nothing to record
        out.requires_grad = False
        return out
    # Record the node: an edge to each input's node (autograd.next_node), only what
    # backward reads: per argument (out, x, y, ...) the array (VALUE), the input's node
    # where only its shape is read (SHAPE), or None, as the op's `reads` says
    # (autograd.plan, cached).
    if count == 1:  # one input, so it needs a gradient: an op's output or a leaf
        x = inputs[0]
        code_out, code_x = PLANS_ONE.get(fn) or autograd.plan_one(fn)
        node_x = x.grad_fn or accumulator(x)
        node.next_nodes = (node_x,)
        node.saved = (
            data if code_out else None,
            arrays[0] if code_x == VALUE else node_x if code_x else None,
        )
    elif count == 2:
        table = PLANS_TWO.get(fn) or autograd.plan_two(fn)
        code_out, code_x, code_y = table[x.requires_grad][y.requires_grad]
        node_x = node_y = None  # None: the edge of an input that needs no gradient
        if x.requires_grad:
            node_x = x.grad_fn or accumulator(x)
        if y.requires_grad:
            node_y = y.grad_fn or accumulator(y)
        node.next_nodes = (node_x, node_y)
        node.saved = (
            data if code_out else None,
            arrays[0] if code_x == VALUE else node_x if code_x else None,
            arrays[1] if code_y == VALUE else node_y if code_y else None,
        )
    else:
        codes = autograd.plan(fn, needs_input_grad)
        node.next_nodes = tuple([_next_node(x) for x in inputs])
        node.saved = tuple([_keep(code, t) for code, t in zip(codes, (out,) + inputs)])
    node.needs_input_grad = needs_input_grad
    node.shape = data.shape
    node.dtype = data.dtype
    node.seq = _next_seq()
    node.hooks = None
    out.grad_fn = node
    out.requires_grad = True
    return out


# needs_input_grad of one- and two-input ops, made once (most ops have one or two inputs):
# _TWO_NEEDS[x.requires_grad][y.requires_grad] is (x.requires_grad, y.requires_grad)
_ONE_NEEDS, _ONE_NEEDS_NOT = (True,), (False,)
_TWO_NEEDS = (((False, False), (False, True)), ((True, False), (True, True)))


def _keep(code, tensor):
    """What a node keeps of one argument of backward: the array, its node (which knows
    its shape and dtype), or None."""
    if code == VALUE:
        return tensor.data
    return _next_node(tensor) if code == SHAPE else None


def _fix_output(fn, data, device):
    """NumPy returns scalars for 0-d results: make them 0-d arrays on `device`.
    ToDevice returns an array of another device; anything else is a bug in the op."""
    if isinstance(data, numpy.generic):
        return device.xp.asarray(data), device
    found = backend.device_of_array(data)
    if fn is S.ToDevice and found is not None:
        return data, found
    raise TypeError(
        f"{fn.__name__}.forward returned {type(data).__name__}, not an array of device "
        f"{device.name}; an op must compute with self.xp ({device.xp.__name__})"
    )


def _raise_mixed_devices(op, inputs):
    names = ", ".join(f"{x.device.name} {x.shape}" for x in inputs)
    raise RuntimeError(
        f"{op}: all inputs must be on one device, got {names}. Move them with .to(device) first."
    )


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Tensor(data, requires_grad=False, device=None, dtype=None, name=None)

    `data`: a Python number, nested list, NumPy array, CuPy array or Tensor.  Python
    floats and lists of floats become float32; a NumPy array keeps its dtype.
    """

    __slots__ = (
        "data",  # the backend array (numpy.ndarray or cupy.ndarray)
        "_grad",  # dL/d(self) as a Tensor after backward(), else None (see .grad)
        "grad_fn",  # the op node that produced this tensor; None for leaves
        "requires_grad",  # should backward compute a gradient for this tensor?
        "device",  # a backend.Device
        "_name",  # an optional label for drawings and traces (see .name)
        "_accumulator",  # a leaf's AccumulateGrad node, once an op has recorded the leaf
        "__weakref__",
    )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy calls this for `array * tensor` and for `np.exp(tensor)`.

        An operator with a NumPy array (or NumPy number) on the left runs as the Tensor's
        reflected operator (array * tensor -> tensor.__rmul__(array)), so the graph is
        kept.  Anything else would turn the tensor into an array and silently drop the
        graph, so it is an error that says what to write instead.
        """
        reflected = _REFLECTED.get(ufunc.__name__)
        if method == "__call__" and reflected and "out" not in kwargs and len(inputs) == 2:
            left, right = inputs
            if right is self and not isinstance(left, Tensor):
                return getattr(self, reflected)(left)
        if "out" in kwargs:
            raise TypeError(
                f"an in-place NumPy operation ({ufunc.__name__} into an array) got a "
                "Tensor; for `w.data -= lr * w.grad` write `with tg.no_grad(): w -= lr * "
                "w.grad` (or use the raw array: w.data -= lr * w.grad.data)"
            )
        raise TypeError(
            f"numpy.{ufunc.__name__} does not take a tinygrad_edu Tensor (it would drop "
            "the graph): use the Tensor's own method (t.exp(), t.log(), t.maximum(u), ...), "
            "or t.numpy() for a plain NumPy array of the values"
        )

    def __init__(self, data, requires_grad=False, device=None, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data.data.copy()  # like torch.tensor(t): a copy, outside the graph
        array, own_device = _to_array(data, dtype)
        if array is data:  # like torch.tensor: never share the caller's array
            array = array.copy()
        target = own_device if device is None and own_device is not None else None
        target = target or backend.get_device(device)
        if own_device is None or own_device is not target:
            source = own_device or backend.CPU
            array = target.from_host(source.to_host(array))
        if requires_grad and array.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, got dtype {array.dtype}; "
                "create it with floats or pass dtype=tg.float32"
            )
        self.data = array
        self._grad = None
        self.grad_fn = None
        self.requires_grad = bool(requires_grad)
        self.device = target
        self._name = name
        self._accumulator = None

    @staticmethod
    def _wrap(array, device, requires_grad=False):
        """A Tensor around `array` without any conversion (the fast path for op outputs)."""
        t = Tensor.__new__(Tensor)
        t.data = array
        t._grad = None
        t.grad_fn = None
        t.requires_grad = requires_grad
        t.device = device
        t._name = None
        t._accumulator = None
        return t

    def _lift(self, value):
        """Turn the other operand of a binary op (number, array) into a constant Tensor.

        Python numbers follow NumPy 2's rules: they never change a tensor's dtype
        (float32 * 2.0 stays float32), but an int tensor times 2.5 becomes float64.
        """
        if isinstance(value, Tensor):
            return value
        if type(value) in (float, int, bool):
            # Constants repeat (x * 0.5 in a loop): reuse one 0-d tensor per value.
            key = (type(value), value, self.data.dtype, self.device.name)
            constant = _CONSTANTS.get(key)
            if constant is None:
                if len(_CONSTANTS) > 4096:
                    _CONSTANTS.clear()
                dtype = numpy.result_type(self.data.dtype, value)
                constant = Tensor._wrap(self.device.xp.asarray(value, dtype=dtype), self.device)
                _CONSTANTS[key] = constant
            return constant
        if isinstance(value, numbers.Number) and not isinstance(value, numpy.generic):
            dtype = numpy.result_type(self.data.dtype, value)
            return Tensor._wrap(self.device.xp.asarray(value, dtype=dtype), self.device)
        array, own_device = _to_array(value, None)
        if isinstance(value, (list, tuple)) and own_device is None:
            return Tensor._wrap(self.device.from_host(array), self.device)  # Python data
        if (own_device or backend.CPU) is not self.device:
            # As CuPy does: no silent copies between host and device inside an op.
            where = own_device.name if own_device else "the host (NumPy)"
            raise RuntimeError(
                f"an array on {where} cannot be combined with a tensor on "
                f"{self.device.name}; move it first with tg.Tensor(array, "
                f"device='{self.device.name}')"
            )
        return Tensor._wrap(array, self.device)

    # ---- attributes ----------------------------------------------------------------

    @property
    def shape(self):
        """The size of each axis, a tuple (as NumPy)."""
        return tuple(self.data.shape)

    @property
    def ndim(self):
        """The number of axes."""
        return self.data.ndim

    @property
    def size(self):
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self):
        """The NumPy dtype of the elements (float32 by default)."""
        return self.data.dtype

    @property
    def xp(self):
        """The array module of this tensor's device (numpy or cupy)."""
        return self.device.xp

    @property
    def grad(self):
        """dL/d(self) as a Tensor after backward(), else None.

        Only leaves (and tensors that called retain_grad()) keep a gradient.  Reading it
        on any other tensor warns, as in PyTorch: after `w = w - lr * w.grad` the new `w`
        is an op's output, not a leaf, so its .grad stays None.
        """
        if self._grad is None and self.grad_fn is not None and not _retains_grad(self):
            warnings.warn(
                f"reading .grad of a tensor that is not a leaf (made by "
                f"{type(self.grad_fn).__name__}): backward() does not fill it, so it is None. "
                "Call .retain_grad() on it before backward() to keep its gradient; to update "
                "a parameter keep it a leaf: `with tg.no_grad(): w -= lr * w.grad`",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    @property
    def name(self):
        """An optional label, shown by repr, drawings and traces."""
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        if self.grad_fn is not None:  # the graph holds no tensor: its node carries the name
            autograd.NAMES[self.grad_fn] = value

    @property
    def is_leaf(self):
        """True for tensors made by the user (not by an op that recorded a graph)."""
        return self.grad_fn is None

    @property
    def T(self):
        """The transpose: axes reversed, as NumPy's `.T`."""
        return self.transpose()

    def __len__(self):
        """The size of the first axis."""
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        """The rows (x[0], x[1], ...), each a tensor in the graph."""
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__  # identity, since == is elementwise

    # ---- conversion ----------------------------------------------------------------

    def numpy(self):
        """A NumPy array with the values (a copy when the tensor lives on a GPU)."""
        return self.device.to_host(self.data)

    def __array__(self, dtype=None, copy=None):
        """Lets np.asarray(t) work for CPU tensors; GPU tensors need .numpy()."""
        if self.device is not backend.CPU:
            raise TypeError(
                f"a tensor on {self.device.name} cannot be turned into a NumPy array "
                "implicitly; call .numpy() to copy it to the host"
            )
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The values as (nested) Python lists, copied to the host."""
        return self.numpy().tolist()

    def __bool__(self):
        """The truth value of a one-element tensor."""
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use (t).all() or (t).any() on .numpy(), or compare a single element"
            )
        return bool(self.item())

    def __float__(self):
        """float(t) of a one-element tensor."""
        return float(self.item())

    def __int__(self):
        """int(t) of a one-element tensor."""
        return int(self.item())

    def to(self, device):
        """This tensor on `device` ("cpu", "cuda", "cuda:1"); itself if already there.

        The move is an op (`ToDevice`): gradients flow back to the original device.
        """
        device = backend.get_device(device)
        if device is self.device:
            return self
        out = apply(S.ToDevice, self, device=device)
        out.device = device  # cuda:0 -> cuda:1 keeps the array type, so say it here
        return out

    def cpu(self):
        """This tensor on the CPU (itself if it is there already)."""
        return self.to("cpu")

    def cuda(self, index=0):
        """This tensor on GPU `index` (needs CuPy and a usable GPU)."""
        return self.to(f"cuda:{index}")

    def detach(self):
        """The same values (shared memory) as a new leaf outside the graph.

        An in-place change through either is seen by backward as a change of both:
        in-place changes are noted by array (see _bump_version).
        """
        return Tensor._wrap(self.data, self.device)

    def astype(self, dtype):
        """A copy converted to `dtype` (differentiable between float dtypes)."""
        dtype = numpy.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind not in "fc":  # an integer or bool result carries no gradient
            return Tensor._wrap(self.data.astype(dtype), self.device)
        return apply(E.Astype, self, dtype=dtype)

    def __dlpack__(self, *args, **kwargs):
        """Share the memory with another library via DLPack (no copy)."""
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        """(device type, index) in DLPack's numbering."""
        return self.data.__dlpack_device__()

    def __repr__(self):
        values = numpy.array2string(
            self.numpy(), separator=", ", threshold=60, precision=4, prefix="tensor("
        )
        extras = []
        if self.size > 60:
            extras.append(f"shape={self.shape}")
        if self.dtype != numpy.float32:
            extras.append(f"dtype={self.dtype}")
        if self.device is not backend.CPU:
            extras.append(f"device='{self.device.name}'")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([values] + extras) + ")"

    # ---- autograd ------------------------------------------------------------------

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad; add it to leaf.grad.

        `grad` is dL/d(self); it may be omitted only when self has one element.
        `retain_graph` defaults to `create_graph`: a recorded gradient may run through
        this graph's nodes (Exp's gradient uses Exp's output), so they must stay usable.
        """
        if retain_graph is None:
            retain_graph = create_graph
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: none of the tensors "
                "it was computed from had requires_grad=True (or it was made under no_grad)"
            )
        grad = self._initial_grad(grad, create_graph, "backward()")
        root = self._node()  # the node that receives dL/d(self)
        autograd.backward((root,), (grad,), retain_graph, create_graph)

    def _node(self):
        """The node whose gradient is this tensor's: the op that made it, or for a leaf
        that requires grad its AccumulateGrad node."""
        return self.grad_fn or accumulator(self)

    def _initial_grad(self, grad, create_graph, who):
        """The gradient that starts backward: ones for a one-element tensor, else `grad`."""
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"{who} on a tensor of shape {self.shape} needs grad=: a gradient is "
                    "only implied for a single-element (scalar) output; call .sum() first "
                    "or pass a gradient of the same shape"
                )
            ones = self.xp.ones_like(self.data)
            return _wrap(ones, self.device) if create_graph else ones
        grad = self._lift(grad)
        if grad.shape != self.shape:
            raise RuntimeError(
                f"{who}: the gradient has shape {grad.shape} but the tensor has shape "
                f"{self.shape}; they must match"
            )
        if grad.dtype != self.dtype:
            grad = grad.astype(self.dtype)
        return grad if create_graph else grad.data

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` after backward.

        The graph holds no intermediate tensor, so this adds a hook to the node that made
        the tensor; the hook refers to the tensor weakly and stores the gradient into it.
        """
        if self.grad_fn is not None and not _retains_grad(self):
            self._add_hook(RetainGrad(self))
        return self

    def register_hook(self, hook):
        """Run `hook(grad)` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient.  Returns a handle whose `remove()` takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError("register_hook on a tensor that does not require grad")
        return self._add_hook(hook)

    def _add_hook(self, hook):
        node = self._node()  # hooks live on the node that receives this tensor's gradient
        if node.hooks is None:
            node.hooks = []
        node.hooks.append(hook)
        return _HookHandle(node, hook)

    # ---- in-place changes (checked against saved values) ---------------------------

    def _check_inplace(self, what):
        if self.requires_grad and STATE.grad_enabled:
            raise RuntimeError(
                f"{what}: in-place change of a tensor that requires grad (shape "
                f"{self.shape}) would corrupt the graph; do it under `with tg.no_grad():` "
                "or write x = x + y"
            )

    def _bump_version(self):
        """Note an in-place change of this tensor's array: a node made before now that
        saved the array (or a view of it) holds stale values, and backward says so."""
        autograd.note_inplace(self.data)

    def __setitem__(self, index, value):
        """x[index] = value in place; not recorded in the graph (like NumPy)."""
        self._check_inplace("x[index] = value")
        value = self._lift(value)
        self.data[_index_arrays(index, self)] = value.data
        self._bump_version()

    def _inplace(self, other, what, operation):
        self._check_inplace(what)
        other = self._lift(other)
        if other.device is not self.device:
            _raise_mixed_devices(what, (self, other))
        operation(self.data, other.data, out=self.data, casting="same_kind")
        self._bump_version()
        return self

    def __iadd__(self, other):
        """x += y in place (no graph: under no_grad, or on a tensor without grad)."""
        return self._inplace(other, "x += y", self.xp.add)

    def __isub__(self, other):
        """x -= y in place (no graph: under no_grad, or on a tensor without grad)."""
        return self._inplace(other, "x -= y", self.xp.subtract)

    def __imul__(self, other):
        """x *= y in place (no graph: under no_grad, or on a tensor without grad)."""
        return self._inplace(other, "x *= y", self.xp.multiply)

    def __itruediv__(self, other):
        """x /= y in place (no graph: under no_grad, or on a tensor without grad)."""
        return self._inplace(other, "x /= y", self.xp.divide)

    # ---- arithmetic ----------------------------------------------------------------

    def __add__(self, other):
        """x + y, broadcasting as NumPy (op: Add)."""
        return apply(E.Add, self, self._lift(other))

    def __radd__(self, other):
        """y + x with a number or array on the left (op: Add)."""
        return apply(E.Add, self._lift(other), self)

    def __sub__(self, other):
        """x - y (op: Sub)."""
        return apply(E.Sub, self, self._lift(other))

    def __rsub__(self, other):
        """y - x with a number or array on the left (op: Sub)."""
        return apply(E.Sub, self._lift(other), self)

    def __mul__(self, other):
        """x * y elementwise (op: Mul)."""
        return apply(E.Mul, self, self._lift(other))

    def __rmul__(self, other):
        """y * x with a number or array on the left (op: Mul)."""
        return apply(E.Mul, self._lift(other), self)

    def __truediv__(self, other):
        """x / y (op: Div)."""
        return apply(E.Div, self, self._lift(other))

    def __rtruediv__(self, other):
        """y / x with a number or array on the left (op: Div)."""
        return apply(E.Div, self._lift(other), self)

    def __pow__(self, other):
        """x ** y (op: Pow)."""
        return apply(E.Pow, self, self._lift(other))

    def __rpow__(self, other):
        """y ** x with a number or array on the left (op: Pow)."""
        return apply(E.Pow, self._lift(other), self)

    def __matmul__(self, other):
        """x @ y, matrix product with NumPy's rules for 1-D and batches (op: MatMul)."""
        other = self._lift(other)
        _check_matmul(self, other)
        return apply(L.MatMul, self, other)

    def __rmatmul__(self, other):
        """y @ x with an array on the left (op: MatMul)."""
        other = self._lift(other)
        _check_matmul(other, self)
        return apply(L.MatMul, other, self)

    def __neg__(self):
        """-x (op: Neg)."""
        return apply(E.Neg, self)

    def __pos__(self):
        """+x is x itself."""
        return self

    # ---- comparisons: boolean tensors, no graph ------------------------------------

    def __eq__(self, other):
        """Elementwise x == y as a boolean tensor (no graph)."""
        return Tensor._wrap(self.data == self._lift(other).data, self.device)

    def __ne__(self, other):
        """Elementwise x != y as a boolean tensor (no graph)."""
        return Tensor._wrap(self.data != self._lift(other).data, self.device)

    def __lt__(self, other):
        """Elementwise x < y as a boolean tensor (no graph)."""
        return Tensor._wrap(self.data < self._lift(other).data, self.device)

    def __le__(self, other):
        """Elementwise x <= y as a boolean tensor (no graph)."""
        return Tensor._wrap(self.data <= self._lift(other).data, self.device)

    def __gt__(self, other):
        """Elementwise x > y as a boolean tensor (no graph)."""
        return Tensor._wrap(self.data > self._lift(other).data, self.device)

    def __ge__(self, other):
        """Elementwise x >= y as a boolean tensor (no graph)."""
        return Tensor._wrap(self.data >= self._lift(other).data, self.device)

    def __invert__(self):
        """Elementwise not of a boolean tensor (no graph)."""
        return Tensor._wrap(~self.data, self.device)

    def __and__(self, other):
        """Elementwise and of boolean tensors (no graph)."""
        return Tensor._wrap(self.data & self._lift(other).data, self.device)

    def __or__(self, other):
        """Elementwise or of boolean tensors (no graph)."""
        return Tensor._wrap(self.data | self._lift(other).data, self.device)

    def sign(self):
        """-1, 0 or 1 elementwise.  Its derivative is 0 wherever it exists, so the result
        is a constant (no graph)."""
        return Tensor._wrap(self.xp.sign(self.data), self.device)

    # ---- elementwise functions -----------------------------------------------------

    def exp(self):
        """e**x elementwise (op: Exp)."""
        return apply(E.Exp, self)

    def log(self):
        """Natural logarithm elementwise (op: Log)."""
        return apply(E.Log, self)

    def sqrt(self):
        """Square root elementwise (op: Sqrt)."""
        return apply(E.Sqrt, self)

    def abs(self):
        """|x| elementwise (op: Abs)."""
        return apply(E.Abs, self)

    def sin(self):
        """sin(x) elementwise (op: Sin)."""
        return apply(E.Sin, self)

    def cos(self):
        """cos(x) elementwise (op: Cos)."""
        return apply(E.Cos, self)

    def tanh(self):
        """tanh(x) elementwise (op: Tanh)."""
        return apply(E.Tanh, self)

    def sigmoid(self):
        """1 / (1 + exp(-x)) elementwise, computed without overflow (op: Sigmoid)."""
        return apply(E.Sigmoid, self)

    def relu(self):
        """max(x, 0) elementwise (op: Relu)."""
        return apply(E.Relu, self)

    def leaky_relu(self, slope=0.01):
        """x where x > 0, else slope * x (op: LeakyRelu)."""
        return apply(E.LeakyRelu, self, slope=slope)

    def softplus(self):
        """log(1 + exp(x)) elementwise, computed without overflow (op: Softplus)."""
        return apply(E.Softplus, self)

    def erf(self):
        """The error function elementwise (op: Erf)."""
        return apply(E.Erf, self)

    def gelu(self, approximate="none"):
        """x * Phi(x), Phi the standard normal CDF (PyTorch's default, exact with erf).

        approximate="tanh" uses 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
        """
        if approximate == "none":
            return self * ((self * (1 / math.sqrt(2.0))).erf() + 1) * 0.5
        if approximate == "tanh":
            inner = (self + self * self * self * 0.044715) * _SQRT_2_OVER_PI
            return self * (inner.tanh() + 1) * 0.5
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def clip(self, lo=None, hi=None):
        """Limit values to [lo, hi] (either may be None)."""
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        return apply(E.Clip, self, lo=lo, hi=hi)

    def maximum(self, other):
        """The larger of x and y elementwise; ties share the gradient (op: Maximum)."""
        return apply(E.Maximum, self, self._lift(other))

    def minimum(self, other):
        """The smaller of x and y elementwise; ties share the gradient (op: Minimum)."""
        return apply(E.Minimum, self, self._lift(other))

    # ---- reductions ----------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        """Sum over `axis`: None for all axes, an int, or a tuple; negative axes count from
        the end, as in NumPy.  keepdims=True keeps the summed axes with size 1 (op: Sum)."""
        return apply(R.Sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        count = _count(self.shape, normalize_axis(axis, self.ndim, "mean"))
        if count == 0:
            raise ValueError(f"mean over an empty selection of a tensor of shape {self.shape}")
        return self.sum(axis=axis, keepdims=keepdims) / count

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance, NumPy's definition: mean squared deviation, divided by (n - ddof).

        ddof=0 by default as in NumPy; PyTorch's `var` defaults to ddof=1 (unbiased).
        """
        count = _count(self.shape, normalize_axis(axis, self.ndim, "var"))
        if count - ddof <= 0:
            raise ValueError(f"var: {count} elements with ddof={ddof} leaves no degrees of freedom")
        deviation = self - self.mean(axis=axis, keepdims=True)
        return (deviation * deviation).sum(axis=axis, keepdims=keepdims) / (count - ddof)

    def max(self, axis=None, keepdims=False):
        """Maximum over `axis`; equal maxima share the gradient (op: Max)."""
        return apply(R.Max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over `axis`; equal minima share the gradient (op: Min)."""
        return apply(R.Min, self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        """log(sum(exp(x))) over `axis`, computed without overflow (op: LogSumExp)."""
        return apply(R.LogSumExp, self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Index of the maximum (an int64 tensor; not differentiable)."""
        if axis is not None:
            axis = normalize_axis(axis, self.ndim, "argmax")[0]
        return Tensor._wrap(
            self.xp.asarray(self.data.argmax(axis=axis, keepdims=keepdims)), self.device
        )

    def argmin(self, axis=None, keepdims=False):
        """Index of the minimum (an int64 tensor; not differentiable)."""
        if axis is not None:
            axis = normalize_axis(axis, self.ndim, "argmin")[0]
        return Tensor._wrap(
            self.xp.asarray(self.data.argmin(axis=axis, keepdims=keepdims)), self.device
        )

    # ---- shape ---------------------------------------------------------------------

    def reshape(self, *shape):
        """Same elements in a new shape; one entry may be -1 (inferred)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        shape = tuple(int(s) for s in shape)
        if shape == self.shape:
            return self
        known = math.prod(s for s in shape if s != -1)
        if shape.count(-1) > 1 or (
            self.size != known if -1 not in shape else (known == 0 or self.size % known)
        ):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} to {shape}")
        return apply(S.Reshape, self, shape=shape)

    def transpose(self, *axes):
        """Permute axes as NumPy does: no arguments reverses them; else a full permutation.

        (PyTorch's transpose(a, b) swaps two axes; here that is `swapaxes(a, b)`.)
        """
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(range(self.ndim - 1, -1, -1))
        if sorted(a % self.ndim if self.ndim else a for a in axes) != list(range(self.ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {self.ndim} axes of a "
                f"tensor of shape {self.shape} (to swap two axes use swapaxes(a, b))"
            )
        axes = tuple(a % self.ndim for a in axes)
        if axes == tuple(range(self.ndim)):
            return self
        return apply(S.Transpose, self, axes=axes)

    def permute(self, *axes):
        """Reorder the axes, as PyTorch's permute (the same as transpose(*axes))."""
        return self.transpose(*axes)

    def swapaxes(self, axis1, axis2):
        """Swap two axes (PyTorch's transpose(a, b))."""
        axes = list(range(self.ndim))
        axis1, axis2 = (
            normalize_axis(axis1, self.ndim, "swapaxes")[0],
            normalize_axis(axis2, self.ndim, "swapaxes")[0],
        )
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return self.transpose(tuple(axes))

    def squeeze(self, axis=None):
        """Remove axes of size 1 (all of them, or the given ones)."""
        axes = normalize_axis(axis, self.ndim, "squeeze")
        if axis is not None:
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(
                        f"squeeze: axis {a} of shape {self.shape} has size {self.shape[a]}, not 1"
                    )
        return self.reshape(
            tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
        )

    def unsqueeze(self, axis):
        """Insert an axis of size 1 at position `axis` (negative counts from the end)."""
        ndim = self.ndim + 1
        if not -ndim <= axis < ndim:
            raise ValueError(f"unsqueeze: axis {axis} out of range for a result with {ndim} dims")
        shape = list(self.shape)
        shape.insert(axis % ndim, 1)
        return self.reshape(tuple(shape))

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes start_dim..end_dim into one (all axes by default, as PyTorch)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        if math.prod(self.shape[start : end + 1]) == 0:
            shape = self.shape[:start] + (0,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def broadcast_to(self, *shape):
        """Repeat along axes of size 1 and new leading axes (a view, no copy)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        shape = tuple(int(s) for s in shape)
        if shape == self.shape:
            return self
        try:
            numpy.broadcast_shapes(self.shape, shape)
            ok = numpy.broadcast_shapes(self.shape, shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"broadcast_to: cannot broadcast a tensor of shape {self.shape} to {shape}"
            )
        return apply(S.BroadcastTo, self, shape=shape)

    def expand(self, *sizes):
        """PyTorch's name for broadcast_to; -1 keeps that axis's size."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        lead = len(sizes) - self.ndim
        shape = tuple(
            self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
        )
        return self.broadcast_to(shape)

    def pad(self, pad_width, value=0.0):
        """Surround with `value`; `pad_width` as numpy.pad: n, (before, after), or one
        (before, after) pair per axis."""
        try:
            pairs = numpy.broadcast_to(numpy.asarray(pad_width, dtype=numpy.int64), (self.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} does not fit a tensor of shape {self.shape}"
            ) from None
        if (pairs < 0).any():
            raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
        pairs = tuple((int(a), int(b)) for a, b in pairs)
        return apply(S.Pad, self, pad_width=pairs, value=value)

    def __getitem__(self, index):
        """x[index] with ints, slices, None, ..., integer and boolean arrays (op: GetItem)."""
        index = _index_arrays(index, self)
        return apply(S.GetItem, self, index=index)

    # ---- nn ops --------------------------------------------------------------------

    def softmax(self, axis=-1):
        """exp(x) / sum(exp(x)) along `axis`, computed stably (op: Softmax)."""
        normalize_axis(axis, self.ndim, "softmax")
        return apply(N.Softmax, self, axis=axis)

    def log_softmax(self, axis=-1):
        """x - logsumexp(x) along `axis`, computed stably (op: LogSoftmax)."""
        normalize_axis(axis, self.ndim, "log_softmax")
        return apply(N.LogSoftmax, self, axis=axis)


class _HookHandle:
    __slots__ = ("node", "hook")

    def __init__(self, node, hook):
        self.node, self.hook = node, hook

    def remove(self):
        hooks = self.node.hooks
        if hooks is not None and self.hook in hooks:
            hooks.remove(self.hook)
            if not hooks:
                self.node.hooks = None


def _retains_grad(tensor):
    hooks = tensor.grad_fn.hooks if tensor.grad_fn is not None else None
    return any(type(h) is RetainGrad and h.tensor() is tensor for h in hooks or ())


autograd.register_tensor_type(Tensor, apply)
_wrap = Tensor._wrap  # one global lookup in `apply` instead of two
_new = object.__new__


# ---- helpers -----------------------------------------------------------------------


def _to_array(data, dtype):
    """(array, its Device or None for host data) from numbers, lists and arrays."""
    own_device = None
    if isinstance(data, numpy.ndarray):
        array = data
    elif isinstance(data, numpy.generic):
        array = numpy.asarray(data)
    elif hasattr(data, "__cuda_array_interface__") or (
        not isinstance(data, (list, tuple, numbers.Number)) and backend.device_of_array(data)
    ):
        own_device = backend.device_of_array(data)
        if own_device is None:
            raise TypeError(f"cannot make a tensor from {type(data).__name__}")
        array = data
    else:
        try:
            array = numpy.asarray(data)
        except ValueError as error:
            raise ValueError(f"cannot make a tensor from {data!r}: {error}") from None
        if array.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__} {data!r}")
        if array.dtype == numpy.float64 and dtype is None:
            array = array.astype(backend.DEFAULT_FLOAT)  # Python floats -> float32
    if dtype is not None and array.dtype != numpy.dtype(dtype):
        array = array.astype(dtype)
    return array, own_device


def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


def _check_matmul(x, y):
    """A clear error for @ with mismatched shapes, naming both."""
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {x.shape} @ {y.shape}")
    k_x = x.shape[-1]
    k_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if k_x != k_y:
        raise ValueError(
            f"matmul: shapes {x.shape} @ {y.shape} do not fit: {k_x} columns vs {k_y} rows"
        )
    if x.ndim <= 2 and y.ndim <= 2:
        return
    try:
        numpy.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch axes of {x.shape} and {y.shape} do not broadcast"
        ) from None


def _index_arrays(index, tensor):
    """An index for the backend: Tensors and lists become arrays on the tensor's device,
    boolean masks become integer arrays, and integer arrays are checked for range
    (CuPy would silently wrap an out-of-range index instead of raising)."""
    parts = index if isinstance(index, tuple) else (index,)
    xp = tensor.xp
    result = []
    axis = 0  # which axis of `tensor` the next part indexes
    for position, part in enumerate(parts):
        if isinstance(part, Tensor):
            part = part.data
        elif isinstance(part, (list, tuple)):  # a sequence inside the index: x[(1, 0), j]
            part = xp.asarray(numpy.asarray(part))
        elif isinstance(part, numpy.ndarray) and tensor.device is not backend.CPU:
            part = tensor.device.from_host(part)
        if hasattr(part, "dtype") and getattr(part, "ndim", 0) >= 0 and hasattr(part, "shape"):
            if part.dtype == bool:
                if part.shape != tensor.shape[axis : axis + part.ndim]:
                    raise IndexError(
                        f"boolean index of shape {part.shape} does not match axes "
                        f"{axis}..{axis + part.ndim - 1} of a tensor of shape {tensor.shape}"
                    )
                result.extend(part.nonzero())
                axis += part.ndim
                continue
            if part.dtype.kind in "iu":
                size = tensor.shape[axis] if axis < tensor.ndim else 0
                if part.size and (bool((part < -size).any()) or bool((part >= size).any())):
                    raise IndexError(
                        f"index out of range for axis {axis} of size {size} in a tensor of "
                        f"shape {tensor.shape}"
                    )
                result.append(part)
                axis += 1
                continue
            raise IndexError(f"arrays used as indices must be integer or boolean, got {part.dtype}")
        if part is None:
            result.append(None)
            continue
        if part is Ellipsis:
            result.append(part)
            axis = tensor.ndim - _axes_indexed(parts[position + 1 :])
            continue
        if isinstance(part, (int, numpy.integer)) and not isinstance(part, bool):
            size = tensor.shape[axis] if axis < tensor.ndim else None
            if size is None or not -size <= part < size:
                raise IndexError(
                    f"index {part} is out of range for axis {axis} of a tensor of shape "
                    f"{tensor.shape}"
                )
        elif not isinstance(part, slice):
            raise IndexError(f"unsupported index {part!r} for a tensor of shape {tensor.shape}")
        result.append(part)
        axis += 1
    return tuple(result)


# NumPy ufunc -> the Tensor operator that computes `array <op> tensor` (__array_ufunc__)
_REFLECTED = {
    "add": "__radd__",
    "subtract": "__rsub__",
    "multiply": "__rmul__",
    "true_divide": "__rtruediv__",
    "divide": "__rtruediv__",
    "power": "__rpow__",
    "matmul": "__rmatmul__",
    "equal": "__eq__",
    "not_equal": "__ne__",
    "less": "__gt__",  # array < tensor is tensor > array
    "less_equal": "__ge__",
    "greater": "__lt__",
    "greater_equal": "__le__",
}


def _axes_indexed(parts):
    """How many axes of a tensor the index parts consume (None adds one, a boolean mask
    consumes its ndim).  Checked by identity and type, never with ==, which would
    compare arrays elementwise."""
    count = 0
    for part in parts:
        if part is None:
            continue
        if isinstance(part, Tensor):
            part = part.data
        dtype = getattr(part, "dtype", None)
        count += part.ndim if dtype is not None and dtype.kind == "b" else 1
    return count


# ---- tg.grad ----------------------------------------------------------------------


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """Gradients of `outputs` with respect to `inputs`, returned, not stored in `.grad`.

    `outputs` and `inputs` are Tensors or sequences of Tensors; `grad_outputs` gives
    dL/d(output) for each output (may be None for outputs with one element).  An input
    that the outputs do not depend on gets a gradient of zeros.
    """
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
    wanted = {x._node(): None for x in inputs}  # the nodes whose gradients we hand back
    roots, root_grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"tg.grad: output of shape {out.shape} does not require grad "
                "(it was computed under no_grad or from constants only)"
            )
        roots.append(out._node())
        root_grads.append(out._initial_grad(g, create_graph, "tg.grad"))
    autograd.backward(tuple(roots), tuple(root_grads), retain_graph, create_graph, wanted)
    results = []
    for x in inputs:
        g = wanted[x._node()]
        if g is None:
            g = Tensor(x.xp.zeros_like(x.data), device=x.device)
        elif not create_graph:
            g = Tensor._wrap(autograd._as_array(g, x.device), x.device)
        results.append(g)
    return results[0] if single else tuple(results)


# ---- functions on tensors (also exported as tg.where, tg.concatenate, ...) ---------


def _as_tensor(value, like=None):
    if isinstance(value, Tensor):
        return value
    if like is not None:
        return like._lift(value)
    return Tensor(value)


def where(cond, x, y):
    """Elementwise: x where cond is true, else y (cond carries no gradient)."""
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    x, y = _as_tensor(x, like), _as_tensor(y, like)
    if not isinstance(cond, Tensor):  # a mask, like an index, may come from the host
        cond = Tensor(cond, device=x.device)
    cond = cond.data
    if cond.dtype != bool:
        cond = cond != 0
    try:
        numpy.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"where: shapes cond {tuple(cond.shape)}, x {x.shape}, y {y.shape} do not broadcast"
        ) from None
    return apply(E.Where, x, y, cond=cond)


def maximum(x, y):
    return _as_tensor(x, y if isinstance(y, Tensor) else None).maximum(y)


def minimum(x, y):
    return _as_tensor(x, y if isinstance(y, Tensor) else None).minimum(y)


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = _same_kind(tensors, "concatenate")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: 0-d tensors cannot be joined; use stack")
    axis = normalize_axis(axis, ndim, "concatenate")[0]
    for t in tensors:
        if (
            t.ndim != ndim
            or t.shape[:axis] + t.shape[axis + 1 :]
            != tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return apply(S.Concatenate, *tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors of one shape along a new axis."""
    tensors = _same_kind(tensors, "stack")
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} out of range for a result with {ndim} dims")
    for t in tensors:
        if t.shape != tensors[0].shape:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"stack: all tensors need the same shape, got {shapes}")
    return apply(S.Stack, *tensors, axis=axis % ndim)


def _same_kind(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    return [_as_tensor(t, like) for t in tensors]


def softmax(x, axis=-1):
    return x.softmax(axis)


def log_softmax(x, axis=-1):
    return x.log_softmax(axis)


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits, target, reduction="mean"):
    """-log softmax(logits)[target] averaged over the batch.

    logits: (N, C) scores (or (C,) for one sample); target: (N,) integer class indices
    (or one integer).  Stable for any logits: it goes through log_softmax.
    """
    target = _as_tensor(target, None)
    if target.device is not logits.device:
        target = target.to(logits.device)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}"
        )
    if logits.ndim not in (1, 2) or target.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: expected logits (N, C) with target (N,), got logits "
            f"{logits.shape} and target {target.shape}"
        )
    classes = logits.shape[-1]
    t = target.data
    _check_indices(t, classes, "cross_entropy: target values", "the classes")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
    return apply(N.CrossEntropy, logits, target=t, reduction=reduction)


def mse_loss(prediction, target, reduction="mean"):
    """Mean of (prediction - target)**2."""
    target = _as_tensor(target, prediction)
    if prediction.shape != target.shape:
        raise ValueError(
            f"mse_loss: prediction {prediction.shape} and target {target.shape} differ in "
            "shape (broadcasting here is usually a bug; reshape one of them)"
        )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return apply(N.MSELoss, prediction, target, reduction=reduction)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], written as softplus(x) - x*y,
    which never overflows (logits of +-1000 give exact finite losses)."""
    target = _as_tensor(target, logits)
    if logits.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits {logits.shape} and target "
            f"{target.shape} differ in shape"
        )
    return _reduce(
        logits.softplus() - logits * target, reduction, "binary_cross_entropy_with_logits"
    )


def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight of shape (out_features, in_features) as PyTorch."""
    if weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input {x.shape} needs weight (out_features, {x.shape[-1]}), "
            f"got {weight.shape}"
        )
    if x.ndim > 2:  # one (N*T, in) @ (in, out) product is much faster than a batched one
        lead = x.shape[:-1]
        out = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(lead + (weight.shape[0],))
    else:
        out = x @ weight.T
    return out if bias is None else out + bias


def from_dlpack(obj):
    """A tensor sharing memory with any DLPack producer (NumPy, CuPy, PyTorch, ...)."""
    kind, index = obj.__dlpack_device__()
    if int(kind) == 1:  # kDLCPU
        return Tensor._wrap(numpy.from_dlpack(obj), backend.CPU)
    if int(kind) == 2:  # kDLCUDA
        device = backend.get_device(f"cuda:{index}")
        return Tensor._wrap(device.xp.from_dlpack(obj), device)
    raise ValueError(f"from_dlpack: unsupported DLPack device type {kind}")


@autograd.host_function
def _check_indices(indices, bound, what, meaning):
    """Raise IndexError unless every value of the integer array `indices` lies in
    [0, bound).  Reads values on the host, so tg.jit keeps it as one step of a recording
    and checks again on every replay."""
    if indices.size and (bool((indices < 0).any()) or bool((indices >= bound).any())):
        raise IndexError(f"{what} must lie in [0, {bound}), {meaning}")
