"""Weight initialisation, with PyTorch's names and formulas (`torch.nn.init`).

Each function fills a tensor in place and returns it: `nn.init.xavier_uniform_(w)`.
Random values are drawn on the host from `backend.generator(t.device)`, the seeded
generator every random factory uses, then moved to the tensor's device; so
`tg.manual_seed(n)` makes a model's initial weights reproducible on every device.

Writing `.data` directly records nothing in the graph (PyTorch runs its init under
no_grad for the same reason); the tensor's version is bumped, so a graph that saved
the old values fails clearly at backward instead of giving a wrong gradient.

The formulas (fan_in / fan_out as in `_calculate_fan_in_and_fan_out` below):
    xavier_uniform_: U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_:  N(0, std), std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_: U(-b, b), b = gain * sqrt(3 / fan),  gain = calculate_gain(nonlinearity, a)
    kaiming_normal_:  N(0, std), std = gain / sqrt(fan)
"""

import math

import numpy

from .. import backend


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for weights feeding `nonlinearity` (PyTorch's table):
    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + negative_slope**2)) with negative_slope = param or 0.01;
    selu: 3/4."""
    linear_like = (
        "linear",
        "identity",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
    )
    if nonlinearity in linear_like or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) as PyTorch computes them from a weight's shape.

    Linear weight (out, in): fan_in = in, fan_out = out.  Conv weight (O, C, kh, kw):
    fan_in = C * kh * kw, fan_out = O * kh * kw (each output sees C*kh*kw inputs).
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    fan_in = tensor.shape[1] * receptive_field
    fan_out = tensor.shape[0] * receptive_field
    return fan_in, fan_out


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, host_values):
    """Write host (NumPy) values into `tensor.data` in place and bump its version."""
    values = numpy.asarray(host_values, dtype=tensor.dtype)
    tensor.data[...] = tensor.device.from_host(values)  # same array: aliases see it
    tensor._bump_version()
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with values drawn uniformly from [a, b)."""
    generator = backend.generator(tensor.device)
    return _fill(tensor, generator.uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with values drawn from the normal distribution N(mean, std**2)."""
    generator = backend.generator(tensor.device)
    return _fill(tensor, generator.normal(mean, std, size=tensor.shape))


def constant_(tensor, val):
    """Fill with `val`."""
    return _fill(tensor, numpy.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot & Bengio (2010): keeps the variance of activations and gradients alike."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # U(-b, b) has standard deviation b / sqrt(3)
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al. (2015): variance 2 / fan for ReLU networks.  `a` is the negative slope
    of a leaky ReLU; nn.Linear and nn.Conv2d use a = sqrt(5), which gives the bound
    1 / sqrt(fan_in)."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor  # nothing to scale by; PyTorch warns and leaves it
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std)
