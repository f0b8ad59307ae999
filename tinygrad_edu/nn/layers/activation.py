"""Activation layers: `ReLU Tanh Sigmoid LeakyReLU GELU Softmax LogSoftmax`, and `SiLU ELU
SELU CELU ReLU6 Hardtanh Hardsigmoid Hardswish Mish Softsign LogSigmoid Softmin`.

Each is a thin Module around the function of the same name in nn/functional.py, so it
can sit in a `Sequential`; none has parameters.
"""

from .. import functional as F
from ..module import Module


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x) (Phi: the standard normal CDF); approximate="tanh" for the tanh form."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (PyTorch's name for NumPy's axis)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along `dim`, computed stably."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x):
        return F.silu(x)


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SELU(Module):
    """scale * elu(x, alpha) with fixed alpha and scale (self-normalising networks)."""

    def forward(self, x):
        return F.selu(x)


class CELU(Module):
    """x where x > 0, else alpha * (exp(x / alpha) - 1)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.celu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class ReLU6(Module):
    """min(max(x, 0), 6)."""

    def forward(self, x):
        return F.relu6(x)


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} is greater than max_val {max_val}")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Hardsigmoid(Module):
    """relu6(x + 3) / 6."""

    def forward(self, x):
        return F.hardsigmoid(x)


class Hardswish(Module):
    """x * relu6(x + 3) / 6."""

    def forward(self, x):
        return F.hardswish(x)


class Mish(Module):
    """x * tanh(softplus(x))."""

    def forward(self, x):
        return F.mish(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x):
        return F.softsign(x)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably."""

    def forward(self, x):
        return F.logsigmoid(x)


class Softmin(Module):
    """softmax(-x) along `dim`."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
