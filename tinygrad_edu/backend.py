"""Devices and array modules: the one place that knows NumPy from CuPy.

A `Device` pairs a name ("cpu", "cuda:0") with its array module `xp` (numpy or
cupy).  Every op computes with `self.xp`, never with `numpy` directly, so the same
code runs on both.  This file also holds the default device, dtype defaults, host
copies (`to_numpy`) and seeding.  It knows nothing about tensors or graphs.

CuPy is imported only when a CUDA device is first asked for; "usable" means CuPy
imports, `cupy.is_available()` is true and a tiny kernel runs
(see docs/tutorial/06_training_on_gpu.md).
"""

import os

import numpy

DEFAULT_FLOAT = numpy.float32  # what Python floats and lists become


class DeviceError(RuntimeError):
    """A device was asked for that cannot be used here (the message says why)."""


class Device:
    """A place where arrays live: `name` ("cpu", "cuda:0"), `type`, `index`, `xp`.

    `xp` is the array module: numpy for "cpu", cupy for "cuda".  `array_type` is the
    class of its arrays; `to_host(array)` returns a NumPy copy and `from_host(array)`
    moves a NumPy array onto this device.
    """

    __slots__ = ("name", "type", "index", "xp", "array_type", "to_host", "from_host")

    def __init__(self, type_, index, xp, array_type, to_host, from_host):
        self.type = type_
        self.index = index
        self.name = type_ if index is None else f"{type_}:{index}"
        self.xp = xp
        self.array_type = array_type
        self.to_host = to_host
        self.from_host = from_host

    def __repr__(self):
        return f"device('{self.name}')"

    def __str__(self):
        return self.name  # print(t.device) shows cpu, as PyTorch

    def __eq__(self, other):
        if isinstance(other, str):
            return self.name == other or self.name == f"{other}:0"
        return self is other

    def __hash__(self):
        return hash(self.name)

    # One Device object per device: copies (copy.deepcopy of a model) and pickles refer
    # back to it instead of trying to copy the array module.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (get_device, (self.name,))


def _numpy_from_host(array):
    return array


CPU = Device("cpu", None, numpy, numpy.ndarray, numpy.asarray, _numpy_from_host)

# Device types beyond "cpu": a name -> factory(index) that returns a Device or raises
# DeviceError.  "cuda" is registered below; the test suite registers a strict
# GPU-like backend through this same table.
_FACTORIES = {}
_DEVICES = {"cpu": CPU}


def register_device_type(type_, factory):
    """Make `Tensor(..., device=f"{type_}:N")` use `factory(N)` to build the Device."""
    _FACTORIES[type_] = factory
    for name in [n for n in _DEVICES if n.split(":")[0] == type_]:
        del _DEVICES[name]


def get_device(spec=None):
    """Turn None, a name ("cpu", "cuda", "cuda:1") or a Device into a Device."""
    if spec is None:
        return _default_device()
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
    found = _DEVICES.get(spec)
    if found is not None:
        return found
    type_, _, index = spec.partition(":")
    if type_ == "cpu" and index in ("", "0"):
        return CPU
    if type_ not in _FACTORIES:
        known = ", ".join(["cpu"] + sorted(_FACTORIES))
        raise ValueError(f"unknown device {spec!r}; known device types: {known}")
    if index and not index.isdigit():
        raise ValueError(f"bad device index in {spec!r}; expected e.g. '{type_}:0'")
    device = _FACTORIES[type_](int(index) if index else 0)
    _DEVICES[spec] = device
    _DEVICES[device.name] = device
    return device


_default = {"device": None}


def set_default_device(spec):
    """Make factories and `Tensor(...)` without `device=` use this device."""
    _default["device"] = get_device(spec) if spec is not None else None


def _default_device():
    device = _default["device"]
    if device is None:
        device = get_device(os.environ.get("TINYGRAD_EDU_DEVICE") or "cpu")
        _default["device"] = device
    return device


