"""`tg.gradcheck` must be able to fail: ops with planted backward bugs are caught.

Each planted op is a user-style `tg.Function` subclass (forward on arrays, backward
returning one gradient per input).  The correct twin of each op passes, so a failure
is the planted bug and not the op's shape.
"""

import ast
import re

import numpy as np
import pytest

import tinygrad_edu as tg

# ---- planted ops -----------------------------------------------------------------------


class GoodMatMul(tg.Function):
    """out = x @ y.  grad_x = grad @ y^T, grad_y = x^T @ grad."""

    def forward(self, x, y):
        return x @ y

    def backward(self, xp, grad, out, x, y):
        return grad @ y.T, x.T @ grad


class MatMulForgotTranspose(tg.Function):
    """Planted bug: grad_x = grad @ y (y^T intended).  Same shape for square y."""

    def forward(self, x, y):
        return x @ y

    def backward(self, xp, grad, out, x, y):
        return grad @ y, x.T @ grad


class GoodTranspose(tg.Function):
    """out = x^T.  grad: transposed back."""

    def forward(self, x):
        return x.T

    def backward(self, xp, grad, out, x):
        return (grad.T,)


class TransposeForgotTranspose(tg.Function):
    """Planted bug: returns grad as is.  Invisible to a .sum() check on square x:
    the upstream gradient of a sum is all ones, and ones^T == ones."""

    def forward(self, x):
        return x.T

    def backward(self, xp, grad, out, x):
        return (grad,)


class SinWrongSign(tg.Function):
    """Planted bug: d sin = -cos."""

    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, xp, grad, out, x):
        return (-grad * xp.cos(x),)


class SquareWrongFactor(tg.Function):
    """Planted bug: d x^2 = x (forgot the 2)."""

    def forward(self, x):
        return x * x

    def backward(self, xp, grad, out, x):
        return (grad * x,)


class GoodSquare(tg.Function):
    def forward(self, x):
        return x * x

    def backward(self, xp, grad, out, x):
        return (grad * x * 2,)


class SquareWrongAtOneElement(tg.Function):
    """Planted bug: right everywhere except the last element, whose gradient is 0."""

    def forward(self, x):
        return x * x

    def backward(self, xp, grad, out, x):
        grad_x = grad * x * 2
        grad_x[(-1,) * grad_x.ndim] = 0.0
        return (grad_x,)


class MulWrongSecondInput(tg.Function):
    """out = x * y.  Planted bug: grad_y = -grad * x."""

    def forward(self, x, y):
        return x * y

    def backward(self, xp, grad, out, x, y):
        return grad * y, -grad * x


class RecordDtype(tg.Function):
    """out = x * x; remembers the dtype forward saw."""

    seen = []

    def forward(self, x):
        RecordDtype.seen.append(x.dtype)
        return x * x

    def backward(self, xp, grad, out, x):
        return (grad * x * 2,)


# ---- reading the error message -----------------------------------------------------------

_NUMBER = r"(?:np\.float64\()?([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan))"


def _parse(message):
    """(input position, index tuple, analytic value, numeric value) from the message."""
    position = re.search(r"input (\d+)", message)
    index = re.search(r"index (\([-\d, ]*\))", message)
    analytic = re.search(r"analytic\s+" + _NUMBER, message)
    numeric = re.search(r"numeric\s+" + _NUMBER, message)
    assert position and index and analytic and numeric, message
    return (
        int(position.group(1)),
        ast.literal_eval(index.group(1)),
        float(analytic.group(1)),
        float(numeric.group(1)),
    )


def _randn(shape, device, seed, requires_grad=True):
    values = np.random.default_rng(seed).standard_normal(shape)
    return tg.Tensor(values, requires_grad=requires_grad, device=device)


# ---- correct ops pass -------------------------------------------------------------------------


def test_correct_ops_return_true(device):
    x = _randn((3, 3), device, 0)
    y = _randn((3, 3), device, 1)
    assert tg.gradcheck(lambda a, b: GoodMatMul.apply(a, b), [x, y]) is True
    assert tg.gradcheck(lambda a: GoodTranspose.apply(a), [x]) is True
    assert tg.gradcheck(lambda a: GoodSquare.apply(a), x) is True


def test_several_inputs_and_tuple_outputs(device):
    x = _randn((2, 3), device, 0)
    y = _randn((3, 4), device, 1)
    z = _randn((2, 4), device, 2)

    def fn(a, b, c):
        return (a @ b) * c, a.sin(), (c.exp() * 2.0).sum(axis=0)

    assert tg.gradcheck(fn, [x, y, z]) is True


# ---- planted bugs are caught -------------------------------------------------------------------


def test_matmul_that_forgot_a_transpose_is_caught(device):
    x = _randn((3, 3), device, 0)
    y = _randn((3, 3), device, 1)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a, b: MatMulForgotTranspose.apply(a, b), [x, y])
    position, index, analytic, numeric = _parse(str(info.value))
    assert position == 0
    assert len(index) == 2 and all(0 <= i < 3 for i in index)
    assert abs(analytic - numeric) > 1e-5 + 1e-3 * abs(numeric)


def test_sum_would_hide_the_transpose_bug_but_gradcheck_catches_it(device):
    values = np.random.default_rng(0).standard_normal((3, 3))
    # With a plain .sum() the planted op gives the right gradient (all ones) ...
    x = tg.Tensor(values, requires_grad=True, device=device)
    TransposeForgotTranspose.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 3)))
    # ... but with a random upstream gradient it does not.
    x = tg.Tensor(values, requires_grad=True, device=device)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a: TransposeForgotTranspose.apply(a), [x])
    position, index, analytic, numeric = _parse(str(info.value))
    assert position == 0 and index[0] != index[1]  # the diagonal is right
    assert abs(analytic - numeric) > 1e-5


