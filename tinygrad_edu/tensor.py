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
    record = STATE.grad_enabled and True in needs_input_grad
    node = _new(fn)  # object.__new__: no Python-level __init__ frame per op
    node.xp = device.xp
    # Set before forward, so that forward can skip what only backward uses (Max's mask)
    # when no gradient will be needed: then every entry is False.
    node.needs_input_grad = needs_input_grad if record else (False,) * count
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
    if not record:
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
        """Elementwise not of a boolean tensor, bitwise not of an integer one (no graph)."""
        if self.dtype.kind not in "biu":
            raise TypeError(
                f"~: bitwise not needs an integer or boolean tensor, got dtype {self.dtype} "
                f"(shape {self.shape}); for floats use t.logical_not() or t == 0"
            )
        return Tensor._wrap(~self.data, self.device)

    def __and__(self, other):
        """Elementwise and of boolean tensors, bitwise and of integer ones (no graph)."""
        return _bitwise("&", self, self._lift(other), self.xp.bitwise_and)

    def __or__(self, other):
        """Elementwise or of boolean tensors, bitwise or of integer ones (no graph)."""
        return _bitwise("|", self, self._lift(other), self.xp.bitwise_or)

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

    def softplus(self, beta=1.0, threshold=20.0):
        """log(1 + exp(beta * x)) / beta elementwise, computed without overflow, and x
        itself where beta * x > threshold, as PyTorch (op: Softplus)."""
        return apply(E.Softplus, self, beta=beta, threshold=threshold)

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

    def pad(self, pad_width, value=0.0, mode="constant"):
        """Surround with `value`; `pad_width` as numpy.pad: n, (before, after), or one
        (before, after) pair per axis.  Negative widths crop; mode "reflect", "replicate"
        or "circular" repeats the tensor's own values (see _pad_from_edges)."""
        try:
            pairs = numpy.broadcast_to(numpy.asarray(pad_width, dtype=numpy.int64), (self.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} does not fit a tensor of shape {self.shape}"
            ) from None
        pairs = tuple((int(a), int(b)) for a, b in pairs)
        if mode != "constant" or (numpy.asarray(pairs) < 0).any():
            return self._pad_from_edges(pairs, value, mode)
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

    # ---- shape and indexing ops with PyTorch's names ---------------------------------
    # Compositions of the ops above (GetItem, BroadcastTo, Concatenate, Where, IndexAdd),
    # whose gradients are checked already; only scatter has an op of its own (Scatter).

    def flip(self, dims):
        """Reverse the order of the elements along `dims` (an int or a tuple), as
        numpy.flip.  A slice with step -1: a view (op: GetItem)."""
        axes = normalize_axis(dims, self.ndim, "flip")
        index = tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(self.ndim))
        return apply(S.GetItem, self, index=index)

    def repeat(self, *sizes):
        """Tile the tensor: `sizes[i]` copies along axis i (PyTorch's repeat, numpy.tile).

        More sizes than axes add leading axes.  Written as reshape -> broadcast_to ->
        reshape: (a, b) repeated (r, s) is (1, a, 1, b) broadcast to (r, a, s, b), so the
        gradient is the sum over the copies (BroadcastTo's backward).
        """
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < self.ndim or any(s < 0 for s in sizes):
            raise ValueError(
                f"repeat: sizes {sizes} do not fit a tensor of shape {self.shape}: give one "
                "non-negative size per axis (more add leading axes)"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        ones, copies, result = [], [], []
        for size, count in zip(shape, sizes):
            ones += [1, size]
            copies += [count, size]
            result.append(count * size)
        return self.reshape(tuple(ones)).broadcast_to(tuple(copies)).reshape(tuple(result))

    def repeat_interleave(self, repeats, dim=None):
        """Repeat each element `repeats` times along `dim` (numpy.repeat); `repeats` is an
        int or one count per element (1-D).  dim=None works on the flattened tensor.

        An int count is unsqueeze -> broadcast_to -> reshape; per-element counts pick
        elements with an integer index, whose gradient adds the repeats (op: GetItem).
        """
        x = self if dim is not None else self.flatten()
        axis = normalize_axis(0 if dim is None else dim, x.ndim, "repeat_interleave")[0]
        size = x.shape[axis]
        if isinstance(repeats, Tensor):  # counts set the output's shape: read on the host
            repeats = repeats.numpy()
        counts = numpy.asarray(repeats)
        if counts.shape == (1,) and size != 1:  # one count for every element, as PyTorch
            counts = counts.reshape(())
        if counts.dtype.kind not in "iu":
            raise TypeError(f"repeat_interleave: repeats must be integers, got {counts.dtype}")
        if counts.ndim > 1 or (counts.ndim == 1 and counts.shape != (size,)):
            raise ValueError(
                f"repeat_interleave: repeats of shape {counts.shape} must be one int or one "
                f"count per element ({size},) along dim {axis} of shape {x.shape}"
            )
        if (counts < 0).any():
            raise ValueError("repeat_interleave: repeats must be non-negative")
        if counts.ndim == 0:
            count = int(counts)
            spread = x.shape[: axis + 1] + (count,) + x.shape[axis + 1 :]
            merged = x.shape[:axis] + (size * count,) + x.shape[axis + 1 :]
            return x.unsqueeze(axis + 1).broadcast_to(spread).reshape(merged)
        picks = x.device.from_host(numpy.repeat(numpy.arange(size), counts))
        return apply(S.GetItem, x, index=(slice(None),) * axis + (picks,))

    def split(self, split_size_or_sections, dim=0):
        """A tuple of pieces along `dim`: of `split_size_or_sections` each (the last may be
        smaller), or of the listed sizes.  Each piece is a slice (op: GetItem), so its
        gradient lands in its own part of the input."""
        axis = normalize_axis(dim, self.ndim, "split")[0]
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (int, numpy.integer)):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != length or any(s < 0 for s in sizes):
                raise ValueError(
                    f"split: sections {sizes} must be non-negative and sum to {length}, the "
                    f"size of dim {axis} of a tensor of shape {self.shape}"
                )
        pieces, start = [], 0
        for size in sizes:
            index = (slice(None),) * axis + (slice(start, start + size),)
            pieces.append(apply(S.GetItem, self, index=index))
            start += size
        return tuple(pieces)

    def chunk(self, chunks, dim=0):
        """Split into `chunks` pieces along `dim` (fewer when the size runs out), each of
        ceil(size / chunks) elements but the last, as PyTorch's chunk."""
        if not isinstance(chunks, (int, numpy.integer)) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        axis = normalize_axis(dim, self.ndim, "chunk")[0]
        return self.split(max(1, -(-self.shape[axis] // int(chunks))), axis)

    def roll(self, shifts, dims=None):
        """Shift elements along `dims` by `shifts`, wrapping around (numpy.roll); dims=None
        rolls the flattened tensor.  Each shift joins two slices (op: Concatenate)."""
        if dims is None:
            if not isinstance(shifts, (int, numpy.integer)):
                raise ValueError("roll: with dims=None, shifts must be one int")
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, (int, numpy.integer)) else tuple(shifts)
        dims = (dims,) if isinstance(dims, (int, numpy.integer)) else tuple(dims)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
        x = self
        for shift, dim in zip(shifts, dims):
            axis = normalize_axis(int(dim), self.ndim, "roll")[0]
            length = x.shape[axis]
            cut = length - int(shift) % length if length else 0
            if cut in (0, length):
                continue
            head = (slice(None),) * axis
            tail = apply(S.GetItem, x, index=head + (slice(cut, None),))
            front = apply(S.GetItem, x, index=head + (slice(None, cut),))
            x = apply(S.Concatenate, tail, front, axis=axis)
        return x

    def tril(self, diagonal=0):
        """The lower triangle of the last two axes: elements with col - row <= diagonal
        are kept, the rest become 0 (op: Where, with a constant mask)."""
        return self._triangle("tril", numpy.tri, diagonal)

    def triu(self, diagonal=0):
        """The upper triangle of the last two axes: elements with col - row >= diagonal
        are kept, the rest become 0 (op: Where, with a constant mask)."""
        return self._triangle("triu", _upper_triangle, diagonal)

    def _triangle(self, op, tri, diagonal):
        if self.ndim < 2:
            raise ValueError(f"{op}: needs at least 2 dims, got a tensor of shape {self.shape}")
        keep = tri(self.shape[-2], self.shape[-1], int(diagonal), dtype=bool)
        zero = self._lift(0)
        return apply(E.Where, self, zero, cond=self.device.from_host(keep))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal of the (dim1, dim2) planes, as a new last axis (PyTorch's order);
        offset > 0 above the main diagonal, < 0 below (op: GetItem with index arrays)."""
        a = normalize_axis(dim1, self.ndim, "diagonal")[0]
        b = normalize_axis(dim2, self.ndim, "diagonal")[0]
        if a == b:
            raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {a}")
        rows = numpy.arange(max(0, -offset), self.shape[a])
        cols = rows + offset
        inside = cols < self.shape[b]
        rows, cols = rows[inside], cols[inside]
        x = self.transpose(tuple(d for d in range(self.ndim) if d not in (a, b)) + (a, b))
        index = (Ellipsis, self.device.from_host(rows), self.device.from_host(cols))
        return apply(S.GetItem, x, index=index)

    def unflatten(self, dim, sizes):
        """Split axis `dim` into axes of `sizes` (one may be -1), the inverse of flatten."""
        axis = normalize_axis(dim, self.ndim, "unflatten")[0]
        sizes = tuple(int(s) for s in sizes)
        known = math.prod(s for s in sizes if s != -1)
        length = self.shape[axis]
        if (
            not sizes
            or sizes.count(-1) > 1
            or (length != known if -1 not in sizes else (known == 0 or length % known))
        ):
            raise ValueError(
                f"unflatten: sizes {sizes} do not multiply to {length}, the size of dim "
                f"{axis} of a tensor of shape {self.shape}"
            )
        return self.reshape(self.shape[:axis] + sizes + self.shape[axis + 1 :])

    def gather(self, dim, index):
        """out[i][j][k] = self[index[i][j][k]][j][k] for dim=0 (and so on): values picked
        along `dim` by an integer `index` of the same number of dims (PyTorch's gather,
        numpy.take_along_axis).  Indexing with one array per axis (op: GetItem), so
        repeated picks add their gradients."""
        axis, picks = _along_index("gather", self, dim, index)
        return apply(S.GetItem, self, index=_full_index(picks, axis, self.xp))

    def scatter(self, dim, index, src=None, value=None):
        """A copy of self with src[i][j][k] written to [index[i][j][k]][j][k] (dim=0),
        PyTorch's scatter.  `src` is a Tensor (of at least index's shape; its first
        index.shape elements are used) or a number (`value=` as in PyTorch).  Where index
        repeats a place, which write wins is unspecified, as in PyTorch (op: Scatter)."""
        if src is None:
            src = value
        if src is None:
            raise TypeError("scatter: give src (a Tensor or a number) or value=")
        axis, picks = _along_index("scatter", self, dim, index, src)
        if isinstance(src, Tensor):
            src = _leading_block(src, picks.shape)
        else:
            src = Tensor._wrap(self.xp.full(picks.shape, src, dtype=self.dtype), self.device)
        return apply(S.Scatter, self, src, index=_full_index(picks, axis, self.xp))

    def scatter_add(self, dim, index, src):
        """A copy of self with src[i][j][k] added at [index[i][j][k]][j][k] (dim=0);
        repeated places add up.  self + (src added into zeros), the second part being
        indexing's backward (op: IndexAdd), so grad(src) picks grad at the index."""
        axis, picks = _along_index("scatter_add", self, dim, index, src)
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
        src = _leading_block(src, picks.shape)
        index = _full_index(picks, axis, self.xp)
        return self + apply(S.IndexAdd, src, shape=self.shape, index=index, advanced=True)

    def masked_fill(self, mask, value):
        """`value` where the boolean `mask` (broadcast to self's shape) is true, else self
        (op: Where).  `value` is a number or a 0-d Tensor (which then gets a gradient)."""
        if not isinstance(mask, Tensor):
            mask = Tensor(mask, device=self.device)
        if mask.device is not self.device:
            _raise_mixed_devices("masked_fill", (self, mask))
        if mask.dtype != bool:
            raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask.dtype}")
        try:
            fits = numpy.broadcast_shapes(mask.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"masked_fill: mask of shape {mask.shape} does not broadcast to the tensor's "
                f"shape {self.shape}"
            )
        value = self._lift(value)
        if value.ndim:
            raise ValueError(f"masked_fill: value must be a number or 0-d, got {value.shape}")
        return apply(E.Where, value, self, cond=mask.data)

    def sort(self, dim=-1, descending=False):
        """(values, indices) sorted along `dim`.  Values are picked by the indices (op:
        GetItem), so each gradient goes back to where its value came from; the order
        of equal values is unspecified (as in PyTorch); indices carry no graph."""
        axis = normalize_axis(dim, self.ndim, "sort")[0]
        order = _argsort(self, axis, descending)
        values = apply(S.GetItem, self, index=_full_index(order, axis, self.xp))
        return values, Tensor._wrap(order, self.device)

    def argsort(self, dim=-1, descending=False):
        """The indices that sort along `dim` (int64, no graph)."""
        axis = normalize_axis(dim, self.ndim, "argsort")[0]
        return Tensor._wrap(_argsort(self, axis, descending), self.device)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """(values, indices) of the k largest (largest=False: smallest) along `dim`,
        largest first.  Always returned sorted (sorted=False allows any order).  Values
        are picked by the indices (op: GetItem)."""
        axis = normalize_axis(dim, self.ndim, "topk")[0]
        if not isinstance(k, (int, numpy.integer)) or not 0 <= k <= self.shape[axis]:
            raise ValueError(
                f"topk: k={k!r} must lie in [0, {self.shape[axis]}], the size of dim {axis} "
                f"of a tensor of shape {self.shape}"
            )
        order = _argsort(self, axis, largest)[(slice(None),) * axis + (slice(0, int(k)),)]
        values = apply(S.GetItem, self, index=_full_index(order, axis, self.xp))
        return values, Tensor._wrap(order, self.device)

    def _pad_from_edges(self, pairs, value, mode):
        """pad() with negative widths (crop first, a slice) or a mode other than constant.

        Per axis the result is [left part, x, right part] joined (op: Concatenate), the
        parts being slices of x (op: GetItem, views): reflect x[before:0:-1] and
        x[n-2:n-2-after:-1] (mirrored, the edge not repeated, numpy's "reflect"),
        replicate the edge element broadcast to the width, circular x[n-before:] and
        x[:after] (wrapped around).  Elements used twice get both gradients, added.
        """
        if mode not in ("constant", "reflect", "replicate", "circular"):
            raise ValueError(
                f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
            )
        if mode != "constant" and value:
            raise ValueError(f"pad: mode {mode!r} takes no value (got value={value!r})")
        crop = []
        for (before, after), size in zip(pairs, self.shape):
            start, stop = max(0, -before), size - max(0, -after)
            if stop < start:
                raise ValueError(
                    f"pad: widths {pairs} crop more than a tensor of shape {self.shape} has"
                )
            crop.append(slice(start, stop))
        x = self
        if any(s.start or s.stop != n for s, n in zip(crop, self.shape)):
            x = apply(S.GetItem, self, index=tuple(crop))
        pairs = tuple((max(0, before), max(0, after)) for before, after in pairs)
        if mode == "constant":
            return apply(S.Pad, x, pad_width=pairs, value=value)
        for axis, ((before, after), size) in enumerate(zip(pairs, x.shape)):
            if not before and not after:
                continue
            largest = size - 1 if mode == "reflect" else size if mode == "circular" else None
            if size == 0 or (largest is not None and max(before, after) > largest):
                raise ValueError(
                    f"pad: {mode} padding of ({before}, {after}) needs more elements along "
                    f"dim {axis} of a tensor of shape {x.shape} (at most {largest} each side)"
                )
            if mode == "reflect":
                stop = size - 2 - after
                left, right = slice(before, 0, -1), slice(size - 2, stop if stop >= 0 else None, -1)
            elif mode == "circular":
                left, right = slice(size - before, size), slice(0, after)
            else:  # replicate
                left, right = slice(0, 1), slice(size - 1, size)
            head = (slice(None),) * axis
            pieces = []
            for part, width in ((left, before), (None, size), (right, after)):
                if not width:
                    continue
                piece = x if part is None else apply(S.GetItem, x, index=head + (part,))
                if piece.shape[axis] != width:  # replicate: the edge, repeated `width` times
                    piece = piece.broadcast_to(x.shape[:axis] + (width,) + x.shape[axis + 1 :])
                pieces.append(piece)
            x = apply(S.Concatenate, *pieces, axis=axis)
        return x

    # ---- more math: reductions, scans, rounding, functions, remainder, bitwise ---------

    def std(self, axis=None, keepdims=False, ddof=0, *, dim=None, keepdim=None, correction=None):
        """Standard deviation: sqrt(var(axis, keepdims, ddof)), a composition.

        `dim`, `keepdim` and `correction` are PyTorch's names for axis, keepdims and
        ddof.  ddof=0 by default, as `var` and NumPy; PyTorch's default correction is 1.
        """
        axis = _either("std", "axis", axis, "dim", dim)
        keepdims = keepdims if keepdim is None else keepdim
        ddof = ddof if correction is None else correction
        return self.var(axis=axis, keepdims=keepdims, ddof=ddof).sqrt()

    def prod(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Product over `axis`; its gradient is right with zeros in x (op: Prod)."""
        axis = _either("prod", "axis", axis, "dim", dim)
        keepdims = keepdims if keepdim is None else keepdim
        return apply(R.Prod, self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """True where some element over `axis` is non-zero (a boolean tensor, no graph)."""
        axes = normalize_axis(_either("any", "axis", axis, "dim", dim), self.ndim, "any")
        keepdims = keepdims if keepdim is None else keepdim
        found = self.xp.any(self.data, axis=axes, keepdims=keepdims)
        return Tensor._wrap(self.xp.asarray(found), self.device)

    def all(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """True where every element over `axis` is non-zero (a boolean tensor, no graph)."""
        axes = normalize_axis(_either("all", "axis", axis, "dim", dim), self.ndim, "all")
        keepdims = keepdims if keepdim is None else keepdim
        found = self.xp.all(self.data, axis=axes, keepdims=keepdims)
        return Tensor._wrap(self.xp.asarray(found), self.device)

    def cumsum(self, axis=None, *, dim=None):
        """Running sum along `axis` (PyTorch's `dim`); axis=None: of the flattened tensor,
        as NumPy (op: Cumsum)."""
        return _scan(R.Cumsum, "cumsum", self, _either("cumsum", "axis", axis, "dim", dim))

    def cumprod(self, axis=None, *, dim=None):
        """Running product along `axis`; its gradient is right with zeros (op: Cumprod)."""
        return _scan(R.Cumprod, "cumprod", self, _either("cumprod", "axis", axis, "dim", dim))

    def logcumsumexp(self, axis=None, *, dim=None):
        """log(cumsum(exp(x))) along `axis`, stable at every position (op: LogCumSumExp)."""
        if self.dtype.kind not in "fc":
            raise TypeError(f"logcumsumexp needs a floating-point tensor, got {self.dtype}")
        axis = _either("logcumsumexp", "axis", axis, "dim", dim)
        return _scan(R.LogCumSumExp, "logcumsumexp", self, axis)

    def floor(self):
        """The largest integer <= x; zero gradient, as PyTorch (op: Floor)."""
        return _rounding(E.Floor, self)

    def ceil(self):
        """The smallest integer >= x; zero gradient, as PyTorch (op: Ceil)."""
        return _rounding(E.Ceil, self)

    def round(self, decimals=0):
        """Round to `decimals` places, halves to even; zero gradient (op: Round)."""
        return _rounding(E.Round, self, decimals=decimals)

    def trunc(self):
        """Drop the fractional part (round towards 0); zero gradient (op: Trunc)."""
        return _rounding(E.Trunc, self)

    def rsqrt(self):
        """1 / sqrt(x) elementwise (op: Rsqrt)."""
        return apply(E.Rsqrt, self)

    def exp2(self):
        """2**x elementwise (op: Exp2)."""
        return apply(E.Exp2, self)

    def log2(self):
        """Base-2 logarithm elementwise (op: Log2)."""
        return apply(E.Log2, self)

    def log10(self):
        """Base-10 logarithm elementwise (op: Log10)."""
        return apply(E.Log10, self)

    def tan(self):
        """tan(x) elementwise (op: Tan)."""
        return apply(E.Tan, self)

    def asin(self):
        """arcsin(x) elementwise, x in [-1, 1] (op: Asin)."""
        return apply(E.Asin, self)

    def acos(self):
        """arccos(x) elementwise, x in [-1, 1] (op: Acos)."""
        return apply(E.Acos, self)

    def atan(self):
        """arctan(x) elementwise (op: Atan)."""
        return apply(E.Atan, self)

    def sinh(self):
        """sinh(x) elementwise (op: Sinh)."""
        return apply(E.Sinh, self)

    def cosh(self):
        """cosh(x) elementwise (op: Cosh)."""
        return apply(E.Cosh, self)

    def asinh(self):
        """arcsinh(x) elementwise (op: Asinh)."""
        return apply(E.Asinh, self)

    def acosh(self):
        """arccosh(x) elementwise, x >= 1 (op: Acosh)."""
        return apply(E.Acosh, self)

    def atanh(self):
        """arctanh(x) elementwise, x in (-1, 1) (op: Atanh)."""
        return apply(E.Atanh, self)

    def isnan(self):
        """True where x is NaN (a boolean tensor, no graph)."""
        return Tensor._wrap(self.xp.isnan(self.data), self.device)

    def isinf(self):
        """True where x is +inf or -inf (a boolean tensor, no graph)."""
        return Tensor._wrap(self.xp.isinf(self.data), self.device)

    def isfinite(self):
        """True where x is neither NaN nor infinite (a boolean tensor, no graph)."""
        return Tensor._wrap(self.xp.isfinite(self.data), self.device)

    def logical_not(self):
        """True where x is zero (False), for any dtype (a boolean tensor, no graph)."""
        return Tensor._wrap(self.xp.logical_not(self.data), self.device)

    def logaddexp(self, other):
        """log(exp(x) + exp(y)) elementwise, broadcasting, stable (op: LogAddExp)."""
        return apply(E.LogAddExp, self, self._lift(other))

    def lerp(self, end, weight):
        """Linear interpolation self + weight * (end - self); `weight` a number or a
        tensor (a composition: Sub, Mul, Add)."""
        end = self._lift(end)
        weight_shape = weight.shape if isinstance(weight, Tensor) else ()
        try:
            numpy.broadcast_shapes(self.shape, end.shape, weight_shape)
        except ValueError:
            raise ValueError(
                f"lerp: shapes start {self.shape}, end {end.shape}, weight {weight_shape} do "
                "not broadcast"
            ) from None
        return self + weight * (end - self)

    def __mod__(self, other):
        """x % y: the remainder with the divisor's sign, as Python and PyTorch's
        `remainder` (op: Mod)."""
        other = self._lift(other)
        _check_divisor("%", self.data, other.data)
        return apply(E.Mod, self, other)

    def __rmod__(self, other):
        """y % x with a number or array on the left (op: Mod)."""
        other = self._lift(other)
        _check_divisor("%", other.data, self.data)
        return apply(E.Mod, other, self)

    def __floordiv__(self, other):
        """x // y = floor(x / y), as Python; piecewise constant, so no graph (as PyTorch)."""
        return _floor_divide(self, self._lift(other))

    def __rfloordiv__(self, other):
        """y // x with a number or array on the left (no graph)."""
        return _floor_divide(self._lift(other), self)

    def remainder(self, other):
        """x % y, PyTorch's name (op: Mod)."""
        return self % other

    def floor_divide(self, other):
        """x // y, PyTorch's name (no graph)."""
        return _floor_divide(self, self._lift(other))

    def __rand__(self, other):
        """y & x with a number or array on the left (no graph)."""
        return _bitwise("&", self._lift(other), self, self.xp.bitwise_and)

    def __ror__(self, other):
        """y | x with a number or array on the left (no graph)."""
        return _bitwise("|", self._lift(other), self, self.xp.bitwise_or)

    def __xor__(self, other):
        """Elementwise exclusive or of boolean tensors, bitwise of integer ones (no graph)."""
        return _bitwise("^", self, self._lift(other), self.xp.bitwise_xor)

    def __rxor__(self, other):
        """y ^ x with a number or array on the left (no graph)."""
        return _bitwise("^", self._lift(other), self, self.xp.bitwise_xor)


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
_wrap = Tensor._wrap  # short for Tensor._wrap (apply writes it out inline)
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
                _check_index_range(part, size, axis, tensor.shape)
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
    "remainder": "__rmod__",
    "floor_divide": "__rfloordiv__",
    "bitwise_and": "__rand__",
    "bitwise_or": "__ror__",
    "bitwise_xor": "__rxor__",
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


def cross_entropy(
    logits, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """-log softmax(logits)[target], averaged over the batch, as PyTorch.

    logits: (N, C) scores (or (C,) for one sample, or (N, C, d1, d2, ...) with a class
    score per position); target: integer class indices of shape (N,) (or one integer, or
    (N, d1, d2, ...)).  Stable for any logits: it goes through log_softmax.
    weight: one number per class scaling its examples' losses (the mean then divides by
    the sum of the weights used); targets equal to ignore_index count for nothing;
    label_smoothing eps mixes in the loss against the uniform distribution:
    (1 - eps) * loss + eps * mean over classes of -log softmax.  The plain (N, C) case
    runs one fused op (CrossEntropy); the others are built from log_softmax and indexing.
    """
    if isinstance(weight, str):  # the third positional argument used to be `reduction`
        weight, reduction = None, weight
    target = _check_class_target(logits, target, "cross_entropy")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    t = target.data
    classes = logits.shape[0 if logits.ndim == 1 else 1]
    ignored = _any_true(t == ignore_index)
    _check_class_range(t, classes, ignore_index if ignored else None, "cross_entropy")
    if weight is None and not label_smoothing and logits.ndim <= 2 and not ignored:
        return apply(N.CrossEntropy, logits, target=t, reduction=reduction)
    weight = _class_weight(weight, classes, logits, "cross_entropy")
    log_probs = logits.log_softmax(axis=0 if logits.ndim == 1 else 1)
    loss = _nll(log_probs, t, weight, ignore_index, reduction)
    if not label_smoothing:
        return loss
    # PyTorch's smoothing term: -sum_c w_c log p_c per position, ignored positions 0,
    # reduced like the main term (the mean divides by the same total weight)
    rows = _class_rows(log_probs)
    keep = (t.reshape(-1) != ignore_index).astype(logits.dtype)
    if weight is not None:
        rows = rows * _constant_like(weight, logits)
    smooth = -(rows.sum(axis=1) * _constant_like(keep, logits))
    if reduction == "none":
        smooth = smooth.reshape(t.shape)
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        picked = (
            keep if weight is None else weight[_safe_targets(t.reshape(-1), ignore_index)] * keep
        )
        smooth = _weighted_mean(smooth, picked.sum(), logits)
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)


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


# Checks that read index values on the host.  Host functions (autograd.host_function), so
# tg.jit keeps each as one instruction of a recording and checks again on every replay.


def _outside(values, low, high):
    """Whether some value of the array `values` lies outside [low, high)."""
    return bool(values.size) and (bool((values < low).any()) or bool((values >= high).any()))


@autograd.host_function
def _check_indices(indices, bound, what, meaning):
    """Raise IndexError unless every value of the integer array `indices` lies in
    [0, bound)."""
    if _outside(indices, 0, bound):
        raise IndexError(f"{what} must lie in [0, {bound}), {meaning}")


@autograd.host_function
def _check_index_range(part, size, axis, shape):
    if _outside(part, -size, size):
        raise IndexError(
            f"index out of range for axis {axis} of size {size} in a tensor of shape {shape}"
        )


@autograd.host_function
def _check_probabilities(p):
    if p.size and (bool((p < 0).any()) or bool((p > 1).any())):  # [0, 1], both ends in
        raise ValueError("binary_cross_entropy: all elements of input must lie in [0, 1]")


@autograd.host_function
def _check_picks(picks, size, axis, shape, op):
    if _outside(picks, 0, size):
        raise IndexError(
            f"{op}: index values must lie in [0, {size}) for dim {axis} of a tensor of shape "
            f"{shape}; got values from {int(picks.min())} to {int(picks.max())}"
        )


@autograd.host_value
def _any_true(mask):
    """bool(mask.any()): a host value, so a tg.jit recording that branched on it checks on
    every replay that it still holds (autograd.host_value)."""
    return bool(mask.any())


# ---- einsum -------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(equation, *operands):
    """Einstein summation, as numpy.einsum and torch.einsum: "ij,jk->ik" is a matrix
    product, "ii->i" a diagonal, "ii" a trace, "ij->ji" a transpose, "bij,bjk->bik" a
    batch of products, "...ij->...ji" with any leading axes.  Without "->" the output
    is every letter used once, in alphabetical order (after the "..." axes).

    Built as (docs: the Einsum op in ops/linalg.py): each operand's repeated letters
    become a diagonal (indexing), letters only it uses and the output does not are
    summed, and the operands are then contracted two at a time, left to right, with
    the `Einsum` op, whose gradients are einsums of the same kind.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum("ij->ji", [x]) works too
    if not operands:
        raise ValueError(f"einsum({equation!r}): needs at least one operand")
    like = next((t for t in operands if isinstance(t, Tensor)), None)
    operands = [_as_tensor(t, like) for t in operands]
    terms, output, broadcasting, shapes = _parse_einsum(equation, operands)
    sizes = {}
    for term, t in zip(terms, operands):  # one size per letter (the largest)
        for letter, size in zip(term, t.shape):
            sizes[letter] = max(size, sizes.get(letter, size))
    prepared = []
    for i, (term, t) in enumerate(zip(terms, operands)):
        for letter, size in zip(term, t.shape):
            # only "..." axes broadcast (as NumPy): a named axis must match exactly
            if size != sizes[letter] and not (size == 1 and letter in broadcasting):
                raise ValueError(
                    f"einsum({equation!r}) with operand shapes {shapes}: letter "
                    f"{letter!r} stands for axes of sizes {sizes[letter]} and {size}"
                )
        target = tuple(sizes[letter] for letter in term)
        if t.shape != target:  # a size-1 "..." axis broadcasts, as in NumPy
            t = t.broadcast_to(target)
        others = set(output).union(*(terms[:i] + terms[i + 1 :]))
        prepared.append(_einsum_operand(t, list(term), others))
    current, letters = prepared[0]
    for position, (t, term) in enumerate(prepared[1:], start=2):
        if position == len(prepared):
            result = output
        else:
            needed = set(output).union(*(term for _, term in prepared[position:]))
            result = [c for c in dict.fromkeys(letters + term) if c in needed]
        step = f"{''.join(letters)},{''.join(term)}->{''.join(result)}"
        current, letters = apply(L.Einsum, current, t, equation=step), result
    if letters != output:  # one operand: its axes in the output's order
        current = current.transpose(*[letters.index(c) for c in output])
    return current


def _parse_einsum(equation, operands):
    """(terms, output, broadcasting, shapes): one list of letters per operand and the
    output's, with "..." replaced by letters the equation does not use (`broadcasting`);
    checked, with errors naming the equation and the shapes."""
    shapes = ", ".join(str(t.shape) for t in operands)

    def fail(message):
        raise ValueError(f"einsum({equation!r}) with operand shapes {shapes}: {message}")

    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {equation!r}")
    text = equation.replace(" ", "")
    if text.count("->") > 1:
        fail("more than one '->'")
    lhs, arrow, rhs = text.partition("->")
    sources = lhs.split(",")
    if len(sources) != len(operands):
        fail(f"{len(sources)} operand terms but {len(operands)} operands")

    def letters_of(term, what):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            fail(f"{what} {term!r} has a '.' that is not one '...'")
        for c in term.replace("...", ""):
            if c not in _LETTERS:
                fail(f"{what} {term!r}: subscripts must be letters a-z, A-Z (got {c!r})")
        head, dots, tail = term.partition("...")
        return list(head), bool(dots), list(tail)

    terms, widest = [], 0
    for i, (term, t) in enumerate(zip(sources, operands)):
        head, dots, tail = letters_of(term, f"operand {i}'s term")
        named = len(head) + len(tail)
        if t.ndim < named or (not dots and t.ndim != named):
            fail(f"operand {i} has {t.ndim} dims but its term {term!r} names {named}")
        extra = t.ndim - named
        widest = max(widest, extra)
        terms.append((head, extra, tail))
    free = [c for c in _LETTERS if c not in text]
    if widest > len(free):
        fail(f"'...' stands for {widest} axes but only {len(free)} letters are unused")
    ellipsis = free[:widest]  # the "..." axes, right-aligned
    terms = [head + ellipsis[widest - extra :] + tail for head, extra, tail in terms]
    if arrow:
        head, dots, tail = letters_of(rhs, "the output")
        output = head + (ellipsis if dots else []) + tail
        used = set().union(*terms)
        for c in output:
            if c not in used:
                fail(f"output letter {c!r} appears in no operand")
        if len(set(output)) != len(output):
            fail("the output names a letter twice")
    else:
        counts = {}
        for term in terms:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis + sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis)
    return terms, output, set(ellipsis), shapes


def _einsum_operand(t, term, others):
    """(tensor, letters) for one operand: the diagonal of each repeated letter taken, and
    the letters no other operand and not the output use summed away."""
    repeated = [c for c in dict.fromkeys(term) if term.count(c) > 1]
    if repeated:
        # axes of repeated letters first, then index them all with broadcast aranges:
        # t[i, i, j, j] over i, j is the diagonal (NumPy puts those axes in front)
        order = [a for c in repeated for a, d in enumerate(term) if d == c]
        order += [a for a, d in enumerate(term) if d not in repeated]
        t = t.transpose(*order)
        index = []
        for position, c in enumerate(repeated):
            shape = [1] * len(repeated)
            shape[position] = t.shape[len(index)]
            arange = numpy.arange(shape[position]).reshape(shape)
            index += [arange] * term.count(c)
        t = t[tuple(index)]
        term = repeated + [c for c in term if c not in repeated]
    lone = [a for a, c in enumerate(term) if c not in others]
    if lone:
        t = t.sum(axis=tuple(lone))
        term = [c for c in term if c in others]
    return t, term


# ---- classification losses with class weights and ignored targets -----------------


def _check_class_target(logits, target, op):
    """The target as an integer Tensor on logits' device, with PyTorch's shapes:
    logits (C,) with target (), (N, C) with (N,), (N, C, d1, ...) with (N, d1, ...)."""
    target = _as_tensor(target, None)
    if target.device is not logits.device:
        target = target.to(logits.device)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if logits.ndim == 0:
        expected = None
    elif logits.ndim == 1:
        expected = ()
    else:
        expected = logits.shape[:1] + logits.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{op}: expected input (N, C) with target (N,), (C,) with (), or (N, C, d1, ...) "
            f"with (N, d1, ...); got input {logits.shape} and target {target.shape}"
        )
    return target


@autograd.host_function
def _check_class_range(t, classes, ignore_index, op):
    """Targets other than ignore_index (None: no target is ignored) name a class."""
    valid = t if ignore_index is None else t[t != ignore_index]
    if _outside(valid, 0, classes):
        raise IndexError(
            f"{op}: target values must lie in [0, {classes}), the classes (or equal "
            f"ignore_index={ignore_index})"
        )


def _class_weight(weight, classes, like, op):
    """A per-class weight as an array on `like`'s device (no gradient flows to it)."""
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        array = weight.data if weight.device is like.device else weight.to(like.device).data
    else:
        array = like.device.from_host(numpy.asarray(weight))
    if array.shape != (classes,):
        raise ValueError(
            f"{op}: weight must have shape ({classes},), one per class, got {array.shape}"
        )
    return array.astype(like.dtype)


def _constant_like(array, like):
    """A device array (or host number) as a constant Tensor of `like`'s dtype."""
    if not hasattr(array, "shape") or isinstance(array, numpy.generic):
        array = like.xp.asarray(array)
    return Tensor._wrap(array.astype(like.dtype), like.device)


def _safe_targets(t, ignore_index):
    """Targets with ignored entries replaced by class 0, so they can index (their weight
    is then zeroed)."""
    return t * (t != ignore_index)


def _class_rows(log_probs):
    """(positions, C) rows of class scores: (C,) -> (1, C); (N, C, d...) -> (N*d..., C)."""
    if log_probs.ndim == 1:
        return log_probs.reshape(1, -1)
    if log_probs.ndim > 2:  # classes to the last axis
        axes = (0,) + tuple(range(2, log_probs.ndim)) + (1,)
        return log_probs.transpose(*axes).reshape(-1, log_probs.shape[1])
    return log_probs


def _nll(log_probs, t, weight, ignore_index, reduction):
    """-w[t] * log_probs[t] per position (0 where t == ignore_index), reduced; the mean
    divides by the sum of the weights used, as PyTorch."""
    rows = _class_rows(log_probs)
    flat = t.reshape(-1)
    safe = _safe_targets(flat, ignore_index)
    keep = (flat != ignore_index).astype(log_probs.dtype)
    scale = keep if weight is None else weight[safe] * keep
    picked = rows[log_probs.xp.arange(rows.shape[0]), safe]
    losses = -(picked * _constant_like(scale, log_probs))
    if reduction == "none":
        return losses.reshape(t.shape)
    if reduction == "sum":
        return losses.sum()
    return _weighted_mean(losses, scale.sum(), log_probs)


def _weighted_mean(losses, total, like):
    """sum(losses) / total, the weighted mean.  With every target ignored (total 0) it is
    NaN, as PyTorch, with zero gradients (not NaN ones, which would spoil a whole step):
    then it divides by 1 and adds a NaN constant.  No Python branch on the values, so a
    tg.jit recording serves every batch."""
    empty = total == 0
    nan = like.xp.where(empty, float("nan"), 0.0)
    return losses.sum() / _constant_like(total + empty, like) + _constant_like(nan, like)


def nll_loss(log_probs, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """The negative log-likelihood loss, as PyTorch: -weight[t] * log_probs[n, t] for
    log-probabilities (N, C) (or (C,), or (N, C, d1, ...)) and integer targets (N,) (or
    (), or (N, d1, ...)).  Targets equal to ignore_index count for nothing; the mean
    divides by the sum of the weights of the targets used.  Give it log_softmax's output
    (cross_entropy does both in one call)."""
    target = _check_class_target(log_probs, target, "nll_loss")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    classes = log_probs.shape[0 if log_probs.ndim == 1 else 1]
    t = target.data
    _check_class_range(t, classes, ignore_index, "nll_loss")
    weight = _class_weight(weight, classes, log_probs, "nll_loss")
    return _nll(log_probs, t, weight, ignore_index, reduction)


def binary_cross_entropy(probs, target, weight=None, *, reduction="mean"):
    """-weight * (y log(p) + (1 - y) log(1 - p)) for probabilities p in [0, 1], each log
    clamped at -100 as PyTorch (op: BinaryCrossEntropy).  weight: a constant that
    broadcasts to p's shape.  From logits, binary_cross_entropy_with_logits is stabler."""
    target = _as_tensor(target, probs)
    if probs.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy: input {probs.shape} and target {target.shape} differ in shape"
        )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"binary_cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
    p = probs.data
    _check_probabilities(p)
    if weight is not None:
        weight = _as_tensor(weight, probs).data
        try:
            fits = numpy.broadcast_shapes(weight.shape, probs.shape) == probs.shape
        except ValueError:
            fits = False
        if not fits:  # a weight that widens the loss has no gradient of p's shape
            raise ValueError(
                f"binary_cross_entropy: weight {weight.shape} does not broadcast to input "
                f"{probs.shape}"
            )
        weight = weight.astype(probs.dtype)
    return apply(N.BinaryCrossEntropy, probs, target, weight=weight, reduction=reduction)


# ---- shape and indexing functions with PyTorch's names (tg.flip, tg.gather, ...) ------


def flip(input, dims):
    return input.flip(dims)


def repeat_interleave(input, repeats, dim=None):
    return input.repeat_interleave(repeats, dim)


def split(tensor, split_size_or_sections, dim=0):
    return tensor.split(split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    return input.chunk(chunks, dim)


def roll(input, shifts, dims=None):
    return input.roll(shifts, dims)


def tril(input, diagonal=0):
    return input.tril(diagonal)


def triu(input, diagonal=0):
    return input.triu(diagonal)


def diagonal(input, offset=0, dim1=0, dim2=1):
    return input.diagonal(offset, dim1, dim2)


def unflatten(input, dim, sizes):
    return input.unflatten(dim, sizes)


def gather(input, dim, index):
    return input.gather(dim, index)


def scatter(input, dim, index, src=None, value=None):
    return input.scatter(dim, index, src, value)


def scatter_add(input, dim, index, src):
    return input.scatter_add(dim, index, src)


def masked_fill(input, mask, value):
    return input.masked_fill(mask, value)


def sort(input, dim=-1, descending=False):
    return input.sort(dim, descending)


def argsort(input, dim=-1, descending=False):
    return input.argsort(dim, descending)


def topk(input, k, dim=-1, largest=True, sorted=True):
    return input.topk(k, dim, largest, sorted)


def _along_index(op, x, dim, index, src=None):
    """Check gather's and scatter's `index` against x (and src): (axis, index array).

    As PyTorch: index has x's number of dims, integer values in [0, size of `dim`), and
    no axis longer than x's (other than `dim`) or than src's.  The index may be a Tensor
    on x's device, or host data (a list, a NumPy array), which is moved there.
    """
    if not isinstance(index, Tensor):
        index = Tensor(numpy.asarray(index), device=x.device)
    if index.device is not x.device:
        raise RuntimeError(
            f"{op}: index is on {index.device.name} but the tensor is on {x.device.name}; "
            "move it with .to(device)"
        )
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor (int64), got dtype {index.dtype}")
    axis = normalize_axis(dim, x.ndim, op)[0]
    if index.ndim != x.ndim or any(
        n > size for d, (n, size) in enumerate(zip(index.shape, x.shape)) if d != axis
    ):
        raise ValueError(
            f"{op}: index of shape {index.shape} does not fit a tensor of shape {x.shape} "
            f"along dim {axis}: it needs {x.ndim} dims, none longer than the tensor's "
            f"except dim {axis}"
        )
    if isinstance(src, Tensor) and (
        src.ndim != index.ndim or any(n > s for n, s in zip(index.shape, src.shape))
    ):
        raise ValueError(
            f"{op}: src of shape {src.shape} is smaller than index of shape {index.shape}"
        )
    if isinstance(src, Tensor) and src.device is not x.device:
        _raise_mixed_devices(op, (x, src))
    if isinstance(src, Tensor) and src.dtype != x.dtype:  # as PyTorch: no silent casts
        raise TypeError(f"{op}: src has dtype {src.dtype} but the tensor has dtype {x.dtype}")
    picks, size = index.data, x.shape[axis]
    _check_picks(picks, size, axis, x.shape, op)
    return axis, picks


def _full_index(picks, axis, xp):
    """One integer array per axis for x[...]: `picks` along `axis`, and along every other
    axis d the positions 0..n-1 shaped to broadcast along d, so out[i, j] = x[i, picks[i, j]]
    (the index numpy.take_along_axis builds)."""
    parts = []
    for d, n in enumerate(picks.shape):
        if d == axis:
            parts.append(picks)
        else:
            shape = [1] * picks.ndim
            shape[d] = n
            parts.append(xp.arange(n).reshape(tuple(shape)))
    return tuple(parts)


def _leading_block(src, shape):
    """src[:shape[0], :shape[1], ...]: the part of src that scatter reads (as PyTorch)."""
    if src.shape == tuple(shape):
        return src
    return apply(S.GetItem, src, index=tuple(slice(0, n) for n in shape))


def _argsort(x, axis, descending):
    """Sorting order along `axis` (an int64 array on x's device); descending is the
    ascending order reversed, which puts NaN first as PyTorch does (sorting -x instead
    would wrap the smallest integer around).  Not a stable sort (nor is PyTorch's by
    default): NumPy's stable argsort is 3x slower."""
    order = x.xp.argsort(x.data, axis=axis)
    return x.xp.flip(order, axis=axis) if descending else order


def _upper_triangle(n, m, k, dtype):
    """True where col - row >= k: the complement of numpy.tri's col - row <= k - 1."""
    return ~numpy.tri(n, m, k - 1, dtype=dtype)


# ---- helpers of the math methods above, and their free functions (tg.cumsum, ...) ---


def _either(op, name, value, alias, alias_value):
    """The value of an argument that has a NumPy name and a PyTorch name (axis / dim)."""
    if alias_value is None:
        return value
    if value is not None:
        raise TypeError(f"{op}: give {name} or {alias}, not both")
    return alias_value


def _scan(fn, op, x, axis):
    """Run the scan `fn` along one axis; axis=None scans the flattened tensor (NumPy)."""
    if axis is None:
        return apply(fn, x.reshape(-1), axis=0)
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis (dim) must be one int, got {axis!r}")
    if x.ndim == 0:  # PyTorch allows dim 0 (or -1) on a 0-d tensor: one element
        normalize_axis(axis, 1, op)
        return apply(fn, x.reshape(1), axis=0).reshape(())
    return apply(fn, x, axis=normalize_axis(axis, x.ndim, op)[0])


def _rounding(fn, x, **params):
    """Floor, Ceil, Round, Trunc: integer and boolean tensors are already whole numbers
    (a copy, as PyTorch returns for integers)."""
    if x.dtype.kind in "biu":
        return Tensor._wrap(x.data.copy(), x.device)
    return apply(fn, x, **params)


def _binary_no_graph(op, x, y, operation):
    """`operation` on the arrays of x and y, as a tensor outside the graph, with the errors
    naming the op (devices, shapes) that apply gives for ops in the graph."""
    if x.device is not y.device:
        _raise_mixed_devices(op, (x, y))
    try:
        result = operation(x.data, y.data)
    except ValueError as error:
        raise ValueError(f"{op} of shapes {x.shape} and {y.shape}: {error}") from None
    return Tensor._wrap(x.device.xp.asarray(result), x.device)


def _bitwise(op, x, y, operation):
    """x & y, x | y, x ^ y: bitwise on integers, logical on booleans, no graph."""
    if x.dtype.kind not in "biu" or y.dtype.kind not in "biu":
        raise TypeError(
            f"{op}: bitwise ops need integer or boolean tensors, got dtypes {x.dtype} and "
            f"{y.dtype} (shapes {x.shape} and {y.shape}); compare floats first (x > 0) or "
            "convert with .astype(tg.int64)"
        )
    return _binary_no_graph(op, x, y, operation)


@autograd.host_function  # reads the divisor's values: tg.jit checks again on every replay
def _check_divisor(op, x, y):
    """Integer division by zero is an error (as Python and PyTorch), not NumPy's silent 0.
    x, y: the arrays."""
    if x.dtype.kind in "biu" and y.dtype.kind in "biu" and bool((y == 0).any()):
        raise ZeroDivisionError(
            f"{op}: integer division by zero (dividend {x.shape} {x.dtype}, divisor "
            f"{y.shape} {y.dtype})"
        )


def _floor_divide(x, y):
    """x // y: floor(x / y) elementwise, outside the graph (its derivative is 0 or none)."""
    _check_divisor("//", x.data, y.data)
    return _binary_no_graph("//", x, y, x.device.xp.floor_divide)


def std(x, axis=None, keepdims=False, ddof=0, *, dim=None, keepdim=None, correction=None):
    return x.std(axis, keepdims, ddof, dim=dim, keepdim=keepdim, correction=correction)


def prod(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return x.prod(axis, keepdims, dim=dim, keepdim=keepdim)


# any, all and round are builtins this module uses: exported as tg.any, tg.all, tg.round
def _any(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return x.any(axis, keepdims, dim=dim, keepdim=keepdim)


def _all(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return x.all(axis, keepdims, dim=dim, keepdim=keepdim)


def _round(x, decimals=0):
    return x.round(decimals)


def cumsum(x, axis=None, *, dim=None):
    return x.cumsum(axis, dim=dim)


def cumprod(x, axis=None, *, dim=None):
    return x.cumprod(axis, dim=dim)


def logcumsumexp(x, axis=None, *, dim=None):
    return x.logcumsumexp(axis, dim=dim)


def floor(x):
    return x.floor()


def ceil(x):
    return x.ceil()


def trunc(x):
    return x.trunc()


def rsqrt(x):
    return x.rsqrt()


def exp2(x):
    return x.exp2()


def log2(x):
    return x.log2()


def log10(x):
    return x.log10()


def tan(x):
    return x.tan()


def asin(x):
    return x.asin()


def acos(x):
    return x.acos()


def atan(x):
    return x.atan()


def sinh(x):
    return x.sinh()


def cosh(x):
    return x.cosh()


def asinh(x):
    return x.asinh()


def acosh(x):
    return x.acosh()


def atanh(x):
    return x.atanh()


def isnan(x):
    return x.isnan()


def isinf(x):
    return x.isinf()


def isfinite(x):
    return x.isfinite()


def logical_not(x):
    return x.logical_not()


def remainder(x, y):
    """x % y with the divisor's sign (torch.remainder); either may be a number."""
    return _as_tensor(x, y if isinstance(y, Tensor) else None) % y


def floor_divide(x, y):
    """x // y = floor(x / y) (torch.floor_divide), no graph; either may be a number."""
    return _as_tensor(x, y if isinstance(y, Tensor) else None) // y


def logaddexp(x, y):
    """log(exp(x) + exp(y)), broadcasting; either may be a number."""
    return _as_tensor(x, y if isinstance(y, Tensor) else None).logaddexp(y)


def lerp(start, end, weight):
    """start + weight * (end - start) (torch.lerp); `weight` a number or a tensor."""
    return _as_tensor(start, end if isinstance(end, Tensor) else None).lerp(end, weight)
