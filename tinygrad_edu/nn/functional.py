"""Neural-network functions on Tensors, with PyTorch's names and arguments.

    from tinygrad_edu.nn import functional as F
    F.relu(x); F.cross_entropy(logits, target); F.conv2d(x, weight, bias, stride=2)

Most are compositions of the primitive ops (so their gradients, first and second order,
come from ops already checked by gradcheck); convolution and pooling use two extra
primitives, `Im2Col` and its transpose `Col2Im` (tinygrad_edu/ops/nn.py).  Layers in
tinygrad_edu/nn/layers call these.
"""

import numpy

from .. import backend
from ..autograd import no_grad
from ..ops import nn as N
from ..tensor import (  # noqa: F401  (re-exported: F.cross_entropy is tg.cross_entropy)
    Tensor,
    _check_indices,
    apply,
    binary_cross_entropy_with_logits,
    cross_entropy,
    linear,
    log_softmax,
    mse_loss,
    softmax,
)


def relu(x):
    return x.relu()


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def gelu(x, approximate="none"):
    return x.gelu(approximate=approximate)


def leaky_relu(x, negative_slope=0.01):
    return x.leaky_relu(negative_slope)


def softplus(x):
    return x.softplus()


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training
    only; the identity in eval mode).  The mask comes from the seeded generator of x's
    device, so `tg.manual_seed` makes it reproducible."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = backend.generator(x.device).random(x.shape) >= p
    scale = (keep / (1.0 - p)).astype(x.dtype)
    return x * Tensor._wrap(x.device.from_host(scale), x.device)


def _pair(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 0 for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints >= 0, got {value!r}")
    return pair


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C, kh, kw),
    bias (O,) -> (N, O, OH, OW) with OH = (H + 2*padding - kh) // stride + 1.

    im2col: each output pixel's input patch becomes a row, and one matrix product with
    the flattened kernels computes every output pixel at once.
    """
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d: expected x (N, C, H, W) and weight (O, C, kh, kw) with the same C, "
            f"got x {x.shape} and weight {weight.shape}"
        )
    n = x.shape[0]
    out_channels, _, kh, kw = weight.shape
    cols = apply(
        N.Im2Col,
        x,
        kernel=(kh, kw),
        stride=_pair(stride, "stride"),
        padding=_pair(padding, "padding"),
    )
    out = cols @ weight.reshape(out_channels, -1).T  # (N*OH*OW, O)
    if bias is not None:
        out = out + bias
    oh_ow = out.shape[0] // n if n else 0
    geometry = N._geometry(x.shape, (kh, kw), _pair(stride, "stride"), _pair(padding, "padding"))
    oh, ow = geometry[7], geometry[8]
    assert oh * ow == oh_ow
    return out.reshape(n, oh, ow, out_channels).transpose(0, 3, 1, 2)


def _pool_windows(x, kernel_size, stride, padding, pad_value):
    """(kh*kw, N*C*OH*OW) windows of every channel separately, and the output shape."""
    if x.ndim != 4:
        raise ValueError(f"pooling expects (N, C, H, W), got {x.shape}")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"padding {padding} must be at most half of kernel_size {kernel}")
    n, c, h, w = x.shape
    geometry = N._geometry(x.shape, kernel, stride, padding)
    # (kh*kw, N*C*OH*OW): one row per window position, every channel pooled on its own
    cols = apply(
        N.Im2Col,
        x,
        kernel=kernel,
        stride=stride,
        padding=padding,
        pad_value=pad_value,
        windows_first=True,
    )
    return cols, (n, c, geometry[7], geometry[8])


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each kernel_size window (stride defaults to kernel_size); padding
    reads as -inf (the smallest integer for integer tensors), so it is never the maximum."""
    lowest = numpy.iinfo(x.dtype).min if x.dtype.kind in "iu" else float("-inf")
    cols, shape = _pool_windows(x, kernel_size, stride, padding, lowest)
    return cols.max(axis=0).reshape(shape)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window; padding counts as zeros (PyTorch's count_include_pad=True)."""
    cols, shape = _pool_windows(x, kernel_size, stride, padding, 0.0)
    return cols.mean(axis=0).reshape(shape)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) axes to mean 0 and variance 1 (biased
    variance, as PyTorch), then scale by weight and shift by bias."""
    normalized_shape = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    if x.shape[x.ndim - len(normalized_shape) :] != normalized_shape:
        raise ValueError(
            f"layer_norm: input {x.shape} does not end with normalized_shape {normalized_shape}"
        )
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(
    x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """Normalise each channel (axis 1) over the batch (and spatial) axes.

    training: use the batch's mean and biased variance, and update the running
    estimates in place: running = (1 - momentum) * running + momentum * batch, with the
    unbiased variance (as PyTorch).  eval: use the running estimates.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // channels
        if count <= 1:
            raise ValueError(
                f"batch_norm in training needs more than one value per channel, got {x.shape}"
            )
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            with no_grad():
                unbiased = var.reshape(channels) * (count / (count - 1))
                running_mean *= 1 - momentum
                running_mean += mean.reshape(channels).detach() * momentum
                running_var *= 1 - momentum
                running_var += unbiased.detach() * momentum
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in eval mode needs running_mean and running_var")
        mean = running_mean.reshape(shape)
        centered = x - mean
        var = running_var.reshape(shape)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def embedding(indices, weight):
    """Rows of `weight` (num_embeddings, dim) picked by integer `indices` of any shape:
    the result has shape indices.shape + (dim,).  Repeated indices add their gradients."""
    if not isinstance(indices, Tensor):
        indices = Tensor(indices, device=weight.device)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    rows = weight.shape[0]
    _check_indices(indices.data, rows, "embedding: indices", "the rows of the weight")
    return weight[indices]
