"""Pooling layers: `MaxPool2d` and `AvgPool2d` (no parameters)."""

from .. import functional as F
from ..module import Module


class _Pool2d(Module):
    """What both pooling layers share: their arguments and how they print."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class MaxPool2d(_Pool2d):
    """Maximum over each kernel_size window of (N, C, H, W), per channel.
    stride defaults to kernel_size (non-overlapping windows); padding reads as -inf;
    dilation spreads the window; ceil_mode=True rounds the output size up (PyTorch's rule)."""

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        if return_indices:  # PyTorch's fifth argument: refuse it rather than misread it
            raise NotImplementedError("MaxPool2d: return_indices=True is not supported")
        self.dilation = dilation

    def forward(self, x):
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    def extra_repr(self):
        text = super().extra_repr()
        return text + (f", dilation={self.dilation}" if self.dilation != 1 else "")


class AvgPool2d(_Pool2d):
    """Mean over each kernel_size window; padding counts as zeros unless
    count_include_pad=False; ceil_mode and divisor_override as PyTorch."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        text = super().extra_repr()
        return text + ("" if self.count_include_pad else ", count_include_pad=False")
