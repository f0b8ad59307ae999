"""User-defined ops (subclasses of `tg.Function`): checked, caught when wrong, clear errors.

The ops under test are those of examples/custom_op.py, plus deliberately broken ones
defined here.  docs/custom_ops.md is the page these tests back up.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.testing import check_op

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


custom_op = load_example("custom_op")
Cube = custom_op.Cube
LogCosh = custom_op.LogCosh
CubeForgotThree = custom_op.CubeForgotThree


# ---- broken ops ------------------------------------------------------------------------


class CubeDetached(tg.Function):
    """Right first derivative, but backward cuts the graph under create_graph, so the
    second derivative is wrong: only check_op(second=True) can see it."""

    __slots__ = ()

    def forward(self, x):
        return x * x * x

    def backward(self, xp, grad, out, x):
        if isinstance(x, tg.Tensor):
            x = x.detach()  # the bug: treats x as a constant in the recorded backward
        return (grad * 3 * x * x,)


class LogCoshNumpyInBackward(tg.Function):
    """Calls numpy.tanh instead of xp.tanh: fine on arrays, cannot run on Tensors."""

    __slots__ = ()

    def forward(self, x):
        return self.xp.log(self.xp.cosh(x))

    def backward(self, xp, grad, out, x):
        return (grad * np.tanh(x),)


class SumInsteadOfGrad(tg.Function):
    """Backward returns a gradient of the wrong shape (a sum instead of an array)."""

    __slots__ = ()

    def forward(self, x):
        return x * 2

    def backward(self, xp, grad, out, x):
        return ((grad * 2).sum(),)


class MulMissingSecondGrad(tg.Function):
    """Two inputs, but backward returns only one gradient."""

    __slots__ = ()

    def forward(self, x, y):
        return x * y

    def backward(self, xp, grad, out, x, y):
        return (grad * y,)


class DoubleNoTuple(tg.Function):
    """Returns a bare gradient instead of a one-element tuple."""

    __slots__ = ()

    def forward(self, x):
        return x * 2

    def backward(self, xp, grad, out, x):
        return grad * 2


def random_input(shape=(2, 3), seed=0, device="cpu"):
    rng = np.random.default_rng(seed)
    return tg.Tensor(rng.uniform(-2, 2, shape), requires_grad=True, device=device)


# ---- correct ops pass ------------------------------------------------------------------


@pytest.mark.parametrize("op", [Cube, LogCosh], ids=lambda op: op.__name__)
def test_custom_op_passes_gradcheck(op, device):
    assert tg.gradcheck(op.apply, [random_input(device=device)]) is True
    assert tg.gradcheck(op.apply, [random_input(shape=(), device=device)]) is True


@pytest.mark.parametrize("op", [Cube, LogCosh], ids=lambda op: op.__name__)
def test_custom_op_passes_check_op_first_and_second_order(op, device):
    assert check_op(op.apply, max_examples=15, device=device) is True
    assert check_op(op.apply, second=True, max_examples=15, device=device) is True


def test_cube_values_and_gradients():
    x = random_input()
    y = Cube.apply(x)
    assert isinstance(y.grad_fn, Cube)
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 3, rtol=1e-15)
    w = np.random.default_rng(1).standard_normal(x.shape)
    y.backward(tg.Tensor(w))
    np.testing.assert_allclose(x.grad.numpy(), w * 3 * x.numpy() ** 2, rtol=1e-14)
    # Second derivative through create_graph: d/dx sum(3 x**2 * w) = 6 x w.
    x.grad = None
    (g,) = tg.grad(Cube.apply(x), [x], tg.Tensor(w), create_graph=True)
    (h,) = tg.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy() * w, rtol=1e-14)


def test_custom_op_keeps_float32():
    x = tg.Tensor(np.array([0.5, -1.0, 30.0], dtype=np.float32), requires_grad=True)
    for op in (Cube, LogCosh):
        out = op.apply(x)
        assert out.dtype == np.float32, op.__name__
        out.sum().backward()
        assert x.grad.dtype == np.float32, op.__name__
        x.grad = None


def test_logcosh_does_not_overflow():
    x = tg.Tensor([-1000.0, 1000.0], dtype=np.float64, requires_grad=True)
    out = LogCosh.apply(x)
    np.testing.assert_allclose(out.numpy(), 1000.0 - np.log(2.0), rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0])


# ---- wrong ops are caught --------------------------------------------------------------


def test_wrong_backward_fails_gradcheck_naming_the_values():
    with pytest.raises(tg.GradcheckError, match="gradient mismatch for input 0"):
        tg.gradcheck(CubeForgotThree.apply, [random_input()])


def test_wrong_backward_fails_check_op(device):
    with pytest.raises(tg.GradcheckError):
        check_op(CubeForgotThree.apply, max_examples=15, device=device)


def test_wrong_second_derivative_fails_only_second_order_check(device):
    assert check_op(CubeDetached.apply, max_examples=15, device=device) is True
    with pytest.raises(tg.GradcheckError):
        check_op(CubeDetached.apply, second=True, max_examples=15, device=device)


def test_numpy_function_in_backward_breaks_create_graph():
    x = random_input()
    assert tg.gradcheck(LogCoshNumpyInBackward.apply, [x]) is True  # arrays: fine
    with pytest.raises(TypeError):  # Tensors: numpy.tanh refuses them (use xp.tanh)
        tg.grad(LogCoshNumpyInBackward.apply(x).sum(), [x], create_graph=True)


# ---- clear errors ------------------------------------------------------------------------


def test_wrong_gradient_shape_is_a_clear_error_naming_the_op():
    x = random_input(shape=(2, 3))
    out = SumInsteadOfGrad.apply(x).sum()
    with pytest.raises(RuntimeError, match=r"SumInsteadOfGrad.*\(\).*\(2, 3\)"):
        out.backward()


def test_wrong_gradient_shape_under_create_graph_names_the_op():
    x = random_input(shape=(2, 3))
    out = SumInsteadOfGrad.apply(x).sum()
    with pytest.raises(RuntimeError, match="SumInsteadOfGrad"):
        tg.grad(out, [x], create_graph=True)


def test_too_few_gradients_is_an_error_naming_the_op():
    # autograd.backward zips the inputs with the returned gradients, so today the missing
    # one is silently dropped and y.grad stays None: a wrong answer, not an error.
    x = random_input(seed=1)
    y = random_input(seed=2)
    out = MulMissingSecondGrad.apply(x, y).sum()
    with pytest.raises(RuntimeError, match="MulMissingSecondGrad"):
        out.backward()


@pytest.mark.parametrize("shape", [(3,), ()], ids=["1-d", "0-d"])
def test_forgotten_tuple_is_an_error_naming_the_op(shape):
    # A bare array is iterated row by row; for a 0-d input that is a TypeError from deep
    # inside the engine that does not name the op.
    x = random_input(shape=shape)
    out = DoubleNoTuple.apply(x).sum()
    with pytest.raises(RuntimeError, match="DoubleNoTuple"):
        out.backward()


def test_gradient_of_a_0d_input_is_an_array():
    # API.md: `.data` is the backend array.  NumPy turns 0-d array arithmetic into numpy
    # scalars (np.float64), which the engine currently stores in .grad as they are.
    x = random_input(shape=())
    Cube.apply(x).backward()
    assert isinstance(x.grad.data, np.ndarray)


# ---- the example -------------------------------------------------------------------------


def test_example_main_runs(capsys):
    message = custom_op.main(examples=3, seed=0)
    printed = capsys.readouterr().out
    assert "gradient mismatch for input 0" in message
    assert "CubeForgotThree is caught" in printed
    assert "pass gradcheck and check_op" in printed


def test_reads_asking_for_shapes_only_keeps_values_where_no_node_records_them():
    # `grad_x` reads the shape of y, a constant (no node), and of the output: both are kept
    # as values, so backward still gets something with a .shape.
    class ScaleBy(tg.Function):
        reads = {"grad_x": "y out.shape y.shape"}

        def forward(self, x, y):
            return x * y

        def backward(self, xp, grad, out, x, y):
            assert out.shape == grad.shape and y.shape == (1,)
            return (grad * y, None)

    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    out = ScaleBy.apply(x, tg.Tensor([3.0]))
    assert out.grad_fn.saved[1] is None  # x itself is never read
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_forward_knows_which_gradients_will_be_needed():
    """needs_input_grad is set before forward (all False when nothing is recorded), so a
    forward can skip keeping what only backward reads, as Max does with its mask."""
    seen = []

    class Spy(tg.Function):
        __slots__ = ()

        def forward(self, x, y):
            seen.append(self.needs_input_grad)
            return x * y

        def backward(self, xp, grad, out, x, y):
            return grad * y, grad * x

    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0, 4.0])
    Spy.apply(a, b)
    Spy.apply(b, b)
    with tg.no_grad():
        Spy.apply(a, b)
    assert seen == [(True, False), (False, False), (False, False)]
