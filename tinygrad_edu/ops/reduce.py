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
