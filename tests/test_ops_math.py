"""Tests of the math ops: reductions and scans, rounding, elementwise functions, `%` and
`//`, bitwise ops, and the activations of tg.nn.functional / tg.nn.

Forward values are compared with NumPy or with the formula written out with `math`;
gradients of prod and cumprod with zeros in the input with the product of the other
elements, written as a loop.  (tests/test_ops_gradcheck.py gradchecks every registry
entry at random points; here are the chosen points: zeros, huge values, signs.)
"""

import math

import numpy
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

RNG = numpy.random.default_rng(7)


def t(values, device, dtype=numpy.float64, requires_grad=False):
    return tg.Tensor(numpy.asarray(values, dtype=dtype), device=device, requires_grad=requires_grad)


def close(tensor, expected, rtol=1e-12, atol=1e-12):
    numpy.testing.assert_allclose(tensor.numpy(), expected, rtol=rtol, atol=atol)


# ---- reductions ---------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("ddof", [0, 1])
def test_std_is_numpys(device, axis, ddof):
    x = RNG.standard_normal((3, 4, 2))
    close(t(x, device).std(axis, ddof=ddof), numpy.std(x, axis=axis, ddof=ddof))
    close(
        t(x, device).std(axis, keepdims=True, ddof=ddof),
        numpy.std(x, axis=axis, ddof=ddof, keepdims=True),
    )


def test_std_takes_pytorchs_names(device):
    x = RNG.standard_normal((3, 4))
    got = tg.std(t(x, device), dim=1, keepdim=True, correction=1)
    close(got, numpy.std(x, axis=1, ddof=1, keepdims=True))
    with pytest.raises(TypeError, match="std: give axis or dim"):
        t(x, device).std(0, dim=1)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
def test_prod_is_numpys(device, axis):
    x = RNG.uniform(-2, 2, (3, 4))
    close(t(x, device).prod(axis), numpy.prod(x, axis=axis))
    close(tg.prod(t(x, device), dim=axis, keepdim=True), numpy.prod(x, axis=axis, keepdims=True))


def _others(values):
    """d prod / d x_i: the product of the other elements, a loop."""
    return [math.prod(v for k, v in enumerate(values) if k != i) for i in range(len(values))]


@pytest.mark.parametrize(
    "values",
    [[2.0, -3.0, 0.5, 4.0], [2.0, 0.0, 3.0, 5.0], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 1.5]],
    ids=["no zero", "one zero", "two zeros", "three zeros"],
)
def test_prod_gradient_with_zeros_is_the_product_of_the_others(device, values):
    x = t(values, device, requires_grad=True)
    x.prod().backward()
    close(x.grad, _others(values))
    assert not numpy.isnan(x.grad.numpy()).any()


