"""Reductions: `sum`, `max`, `min`, `logsumexp` over `axis` (None, int or tuple).

`mean` and `var` are compositions of these (tensor.py).  A reduction's backward puts
the removed axes back (`expand_reduced`) and broadcasts the gradient to the input.
"""

from ..autograd import Function
from ._helpers import expand_reduced, normalize_axis


class Sum(Function):
    """out = sum of x over `axes`.   d(out)/dx = 1 for every summed element."""

    __slots__ = ("axes", "keepdims")
    reads = {"grad_x": "x.shape"}

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "sum")
        self.keepdims = keepdims
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, xp, grad, out, x):
        grad = expand_reduced(grad, x.shape, self.axes, self.keepdims)
        return (xp.broadcast_to(grad, x.shape),)


class Max(Function):
    """out = max of x over `axes`.   d(out)/dx = 1 at the maximum, 0 elsewhere.

    Several equal maxima share the gradient evenly (the subgradient NumPy users and
    PyTorch's `amax` agree on).  Backward reads only where the maxima are, so forward keeps
    that as a boolean mask (`hit`, one byte per element), not x (as PyTorch's max-pool
    keeps indices).
    """

    __slots__ = ("axes", "keepdims", "hit")
    reads = {}  # the mask on self is all backward needs

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "max")
        if x.size == 0:
            raise ValueError(f"max of an empty tensor of shape {x.shape} has no value")
        self.keepdims = keepdims
        peak = x.max(axis=self.axes, keepdims=True)
        if True in self.needs_input_grad:  # only backward reads it
            self.hit = x == peak
        return peak if keepdims else _drop_axes(peak, self.axes)

    def backward(self, xp, grad, out, x):
        return (_extremum_grad(grad, self.hit, self.axes, self.keepdims),)

    def release(self):
        self.hit = None


class Min(Function):
    """out = min of x over `axes`.   d(out)/dx = 1 at the minimum, 0 elsewhere (ties
    share it).  Keeps a boolean mask of where the minima are, as Max does."""

    __slots__ = ("axes", "keepdims", "hit")
    reads = {}  # the mask on self is all backward needs

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "min")
        if x.size == 0:
            raise ValueError(f"min of an empty tensor of shape {x.shape} has no value")
        self.keepdims = keepdims
        low = x.min(axis=self.axes, keepdims=True)
        if True in self.needs_input_grad:  # only backward reads it
            self.hit = x == low
        return low if keepdims else _drop_axes(low, self.axes)

    def backward(self, xp, grad, out, x):
        return (_extremum_grad(grad, self.hit, self.axes, self.keepdims),)

    def release(self):
        self.hit = None


def _drop_axes(array, axes):
    """`array` reduced with keepdims=True, without the reduced axes."""
    return array.reshape(tuple(s for i, s in enumerate(array.shape) if i not in axes))


def _extremum_grad(grad, hit, axes, keepdims):
    """Send `grad` to the elements where `hit` (the extrema), split evenly among ties.
    `hit` is a boolean array, also under create_graph (no gradient flows through it)."""
    grad = expand_reduced(grad, hit.shape, axes, keepdims)
    ties = hit.sum(axis=axes, keepdims=True, dtype=grad.dtype)
    return (grad / ties) * hit


class LogSumExp(Function):
    """out = log(sum(exp(x))) over `axes`.   d(out)/dx = exp(x - out) (the softmax).

    Computed as m + log(sum(exp(x - m))) with m the maximum, so large x never overflow.
    """

    __slots__ = ("axes", "keepdims")
    reads = {"grad_x": "out x"}

    def forward(self, x, axis=None, keepdims=False):
        xp = self.xp
        self.axes = normalize_axis(axis, x.ndim, "logsumexp")
        self.keepdims = keepdims
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf: keep -inf, not NaN
        out = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        if not keepdims:
            out = out.reshape([s for i, s in enumerate(x.shape) if i not in self.axes])
        return out

    def backward(self, xp, grad, out, x):
        out = expand_reduced(out, x.shape, self.axes, self.keepdims)
        grad = expand_reduced(grad, x.shape, self.axes, self.keepdims)
        return (grad * xp.exp(x - out),)


