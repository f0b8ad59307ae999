"""Elementwise ops: arithmetic, math functions, activations, `maximum`/`minimum`, `where`.

Each class holds one op's forward (on arrays, with `self.xp`) and its backward.  Every
backward works on arrays and on Tensors alike (autograd.py explains why), and undoes
broadcasting itself with `unbroadcast`.  Composite activations (`gelu`) live in
tensor.py as compositions of these.
"""

import math

from ..autograd import Function
from ._helpers import unbroadcast


class Add(Function):
    """out = x + y.   d(out)/dx = 1,  d(out)/dy = 1."""

    __slots__ = ()
    reads = {"grad_x": "x.shape", "grad_y": "y.shape"}

    def forward(self, x, y):
        return x + y

    def backward(self, xp, grad, out, x, y):
        grad_x = unbroadcast(grad, x.shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(grad, y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


class Sub(Function):
    """out = x - y.   d(out)/dx = 1,  d(out)/dy = -1."""

    __slots__ = ()
    reads = {"grad_x": "x.shape", "grad_y": "y.shape"}

    def forward(self, x, y):
        return x - y

    def backward(self, xp, grad, out, x, y):
        grad_x = unbroadcast(grad, x.shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(-grad, y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


class Mul(Function):
    """out = x * y.   d(out)/dx = y,  d(out)/dy = x."""

    __slots__ = ()
    reads = {"grad_x": "y x.shape", "grad_y": "x y.shape"}

    def forward(self, x, y):
        return x * y

    def backward(self, xp, grad, out, x, y):
        grad_x = unbroadcast(grad * y, x.shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(grad * x, y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


class Div(Function):
    """out = x / y.   d(out)/dx = 1 / y,  d(out)/dy = -x / y**2 = -out / y."""

    __slots__ = ()
    reads = {"grad_x": "y x.shape", "grad_y": "out y"}

    def forward(self, x, y):
        return x / y

    def backward(self, xp, grad, out, x, y):
        grad_x = unbroadcast(grad / y, x.shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(-grad * out / y, y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


class Neg(Function):
    """out = -x.   d(out)/dx = -1."""

    __slots__ = ()
    reads = {}

    def forward(self, x):
        return -x

    def backward(self, xp, grad, out, x):
        return (-grad,)


class Pow(Function):
    """out = x ** y.   d(out)/dx = y * x**(y - 1),  d(out)/dy = out * log(x).

    At x = 0 both formulas meet 0 * inf, where the true derivatives are 0 (as PyTorch):
    x**0 is the constant 1, so d/dx is 0 even at x = 0 (the exponent y - 1 becomes 0
    where y == 0), and 0**y is 0 for every y > 0, so d/dy is 0 (log(x) is taken of 1
    where x == 0).
    """

    __slots__ = ()
    reads = {"grad_x": "x y", "grad_y": "out x y.shape"}

    def forward(self, x, y):
        return x**y

    def backward(self, xp, grad, out, x, y):
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            exponent = y - 1 + (y == 0)  # y - 1, or 0 where y == 0 (then y * ... is 0)
            grad_x = unbroadcast(grad * y * x**exponent, x.shape)
        if self.needs_input_grad[1]:  # defined for x > 0 (and x == 0, y > 0), as in reals
            log_x = xp.log(x + (x == 0))  # log(x), or 0 where x == 0 (then out is 0)
            grad_y = unbroadcast(grad * out * log_x, y.shape)
        return grad_x, grad_y


class Astype(Function):
    """out = x converted to another float dtype.   grad: converted back to x's dtype."""

    __slots__ = ()
    reads = {"grad_x": "x.dtype"}

    def forward(self, x, dtype=None):
        return x.astype(dtype)

    def backward(self, xp, grad, out, x):
        return (grad.astype(x.dtype),)


class Exp(Function):
    """out = exp(x).   d(out)/dx = exp(x) = out."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, xp, grad, out, x):
        return (grad * out,)


class Log(Function):
    """out = log(x) (natural log).   d(out)/dx = 1 / x."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.log(x)

    def backward(self, xp, grad, out, x):
        return (grad / x,)


class Sqrt(Function):
    """out = sqrt(x).   d(out)/dx = 1 / (2 * sqrt(x)) = 1 / (2 * out)."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, xp, grad, out, x):
        return (grad / (out * 2),)


class Abs(Function):
    """out = |x|.   d(out)/dx = sign(x) (0 at x = 0, as PyTorch)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.abs(x)

    def backward(self, xp, grad, out, x):
        return (grad * xp.sign(x),)


class Sin(Function):
    """out = sin(x).   d(out)/dx = cos(x)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, xp, grad, out, x):
        return (grad * xp.cos(x),)


class Cos(Function):
    """out = cos(x).   d(out)/dx = -sin(x)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.cos(x)

    def backward(self, xp, grad, out, x):
        return (-grad * xp.sin(x),)


class Tanh(Function):
    """out = tanh(x).   d(out)/dx = 1 - tanh(x)**2 = 1 - out**2."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, xp, grad, out, x):
        return (grad * (1 - out * out),)


class Sigmoid(Function):
    """out = 1 / (1 + exp(-x)).   d(out)/dx = out * (1 - out)."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        # Written with tanh, which never overflows: exp(-x) does for x < -88 in float32.
        return self.xp.tanh(x * 0.5) * 0.5 + 0.5

    def backward(self, xp, grad, out, x):
        return (grad * out * (1 - out),)


class Relu(Function):
    """out = max(x, 0).   d(out)/dx = 1 where out > 0 (x > 0), else 0 (0 at the kink, as
    PyTorch).  Reads out, not x: the next layer usually keeps out anyway."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, xp, grad, out, x):
        return (grad * (out > 0),)


class LeakyRelu(Function):
    """out = x if x > 0 else slope * x.   d(out)/dx = 1 where x > 0, else slope."""

    __slots__ = ("slope",)
    reads = {"grad_x": "x"}

    def forward(self, x, slope=0.01):
        self.slope = slope
        return self.xp.where(x > 0, x, x * slope)

    def backward(self, xp, grad, out, x):
        positive = (x > 0).astype(grad.dtype)
        return (grad * (positive * (1 - self.slope) + self.slope),)


class Softplus(Function):
    """out = log(1 + exp(beta * x)) / beta, and out = x where beta * x > threshold
    (PyTorch's rule: there the two differ by less than exp(-threshold)).
    d(out)/dx = sigmoid(beta * x), and 1 where beta * x > threshold.

    `logaddexp(0, z)` is the overflow-free form: softplus(1000) = 1000, not inf.
    """

    __slots__ = ("beta", "threshold")
    reads = {"grad_x": "x"}

    def forward(self, x, beta=1.0, threshold=20.0):
        xp = self.xp
        self.beta, self.threshold = beta, threshold
        z = x * beta if beta != 1 else x
        soft = xp.logaddexp(0, z)
        if beta != 1:
            soft = soft / beta
        return xp.where(z > threshold, x, soft)

    def backward(self, xp, grad, out, x):
        z = x * self.beta if self.beta != 1 else x
        linear = z > self.threshold
        sigmoid = xp.tanh(z * 0.5) * 0.5 + 0.5
        return (grad * (sigmoid * ~linear + linear),)


class Erf(Function):
    """out = erf(x).   d(out)/dx = 2 / sqrt(pi) * exp(-x**2).  (Used by exact gelu.)"""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return _erf(self.xp, x)

    def backward(self, xp, grad, out, x):
        return (grad * xp.exp(-(x * x)) * (2 / math.sqrt(math.pi)),)


def _erf(xp, x):
    """erf on any backend: the backend's own `xp.erf` if it has one, cupyx on CuPy,
    SciPy on NumPy when installed, else math.erf element by element (exact, slower)."""
    if hasattr(xp, "erf"):
        return xp.erf(x)
    if xp.__name__ == "cupy":
        from cupyx.scipy.special import erf

        return erf(x)
    try:
        from scipy.special import erf
    except ImportError:
        erf = xp.vectorize(math.erf, otypes=[x.dtype])
    return erf(x).astype(x.dtype, copy=False)


class Clip(Function):
    """out = min(max(x, lo), hi).   d(out)/dx = 1 where lo <= x <= hi, else 0."""

    __slots__ = ("lo", "hi")
    reads = {"grad_x": "x"}

    def forward(self, x, lo=None, hi=None):
        self.lo, self.hi = lo, hi
        return self.xp.clip(x, lo, hi)

    def backward(self, xp, grad, out, x):
        if self.lo is not None:
            grad = grad * (x >= self.lo)
        if self.hi is not None:
            grad = grad * (x <= self.hi)
        return (grad,)


class Maximum(Function):
    """out = max(x, y) elementwise.   d(out)/dx = 1 where x > y, 1/2 at ties, else 0.

    Ties split the gradient evenly, as PyTorch does, so x and y stay symmetric.
    """

    __slots__ = ()
    reads = {"grad_x": "x y", "grad_y": "x y"}

    def forward(self, x, y):
        return self.xp.maximum(x, y)

    def backward(self, xp, grad, out, x, y):
        share_x = (x > y).astype(grad.dtype) + (x == y).astype(grad.dtype) * 0.5
        grad_x = unbroadcast(grad * share_x, x.shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(grad * (1 - share_x), y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


class Minimum(Function):
    """out = min(x, y) elementwise.   d(out)/dx = 1 where x < y, 1/2 at ties, else 0."""

    __slots__ = ()
    reads = {"grad_x": "x y", "grad_y": "x y"}

    def forward(self, x, y):
        return self.xp.minimum(x, y)

    def backward(self, xp, grad, out, x, y):
        share_x = (x < y).astype(grad.dtype) + (x == y).astype(grad.dtype) * 0.5
        grad_x = unbroadcast(grad * share_x, x.shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(grad * (1 - share_x), y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


class Where(Function):
    """out = x where cond else y.   d(out)/dx = cond,  d(out)/dy = not cond.

    `cond` is a boolean array (a parameter, not an input: it has no gradient).
    """

    __slots__ = ("cond",)
    reads = {"grad_x": "x.shape", "grad_y": "y.shape"}

    def forward(self, x, y, cond=None):
        self.cond = cond
        return self.xp.where(cond, x, y)

    def backward(self, xp, grad, out, x, y):
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = unbroadcast(grad * self.cond, x.shape)
        if self.needs_input_grad[1]:
            grad_y = unbroadcast(grad * ~self.cond, y.shape)
        return grad_x, grad_y


# ---- rounding: piecewise constant, so the derivative is 0 (as PyTorch) -------------


class Floor(Function):
    """out = floor(x), the largest integer <= x.   d(out)/dx = 0 (PyTorch's choice; the
    true derivative is 0 between integers and undefined at them)."""

    __slots__ = ()
    reads = {}

    def forward(self, x):
        return self.xp.floor(x)

    def backward(self, xp, grad, out, x):
        return (grad * 0,)


class Ceil(Function):
    """out = ceil(x), the smallest integer >= x.   d(out)/dx = 0 (as Floor)."""

    __slots__ = ()
    reads = {}

    def forward(self, x):
        return self.xp.ceil(x)

    def backward(self, xp, grad, out, x):
        return (grad * 0,)


class Round(Function):
    """out = x rounded to `decimals` places, halves to even (NumPy and PyTorch agree).
    d(out)/dx = 0 (as Floor)."""

    __slots__ = ()
    reads = {}

    def forward(self, x, decimals=0):
        return self.xp.round(x, decimals)

    def backward(self, xp, grad, out, x):
        return (grad * 0,)


class Trunc(Function):
    """out = x with its fractional part dropped (towards 0).   d(out)/dx = 0 (as Floor)."""

    __slots__ = ()
    reads = {}

    def forward(self, x):
        return self.xp.trunc(x)

    def backward(self, xp, grad, out, x):
        return (grad * 0,)


# ---- more math functions ---------------------------------------------------------


class Rsqrt(Function):
    """out = 1 / sqrt(x).   d(out)/dx = -1/2 * x**(-3/2) = -out**3 / 2."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return 1 / self.xp.sqrt(x)

    def backward(self, xp, grad, out, x):
        return (grad * out * out * out * -0.5,)


class Exp2(Function):
    """out = 2**x.   d(out)/dx = 2**x * log(2) = out * log(2)."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return self.xp.exp2(x)

    def backward(self, xp, grad, out, x):
        return (grad * out * math.log(2.0),)


class Log2(Function):
    """out = log2(x).   d(out)/dx = 1 / (x * log(2))."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.log2(x)

    def backward(self, xp, grad, out, x):
        return (grad / (x * math.log(2.0)),)


class Log10(Function):
    """out = log10(x).   d(out)/dx = 1 / (x * log(10))."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.log10(x)

    def backward(self, xp, grad, out, x):
        return (grad / (x * math.log(10.0)),)


class Tan(Function):
    """out = tan(x).   d(out)/dx = 1 / cos(x)**2 = 1 + out**2."""

    __slots__ = ()
    reads = {"grad_x": "out"}

    def forward(self, x):
        return self.xp.tan(x)

    def backward(self, xp, grad, out, x):
        return (grad * (1 + out * out),)


class Asin(Function):
    """out = arcsin(x), for -1 <= x <= 1.   d(out)/dx = 1 / sqrt(1 - x**2)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.arcsin(x)

    def backward(self, xp, grad, out, x):
        return (grad / xp.sqrt(1 - x * x),)


class Acos(Function):
    """out = arccos(x), for -1 <= x <= 1.   d(out)/dx = -1 / sqrt(1 - x**2)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.arccos(x)

    def backward(self, xp, grad, out, x):
        return (-grad / xp.sqrt(1 - x * x),)


class Atan(Function):
    """out = arctan(x).   d(out)/dx = 1 / (1 + x**2)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.arctan(x)

    def backward(self, xp, grad, out, x):
        return (grad / (1 + x * x),)


class Sinh(Function):
    """out = sinh(x) = (exp(x) - exp(-x)) / 2.   d(out)/dx = cosh(x)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.sinh(x)

    def backward(self, xp, grad, out, x):
        return (grad * xp.cosh(x),)


class Cosh(Function):
    """out = cosh(x) = (exp(x) + exp(-x)) / 2.   d(out)/dx = sinh(x)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.cosh(x)

    def backward(self, xp, grad, out, x):
        return (grad * xp.sinh(x),)


class Asinh(Function):
    """out = arcsinh(x).   d(out)/dx = 1 / sqrt(x**2 + 1)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.arcsinh(x)

    def backward(self, xp, grad, out, x):
        return (grad / xp.sqrt(x * x + 1),)


class Acosh(Function):
    """out = arccosh(x), for x >= 1.   d(out)/dx = 1 / sqrt(x**2 - 1)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.arccosh(x)

    def backward(self, xp, grad, out, x):
        return (grad / xp.sqrt(x * x - 1),)


class Atanh(Function):
    """out = arctanh(x), for -1 < x < 1.   d(out)/dx = 1 / (1 - x**2)."""

    __slots__ = ()
    reads = {"grad_x": "x"}

    def forward(self, x):
        return self.xp.arctanh(x)

    def backward(self, xp, grad, out, x):
        return (grad / (1 - x * x),)


class LogAddExp(Function):
    """out = log(exp(x) + exp(y)) (broadcasting).
    d(out)/dx = exp(x - out),  d(out)/dy = exp(y - out)  (the two softmax weights).

    NumPy's logaddexp shifts by the larger input, so logaddexp(1000, 1000) is
    1000 + log(2), not inf; and x - out <= 0, so the derivatives never overflow.
    """

    __slots__ = ()
    reads = {"grad_x": "out x", "grad_y": "out y"}

    def forward(self, x, y):
        return self.xp.logaddexp(x, y)

    def backward(self, xp, grad, out, x, y):
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = unbroadcast(grad * xp.exp(x - out), x.shape)
        if self.needs_input_grad[1]:
            grad_y = unbroadcast(grad * xp.exp(y - out), y.shape)
        return grad_x, grad_y


class Mod(Function):
    """out = x mod y = x - y * floor(x / y): the remainder with the divisor's sign (Python's
    `%`, NumPy's `remainder`, PyTorch's `remainder`).
    d(out)/dx = 1,  d(out)/dy = -floor(x / y)  (0 <= out < y for y > 0; jumps where x/y
    is an integer).
    """

    __slots__ = ()
    reads = {"grad_x": "x.shape", "grad_y": "x y"}

    def forward(self, x, y):
        return self.xp.remainder(x, y)

    def backward(self, xp, grad, out, x, y):
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = unbroadcast(grad, x.shape)
        if self.needs_input_grad[1]:
            quotient = xp.floor_divide(x, y)  # floor(x / y), as remainder used; a constant
            grad_y = unbroadcast(-grad * quotient, y.shape)
        return grad_x, grad_y


class Elu(Function):
    """out = x where x > 0, else alpha * (exp(x) - 1).
    d(out)/dx = 1 where x > 0, else alpha * exp(x) = out + alpha.

    expm1 of min(x, 0): exact near 0, and the branch not taken never overflows.
    """

    __slots__ = ("alpha",)
    reads = {"grad_x": "out x"}

    def forward(self, x, alpha=1.0):
        xp = self.xp
        self.alpha = alpha
        return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)) * alpha)

    def backward(self, xp, grad, out, x):
        slope = (out + self.alpha) * (x <= 0) + (x > 0)
        return (grad * slope,)
