"""Factories: `tensor`, `zeros`, `ones`, `full`, `*_like`, `arange`, `eye`, `rand`, `randn`.

Each takes `device=` and `dtype=` (float32 by default for float factories) and
`requires_grad=`.  Random numbers come from the seeded generators in backend.py, so
`tg.manual_seed(n)` makes a run reproducible on every device.
"""

import numpy

from . import backend
from .tensor import Tensor


def _shape(shape):
    """Accept zeros(2, 3), zeros((2, 3)) and zeros([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _make(make_array, device, dtype, requires_grad, name=None):
    device = backend.get_device(device)
    dtype = numpy.dtype(dtype if dtype is not None else backend.DEFAULT_FLOAT)
    with numpy.errstate(all="ignore"):
        array = make_array(device.xp, dtype)
    return Tensor(array, requires_grad=requires_grad, device=device, dtype=dtype, name=name)


def tensor(data, requires_grad=False, device=None, dtype=None, name=None):
    """Same as `Tensor(...)`, spelled as in PyTorch."""
    return Tensor(data, requires_grad=requires_grad, device=device, dtype=dtype, name=name)


def zeros(*shape, device=None, dtype=None, requires_grad=False):
    shape = _shape(shape)
    return _make(lambda xp, dt: xp.zeros(shape, dtype=dt), device, dtype, requires_grad)


def ones(*shape, device=None, dtype=None, requires_grad=False):
    shape = _shape(shape)
    return _make(lambda xp, dt: xp.ones(shape, dtype=dt), device, dtype, requires_grad)


def full(shape, fill_value, device=None, dtype=None, requires_grad=False):
    shape = _shape((shape,))  # an int, or a tuple or list of them
    return _make(lambda xp, dt: xp.full(shape, fill_value, dtype=dt), device, dtype, requires_grad)


def zeros_like(t, device=None, dtype=None, requires_grad=False):
    return zeros(
        t.shape, device=device or t.device, dtype=dtype or t.dtype, requires_grad=requires_grad
    )


def ones_like(t, device=None, dtype=None, requires_grad=False):
    return ones(
        t.shape, device=device or t.device, dtype=dtype or t.dtype, requires_grad=requires_grad
    )


def arange(start, stop=None, step=1, device=None, dtype=None, requires_grad=False):
    """Like numpy.arange; integer arguments give int64, any float gives float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, numpy.integer)) for v in (start, stop, step))
        dtype = numpy.int64 if is_int else backend.DEFAULT_FLOAT
    return _make(
        lambda xp, dt: xp.arange(start, stop, step, dtype=dt), device, dtype, requires_grad
    )


def eye(n, m=None, device=None, dtype=None, requires_grad=False):
    return _make(lambda xp, dt: xp.eye(n, m, dtype=dt), device, dtype, requires_grad)


def rand(*shape, device=None, dtype=None, requires_grad=False):
    """Uniform on [0, 1)."""
    shape = _shape(shape)
    device = backend.get_device(device)
    values = backend.generator(device).random(shape)
    return _make(lambda xp, dt: values.astype(dt), device, dtype, requires_grad)


def randn(*shape, device=None, dtype=None, requires_grad=False):
    """Standard normal (mean 0, standard deviation 1)."""
    shape = _shape(shape)
    device = backend.get_device(device)
    values = backend.generator(device).standard_normal(shape)
    return _make(lambda xp, dt: values.astype(dt), device, dtype, requires_grad)


def full_like(t, fill_value, device=None, dtype=None, requires_grad=False):
    return full(
        t.shape,
        fill_value,
        device=device or t.device,
        dtype=dtype or t.dtype,
        requires_grad=requires_grad,
    )


def linspace(start, end, steps, device=None, dtype=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included (numpy.linspace)."""
    if int(steps) < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    values = numpy.linspace(start, end, int(steps))  # made on the host, moved by Tensor
    return _make(lambda xp, dt: values.astype(dt), device, dtype, requires_grad)


def randint(low, high=None, size=None, device=None, dtype=None, requires_grad=False):
    """Integers drawn uniformly from [low, high) (int64), as torch.randint: randint(high,
    size) or randint(low, high, size).  From the seeded generator, as rand and randn."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size is required, as in torch.randint(low, high, size)")
    if high <= low:
        raise ValueError(f"randint: need low < high, got low={low}, high={high}")
    shape = _shape((size,))  # an int, or a tuple or list of them
    device = backend.get_device(device)
    values = backend.generator(device).integers(low, high, size=shape)
    return _make(lambda xp, dt: values.astype(dt), device, dtype or numpy.int64, requires_grad)