def device_of_array(array):
    """The Device an array already lives on (NumPy -> cpu, CuPy -> its GPU)."""
    if isinstance(array, numpy.ndarray):
        return CPU
    if type(array).__module__.split(".")[0] == "cupy":  # even before "cuda" was asked for
        return get_device(f"cuda:{array.device.id}")
    for device in list(_DEVICES.values()):
        if isinstance(array, device.array_type):
            index = getattr(getattr(array, "device", None), "id", None)
            if index is not None and device.index != index:
                return get_device(f"{device.type}:{index}")
            return device
    return None


def to_numpy(array):
    """A host NumPy array for any backend array (copies from a GPU)."""
    if isinstance(array, numpy.ndarray):
        return array
    device = device_of_array(array)
    if device is None:
        raise TypeError(f"cannot convert {type(array).__name__} to a NumPy array")
    return device.to_host(array)


# ---- CUDA through CuPy -------------------------------------------------------------

_cuda_status = {}  # cached answer of _check_cuda: None when usable, else the reason


def _check_cuda():
    """Return None when CuPy can run kernels here, else a sentence saying why not."""
    if "reason" in _cuda_status:
        return _cuda_status["reason"]
    reason = None
    try:
        import cupy
    except Exception as error:  # ImportError, or a broken install raising anything
        reason = (
            f"CuPy is not installed or failed to import ({type(error).__name__}: {error}). "
            'Install it with: pip install "tinygrad_edu[cuda]" (CUDA 12 wheels).'
        )
    else:
        try:
            if not cupy.is_available():
                reason = (
                    "CuPy imported but found no usable CUDA GPU (cupy.is_available() is "
                    "False). Check that an NVIDIA driver is installed (nvidia-smi)."
                )
            else:
                probe = cupy.arange(3, dtype=cupy.float32) * 2  # compiles a kernel via NVRTC
                if float(probe.sum().get()) != 6.0:
                    reason = "a test kernel on the GPU gave a wrong answer"
        except Exception as error:
            reason = (
                f"CuPy found a GPU but could not run a kernel ({type(error).__name__}: "
                f"{error}). Check the CUDA driver and that the NVRTC runtime is installed."
            )
    _cuda_status["reason"] = reason
    return reason


def cuda_is_available():
    """True when a CUDA device can be used (CuPy imports and runs a kernel)."""
    return _check_cuda() is None


def _make_cuda_device(index):
    reason = _check_cuda()
    if reason is not None:
        raise DeviceError(f"device 'cuda:{index}' is not usable: {reason}")
    import cupy

    count = cupy.cuda.runtime.getDeviceCount()
    if index >= count:
        raise DeviceError(f"device 'cuda:{index}' does not exist; this machine has {count} GPU(s)")

    def to_host(array):
        return cupy.asnumpy(array)

    def from_host(array):
        with cupy.cuda.Device(index):
            return cupy.asarray(array)

    return Device("cuda", index, cupy, cupy.ndarray, to_host, from_host)


register_device_type("cuda", _make_cuda_device)


# ---- seeding ---------------------------------------------------------------------

# One numpy Generator per device name, re-made by manual_seed; creation.py draws
# every random number through `generator(device)` so a seeded run is reproducible.
_generators = {}
_seed = {"value": None}


def manual_seed(seed):
    """Seed every backend: tg.rand/randn/dropout on every device repeat exactly."""
    _seed["value"] = int(seed)
    _generators.clear()
    numpy.random.seed(int(seed) % 2**32)


def generator(device):
    """The seeded NumPy Generator that random factories draw from for `device`.

    Numbers are drawn on the host and moved to the device, so the same seed gives the
    same values on every device (CuPy's own generators differ from NumPy's).
    """
    gen = _generators.get(device.name)
    if gen is None:
        seed = _seed["value"]
        gen = numpy.random.default_rng(seed)
        _generators[device.name] = gen
    return gen
