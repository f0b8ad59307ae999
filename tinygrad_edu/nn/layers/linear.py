"""`Linear` (y = x W^T + b) and `Identity`, as in PyTorch's torch/nn/modules/linear.py."""

import math

from ... import creation
from .. import functional as F
from .. import init
from ..module import Module, Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer)."""

    def forward(self, x):
        return x


class Linear(Module):
    """y = x @ weight.T + bias.

    Linear(in_features, out_features, bias=True, device=None, dtype=None)
    weight: (out_features, in_features), bias: (out_features,), both drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) as in PyTorch (kaiming_uniform_ with
    a = sqrt(5) gives exactly this bound).  x: (..., in_features) -> (..., out_features).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        shape = (out_features, in_features)
        self.weight = Parameter(creation.zeros(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
