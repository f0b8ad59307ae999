"""Tests of nn.init: PyTorch's gains and fans, the bounds and standard deviations of
every initialiser, in-place filling, seeding, and every device.

The statistics use ~100,000 values from a seeded generator, so the tolerances (a few
percent) are wide of sampling noise yet narrow enough to catch a wrong formula (a
missing sqrt(3), fan_in for fan_out, a gain off by a factor).
"""

import math

import numpy
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import init


def empty(*shape, device="cpu", dtype=None):
    return tg.zeros(*shape, device=device, dtype=dtype)


@pytest.mark.parametrize(
    "nonlinearity, param, gain",
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.04))),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((50, 100), (100, 50)),  # Linear weight (out, in)
        ((8, 3, 5, 5), (75, 200)),  # Conv2d weight (O, C, kh, kw)
        ((20, 3), (3, 20)),  # LSTM weight_ih (4H, in)
    ],
)
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(empty(*shape)) == fans


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(empty(5))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(empty(3, 3), mode="fan_middle")


def stats(t):
    values = t.numpy().astype(numpy.float64)
    return values, values.mean(), values.std()


def assert_uniform(t, low, high):
    values, mean, std = stats(t)
    width = high - low
    assert values.min() >= low and values.max() <= high
    assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width
    assert abs(mean - (low + high) / 2) < 0.01 * width
    assert abs(std - width / math.sqrt(12)) < 0.02 * width / math.sqrt(12)


def assert_normal(t, mean, std):
    values, got_mean, got_std = stats(t)
    assert abs(got_mean - mean) < 0.02 * std
    assert abs(got_std - std) < 0.02 * std
    # a normal, not a uniform: about 4.6% of values beyond 2 standard deviations
    assert 0.035 < (numpy.abs(values - mean) > 2 * std).mean() < 0.06


def test_uniform_and_normal(device):
    tg.manual_seed(0)
    t = empty(300, 400, device=device)
    assert init.uniform_(t) is t
    assert_uniform(t, 0.0, 1.0)
    assert_uniform(init.uniform_(t, -3.0, 5.0), -3.0, 5.0)
    assert_normal(init.normal_(t), 0.0, 1.0)
    assert_normal(init.normal_(t, mean=2.0, std=0.5), 2.0, 0.5)


def test_constants(device):
    t = empty(3, 4, device=device)
    numpy.testing.assert_array_equal(init.ones_(t).numpy(), numpy.ones((3, 4)))
    numpy.testing.assert_array_equal(init.zeros_(t).numpy(), numpy.zeros((3, 4)))
    numpy.testing.assert_array_equal(init.constant_(t, 2.5).numpy(), numpy.full((3, 4), 2.5))


@pytest.mark.parametrize("shape", [(300, 400), (64, 32, 7, 7)])
def test_xavier(device, shape):
    tg.manual_seed(0)
    t = empty(*shape, device=device)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    for gain in (1.0, 5 / 3):
        std = gain * math.sqrt(2 / (fan_in + fan_out))
        bound = math.sqrt(3) * std
        assert_uniform(init.xavier_uniform_(t, gain=gain), -bound, bound)
        assert_normal(init.xavier_normal_(t, gain=gain), 0.0, std)


@pytest.mark.parametrize(
    "a, mode, nonlinearity",
    [
        (0, "fan_in", "leaky_relu"),
        (0, "fan_out", "relu"),
        (math.sqrt(5), "fan_in", "leaky_relu"),
        (0.2, "fan_out", "leaky_relu"),
        (0, "fan_in", "tanh"),
    ],
)
def test_kaiming(device, a, mode, nonlinearity):
    tg.manual_seed(0)
    t = empty(200, 50, 3, 3, device=device)  # fan_in 450, fan_out 1800: modes differ
    fan = 450 if mode == "fan_in" else 1800
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3) * std
    assert init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity) is t
    assert_uniform(t, -bound, bound)
    assert init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity) is t
    assert_normal(t, 0.0, std)


def test_kaiming_uniform_with_sqrt5_is_linears_default_bound():
    tg.manual_seed(0)
    t = init.kaiming_uniform_(empty(500, 100), a=math.sqrt(5))
    assert_uniform(t, -0.1, 0.1)  # 1 / sqrt(fan_in)


def test_in_place_on_the_same_tensor_and_array(device):
    p = nn.Parameter(tg.zeros(4, 5, device=device))
    array = p.data
    loss = (p * p).sum()  # Mul saves p's array
    assert init.normal_(p) is p
    assert p.data is array  # filled in place: aliases (state_dict values) see it
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()  # a graph that saved the old values notices
    assert p.requires_grad and p.grad_fn is None and p.device == device


def test_init_keeps_dtype(device):
    t = empty(100, 100, device=device, dtype=tg.float64)
    init.xavier_uniform_(t)
    assert t.dtype == numpy.float64 and t.device == device


def test_init_is_reproducible_and_device_independent(device):
    tg.manual_seed(5)
    first = init.kaiming_normal_(empty(10, 10)).numpy()
    tg.manual_seed(5)
    again = init.kaiming_normal_(empty(10, 10, device=device)).numpy()
    numpy.testing.assert_array_equal(first, again)
    following = init.kaiming_normal_(empty(10, 10, device=device)).numpy()
    assert not numpy.array_equal(again, following)  # the generator moves on


def test_init_after_graph_was_recorded_is_detected():
    w = nn.Parameter(tg.ones(3))
    out = (w * w).sum()
    init.uniform_(w)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_init_records_no_graph():
    w = nn.Parameter(tg.zeros(2, 2))
    init.xavier_normal_(w)
    assert w.grad_fn is None and w.is_leaf
