"""`tg.jacobian` and `tg.hessian` (tinygrad_edu/functional.py), as in torch.autograd.functional.

Expected values come from central finite differences in float64 (computed here with the
forward pass only) or from closed forms derived in the comments, never from the
library's own derivatives.
"""

import numpy as np
import pytest

import tinygrad_edu as tg

EPS = 1e-6  # step of first-order central differences (float64)
EPS2 = 1e-4  # step of second-order differences: error ~ EPS2**2 + 1e-16 / EPS2**2


def _t(values, device, requires_grad=False):
    return tg.Tensor(
        np.asarray(values, dtype=np.float64), requires_grad=requires_grad, device=device
    )


def _random(rng, *shape):
    return rng.standard_normal(shape)


def _value(fn, arrays, device):
    """fn at host arrays, evaluated on `device`, as a host float64 array."""
    with tg.no_grad():
        out = fn(*[_t(a, device) for a in arrays])
    return np.asarray(out.numpy(), dtype=np.float64)


def _numerical_jacobian(fn, arrays, device, k):
    """d fn / d arrays[k] by central differences: shape out.shape + arrays[k].shape."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    x = arrays[k]
    out_shape = _value(fn, arrays, device).shape
    result = np.zeros(out_shape + x.shape)
    for index in np.ndindex(*x.shape):
        original = x[index]
        x[index] = original + EPS
        plus = _value(fn, arrays, device)
        x[index] = original - EPS
        minus = _value(fn, arrays, device)
        x[index] = original
        result[(Ellipsis,) + index] = (plus - minus) / (2 * EPS)
    return result


def _numerical_hessian(fn, arrays, device):
    """The Hessian of scalar fn over all inputs flattened and joined: (n, n), n = total size.

    Second differences of fn's values only:
    H[a, b] ~ (f(+a+b) - f(+a-b) - f(-a+b) + f(-a-b)) / (4 EPS2**2)."""
    shapes = [np.shape(a) for a in arrays]
    flat = np.concatenate([np.ravel(a) for a in arrays]).astype(np.float64)
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]

    def f(v):
        parts = [p.reshape(s) for p, s in zip(np.split(v, splits), shapes)]
        return _value(fn, parts, device).item()

    n = flat.size
    result = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            step_a, step_b = np.eye(n)[a] * EPS2, np.eye(n)[b] * EPS2
            result[a, b] = (
                f(flat + step_a + step_b)
                - f(flat + step_a - step_b)
                - f(flat - step_a + step_b)
                + f(flat - step_a - step_b)
            ) / (4 * EPS2**2)
    return result


def _as_matrix(blocks, shapes):
    """Hessian blocks [k][m] of shape shapes[k] + shapes[m] -> one (n, n) host matrix."""
    sizes = [int(np.prod(s)) for s in shapes]
    return np.block(
        [
            [blocks[k][m].numpy().reshape(sizes[k], sizes[m]) for m in range(len(shapes))]
            for k in range(len(shapes))
        ]
    )


def _close(actual, expected, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual.numpy()), expected, rtol=1e-5, atol=atol)


# ---- jacobian against finite differences ------------------------------------------------


def test_jacobian_of_an_elementwise_function(device):
    rng = np.random.default_rng(0)
    x = _random(rng, 2, 3)
    fn = lambda x: x.sin() * x.exp()
    jac = tg.jacobian(fn, _t(x, device))
    assert isinstance(jac, tg.Tensor) and jac.shape == (2, 3, 2, 3)
    assert jac.device is tg.get_device(device) and jac.dtype == np.float64
    _close(jac, _numerical_jacobian(fn, [x], device, 0))


def test_jacobian_of_a_matmul_with_tuple_inputs_is_a_tuple_per_input(device):
    rng = np.random.default_rng(1)
    a, b = _random(rng, 2, 3), _random(rng, 3, 4)
    fn = lambda a, b: a @ b
    jac = tg.jacobian(fn, (_t(a, device), _t(b, device)))
    assert isinstance(jac, tuple) and len(jac) == 2
    assert jac[0].shape == (2, 4, 2, 3) and jac[1].shape == (2, 4, 3, 4)
    _close(jac[0], _numerical_jacobian(fn, [a, b], device, 0))
    _close(jac[1], _numerical_jacobian(fn, [a, b], device, 1))


def test_jacobian_through_broadcasting(device):
    rng = np.random.default_rng(2)
    x, b = _random(rng, 3, 4), _random(rng, 4)
    fn = lambda x, b: (x + b).tanh() * b  # b (4,) is broadcast over x's rows
    jac = tg.jacobian(fn, (_t(x, device), _t(b, device)))
    assert jac[0].shape == (3, 4, 3, 4) and jac[1].shape == (3, 4, 4)
    _close(jac[0], _numerical_jacobian(fn, [x, b], device, 0))
    _close(jac[1], _numerical_jacobian(fn, [x, b], device, 1))


def test_jacobian_of_tuple_outputs_is_a_tuple_per_output(device):
    rng = np.random.default_rng(3)
    x, y = _random(rng, 3), _random(rng, 2, 3)
    fns = (lambda x, y: x * y, lambda x, y: (y @ x).exp().sum())
    both = lambda x, y: (fns[0](x, y), fns[1](x, y))

    jac = tg.jacobian(both, (_t(x, device), _t(y, device)))  # tuple of tuples
    assert len(jac) == 2 and all(len(per_output) == 2 for per_output in jac)
    expected_shapes = (((2, 3, 3), (2, 3, 2, 3)), ((3,), (2, 3)))
    for i, fn in enumerate(fns):
        for k in range(2):
            assert jac[i][k].shape == expected_shapes[i][k]
            _close(jac[i][k], _numerical_jacobian(fn, [x, y], device, k))

    jac = tg.jacobian(lambda x: both(x, _t(y, device)), _t(x, device))  # one input
    assert len(jac) == 2 and all(isinstance(j, tg.Tensor) for j in jac)
    assert jac[0].shape == (2, 3, 3) and jac[1].shape == (3,)
    _close(jac[1], _numerical_jacobian(fns[1], [x, y], device, 0))


def test_jacobian_of_a_scalar_output_is_the_gradient(device):
    x = _t([1.0, -2.0, 0.5], device)
    jac = tg.jacobian(lambda x: (x * x).sum(), x)  # d/dx sum(x^2) = 2x, shape () + (3,)
    assert jac.shape == (3,)
    _close(jac, [2.0, -4.0, 1.0])


def test_jacobian_keeps_float32(device):
    x = tg.Tensor([1.0, 2.0], device=device)  # float32
    jac = tg.jacobian(lambda x: x * x, x)  # diag(2x)
    assert jac.dtype == np.float32
    np.testing.assert_allclose(jac.numpy(), [[2.0, 0.0], [0.0, 4.0]])


def test_one_tensor_passed_twice_gives_partial_derivatives(device):
    x = _t([1.0, 2.0], device)
    d_a, d_b = tg.jacobian(lambda a, b: a * b * b, (x, x))
    # d(a b^2)/da = diag(b^2), d/db = diag(2 a b): partials, not the total 3 x^2
    _close(d_a, np.diag([1.0, 4.0]))
    _close(d_b, np.diag([2.0, 8.0]))


# ---- closed forms -----------------------------------------------------------------


def test_jacobian_of_a_matrix_times_x_is_the_matrix(device):
    rng = np.random.default_rng(4)
    a = _random(rng, 2, 3)
    matrix = _t(a, device)
    jac = tg.jacobian(lambda x: matrix @ x, _t(_random(rng, 3), device))
    _close(jac, a, atol=1e-12)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transposed(device):
    # f(x) = x @ A @ x = sum_ij x_i A_ij x_j  ->  d2f / dx_i dx_j = A_ij + A_ji
    rng = np.random.default_rng(5)
    a = _random(rng, 4, 4)
    matrix = _t(a, device)
    hess = tg.hessian(lambda x: x @ matrix @ x, _t(_random(rng, 4), device))
    assert hess.shape == (4, 4)
    _close(hess, a + a.T, atol=1e-12)


def test_hessian_of_sum_of_tanh_is_diagonal(device):
    # d/dx tanh(x) = 1 - tanh^2,  d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2)
    rng = np.random.default_rng(6)
    x = _random(rng, 2, 3)
    hess = tg.hessian(lambda x: x.tanh().sum(), _t(x, device))
    assert hess.shape == (2, 3, 2, 3)
    t = np.tanh(x).ravel()
    _close(hess.reshape(6, 6), np.diag(-2 * t * (1 - t**2)), atol=1e-12)


def test_hessian_with_tuple_inputs_against_finite_differences(device):
    rng = np.random.default_rng(7)
    x, y = _random(rng, 3), _random(rng, 2, 3)
    fn = lambda x, y: ((y @ x).sin() * x.sum()).sum() + (x * x * x).sum()
    hess = tg.hessian(fn, (_t(x, device), _t(y, device)))
    assert len(hess) == 2 and all(len(row) == 2 for row in hess)
    assert hess[0][0].shape == (3, 3) and hess[0][1].shape == (3, 2, 3)
    assert hess[1][0].shape == (2, 3, 3) and hess[1][1].shape == (2, 3, 2, 3)
    matrix = _as_matrix(hess, [(3,), (2, 3)])
    np.testing.assert_allclose(matrix, _numerical_hessian(fn, [x, y], device), atol=1e-5)


# ---- the 1-3-1 tanh network -----------------------------------------------------------


def _net_loss(x, y_true):
    """The lecture's 1-3-1 network: y = w1 @ tanh(w0 * x + b0) + b1, squared error."""

    def loss(w0, b0, w1, b1):
        y = w1 @ (w0 * x + b0).tanh() + b1
        return ((y_true - y) ** 2).sum()

    return loss