def test_prod_gradient_with_zeros_along_an_axis(device):
    rows = [[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [2.0, -1.0, 4.0]]
    x = t(rows, device, requires_grad=True)
    weight = numpy.array([[0.5], [-2.0], [3.0]])
    (x.prod(axis=1, keepdims=True) * t(weight, device)).sum().backward()
    expected = [[w[0] * o for o in _others(row)] for row, w in zip(rows, weight)]
    close(x.grad, expected)
    columns = t(numpy.array(rows).T, device, requires_grad=True)  # the same along axis 0
    columns.prod(axis=0).sum().backward()
    close(columns.grad, numpy.array([_others(row) for row in rows]).T)


@pytest.mark.parametrize(
    "values", [[2.0, 0.0, 3.0, 5.0], [0.0, 2.0, 0.0, 3.0]], ids=["one zero", "two zeros"]
)
def test_prod_and_cumprod_gradcheck_at_zeros_first_and_second_order(device, values):
    x = t(values, device, requires_grad=True)
    for fn in (lambda x: x.prod(), lambda x: x.cumprod(0), lambda x: x.reshape(2, 2).prod(1)):
        assert tg.gradcheck(fn, [x])
        second = tg.testing.second_order(fn, [x], {})
        assert tg.gradcheck(second, [x])


def test_any_and_all_are_numpys_and_carry_no_graph(device):
    x = numpy.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    a = t(x, device, requires_grad=True)
    for ours, theirs in ((a.any, numpy.any), (a.all, numpy.all)):
        for axis in (None, 0, 1, (0, 1)):
            got = ours(axis)
            assert got.dtype == numpy.bool_ and not got.requires_grad and got.grad_fn is None
            numpy.testing.assert_array_equal(got.numpy(), theirs(x, axis=axis))
    numpy.testing.assert_array_equal(
        tg.any(a, dim=1, keepdim=True).numpy(), numpy.any(x, axis=1, keepdims=True)
    )
    numpy.testing.assert_array_equal(tg.all(a > -1).numpy(), True)


# ---- scans --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_cumsum_and_cumprod_are_numpys(device, axis):
    x = RNG.uniform(-2, 2, (3, 4))
    close(t(x, device).cumsum(axis), numpy.cumsum(x, axis=axis))
    close(tg.cumprod(t(x, device), axis), numpy.cumprod(x, axis=axis))


def test_scans_of_a_0d_tensor_and_pytorchs_dim(device):
    x = t(2.5, device)
    assert x.cumsum(0).shape == () and x.cumprod(dim=-1).item() == 2.5
    close(tg.cumsum(t([[1.0, 2.0], [3.0, 4.0]], device), dim=0), [[1, 2], [4, 6]])
    with pytest.raises(TypeError, match="cumsum: axis .* one int"):
        t([[1.0]], device).cumsum((0, 1))
    with pytest.raises(ValueError, match="cumprod: axis 2 is out of range"):
        t([[1.0]], device).cumprod(2)


def test_cumsum_gradient_is_the_reversed_cumsum(device):
    x = t([1.0, 2.0, 3.0, 4.0], device, requires_grad=True)
    g = numpy.array([1.0, -2.0, 0.5, 3.0])
    x.cumsum(0).backward(t(g, device))
    close(x.grad, numpy.cumsum(g[::-1])[::-1])


def _cumprod_grad(values, g):
    """dL/dx_j = sum over i >= j of g_i * prod(x[0..i] without x_j), a double loop."""
    n = len(values)
    return [
        sum(g[i] * math.prod(values[k] for k in range(i + 1) if k != j) for i in range(j, n))
        for j in range(n)
    ]


@pytest.mark.parametrize(
    "values",
    [
        [2.0, -1.5, 0.5, 3.0],
        [2.0, 0.0, 3.0, 5.0],
        [0.0, 2.0, 3.0, 0.5],
        [1.5, 0.0, 2.0, 0.0, 3.0],
        [0.0, 0.0, 2.0],
        [2.0, 3.0, 0.0],
    ],
    ids=["no zero", "one zero", "zero first", "two zeros", "zeros first", "zero last"],
)
def test_cumprod_gradient_with_zeros_against_the_double_loop(device, values):
    g = RNG.standard_normal(len(values))
    x = t(values, device, requires_grad=True)
    x.cumprod(0).backward(t(g, device))
    close(x.grad, _cumprod_grad(values, g), rtol=1e-12, atol=1e-12)


def test_cumprod_gradient_with_zeros_in_some_rows_along_axis_0(device):
    columns = numpy.array([[2.0, 0.0, 1.5], [0.0, 3.0, -2.0], [4.0, 0.0, 0.5]])
    g = RNG.standard_normal(columns.shape)
    x = t(columns, device, requires_grad=True)
    x.cumprod(axis=0).backward(t(g, device))
    expected = [_cumprod_grad(list(columns[:, j]), g[:, j]) for j in range(3)]
    close(x.grad, numpy.array(expected).T)


def test_cumprod_of_a_subnormal_value_divides_by_nothing(device):
    x = t([5e-324, 2.0], device, requires_grad=True)
    x.cumprod(0).sum().backward()
    close(x.grad, [1.0 + 2.0, 5e-324])


def test_logcumsumexp_is_log_cumsum_exp_and_stable(device):
    x = RNG.uniform(-3, 3, (3, 4))
    close(t(x, device).logcumsumexp(1), numpy.log(numpy.cumsum(numpy.exp(x), axis=1)))
    close(tg.logcumsumexp(t(x, device), dim=0), numpy.log(numpy.cumsum(numpy.exp(x), axis=0)))
    # a shift by the maximum alone would give log(0) = -inf for the first element
    close(t([-1000.0, 0.0], device).logcumsumexp(0), [-1000.0, numpy.logaddexp(-1000.0, 0.0)])
    close(t([1000.0, 1000.0], device).logcumsumexp(0), [1000.0, 1000.0 + math.log(2.0)])
    with pytest.raises(TypeError, match="logcumsumexp needs a floating-point"):
        tg.Tensor([1, 2], device=device).logcumsumexp(0)


def test_logcumsumexp_gradient_is_finite_for_huge_values(device):
    values = [-1000.0, 0.0, 1000.0, 999.0]
    g = numpy.array([0.5, -2.0, 1.5, -1.0])  # both signs
    x = t(values, device, requires_grad=True)
    out = x.logcumsumexp(0)
    out.backward(t(g, device))
    o = out.numpy()
    expected = [sum(g[i] * math.exp(values[j] - o[i]) for i in range(j, 4)) for j in range(4)]
    close(x.grad, expected, rtol=1e-9, atol=1e-12)
    small = t(values, device, dtype=numpy.float32, requires_grad=True)
    small.logcumsumexp(0).backward(t(g, device, dtype=numpy.float32))
    assert numpy.isfinite(small.grad.numpy()).all()
    # float32 holds 1000 to within 6e-5, so exp(x - out) is good to about that much
    close(small.grad, expected, rtol=1e-4, atol=1e-4)


# ---- rounding, and the other ops with no graph -----------------------------------------


def test_rounding_is_numpys_with_halves_to_even(device):
    x = numpy.array([-2.5, -1.5, -0.7, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7])
    close(t(x, device).floor(), numpy.floor(x))
    close(tg.ceil(t(x, device)), numpy.ceil(x))
    close(tg.trunc(t(x, device)), [math.trunc(v) for v in x])
    close(tg.round(t(x, device)), [round(v) for v in x])  # Python rounds halves to even too
    close(t([1.234, -5.678], device).round(decimals=2), [1.23, -5.68])
    ints = tg.Tensor([3, -4], device=device)
    assert ints.floor().dtype == ints.dtype and ints.round().tolist() == [3, -4]


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_gives_a_zero_gradient_as_pytorch(device, name):
    x = t([-1.3, 0.4, 2.6], device, requires_grad=True)
    out = getattr(x, name)()
    assert out.requires_grad  # PyTorch records the op, with a zero derivative
    (out * 3.0 + x).sum().backward()
    close(x.grad, [1.0, 1.0, 1.0])


def test_isnan_isinf_isfinite_and_logical_not_carry_no_graph(device):
    values = [0.0, 1.0, numpy.nan, numpy.inf, -numpy.inf]
    x = t(values, device, requires_grad=True)
    for ours, theirs in (
        (x.isnan, numpy.isnan),
        (tg.isinf, numpy.isinf),
        (x.isfinite, numpy.isfinite),
        (tg.logical_not, numpy.logical_not),
    ):
        got = ours(x) if ours in (tg.isinf, tg.logical_not) else ours()
        assert got.dtype == numpy.bool_ and not got.requires_grad
        numpy.testing.assert_array_equal(got.numpy(), theirs(numpy.array(values)))


# ---- elementwise functions ------------------------------------------------------------

FUNCTIONS = {
    "rsqrt": (lambda v: 1 / math.sqrt(v), (0.2, 3.0)),
    "exp2": (lambda v: 2.0**v, (-3.0, 3.0)),
    "log2": (math.log2, (0.2, 3.0)),
    "log10": (math.log10, (0.2, 3.0)),
    "tan": (math.tan, (-1.2, 1.2)),
    "asin": (math.asin, (-0.9, 0.9)),
    "acos": (math.acos, (-0.9, 0.9)),
    "atan": (math.atan, (-3.0, 3.0)),
    "sinh": (math.sinh, (-3.0, 3.0)),
    "cosh": (math.cosh, (-3.0, 3.0)),
    "asinh": (math.asinh, (-3.0, 3.0)),
    "acosh": (math.acosh, (1.1, 3.0)),
    "atanh": (math.atanh, (-0.9, 0.9)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_elementwise_function_is_maths(device, name):
    formula, (lo, hi) = FUNCTIONS[name]
    x = RNG.uniform(lo, hi, 7)
    expected = [formula(v) for v in x]
    close(getattr(t(x, device), name)(), expected)
    close(getattr(tg, name)(t(x, device)), expected)


def test_logaddexp_broadcasts_and_is_stable(device):
    x, y = RNG.uniform(-3, 3, (3, 1)), RNG.uniform(-3, 3, (4,))
    close(tg.logaddexp(t(x, device), t(y, device)), numpy.log(numpy.exp(x) + numpy.exp(y)))
    close(t([1000.0, -1000.0], device).logaddexp(1000.0), [1000 + math.log(2), 1000.0])
    a = t([1000.0, 0.0], device, requires_grad=True)
    b = t([1000.0, -800.0], device, requires_grad=True)
    a.logaddexp(b).sum().backward()
    close(a.grad, [0.5, 1.0])
    close(b.grad, [0.5, 0.0])


def test_lerp_with_a_number_or_a_tensor_weight(device):
    start, end = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    w = RNG.uniform(0, 1, (2, 1))
    close(t(start, device).lerp(t(end, device), 0.25), start + 0.25 * (end - start))
    close(tg.lerp(t(start, device), t(end, device), t(w, device)), start + w * (end - start))


# ---- % and // -----------------------------------------------------------------------

SIGNS = [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0), (6.0, 3.0), (-6.0, 4.0)]


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32, numpy.int64])
def test_mod_and_floordiv_follow_python_signs(device, dtype):
    pairs = [(a, b) for a, b in SIGNS if dtype != numpy.int64 or (a == int(a) and b == int(b))]
    pairs += [(7, 2), (-7, 2), (7, -2), (-7, -2)]
    x = t([a for a, _ in pairs], device, dtype)
    y = t([b for _, b in pairs], device, dtype)
    close(x % y, [a % b for a, b in pairs])  # the result has the divisor's sign
    close(x // y, [a // b for a, b in pairs])
    close(tg.remainder(x, y), [a % b for a, b in pairs])
    close(x.floor_divide(y), [a // b for a, b in pairs])
    assert (x % y).dtype == dtype and (x // y).dtype == dtype


def test_mod_and_floordiv_with_numbers_on_either_side(device):
    x = t([-3.5, 1.25, 4.0], device)
    close(x % 1.5, [v % 1.5 for v in (-3.5, 1.25, 4.0)])
    close(5.0 % x, [5.0 % v for v in (-3.5, 1.25, 4.0)])
    close(x // -1.5, [v // -1.5 for v in (-3.5, 1.25, 4.0)])
    close(5.0 // x, [5.0 // v for v in (-3.5, 1.25, 4.0)])
    if device == "cpu":  # a NumPy array on the left runs the reflected operator
        close(numpy.array([5.0, 5.0, 5.0]) % x, [5.0 % v for v in (-3.5, 1.25, 4.0)])


def test_mod_gradient_is_one_and_minus_the_floored_quotient(device):
    x = t([7.5, -7.5, 7.5, -7.5], device, requires_grad=True)
    y = t([2.0, 2.0, -2.0, -2.0], device, requires_grad=True)
    (x % y).sum().backward()
    close(x.grad, [1.0] * 4)
    close(y.grad, [-math.floor(a / b) for a, b in zip((7.5, -7.5, 7.5, -7.5), (2, 2, -2, -2))])


def test_floordiv_carries_no_graph(device):
    x = t([7.5, -7.5], device, requires_grad=True)
    out = x // 2.0
    assert not out.requires_grad and out.grad_fn is None


def test_integer_division_by_zero_is_an_error(device):
    x = tg.Tensor([1, 2], device=device)
    with pytest.raises(ZeroDivisionError, match="%: integer division by zero"):
        x % tg.Tensor([1, 0], device=device)
    with pytest.raises(ZeroDivisionError, match="//: integer division by zero"):
        x // 0


# ---- bitwise ------------------------------------------------------------------------


def test_bitwise_ops_on_integers_and_booleans(device):
    a, b = numpy.array([12, 10, -3, 0]), numpy.array([10, 6, 5, 7])
    x, y = tg.Tensor(a, device=device), tg.Tensor(b, device=device)
    for got, expected in (
        (x & y, a & b),
        (x | y, a | b),
        (x ^ y, a ^ b),
        (~x, ~a),
        (x & 6, a & 6),
        (6 | x, 6 | a),
        (3 ^ x, 3 ^ a),
        (5 & x, 5 & a),
    ):
        numpy.testing.assert_array_equal(got.numpy(), expected)
        assert got.dtype == expected.dtype and not got.requires_grad
    p, q = x > 0, y > 6
    numpy.testing.assert_array_equal((p ^ q).numpy(), (a > 0) ^ (b > 6))
    numpy.testing.assert_array_equal((p & q).numpy(), (a > 0) & (b > 6))


def test_bitwise_ops_on_floats_are_clear_errors(device):
    f, i = t([1.0, 2.0], device), tg.Tensor([1, 2], device=device)
    for op, run in (("&", lambda: f & i), ("|", lambda: i | f), ("^", lambda: f ^ f)):
        with pytest.raises(TypeError, match=rf"\{op}: bitwise ops need integer .* float64"):
            run()
    with pytest.raises(TypeError, match="~: bitwise not needs an integer"):
        _ = ~f
    with pytest.raises(ValueError, match=r"\^ of shapes \(2,\) and \(3,\)"):
        _ = i ^ tg.Tensor([1, 2, 3], device=device)


# ---- activations --------------------------------------------------------------------


def _sigmoid(v):
    return 1 / (1 + math.exp(-v))


def _softplus(v):
    return math.log1p(math.exp(v))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

ACTIVATIONS = {
    "silu": (F.silu, nn.SiLU(), lambda v: v * _sigmoid(v)),
    "elu": (lambda x: F.elu(x, 0.7), nn.ELU(0.7), lambda v: v if v > 0 else 0.7 * math.expm1(v)),
    "selu": (
        F.selu,
        nn.SELU(),
        lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)),
    ),
    "celu": (
        lambda x: F.celu(x, 2.0),
        nn.CELU(2.0),
        lambda v: v if v > 0 else 2.0 * math.expm1(v / 2.0),
    ),
    "relu6": (F.relu6, nn.ReLU6(), lambda v: min(max(v, 0.0), 6.0)),
    "hardtanh": (
        lambda x: F.hardtanh(x, -2.0, 3.0),
        nn.Hardtanh(-2.0, 3.0),
        lambda v: min(max(v, -2.0), 3.0),
    ),
    "hardsigmoid": (F.hardsigmoid, nn.Hardsigmoid(), lambda v: min(max(v + 3, 0.0), 6.0) / 6),
    "hardswish": (F.hardswish, nn.Hardswish(), lambda v: v * min(max(v + 3, 0.0), 6.0) / 6),
    "mish": (F.mish, nn.Mish(), lambda v: v * math.tanh(_softplus(v))),
    "softsign": (F.softsign, nn.Softsign(), lambda v: v / (1 + abs(v))),
    "logsigmoid": (F.logsigmoid, nn.LogSigmoid(), lambda v: math.log(_sigmoid(v))),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_function_and_module_are_the_formula(device, name):
    function, module, formula = ACTIVATIONS[name]
    x = numpy.concatenate([RNG.uniform(-8, 8, 12), [-3.0, 0.0, 3.0, 6.0]])
    expected = [formula(v) for v in x]
    close(function(t(x, device)), expected, rtol=1e-12, atol=1e-14)
    close(module(t(x, device)), expected, rtol=1e-12, atol=1e-14)


def test_stable_activations_at_huge_inputs(device):
    x = t([-1000.0, 1000.0], device)
    close(F.logsigmoid(x), [-1000.0, 0.0])
    close(F.elu(x), [-1.0, 1000.0])
    close(F.silu(x), [0.0, 1000.0])
    close(F.mish(x), [0.0, 1000.0])


def test_softmin_and_normalize(device):
    x = RNG.standard_normal((3, 4))
    e = numpy.exp(-x)
    close(F.softmin(t(x, device), dim=0), e / e.sum(axis=0, keepdims=True))
    close(nn.Softmin(dim=1)(t(x, device)), e / e.sum(axis=1, keepdims=True))
    for p, norm in (
        (2, numpy.sqrt((x * x).sum(axis=1, keepdims=True))),
        (1, numpy.abs(x).sum(axis=1, keepdims=True)),
        (3, (numpy.abs(x) ** 3).sum(axis=1, keepdims=True) ** (1 / 3)),
        (float("inf"), numpy.abs(x).max(axis=1, keepdims=True)),
    ):
        close(F.normalize(t(x, device), p=p), x / norm)
    close(F.normalize(t([[0.0, 0.0]], device)), [[0.0, 0.0]])  # eps: no 0 / 0
    with pytest.raises(ValueError, match="normalize: p must be positive"):
        F.normalize(t(x, device), p=0)


def test_softplus_beta_and_pytorchs_threshold_rule(device):
    x = numpy.array([-3.0, 0.0, 1.0, 4.9, 5.1, 30.0])
    beta, threshold = 2.0, 10.0
    expected = [v if beta * v > threshold else math.log1p(math.exp(beta * v)) / beta for v in x]
    a = t(x, device, requires_grad=True)
    out = F.softplus(a, beta=beta, threshold=threshold)
    close(out, expected)
    out.sum().backward()
    slopes = [1.0 if beta * v > threshold else _sigmoid(beta * v) for v in x]
    close(a.grad, slopes)
    close(t([30.0], device).softplus(), [30.0])  # the default threshold 20: exactly x


def test_shape_errors_name_the_op(device):
    x = t(RNG.standard_normal((2, 3)), device)
    with pytest.raises(ValueError, match="normalize: axis 2 is out of range"):
        F.normalize(x, dim=2)
    with pytest.raises(ValueError, match="softmin: axis -3 is out of range"):
        F.softmin(x, dim=-3)
    with pytest.raises(ValueError, match=r"lerp: shapes start \(2, 3\), end \(2,\)"):
        x.lerp(t([1.0, 2.0], device), 0.5)
    with pytest.raises(ValueError, match="LogAddExp of shapes"):
        x.logaddexp(t([1.0, 2.0], device))
    with pytest.raises(ValueError, match="prod: axis 2 is out of range"):
        x.prod(2)


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        F.celu(tg.Tensor([1.0]), 0.0)
    with pytest.raises(ValueError, match="hardtanh: min_val 2 is greater than max_val 1"):
        F.hardtanh(tg.Tensor([1.0]), 2, 1)
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(2, 1)
    assert "alpha=0.5" in repr(nn.ELU(0.5)) and "dim=0" in repr(nn.Softmin(0))
