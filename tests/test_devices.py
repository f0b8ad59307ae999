"""Devices: the strict GPU-like backend catches host leaks, moves are differentiable,
mixing devices is a clear error, and CUDA says clearly why it cannot be used here."""

import os
import subprocess
import sys

import numpy as np
import pytest
from strict_backend import StrictArray

import tinygrad_edu as tg


class LeakyScale(tg.Function):
    """A planted leak: multiplies by a host NumPy array instead of using self.xp."""

    def forward(self, x):
        return x * np.full(x.shape, 2.0, dtype=x.dtype)

    def backward(self, xp, grad, out, x):
        return (grad * 2.0,)


class CleanScale(tg.Function):
    """The same op written right: the array comes from self.xp, so it lives on x's device."""

    def forward(self, x):
        return x * self.xp.full(x.shape, 2.0, dtype=x.dtype)

    def backward(self, xp, grad, out, x):
        return (grad * 2.0,)


def test_strict_array_refuses_implicit_numpy_conversion():
    array = StrictArray(np.ones(3))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(array)
    with pytest.raises(TypeError, match="host NumPy array"):
        array + np.ones(3)


def test_strict_backend_catches_a_planted_numpy_leak():
    x_cpu = tg.Tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(LeakyScale.apply(x_cpu).numpy(), [2.0, 4.0])  # CPU hides it
    x_strict = tg.Tensor([1.0, 2.0], device="strict", requires_grad=True)
    with pytest.raises(TypeError, match="host NumPy array"):
        LeakyScale.apply(x_strict)
    np.testing.assert_array_equal(CleanScale.apply(x_strict).numpy(), [2.0, 4.0])


def test_tensor_on_strict_refuses_np_asarray_but_numpy_copies(device):
    t = tg.Tensor([1.0, 2.0], device=device)
    host = t.numpy()
    assert isinstance(host, np.ndarray)
    np.testing.assert_array_equal(host, [1.0, 2.0])
    assert t.item() if t.size == 1 else t.tolist() == [1.0, 2.0]
    if device == "cpu":
        np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    else:
        with pytest.raises(TypeError, match=r"\.numpy\(\)"):
            np.asarray(t)


def test_to_moves_values_and_gradients_flow_back():
    x = tg.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("strict")
    assert y.device == "strict" and isinstance(y.data, StrictArray)
    assert type(y.grad_fn).__name__ == "ToDevice"
    ((y * y).sum()).backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    assert x.to("cpu") is x and x.cpu() is x


def test_to_device_gradcheck_first_and_second_order():
    x = tg.Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert tg.gradcheck(lambda x: (x.to("strict").sin() * 3.0).to("cpu"), [x])
    w = tg.Tensor(np.array([1.0, 0.5, -2.0]))

    def gradient(x):
        with tg.enable_grad():
            out = (x.to("strict") ** 3).to("cpu")
            return tg.grad(out, x, w, create_graph=True)

    assert tg.gradcheck(gradient, [x])


def test_mixing_devices_names_the_op_and_both_devices():
    a = tg.Tensor([1.0, 2.0])
    b = tg.Tensor([1.0, 2.0], device="strict")
    with pytest.raises(RuntimeError, match=r"Add: .*cpu.*strict:0"):
        a + b
    with pytest.raises(RuntimeError, match="strict:0"):
        b * np.ones(2)  # a host array cannot join a device tensor implicitly


def test_cuda_is_clear_about_why_it_cannot_be_used_or_works():
    if tg.cuda_is_available():
        t = tg.Tensor([1.0, 2.0], device="cuda", requires_grad=True)
        (t * t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), [2.0, 4.0])
    else:
        with pytest.raises(tg.DeviceError, match=r"cuda:0.*not usable.*(CuPy|cupy|GPU)"):
            tg.Tensor([1.0], device="cuda")
        with pytest.raises(tg.DeviceError, match="not usable"):
            tg.zeros(2).to("cuda")


def test_unknown_device_names_the_known_ones():
    with pytest.raises(ValueError, match="known device types: cpu"):
        tg.Tensor([1.0], device="tpu")


def test_default_device_from_set_default_device_and_environment():
    try:
        tg.set_default_device("strict")
        assert tg.zeros(2).device == "strict"
        assert tg.Tensor([1.0]).device == "strict"
    finally:
        tg.set_default_device(None)
    assert tg.zeros(2).device == "cpu"
    code = "import tinygrad_edu as tg; print(tg.zeros(1).device)"
    env = dict(os.environ, TINYGRAD_EDU_DEVICE="cpu")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "cpu", result.stderr
    env["TINYGRAD_EDU_DEVICE"] = "nonsense"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "unknown device 'nonsense'" in result.stderr


def test_manual_seed_reproduces_on_every_device(device):
    tg.manual_seed(7)
    first = (tg.rand(3, device=device).numpy(), tg.randn(2, 2, device=device).numpy())
    tg.manual_seed(7)
    second = (tg.rand(3, device=device).numpy(), tg.randn(2, 2, device=device).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    tg.manual_seed(7)
    on_cpu = tg.rand(3).numpy()
    np.testing.assert_array_equal(first[0], on_cpu)  # the same numbers on every device


def test_dtype_promotion_follows_numpy(device):
    f32 = tg.Tensor([1.0, 2.0], device=device)
    f64 = tg.Tensor(np.array([1.0, 2.0]), device=device)
    ints = tg.Tensor([1, 2], device=device)
    assert (f32 * 2.0).dtype == np.float32  # a Python number never upcasts
    assert (f32 + 1).dtype == np.float32
    assert (f32 + f64).dtype == np.float64
    assert (ints * 2.5).dtype == np.float64
    assert (ints + 1).dtype == ints.dtype
    half = tg.Tensor([1.0, 2.0], dtype=np.float16, device=device)
    assert half.dtype == np.float16 and half.numpy().tolist() == [1.0, 2.0]
    assert (half * 2.0).dtype == np.float16


def test_out_of_range_indices_raise_on_every_device(device):
    # CuPy wraps out-of-range integer indices silently; we check them ourselves.
    x = tg.Tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    with pytest.raises(IndexError, match="out of range"):
        x[np.array([0, 3])]
    with pytest.raises(IndexError, match="out of range"):
        x[5]
    logits = tg.Tensor(np.zeros((2, 3)), device=device, requires_grad=True)
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        tg.cross_entropy(logits, np.array([0, 3]))


def test_repeated_indices_accumulate_on_every_device(device):
    x = tg.Tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0])


def test_dlpack_round_trip_on_cpu():
    t = tg.Tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.from_dlpack(t), [1.0, 2.0, 3.0])
    back = tg.from_dlpack(np.arange(3.0))
    assert back.dtype == np.float64 and back.tolist() == [0.0, 1.0, 2.0]


def test_a_cupy_array_is_recognised_before_cuda_was_asked_for(monkeypatch):
    # An object whose class lives in a module named "cupy" is a GPU array: the lookup
    # goes to the "cuda" device of its GPU (which says clearly here that it is unusable).
    from tinygrad_edu import backend

    class FakeCupyArray:
        class device:
            id = 0

    FakeCupyArray.__module__ = "cupy._core.core"

    def fake_cuda(index):
        return backend.Device("cuda", index, None, FakeCupyArray, None, None)

    monkeypatch.setitem(backend._FACTORIES, "cuda", fake_cuda)
    monkeypatch.setattr(backend, "_DEVICES", {"cpu": backend.CPU})
    device = backend.device_of_array(FakeCupyArray())
    assert device.name == "cuda:0" and device.array_type is FakeCupyArray
