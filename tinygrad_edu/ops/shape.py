"""Shape ops: `reshape`, `transpose`, `broadcast_to`, indexing, `concatenate`, `stack`, `pad`.

Forward results are views where NumPy gives views (reshape, transpose, broadcast_to,
basic indexing), so these ops copy nothing.  Their backward moves the gradient back
to the input's layout.  `squeeze`, `unsqueeze`, `flatten`, `expand` and `permute` are
written in tensor.py with these, and so are PyTorch's `flip`, `repeat`, `split`, `roll`,
`tril`, `diagonal`, `gather`, `scatter_add`, `sort`, `topk` and pad's other modes (slices,
index arrays and broadcasts).  `scatter` (overwriting, not adding) is its own op here.
"""

from ..autograd import Function
from ._helpers import unbroadcast


class Reshape(Function):
    """out = x with a new shape (same elements, same order).  grad: reshaped back."""

    __slots__ = ()
    reads = {"grad_x": "x.shape"}

    def forward(self, x, shape=None):
        return x.reshape(shape)

    def backward(self, xp, grad, out, x):
        return (grad.reshape(x.shape),)


class Transpose(Function):
    """out = x with its axes permuted by `axes`.  grad: permuted back by the inverse."""

    __slots__ = ("axes",)
    reads = {}

    def forward(self, x, axes=None):
        self.axes = tuple(axes)
        return x.transpose(self.axes)

    def backward(self, xp, grad, out, x):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return (grad.transpose(tuple(inverse)),)


class BroadcastTo(Function):
    """out = x repeated (without copying) to `shape`.  grad: summed over the copies."""

    __slots__ = ()
    reads = {"grad_x": "x.shape"}

    def forward(self, x, shape=None):
        return self.xp.broadcast_to(x, shape)

    def backward(self, xp, grad, out, x):
        return (unbroadcast(grad, x.shape),)


class GetItem(Function):
    """out = x[index].   grad: zeros of x's shape with `grad` added at `index`.

    With integer arrays in `index` an element can be picked twice; its gradient is
    then the sum of both picks, so backward adds (`add.at`) rather than assigns.
    """

    __slots__ = ("index", "advanced")
    reads = {"grad_x": "x.shape"}

    def forward(self, x, index=None):
        self.index = index
        self.advanced = _is_advanced(index)
        return x[index]

    def backward(self, xp, grad, out, x):
        if xp is self.xp:  # arrays: scatter directly
            return (scatter_add(xp, grad, x.shape, self.index, self.advanced),)
        # Tensors (create_graph=True): the scatter must itself be a recorded op.
        return (IndexAdd.apply(grad, shape=x.shape, index=self.index, advanced=self.advanced),)


class IndexAdd(Function):
    """out = zeros(shape) with x added at `index` (the backward of indexing).

    d(out)/dx: pick `index` out of the gradient again, i.e. grad[index].
    """

    __slots__ = ("index",)
    reads = {}

    def forward(self, x, shape=None, index=None, advanced=True):
        self.index = index
        return scatter_add(self.xp, x, shape, index, advanced)

    def backward(self, xp, grad, out, x):
        return (grad[self.index],)


def _is_advanced(index):
    """True when `index` holds an integer or boolean array (NumPy "advanced" indexing)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(part, "shape") or isinstance(part, list) for part in parts)


def scatter_add(xp, values, shape, index, advanced):
    """zeros(shape) with `values` added at `index` (repeated indices add up)."""
    result = xp.zeros(shape, dtype=values.dtype)
    if not advanced:  # basic indexing picks each element at most once: assign
        result[index] = values
    elif hasattr(xp.add, "at"):
        xp.add.at(result, index, values)
    else:  # older CuPy: the same operation under another name
        import cupyx

        cupyx.scatter_add(result, index, values)
    return result


class Concatenate(Function):
    """out = the inputs joined along `axis`.  grad: cut back into the inputs' pieces."""

    __slots__ = ("axis", "sizes")
    reads = {}

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]  # where each piece starts and ends
        return self.xp.concatenate(xs, axis=axis)

    def backward(self, xp, grad, out, *xs):
        grads = []
        start = 0
        for size, needed in zip(self.sizes, self.needs_input_grad):
            stop = start + size
            piece = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(grad[piece] if needed else None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """out = the inputs stacked along a new `axis`.  grad: the i-th slice for input i."""

    __slots__ = ("axis",)
    reads = {}

    def forward(self, *xs, axis=0):
        self.axis = axis
        return self.xp.stack(xs, axis=axis)

    def backward(self, xp, grad, out, *xs):
        grads = []
        for i, needed in enumerate(self.needs_input_grad):
            piece = (slice(None),) * self.axis + (i,)
            grads.append(grad[piece] if needed else None)
        return tuple(grads)


class Pad(Function):
    """out = x with constant `value` around it (`pad_width` as in numpy.pad).

    grad: the middle part of the gradient, where x sits.
    """

    __slots__ = ("inner",)
    reads = {}

    def forward(self, x, pad_width=None, value=0):
        self.inner = tuple(
            slice(before, before + size) for (before, _), size in zip(pad_width, x.shape)
        )
        return self.xp.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, xp, grad, out, x):
        return (grad[self.inner],)


class ToDevice(Function):
    """out = x copied to another device.   grad: copied back to x's device."""

    __slots__ = ("source", "target")
    reads = {}

    def forward(self, x, device=None):
        from ..backend import device_of_array

        self.source, self.target = device_of_array(x), device
        return device.from_host(self.source.to_host(x))

    def backward(self, xp, grad, out, x):
        if xp is self.xp:  # arrays: move the gradient's values back
            return (self.source.from_host(self.target.to_host(grad)),)
        return (grad.to(self.source),)  # Tensors: a recorded move


class Scatter(Function):
    """out = x with src written at `index` (a tuple of integer arrays, one per axis, as
    Tensor.scatter builds it): out[index] = src.

    d(out)/dx = 1 where x was kept, 0 where src overwrote it;  d(out)/dsrc picks the
    gradient at `index`: grad_src = grad[index].  Forward keeps the kept-places mask.
    """

    __slots__ = ("index", "kept")
    reads = {}  # the index and the mask on self are all backward needs

    def forward(self, x, src, index=None):
        self.index = index
        out = x.copy()
        out[index] = src
        if self.needs_input_grad[0]:  # only the gradient to x reads it
            kept = self.xp.ones(x.shape, dtype=bool)
            kept[index] = False
            self.kept = kept
        return out

    def backward(self, xp, grad, out, x, src):
        grad_x = grad * self.kept if self.needs_input_grad[0] else None
        grad_src = grad[self.index] if self.needs_input_grad[1] else None
        return grad_x, grad_src

    def release(self):
        self.kept = None