def test_wrong_sign_is_caught_and_message_has_both_values(device):
    values = np.linspace(-1.3, 1.1, 6).reshape(2, 3)  # cos is never 0 here
    x = tg.Tensor(values, requires_grad=True, device=device)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a: SinWrongSign.apply(a), [x])
    position, index, analytic, numeric = _parse(str(info.value))
    assert position == 0 and len(index) == 2
    # analytic = w * -cos(x), numeric = w * cos(x) for the same upstream w
    np.testing.assert_allclose(analytic, -numeric, rtol=1e-6)
    assert numeric != 0.0


def test_wrong_factor_is_caught(device):
    values = np.array([0.5, -1.5, 2.0, 1.0])
    x = tg.Tensor(values, requires_grad=True, device=device)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a: SquareWrongFactor.apply(a), [x])
    position, index, analytic, numeric = _parse(str(info.value))
    assert position == 0 and len(index) == 1
    np.testing.assert_allclose(analytic, numeric / 2, rtol=1e-6)  # w x  vs  2 w x


def test_bug_at_a_single_element_is_caught_at_that_index(device):
    x = _randn((2, 3), device, 3)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a: SquareWrongAtOneElement.apply(a), [x])
    position, index, analytic, numeric = _parse(str(info.value))
    assert position == 0
    assert index == (1, 2)
    assert analytic == 0.0 and numeric != 0.0


def test_message_names_the_right_input(device):
    x = _randn((2, 2), device, 0)
    y = _randn((2, 2), device, 1)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a, b: MulWrongSecondInput.apply(a, b), [x, y])
    assert _parse(str(info.value))[0] == 1
    # a constant in between keeps positions as the caller numbered them
    c = _randn((2, 2), device, 2, requires_grad=False)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a, k, b: MulWrongSecondInput.apply(a * k, b), [x, c, y])
    assert _parse(str(info.value))[0] == 2


def test_bug_in_one_output_of_a_tuple_is_caught(device):
    x = _randn((3,), device, 0)

    def fn(a):
        return a.exp(), SinWrongSign.apply(a)

    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(fn, [x])


# ---- gradcheck leaves the caller's tensors alone, and works in float64 -----------------------


def test_gradcheck_does_not_modify_inputs(device):
    values = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    x = tg.Tensor(values.copy(), requires_grad=True, device=device)
    c = tg.Tensor(values.copy() + 1, device=device)
    x.grad = tg.Tensor(np.full((2, 3), 7.0, dtype=np.float32), device=device)
    assert tg.gradcheck(lambda a, b: (a * b).sin(), [x, c])
    np.testing.assert_array_equal(x.numpy(), values)
    np.testing.assert_array_equal(c.numpy(), values + 1)
    assert x.dtype == np.float32 and x.requires_grad and x.grad_fn is None
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 7.0))
    assert not c.requires_grad and c.grad is None


def test_gradcheck_does_not_modify_inputs_even_when_it_fails(device):
    values = np.array([0.5, -1.5, 2.0])
    x = tg.Tensor(values.copy(), requires_grad=True, device=device)
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(lambda a: SquareWrongFactor.apply(a), [x])
    np.testing.assert_array_equal(x.numpy(), values)
    assert x.grad is None


def test_float32_inputs_are_checked_in_float64(device):
    RecordDtype.seen.clear()
    # x*x at x = 1 with eps = 1e-6: float32 cannot even represent 1 + 1e-6 well
    # (finite differences would be off by ~5%), float64 is exact to ~1e-10.
    x = tg.Tensor([1.0, 3.0, -2.0], requires_grad=True, device=device)
    assert x.dtype == np.float32
    assert tg.gradcheck(lambda a: RecordDtype.apply(a), [x]) is True
    assert RecordDtype.seen and all(dtype == np.float64 for dtype in RecordDtype.seen)
    assert x.dtype == np.float32


def test_gradcheck_on_non_contiguous_input(device):
    # A transposed view as input (e.g. w.T.detach()): same values, same answer.
    values = np.random.default_rng(0).standard_normal((3, 2)).T
    x = tg.Tensor(values, requires_grad=True, device=device)
    assert tg.gradcheck(lambda a: a * a, [x]) is True
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(lambda a: SquareWrongFactor.apply(a), [x])


class SquareCutsRecordedGraph(tg.Function):
    """out = x^2.  First derivative right; planted bug only when create_graph records the
    backward: 2x is detached there, so the second derivative comes out 0 instead of 2."""

    def forward(self, x):
        return x * x

    def backward(self, xp, grad, out, x):
        twice_x = x * 2
        if isinstance(twice_x, tg.Tensor):
            twice_x = twice_x.detach()
        return (grad * twice_x,)


def test_second_derivative_check_catches_a_planted_bug(device):
    x = _randn((3,), device, 0)
    w = _randn((3,), device, 1, requires_grad=False)
    assert tg.gradcheck(lambda a: SquareCutsRecordedGraph.apply(a), [x]) is True

    def gradient_of(op):
        def gradient(a):
            with tg.enable_grad():  # gradcheck evaluates fn under no_grad
                return tg.grad(op.apply(a), a, w, create_graph=True)

        return gradient

    assert tg.gradcheck(gradient_of(GoodSquare), [x]) is True
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(gradient_of(SquareCutsRecordedGraph), [x])
    position, index, analytic, numeric = _parse(str(info.value))
    assert position == 0 and analytic == 0.0 and numeric != 0.0
