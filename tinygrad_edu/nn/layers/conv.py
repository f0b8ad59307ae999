"""Convolution layers (cross-correlation, as PyTorch): `Conv2d`, `Conv1d`, and
`ConvTranspose2d` (the gradient of a convolution with respect to its input)."""

import math

from ... import creation
from .. import functional as F
from .. import init
from ..module import Module, Parameter


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


class Conv2d(Module):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, device=None, dtype=None).

    x (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H + 2*padding - dilation*(kh - 1) - 1) // stride + 1.
    weight: (out_channels, in_channels // groups, kh, kw), bias: (out_channels,); both
    drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels // groups *
    kh * kw (PyTorch's default).  kernel_size, stride, padding and dilation: an int or a
    pair (rows, columns); padding may also be "same" or "valid".
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_channels(type(self).__name__, in_channels, out_channels, groups)
        _check_padding(type(self).__name__, padding, stride, padding_mode)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.zeros(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.zeros(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


def _check_channels(layer, in_channels, out_channels, groups):
    F._check_groups(groups, in_channels, out_channels, layer, "at construction")


def _check_padding(layer, padding, stride, padding_mode):
    """PyTorch's checks at construction: only zero padding here, and "same" needs stride 1."""
    if padding_mode != "zeros":
        raise NotImplementedError(f"{layer}: only padding_mode='zeros' is supported")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be 'same', 'valid' or ints, got {padding!r}")
        if padding == "same" and _pair(stride) not in ((1, 1), (1,)):
            raise ValueError(f"{layer}: padding='same' is not supported for strided convolutions")


class Conv1d(Conv2d):
    """Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, device=None, dtype=None): x (N, C_in, L) -> (N, C_out, L_out).

    weight (out_channels, in_channels // groups, k) and bias (out_channels,) as PyTorch,
    initialised as PyTorch does; each argument is one int (padding also "same"/"valid").
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        padding = F._single(padding, "padding", "Conv1d")  # a string stays as it is
        padding = padding if isinstance(padding, str) else (0, padding)
        super().__init__(
            in_channels,
            out_channels,
            (1, F._single(kernel_size, "kernel_size", "Conv1d")),
            (1, F._single(stride, "stride", "Conv1d")),
            padding,
            (1, F._single(dilation, "dilation", "Conv1d")),
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )
        # PyTorch's shapes and arguments: a (O, C/g, k) weight, one number per argument
        self.weight.data = self.weight.data.reshape(self.weight.shape[:2] + (-1,))
        self.kernel_size = self.kernel_size[1:]
        self.stride = self.stride[1:]
        self.padding = padding if isinstance(padding, str) else padding[1:]
        self.dilation = self.dilation[1:]

    def forward(self, x):
        return F.conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self):
        return super().extra_repr().replace(", padding=(0,)", "").replace(", dilation=(1,)", "")


class ConvTranspose2d(Module):
    """ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, device=None, dtype=None).

    x (N, C_in, H, W) -> (N, C_out, H_out, W_out), H_out = (H - 1)*stride - 2*padding +
    dilation*(kh - 1) + output_padding + 1: the shape a Conv2d with these arguments maps
    back to H.  weight: (in_channels, out_channels // groups, kh, kw) as PyTorch, bias:
    (out_channels,), initialised as PyTorch does (fan_in from the weight's axis 1).
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_channels(type(self).__name__, in_channels, out_channels, groups)
        _check_padding(type(self).__name__, 0, 1, padding_mode)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.output_padding = _pair(output_padding)
        self.groups = groups
        self.dilation = _pair(dilation)
        shape = (in_channels, out_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.zeros(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.zeros(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        Conv2d.reset_parameters(self)  # the same rule; fan_in comes from weight's axis 1

    def forward(self, x):
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        for name, default in (
            ("padding", (0, 0)),
            ("output_padding", (0, 0)),
            ("dilation", (1, 1)),
        ):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