class Prod(Function):
    """out = product of x over `axes`.
    d(out)/dx_i = the product of the other elements of x_i's group.

    Never out / x_i: that is 0/0 where x_i = 0.  The product of the others is the
    product of the elements before x_i times the product of those after it, two
    cumulative products (see `_product_of_others`), exact with one zero or several.
    """

    __slots__ = ("axes", "keepdims")
    reads = {"grad_x": "x"}

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "prod")
        self.keepdims = keepdims
        return self.xp.prod(x, axis=self.axes, keepdims=keepdims)

    def backward(self, xp, grad, out, x):
        grad = expand_reduced(grad, x.shape, self.axes, self.keepdims)
        others = _product_of_others(xp, x, self.axes, xp is self.xp)
        if others is None:  # groups of one element (or none): d(out)/dx = 1
            return (xp.broadcast_to(grad, x.shape),)
        return (grad * others,)


def _product_of_others(xp, x, axes, on_arrays):
    """For every element of x, the product of the other elements of its group (the
    elements `axes` reduce together), without dividing; None for groups of size <= 1.

    The reduced axes are moved to the end and flattened to one axis of length n; then
    others[j] = (x[0] * ... * x[j-1]) * (x[j+1] * ... * x[n-1]), each factor a cumulative
    product with a 1 put in front.  Works on arrays and, for create_graph, on Tensors.
    """
    kept = tuple(a for a in range(x.ndim) if a not in axes)
    order = kept + tuple(axes)
    n = 1
    for a in axes:
        n *= x.shape[a]
    if n <= 1 or x.size == 0:
        return None
    moved = x.transpose(order)
    rows = moved.reshape(tuple(x.shape[a] for a in kept) + (n,))
    before = xp.cumprod(rows[..., :-1], axis=-1)  # x[0] * ... * x[j-1], for j >= 1
    after = xp.cumprod(rows[..., :0:-1], axis=-1)[..., ::-1]  # x[j+1] * ... , for j < n-1
    if on_arrays:
        one = xp.ones(rows.shape[:-1] + (1,), dtype=x.dtype)
        before = xp.concatenate([one, before], axis=-1)
        after = xp.concatenate([after, one], axis=-1)
    else:  # Tensors: pad is the recorded op
        lead = ((0, 0),) * (rows.ndim - 1)
        before = before.pad(lead + ((1, 0),), 1.0)
        after = after.pad(lead + ((0, 1),), 1.0)
    others = (before * after).reshape(moved.shape)
    inverse = tuple(order.index(a) for a in range(x.ndim))
    return others.transpose(inverse)


def _reversed(axis):
    """The index that reverses `axis` (a view, on arrays and Tensors alike)."""
    return (slice(None),) * axis + (slice(None, None, -1),)


class Cumsum(Function):
    """out[i] = x[0] + ... + x[i] along `axis`.
    d(out)/dx: dL/dx[j] = grad[j] + grad[j+1] + ... , the cumulative sum of grad taken
    from the end."""

    __slots__ = ("axis",)
    reads = {}

    def forward(self, x, axis=0):
        self.axis = axis
        return self.xp.cumsum(x, axis=axis)

    def backward(self, xp, grad, out, x):
        flip = _reversed(self.axis)
        return (xp.cumsum(grad[flip], axis=self.axis)[flip],)


class Cumprod(Function):
    """out[i] = x[0] * ... * x[i] along `axis`.
    d(out)/dx: dL/dx[j] = sum over i >= j of grad[i] * (product of x[0..i] but x[j]).

    Before the first zero of a row that is (cumsum from the end of grad * out) / x[j]
    (PyTorch's formula; x[j] != 0 there).  At the first zero x[k] the same sum is taken
    with x[k] replaced by the constant 1, and after it every product holds x[k] = 0, so
    the gradient is 0.  Values too small to divide by (below the smallest normal float,
    where grad * out underflows) count as zeros.  Forward notes where those places are
    (`before`, `first`), only when a row holds such a value.  With create_graph=True
    backward takes every product directly instead (`_cumprod_grad_by_products`), so that
    second derivatives are right at zeros too.
    """

    __slots__ = ("axis", "before", "first")
    reads = {"grad_x": "out x"}

    def forward(self, x, axis=0):
        xp = self.xp
        self.axis = axis
        self.before = self.first = None
        if x.dtype.kind == "f" and True in self.needs_input_grad:  # only backward reads them
            zero = xp.abs(x) < xp.finfo(x.dtype).tiny
            if bool(zero.any()):
                seen = xp.cumsum(zero, axis=axis)  # zeros so far along the axis, this one too
                self.before = seen == 0
                self.first = zero & (seen == 1)
        return xp.cumprod(x, axis=axis)

    def backward(self, xp, grad, out, x):
        if xp is not self.xp:  # Tensors (create_graph=True): a formula that divides by nothing
            return (_cumprod_grad_by_products(self.xp, grad, x, self.axis),)
        flip = _reversed(self.axis)
        total = xp.cumsum((grad * out)[flip], axis=self.axis)[flip]
        if self.before is None:  # no zero in x
            return (total / x,)
        before, first = self.before, self.first
        grad_x = total / (x * before + ~before) * before  # divides by 1 from a zero on
        kept = x * ~first + first  # the first zero replaced by the constant 1
        skipped = xp.cumprod(kept, axis=self.axis)
        at_zero = xp.cumsum((grad * skipped)[flip], axis=self.axis)[flip]
        return (grad_x + at_zero * first,)

    def release(self):
        self.before = self.first = None