def test_hessian_of_the_131_network_loss(device):
    rng = np.random.default_rng(8)
    shapes = [(3, 1), (3, 1), (1, 3), (1, 1)]  # w0, b0, w1, b1
    params = [_random(rng, *s) for s in shapes]
    x, y_true = np.linspace(-1.0, 1.0, 4).reshape(1, 4), _random(rng, 1, 4)
    loss = _net_loss(_t(x, device), _t(y_true, device))

    hess = tg.hessian(loss, tuple(_t(p, device) for p in params))
    for k in range(4):
        for m in range(4):
            assert hess[k][m].shape == shapes[k] + shapes[m]
    matrix = _as_matrix(hess, shapes)  # (10, 10)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-12)  # symmetric
    np.testing.assert_allclose(matrix, _numerical_hessian(loss, params, device), atol=1e-5)

    # With respect to w0 alone: the (0, 0) block of the full Hessian.
    only_w0 = tg.hessian(
        lambda w0: loss(w0, *[_t(p, device) for p in params[1:]]), _t(params[0], device)
    )
    _close(only_w0, hess[0][0].numpy(), atol=1e-12)


# ---- independence and strict ----------------------------------------------------------


def test_an_unused_input_gives_zeros(device):
    x, y = _t([1.0, 2.0], device), _t([3.0, 4.0, 5.0], device)
    d_x, d_y = tg.jacobian(lambda x, y: x * 2.0, (x, y))
    _close(d_x, 2 * np.eye(2))
    assert d_y.shape == (2, 3)
    _close(d_y, np.zeros((2, 3)))
    hess = tg.hessian(lambda x, y: (x**3).sum(), (x, y))
    _close(hess[0][0], np.diag([6.0, 12.0]))  # d2/dx2 x^3 = 6x
    for block, shape in ((hess[0][1], (2, 3)), (hess[1][0], (3, 2)), (hess[1][1], (3, 3))):
        assert block.shape == shape
        _close(block, np.zeros(shape))


