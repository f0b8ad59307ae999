"""A GPU-like test backend: NumPy arrays that refuse to become NumPy arrays implicitly.

CuPy arrays live on the GPU, so CuPy refuses implicit conversion to NumPy
(`numpy.asarray(cupy_array)` raises TypeError) and refuses to mix a host NumPy array
into a device computation.  Code that works on NumPy can therefore still fail on CuPy.
No machine this project runs on has a GPU, so the test suite runs everything on this
backend as well: `StrictArray` wraps a NumPy array and behaves like a CuPy array in
exactly those respects, so a hidden host round-trip fails here as it would on a GPU.

It is registered as device type "strict" through the same registry the library uses
for "cuda" (`backend.register_device_type`), so `Tensor(..., device="strict")` works.
"""

import numbers

import numpy

from tinygrad_edu import backend

MESSAGE = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)  # CuPy's own wording


def _unwrap(value):
    """StrictArray -> its NumPy array; a host ndarray is refused, as CuPy refuses it."""
    if isinstance(value, StrictArray):
        return value._data
    if isinstance(value, numpy.ndarray):
        raise TypeError(
            "Unsupported type <class 'numpy.ndarray'>: a host NumPy array was mixed into "
            "a computation on the strict (GPU-like) device"
        )
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _wrap(value):
    """NumPy results -> StrictArray (0-d results too, as CuPy returns 0-d arrays)."""
    if isinstance(value, numpy.ndarray):
        return StrictArray(value)
    if isinstance(value, numpy.generic):
        return StrictArray(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class StrictArray:
    """A NumPy array standing in for a CuPy array (see the module docstring)."""

    __slots__ = ("_data",)

    def __init__(self, data):
        assert isinstance(data, numpy.ndarray)
        self._data = data

    # ---- what CuPy refuses --------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError(MESSAGE)

    def tolist(self):  # CuPy has it, but it is an explicit host copy; so is .get()
        return self._data.tolist()

    def get(self):
        return self._data.copy()

    # ---- NumPy protocols: unwrap, compute, wrap ------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _unwrap(inputs)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"])
        result = getattr(ufunc, method)(*inputs, **kwargs)
        return None if method == "at" else _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))

    # ---- attributes ----------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def T(self):
        return StrictArray(self._data.T)

    @property
    def base(self):
        return None if self._data.base is None else self._data.base

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return f"StrictArray({self._data!r})"

    # ---- methods the library uses --------------------------------------------------
    def sum(self, axis=None, keepdims=False, dtype=None):
        return _wrap(self._data.sum(axis=axis, keepdims=keepdims, dtype=dtype))

    def max(self, axis=None, keepdims=False):
        return _wrap(self._data.max(axis=axis, keepdims=keepdims))

    def min(self, axis=None, keepdims=False):
        return _wrap(self._data.min(axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False):
        return _wrap(self._data.mean(axis=axis, keepdims=keepdims))

    def any(self, axis=None):
        return _wrap(self._data.any(axis=axis))

    def all(self, axis=None):
        return _wrap(self._data.all(axis=axis))

    def argmax(self, axis=None, keepdims=False):
        return _wrap(self._data.argmax(axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, keepdims=False):
        return _wrap(self._data.argmin(axis=axis, keepdims=keepdims))

    def reshape(self, *shape):
        return StrictArray(self._data.reshape(*shape))

    def transpose(self, *axes):
        return StrictArray(self._data.transpose(*axes))

    def swapaxes(self, a, b):
        return StrictArray(self._data.swapaxes(a, b))

    def ravel(self):
        return StrictArray(self._data.ravel())

    def astype(self, dtype, copy=True):
        return StrictArray(self._data.astype(dtype, copy=copy))

    def copy(self):
        return StrictArray(self._data.copy())

    def nonzero(self):
        return _wrap(self._data.nonzero())

    def item(self):
        return self._data.item()

    def __bool__(self):
        return bool(self._data)  # allowed for one element, as in CuPy (a sync)

    def __int__(self):
        return int(self._data)

    def __float__(self):
        return float(self._data)

    def __index__(self):
        return self._data.__index__()

    def __getitem__(self, index):
        return _wrap(self._data[_unwrap(index)])

    def __setitem__(self, index, value):
        self._data[_unwrap(index)] = _unwrap(value)

    def __iter__(self):
        return (_wrap(row) for row in self._data)

    def __dlpack__(self, *args, **kwargs):
        raise BufferError("the strict test device does not export DLPack")

    # ---- operators (each a NumPy ufunc, dispatched through __array_ufunc__) ---------
    def __add__(self, other):
        return numpy.add(self, other)

    def __radd__(self, other):
        return numpy.add(other, self)

    def __sub__(self, other):
        return numpy.subtract(self, other)

    def __rsub__(self, other):
        return numpy.subtract(other, self)

    def __mul__(self, other):
        return numpy.multiply(self, other)

    def __rmul__(self, other):
        return numpy.multiply(other, self)

    def __truediv__(self, other):
        return numpy.true_divide(self, other)

    def __rtruediv__(self, other):
        return numpy.true_divide(other, self)

    def __pow__(self, other):
        return numpy.power(self, other)

    def __rpow__(self, other):
        return numpy.power(other, self)

    def __matmul__(self, other):
        return numpy.matmul(self, other)

    def __rmatmul__(self, other):
        return numpy.matmul(other, self)

    def __neg__(self):
        return numpy.negative(self)

    def __abs__(self):
        return numpy.abs(self)

    def __invert__(self):
        return numpy.invert(self)

    def __and__(self, other):
        return numpy.bitwise_and(self, other)

    def __or__(self, other):
        return numpy.bitwise_or(self, other)

    def __eq__(self, other):
        return numpy.equal(self, other)

    def __ne__(self, other):
        return numpy.not_equal(self, other)

    def __lt__(self, other):
        return numpy.less(self, other)

    def __le__(self, other):
        return numpy.less_equal(self, other)

    def __gt__(self, other):
        return numpy.greater(self, other)

    def __ge__(self, other):
        return numpy.greater_equal(self, other)

    def __iadd__(self, other):
        numpy.add(self._data, _unwrap(other), out=self._data)
        return self

    def __isub__(self, other):
        numpy.subtract(self._data, _unwrap(other), out=self._data)
        return self

    def __imul__(self, other):
        numpy.multiply(self._data, _unwrap(other), out=self._data)
        return self

    def __itruediv__(self, other):
        numpy.true_divide(self._data, _unwrap(other), out=self._data)
        return self

    __hash__ = None


class _StrictModule:
    """The strict device's `xp`: NumPy's functions, with creation functions returning
    StrictArrays (functions taking arrays dispatch through the NumPy protocols)."""

    __name__ = "tinygrad_edu_strict"
    ndarray = StrictArray

    def __getattr__(self, name):
        # Test scaffolding, not library code: anything not overridden below is NumPy's
        # own function, which dispatches to StrictArray through __array_function__.
        return getattr(numpy, name)

    @staticmethod
    def asarray(value, dtype=None):
        if isinstance(value, StrictArray):
            return value if dtype is None else value.astype(dtype, copy=False)
        if isinstance(value, (numbers.Number, numpy.generic, numpy.ndarray, list, tuple)):
            return StrictArray(numpy.array(value, dtype=dtype))
        raise TypeError(f"cannot move {type(value).__name__} to the strict device")

    @staticmethod
    def zeros(shape, dtype=float):
        return StrictArray(numpy.zeros(shape, dtype=dtype))

    @staticmethod
    def empty(shape, dtype=float):
        return StrictArray(numpy.empty(shape, dtype=dtype))

    @staticmethod
    def ones(shape, dtype=float):
        return StrictArray(numpy.ones(shape, dtype=dtype))

    @staticmethod
    def full(shape, fill_value, dtype=None):
        return StrictArray(numpy.full(shape, fill_value, dtype=dtype))

    @staticmethod
    def arange(*args, dtype=None):
        return StrictArray(numpy.arange(*args, dtype=dtype))

    @staticmethod
    def eye(n, m=None, dtype=float):
        return StrictArray(numpy.eye(n, m, dtype=dtype))

    @staticmethod
    def ascontiguousarray(x):
        return StrictArray(numpy.ascontiguousarray(_unwrap(x)))

    @staticmethod
    def erf(x):
        import math

        values = numpy.vectorize(math.erf, otypes=[x.dtype])(x._data)
        return StrictArray(values)

    @staticmethod
    def from_dlpack(obj):
        raise BufferError("the strict test device does not import DLPack")


strict_xp = _StrictModule()


def _make_strict_device(index):
    def to_host(array):
        return array.get()

    def from_host(array):
        return StrictArray(numpy.array(array))

    return backend.Device("strict", index, strict_xp, StrictArray, to_host, from_host)


def register():
    """Make device "strict" available (idempotent)."""
    backend.register_device_type("strict", _make_strict_device)
