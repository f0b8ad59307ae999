"""Neural-network functions on Tensors, with PyTorch's names and arguments.

    from tinygrad_edu.nn import functional as F
    F.relu(x); F.cross_entropy(logits, target); F.conv2d(x, weight, bias, stride=2)

Most are compositions of the primitive ops (so their gradients, first and second order,
come from ops already checked by gradcheck); convolution and pooling use two extra
primitives, `Im2Col` and its transpose `Col2Im` (tinygrad_edu/ops/nn.py).  Layers in
tinygrad_edu/nn/layers call these.
"""

import math

import numpy

from .. import backend
from ..autograd import host_function, no_grad
from ..ops import elementwise as E
from ..ops import nn as N
from ..ops._helpers import normalize_axis
from ..tensor import (  # noqa: F401  (re-exported: F.cross_entropy is tg.cross_entropy)
    Tensor,
    _any_true,
    _check_indices,
    _outside,
    apply,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    softmax,
    where,
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


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (PyTorch)."""
    return x.softplus(beta=beta, threshold=threshold)


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


def _constant(array, like):
    """A host NumPy array as a constant Tensor on `like`'s device, in its dtype."""
    array = numpy.asarray(array, dtype=like.dtype)
    return Tensor._wrap(like.device.from_host(array), like.device)


def _conv_padding(x, padding, kernel, stride, dilation, op):
    """(x, padding pair): "valid" is no padding; "same" pads so the output keeps the
    input's size (stride 1 only, as PyTorch), putting an odd extra pixel at the end."""
    if not isinstance(padding, str):
        return x, _pair(padding, "padding")
    if padding == "valid":
        return x, (0, 0)
    if padding != "same":
        raise ValueError(f"{op}: padding must be 'same', 'valid' or ints, got {padding!r}")
    if stride != (1, 1):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    if all(total % 2 == 0 for total in totals):
        return x, (totals[0] // 2, totals[1] // 2)
    pads = ((0, 0), (0, 0)) + tuple((t // 2, t - t // 2) for t in totals)
    return x.pad(pads), (0, 0)


def _check_groups(groups, channels, out_channels, op, shapes):
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if channels % groups or out_channels % groups:
        raise ValueError(
            f"{op}: in_channels {channels} and out_channels {out_channels} must both be "
            f"divisible by groups={groups} ({shapes})"
        )


def _positive_pair(value, name, op):
    pair = _pair(value, f"{op}: {name}")
    if 0 in pair:
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return pair


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight
    (O, C // groups, kh, kw), bias (O,) -> (N, O, OH, OW) with
    OH = (H + 2*padding - dilation*(kh - 1) - 1) // stride + 1.  padding may also be
    "valid" (none) or "same" (the output keeps H and W; stride 1).

    im2col: each output pixel's input patch becomes a row, and one matrix product with
    the flattened kernels computes every output pixel at once.  With groups g the C
    channels are cut into g groups, each convolved with its own O // g kernels: the
    patches and kernels are split by group and one batched matrix product does all.
    """
    shapes = f"got x {x.shape} and weight {weight.shape}"
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected x (N, C, H, W) and weight (O, C/groups, kh, kw), {shapes}"
        )
    out_channels, group_channels, kh, kw = weight.shape
    _check_groups(groups, x.shape[1], out_channels, "conv2d", shapes)
    if x.shape[1] != group_channels * groups:
        raise ValueError(
            f"conv2d: x has {x.shape[1]} channels but weight expects "
            f"{group_channels} * groups={groups} = {group_channels * groups}: {shapes}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"conv2d: bias must have shape ({out_channels},), got {bias.shape}")
    stride = _positive_pair(stride, "stride", "conv2d")
    dilation = _positive_pair(dilation, "dilation", "conv2d")
    x, padding = _conv_padding(x, padding, (kh, kw), stride, dilation, "conv2d")
    n = x.shape[0]
    geometry = N._geometry(x.shape, (kh, kw), stride, padding, False, dilation)
    oh, ow = geometry[7], geometry[8]
    cols = apply(N.Im2Col, x, kernel=(kh, kw), stride=stride, padding=padding, dilation=dilation)
    if groups == 1:
        out = cols @ weight.reshape(out_channels, -1).T  # (N*OH*OW, O)
    else:
        rows = cols.shape[0]
        # (groups, rows, C/g*kh*kw) @ (groups, C/g*kh*kw, O/g) -> (groups, rows, O/g)
        cols = cols.reshape(rows, groups, -1).transpose(1, 0, 2)
        kernels = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
        out = (cols @ kernels).transpose(1, 0, 2).reshape(rows, out_channels)
    if bias is not None:
        out = out + bias
    return out.reshape(n, oh, ow, out_channels).transpose(0, 3, 1, 2)


def _single(value, name, op):
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return value


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: x (N, C, L), weight (O, C // groups, k) -> (N, O, L_out), computed
    as conv2d on images of height 1 (same arguments as conv2d, each one number)."""
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(
            f"conv1d: expected x (N, C, L) and weight (O, C/groups, k), got x {x.shape} and "
            f"weight {weight.shape}"
        )
    padding = _single(padding, "padding", "conv1d")
    padding = padding if isinstance(padding, str) else (0, padding)
    out = conv2d(
        x.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        stride=(1, _single(stride, "stride", "conv1d")),
        padding=padding,
        dilation=(1, _single(dilation, "dilation", "conv1d")),
        groups=groups,
    )
    return out.squeeze(2)


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed convolution (the gradient of conv2d with respect to its input):
    x (N, C_in, H, W), weight (C_in, C_out // groups, kh, kw) as PyTorch, bias (C_out,) ->
    (N, C_out, OH, OW), OH = (H - 1)*stride - 2*padding + dilation*(kh - 1)
    + output_padding + 1.

    Each input pixel scatters its C_in values times the kernel into a kh x kw patch of
    the output: one matrix product makes every patch (rows in Im2Col's layout) and Col2Im
    adds the overlapping patches up; padding crops the border of the result.
    """
    shapes = f"got x {x.shape} and weight {weight.shape}"
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv_transpose2d: expected x (N, C_in, H, W) and weight "
            f"(C_in, C_out/groups, kh, kw), {shapes}"
        )
    channels, group_out, kh, kw = weight.shape
    if x.shape[1] != channels:
        raise ValueError(
            f"conv_transpose2d: x has {x.shape[1]} channels but weight has {channels} "
            f"(its first axis): {shapes}"
        )
    _check_groups(groups, channels, group_out * groups, "conv_transpose2d", shapes)
    out_channels = group_out * groups
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(
            f"conv_transpose2d: bias must have shape ({out_channels},), got {bias.shape}"
        )
    stride = _positive_pair(stride, "stride", "conv_transpose2d")
    dilation = _positive_pair(dilation, "dilation", "conv_transpose2d")
    padding = _pair(padding, "conv_transpose2d: padding")
    output_padding = _pair(output_padding, "conv_transpose2d: output_padding")
    if output_padding[0] >= stride[0] or output_padding[1] >= stride[1]:
        raise ValueError(
            f"conv_transpose2d: output_padding {output_padding} must be smaller than "
            f"stride {stride}"
        )
    n, _, h, w = x.shape
    size = [
        (i - 1) * s - 2 * p + d * (k - 1) + extra + 1
        for i, s, p, d, k, extra in zip((h, w), stride, padding, dilation, (kh, kw), output_padding)
    ]
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(
            f"conv_transpose2d: padding {padding} leaves no output ({tuple(size)}) for input "
            f"{x.shape} and kernel {(kh, kw)}"
        )
    rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, channels)  # one row per input pixel
    if groups == 1:
        cols = rows @ weight.reshape(channels, -1)  # (N*H*W, C_out*kh*kw)
    else:
        rows = rows.reshape(n * h * w, groups, -1).transpose(1, 0, 2)
        kernels = weight.reshape(groups, channels // groups, -1)
        cols = (rows @ kernels).transpose(1, 0, 2).reshape(n * h * w, -1)
    # The geometry of the convolution whose input gradient this is: its input is our
    # output (size), its output our input (h, w).
    geometry = (n, out_channels, size[0], size[1], (kh, kw), stride, padding, h, w, False, dilation)
    out = apply(N.Col2Im, cols, geometry=geometry)
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out


def _pool_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's output length of a pooling window along one axis (0: none fits)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1  # // floors, as PyTorch
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the image or its left padding
    return max(out, 0)


def _pool_windows(x, kernel_size, stride, padding, pad_value, ceil_mode=False, dilation=1):
    """(kh*kw, N*C*OH*OW) windows of every channel separately, and the output shape."""
    if x.ndim != 4:
        raise ValueError(f"pooling expects (N, C, H, W), got {x.shape}")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    dilation = _pair(dilation, "dilation")
    if 0 in kernel or 0 in stride or 0 in dilation:
        raise ValueError(
            f"pooling: kernel_size {kernel}, stride {stride} and dilation {dilation} must be "
            "positive"
        )
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"padding {padding} must be at most half of kernel_size {kernel}")
    n, c, h, w = x.shape
    out = [
        _pool_size(size, k, s, p, d, ceil_mode)
        for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)
    ]
    if out[0] <= 0 or out[1] <= 0:
        raise ValueError(
            f"pooling: kernel {kernel} with padding {padding} does not fit an image of size "
            f"{(h, w)}"
        )
    # ceil_mode: the last window may run past the right padding; pad the image so it fits
    extra = [
        max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
        for o, s, d, k, size, p in zip(out, stride, dilation, kernel, (h, w), padding)
    ]
    if extra[0] or extra[1]:
        x = x.pad(((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), pad_value)
    # (kh*kw, N*C*OH*OW): one row per window position, every channel pooled on its own
    cols = apply(
        N.Im2Col,
        x,
        kernel=kernel,
        stride=stride,
        padding=padding,
        pad_value=pad_value,
        windows_first=True,
        dilation=dilation,
    )
    return cols, (n, c, out[0], out[1])


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each kernel_size window (stride defaults to kernel_size); padding
    reads as -inf (the smallest integer for integer tensors), so it is never the maximum.
    ceil_mode=True rounds the output size up, as PyTorch (a last, partial window is kept
    when it starts inside the image or its left padding); dilation spreads the window."""
    lowest = numpy.iinfo(x.dtype).min if x.dtype.kind in "iu" else float("-inf")
    cols, shape = _pool_windows(x, kernel_size, stride, padding, lowest, ceil_mode, dilation)
    return cols.max(axis=0).reshape(shape)


def _avg_divisors(size, kernel, stride, padding, out, count_include_pad):
    """Per output position along one axis, how many elements its window averages over:
    PyTorch's rule (windows are clipped to the padded image; without count_include_pad,
    to the image itself)."""
    counts = []
    for i in range(out):
        start = i * stride - padding
        end = min(start + kernel, size + padding)
        if not count_include_pad:
            start, end = max(start, 0), min(end, size)
        counts.append(end - start)
    return numpy.array(counts)


def avg_pool2d(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over each window.  count_include_pad=True (the default) counts the zero
    padding in the mean; False averages over the image pixels only.  ceil_mode=True
    rounds the output size up (the last window may be partial), as PyTorch;
    divisor_override divides every window's sum by that number instead."""
    cols, shape = _pool_windows(x, kernel_size, stride, padding, 0.0, ceil_mode)
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must not be 0")
        return (cols.sum(axis=0) / divisor_override).reshape(shape)
    if not ceil_mode and (count_include_pad or padding == (0, 0)):
        return cols.mean(axis=0).reshape(shape)  # every window whole: a plain mean
    rows, columns = (
        _avg_divisors(size, k, s, p, o, count_include_pad)
        for size, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, shape[2:])
    )
    if (rows == kernel[0]).all() and (columns == kernel[1]).all():
        return cols.mean(axis=0).reshape(shape)
    divisors = rows[:, None] * columns[None, :]  # (OH, OW), the same for every channel
    return cols.sum(axis=0).reshape(shape) / _constant(divisors, x)


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


def _interpolate_sizes(x, size, scale_factor, recompute_scale_factor):
    """The output sizes and, per axis, the scale PyTorch's index rules use (in / out,
    or 1 / scale_factor when a scale factor is given and not recomputed)."""
    spatial = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * len(spatial) if isinstance(size, int) else tuple(size)
        if len(sizes) != len(spatial) or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(
                f"interpolate: size must be one positive int or {len(spatial)} of them for "
                f"input {x.shape}, got {size!r}"
            )
        return sizes, [i / o for i, o in zip(spatial, sizes)]
    factors = (
        (scale_factor,) * len(spatial)
        if isinstance(scale_factor, (int, float))
        else tuple(scale_factor)
    )
    if len(factors) != len(spatial) or not all(f > 0 for f in factors):
        raise ValueError(
            f"interpolate: scale_factor must be one positive number or {len(spatial)} of them "
            f"for input {x.shape}, got {scale_factor!r}"
        )
    sizes = tuple(int(math.floor(i * f)) for i, f in zip(spatial, factors))
    if 0 in sizes:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives an empty output")
    if recompute_scale_factor:
        return sizes, [i / o for i, o in zip(spatial, sizes)]
    return sizes, [1.0 / f for f in factors]


def _nearest_index(size, out, scale):
    """PyTorch's nearest rule: source index floor(dst * scale), in float32 as PyTorch."""
    if out == size:
        return numpy.arange(out)
    if out == 2 * size:  # PyTorch's shortcut, whatever the scale factor said
        return numpy.arange(out) // 2
    dst = numpy.arange(out, dtype=numpy.float32)
    src = numpy.floor(dst * numpy.float32(scale)).astype(numpy.int64)
    return numpy.minimum(src, size - 1)


def _linear_weights(size, out, scale, align_corners):
    """For linear interpolation along one axis: (low index, high index, weight of high).
    An axis that keeps its size is copied, whatever the scale factor said (PyTorch)."""
    dst = numpy.arange(out, dtype=numpy.float64)
    if out == size:
        return dst.astype(numpy.int64), dst.astype(numpy.int64), numpy.zeros(out)
    if align_corners:
        src = dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        src = numpy.maximum((dst + 0.5) * scale - 0.5, 0.0)  # PyTorch clamps at 0
    low = numpy.minimum(numpy.floor(src).astype(numpy.int64), size - 1)
    high = numpy.minimum(low + 1, size - 1)
    return low, high, src - low


def interpolate(
    x,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
):
    """Resize (N, C, H, W) images (or (N, C, L) signals with mode "nearest"), as PyTorch.

    mode "nearest": output pixel i reads input pixel floor(i * in / out) (or
    floor(i / scale_factor) when scale_factor is given).  mode "bilinear": a weighted
    mean of the 4 nearest pixels; align_corners=True maps the corner pixels onto each
    other (src = i * (in - 1) / (out - 1)), False (the default) maps pixel centres
    (src = (i + 0.5) * in / out - 0.5, clamped at 0).  Built from indexing, so its
    gradient adds each output's gradient back to the pixels it read.
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"interpolate: expected (N, C, L) or (N, C, H, W), got {x.shape}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only works with mode 'bilinear'")
    if mode == "bilinear" and x.ndim != 4:
        raise ValueError(f"interpolate: mode 'bilinear' expects (N, C, H, W), got {x.shape}")
    sizes, scales = _interpolate_sizes(x, size, scale_factor, recompute_scale_factor)
    if mode == "nearest":
        rows = _nearest_index(x.shape[2], sizes[0], scales[0])
        if x.ndim == 3:
            return x[:, :, rows]
        columns = _nearest_index(x.shape[3], sizes[1], scales[1])
        return x[:, :, rows[:, None], columns[None, :]]
    top, bottom, dy = _linear_weights(x.shape[2], sizes[0], scales[0], align_corners)
    left, right, dx = _linear_weights(x.shape[3], sizes[1], scales[1], align_corners)
    # separable: interpolate along H, then along W (4 gathers, weights are constants)
    dy = _constant(dy[:, None], x)
    dx = _constant(dx, x)
    rows = x[:, :, top] * (1 - dy) + x[:, :, bottom] * dy
    return rows[:, :, :, left] * (1 - dx) + rows[:, :, :, right] * dx


def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad: `pad` lists (before, after) widths starting from the LAST axis,
    (left, right, top, bottom, ...), as torch.nn.functional.pad.  (Tensor.pad takes
    numpy.pad's pad_width instead, one pair per axis from the first.)  Negative widths
    crop; mode "constant" (with value, default 0), "reflect", "replicate", "circular"."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: pad {pad} must hold (before, after) pairs for at most the {input.ndim} "
            f"axes of a tensor of shape {input.shape}, last axis first"
        )
    pairs = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        pairs[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return input.pad(tuple(pairs), value=0.0 if value is None else value, mode=mode)


@host_function  # reads the values: tg.jit checks again on every replay
def _check_classes(values, num_classes):
    if _outside(values, 0, num_classes):
        raise ValueError(
            f"one_hot: class values must lie in [0, {num_classes}), got values from "
            f"{int(values.min())} to {int(values.max())}"
        )


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape tensor.shape + (num_classes,) with a 1 at each value's class
    (no graph).  num_classes=-1 means max(tensor) + 1, as PyTorch."""
    if not isinstance(tensor, Tensor):
        tensor = Tensor(tensor)
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs an integer tensor of classes, got dtype {tensor.dtype}")
    values = tensor.data
    if num_classes == -1:
        if values.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(values.max()) + 1
    _check_classes(values, num_classes)
    classes = tensor.xp.arange(num_classes)
    hot = (values[..., None] == classes).astype(numpy.int64)
    return Tensor._wrap(hot, tensor.device)


def _attention_mask(attn_mask, is_causal, scores):
    """The mask as (keep, add): a boolean device array (True = take part) or a float Tensor
    to add to the scores; at most one of them is not None."""
    length, source = scores.shape[-2], scores.shape[-1]
    xp = scores.xp
    if is_causal:
        if attn_mask is not None:
            raise ValueError(
                "scaled_dot_product_attention: give attn_mask or is_causal=True, not both "
                "(as PyTorch)"
            )
        # PyTorch's rule for L x S: query i sees keys 0..i (aligned at the top left)
        return xp.tril(xp.ones((length, source), dtype=bool)), None
    if attn_mask is None:
        return None, None
    mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(attn_mask, device=scores.device)
    try:
        numpy.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise ValueError(
            f"scaled_dot_product_attention: attn_mask of shape {mask.shape} does not "
            f"broadcast to the scores' shape {scores.shape} (..., L, S)"
        ) from None
    if mask.dtype == bool:
        return mask.data, None
    if mask.dtype.kind != "f":
        raise TypeError(
            f"scaled_dot_product_attention: attn_mask must be bool (True = take part) or "
            f"float (added to the scores), got dtype {mask.dtype}"
        )
    if mask.dtype != scores.dtype:
        mask = mask.astype(scores.dtype)
    return None, mask


def _attention(query, key, value, attn_mask, dropout_p, is_causal, scale):
    """scaled_dot_product_attention that also returns the attention weights (for
    nn.MultiheadAttention's need_weights)."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise ValueError(
                f"scaled_dot_product_attention: {name} must be a Tensor of shape (..., len, dim), "
                f"got {getattr(t, 'shape', type(t).__name__)}"
            )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: expected query (..., L, E), key (..., S, E) and "
            f"value (..., S, Ev), got query {query.shape}, key {key.shape}, value {value.shape}"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(
            f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}"
        )
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = (query @ key.swapaxes(-2, -1)) * scale  # (..., L, S)
    keep, add = _attention_mask(attn_mask, is_causal, scores)
    if add is not None:
        scores = scores + add
    if keep is not None:
        # A left-out score becomes -inf: softmax gives it weight exactly 0, and softmax's
        # backward, out * (grad - sum(grad * out)), gives it gradient exactly 0 too.
        scores = where(keep, scores, float("-inf"))
    # A row with every score -inf (nothing to attend to) would be 0/0 = NaN.  PyTorch
    # returns zeros there, with zero gradients; so do we: softmax a row of zeros instead
    # and zero its weights (docs/attention.md).  A causal row always keeps key 0; a
    # boolean mask tells its empty rows itself (it is smaller than the scores).
    dead = None
    if add is not None:
        dead = scores.xp.all(scores.data == float("-inf"), axis=-1, keepdims=True)
    elif keep is not None and not is_causal:
        dead = ~scores.xp.any(keep, axis=-1, keepdims=True)
    if dead is not None and not _any_true(dead):
        dead = None
    if dead is not None:
        scores = where(dead, 0.0, scores)
    weights = scores.softmax(axis=-1)
    if dead is not None:
        weights = where(dead, 0.0, weights)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value, weights


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    """softmax(query @ key^T * scale + mask) @ value, as PyTorch's function of that name.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading
    (batch, head) axes broadcast.  scale defaults to 1 / sqrt(E).
    attn_mask: boolean (True = this query may attend to this key; False scores become
    -inf) or float (added to the scores), broadcasting to (..., L, S).
    is_causal: query i attends to keys 0..i only (a lower-triangular L x S mask, aligned
    at the top left as in PyTorch); it cannot be combined with attn_mask.
    dropout_p: dropout on the attention weights; applied whenever dropout_p > 0 (as in
    PyTorch, the function does not know about train/eval: pass 0.0 when evaluating).
    A query row whose keys are all masked out gives zeros, and zero gradients, as PyTorch.

    A composition of matmul, softmax and where, so its gradients (first and second order)
    are those of ops already checked; docs/attention.md walks through its backward.
    """
    out, _ = _attention(query, key, value, attn_mask, dropout_p, is_causal, scale)
    return out


# ---- more activations: compositions of the ops above, except `elu` (op: Elu) -------

_SELU_ALPHA = 1.6732632423543772848170429916717  # the constants of Klambauer et al. 2017
_SELU_SCALE = 1.0507009873554804934193349852946


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * x.sigmoid()


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1) (op: Elu, exact near 0 and overflow-free)."""
    return apply(E.Elu, x, alpha=alpha)


def selu(x):
    """scale * elu(x, alpha) with PyTorch's fixed alpha and scale."""
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def celu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x / alpha) - 1), i.e. alpha * elu(x / alpha)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return elu(x / alpha, 1.0) * alpha


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    return x.clip(min_val, max_val)


def relu6(x):
    """min(max(x, 0), 6)."""
    return x.clip(0.0, 6.0)


def hardsigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, a straight line between."""
    return (x * (1 / 6) + 0.5).clip(0.0, 1.0)


def hardswish(x):
    """x * hardsigmoid(x)."""
    return x * hardsigmoid(x)


def mish(x):
    """x * tanh(softplus(x))."""
    return x * x.softplus().tanh()


def softsign(x):
    """x / (1 + |x|)."""
    return x / (x.abs() + 1)


def logsigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), finite for any x (log of a rounded 0 is not)."""
    return -((-x).softplus())


def softmin(x, dim=-1):
    """softmax(-x) along `dim`: the smallest values get the largest weights."""
    normalize_axis(dim, x.ndim, "softmin")
    return (-x).softmax(dim)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along `dim`: unit vectors (PyTorch's F.normalize)."""
    normalize_axis(dim, x.ndim, "normalize")
    if p == float("inf"):
        norm = x.abs().max(axis=dim, keepdims=True)
    elif p == 2:
        norm = (x * x).sum(axis=dim, keepdims=True).sqrt()
    elif p > 0:
        norm = (x.abs() ** p).sum(axis=dim, keepdims=True) ** (1.0 / p)
    else:
        raise ValueError(f"normalize: p must be positive (or inf), got {p!r}")
    return x / norm.maximum(eps)