def test_an_output_made_from_constants_gives_zeros(device):
    x = _t([1.0, 2.0], device)
    constant = _t([7.0, 8.0, 9.0], device)
    jac = tg.jacobian(lambda x: constant * 2.0, x)  # does not require grad at all
    assert jac.shape == (3, 2)
    _close(jac, np.zeros((3, 2)))
    hess = tg.hessian(lambda x: constant.sum(), x)
    _close(hess, np.zeros((2, 2)))


def test_strict_rejects_an_output_independent_of_an_input(device):
    x, y = _t([1.0, 2.0], device), _t([3.0], device)
    with pytest.raises(RuntimeError, match="output 0 of fn does not depend on input 1"):
        tg.jacobian(lambda x, y: x * 2.0, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="output 1 .* does not require grad"):
        tg.jacobian(lambda x: (x * 2.0, y * 2.0), x, strict=True)
    with pytest.raises(RuntimeError, match="hessian: the gradient of fn .* input 1 does not"):
        tg.hessian(lambda x, y: (x**3).sum(), (x, y), strict=True)
    with pytest.raises(
        RuntimeError, match="gradient of fn with respect to input 0 does not depend on input 1"
    ):
        tg.hessian(lambda x, y: (x**3).sum() + (y**3).sum(), (x, y), strict=True)
    # strict changes nothing when every output depends on every input
    jac = tg.jacobian(lambda x, y: x * y, (x, y), strict=True)
    _close(jac[1], [[1.0], [2.0]])


def test_strict_hessian_rejects_a_linear_function(device):
    x = _t([1.0, 2.0], device)
    # the gradient of a linear function is constant: independent of x
    with pytest.raises(RuntimeError, match="gradient of fn with respect to input 0 does not"):
        tg.hessian(lambda x: (x * 3.0).sum(), x, strict=True)
    _close(tg.hessian(lambda x: (x * 3.0).sum(), x), np.zeros((2, 2)))