def _cumprod_grad_by_products(xp, grad, x, axis):
    """Cumprod's gradient on Tensors, for create_graph: sum over i >= j of grad[i] *
    (product of x[0..i] but x[j]), each product taken directly in an n x n table per row.

    O(n**2) memory, but no division: its own derivatives are right at zeros and near
    them (where the quotient's would cancel), so second derivatives are exact.  `xp` is
    the module of the arrays (for the constant tables).
    """
    n = x.shape[axis]
    eye = xp.eye(n, dtype=x.dtype)
    row = x.swapaxes(axis, -1).unsqueeze(-2)  # (..., 1, n): x[k] along the last axis
    table = row * (1 - eye) + eye  # [j, k]: x[k], and 1 where k == j
    products = table.cumprod(-1)  # [j, i]: product of x[0..i] but x[j]
    upper = xp.triu(xp.ones((n, n), dtype=x.dtype))  # [j, i]: 1 where i >= j
    weights = grad.swapaxes(axis, -1).unsqueeze(-2) * upper  # [j, i]: grad[i] where i >= j
    return (products * weights).sum(axis=-1).swapaxes(axis, -1)


class LogCumSumExp(Function):
    """out[i] = log(exp(x[0]) + ... + exp(x[i])) along `axis`.
    d(out)/dx: dL/dx[j] = sum over i >= j of grad[i] * exp(x[j] - out[i]).

    Forward: NumPy's `logaddexp.accumulate`, stable at every position (a single shift by
    the maximum would underflow the early terms of [-1000, 0] to log(0)).  Backward takes
    the sum in log space, positive and negative parts of grad apart (as PyTorch):
    exp(x[j] + logcumsumexp from the end of (log|grad| - out)), so no exp overflows.
    """

    __slots__ = ("axis",)
    reads = {"grad_x": "out x"}

    def forward(self, x, axis=0):
        self.axis = axis
        return _logcumsumexp(self.xp, x, axis)

    def backward(self, xp, grad, out, x):
        flip = _reversed(self.axis)
        log_size = xp.log(xp.abs(grad) + (grad == 0)) - out  # log|grad| - out; 0 for grad 0
        parts = []
        for skip in (grad <= 0, grad >= 0):  # the positive part of grad, then the negative
            # a far-away finite log (not -inf, whose differences are NaN) for skipped places
            shifted = log_size + skip.astype(grad.dtype) * _FAR
            if xp is self.xp:
                summed = _logcumsumexp(xp, shifted[flip], self.axis)[flip]
            else:  # Tensors (create_graph=True): the recorded op
                summed = shifted[flip].logcumsumexp(self.axis)[flip]
            parts.append(xp.exp(summed + x))
        return (parts[0] - parts[1],)


_FAR = -1e30  # a log-weight whose exp is 0 in float32 and float64


def _logcumsumexp(xp, x, axis):
    """Stable log(cumsum(exp(x))) along `axis` on the backend's arrays."""
    try:
        return xp.logaddexp.accumulate(x, axis=axis)
    except (AttributeError, NotImplementedError, TypeError):
        # A backend without ufunc.accumulate for logaddexp (some CuPy versions): shift by
        # the maximum, so nothing overflows (terms far below the maximum may underflow).
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        return xp.log(xp.cumsum(xp.exp(x - m), axis=axis)) + m
