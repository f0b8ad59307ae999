"""Pooling layers: `MaxPool2d` and `AvgPool2d` (no parameters)."""

from .. import functional as F
from ..module import Module


class _Pool2d(Module):
    """What both pooling layers share: their arguments and how they print."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over each kernel_size window of (N, C, H, W), per channel.
    stride defaults to kernel_size (non-overlapping windows); padding reads as -inf."""

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each kernel_size window; padding counts as zeros (PyTorch's default
    count_include_pad=True)."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