def test_strict_with_create_graph_rejects_a_constant_jacobian(device):
    x = _t([1.0, 2.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="create_graph=True cannot make it differentiable"):
        tg.jacobian(lambda x: x * 3.0, x, create_graph=True, strict=True)
    jac = tg.jacobian(lambda x: x * x, x, create_graph=True, strict=True)
    assert jac.requires_grad


# ---- create_graph -----------------------------------------------------------------------


def test_create_graph_makes_the_jacobian_differentiable(device):
    rng = np.random.default_rng(9)
    x0, w = _random(rng, 3), _random(rng, 2, 3)
    fn = lambda x: tg.stack([(x[0] * x[1]).sin(), x[2] ** 3 + x[0]])
    weights = _t(w, device)

    x = _t(x0, device, requires_grad=True)
    jac = tg.jacobian(fn, x, create_graph=True)
    assert jac.requires_grad
    d_x = tg.grad((jac * weights).sum(), x)  # d/dx sum(J(x) * W)

    # the same, by differencing the Jacobian itself
    weighted = lambda x: (tg.jacobian(fn, x) * weights).sum()
    _close(d_x, _numerical_jacobian(weighted, [x0], device, 0), atol=1e-5)
    assert not tg.jacobian(fn, x).requires_grad  # without create_graph: plain values


def test_create_graph_makes_the_hessian_differentiable(device):
    # f = sum(x^4): H = diag(12 x^2), so d/dx sum(H * W) = 24 x * diag(W)
    rng = np.random.default_rng(10)
    x0, w = _random(rng, 3), _random(rng, 3, 3)
    x = _t(x0, device, requires_grad=True)
    hess = tg.hessian(lambda x: (x**4).sum(), x, create_graph=True)
    assert hess.requires_grad
    _close(tg.grad((hess * _t(w, device)).sum(), x), 24 * x0 * np.diag(w))


# ---- the caller's tensors -------------------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_callers_tensors_are_untouched(device, create_graph):
    x = _t([1.0, 2.0], device, requires_grad=True)
    y = _t([3.0, 4.0], device)  # does not require grad
    fn = lambda x, y: (x * x * y).sum()
    tg.jacobian(fn, (x, y), create_graph=create_graph)
    tg.hessian(fn, (x, y), create_graph=create_graph)
    assert x.requires_grad and x.is_leaf and x.grad is None
    assert not y.requires_grad and y.is_leaf and y.grad is None
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(y.numpy(), [3.0, 4.0])
    (x * y).sum().backward()  # x still works as an ordinary leaf
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_the_graph_behind_an_input_stays_usable(device):
    w = _t([1.0, 2.0], device, requires_grad=True)
    x = w * 2.0  # not a leaf
    _close(tg.jacobian(lambda x: x * x, x), np.diag([4.0, 8.0]))
    x.sum().backward()  # the caller's graph was not freed
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_works_inside_no_grad(device):
    x = _t([1.0, 2.0], device)
    with tg.no_grad():
        jac = tg.jacobian(lambda x: x * x, x)
        hess = tg.hessian(lambda x: (x**3).sum(), x)
    _close(jac, np.diag([2.0, 4.0]))
    _close(hess, np.diag([6.0, 12.0]))


# ---- errors ---------------------------------------------------------------------------------


def test_errors_name_the_problem(device):
    x = _t([1.0, 2.0], device)
    with pytest.raises(TypeError, match="jacobian: the outputs of fn must be a Tensor .* list"):
        tg.jacobian(lambda x: [x * 2.0], x)
    with pytest.raises(TypeError, match="outputs of fn .* float .position 1"):
        tg.jacobian(lambda x: (x, 1.0), x)
    with pytest.raises(TypeError, match="jacobian: the inputs must be a Tensor or a tuple"):
        tg.jacobian(lambda x: x, [x])
    with pytest.raises(TypeError, match="jacobian: input 1 has dtype int64.*floating-point"):
        tg.jacobian(lambda x, n: x, (x, tg.Tensor([1, 2], device=device)))
    with pytest.raises(TypeError, match="hessian: input 0 has dtype int64"):
        tg.hessian(lambda n: n.sum(), tg.Tensor([1, 2], device=device))
    with pytest.raises(
        RuntimeError, match=r"hessian: fn must return a Tensor with one element.*\(2,\)"
    ):
        tg.hessian(lambda x: x * x, x)
    with pytest.raises(TypeError, match="hessian: fn must return a Tensor .* got tuple"):
        tg.hessian(lambda x: ((x * x).sum(),), x)
    with pytest.raises(TypeError, match="hessian: fn must return a Tensor .* got float"):
        tg.hessian(lambda x: 1.0, x)
