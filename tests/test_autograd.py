"""The Autograd section of docs API.md, one semantic per test.

Every expected value is derived by hand (in the comment next to it) or computed with
NumPy from the formula, never copied from the library's own output.
"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.autograd import AccumulateGrad, topological_order


def _t(values, device, requires_grad=True, dtype=None):
    return tg.Tensor(values, requires_grad=requires_grad, device=device, dtype=dtype)


# ---- leaf gradients ------------------------------------------------------------------


def test_leaf_gradients_accumulate_across_backward_calls(device):
    x = _t([1.0, 2.0, 3.0], device)
    (x * x).sum().backward()  # d/dx sum(x^2) = 2x
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    (x * 3.0).sum().backward()  # adds 3
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_grad_is_a_tensor_with_the_leafs_shape_and_dtype(device):
    # A (3, 1) float64 leaf broadcast against (2, 3, 4): its gradient is summed back.
    x = _t(np.arange(3.0).reshape(3, 1), device)
    y = x * tg.Tensor(np.ones((2, 3, 4)), device=device)
    y.sum().backward()
    assert isinstance(x.grad, tg.Tensor)
    assert x.grad.shape == (3, 1)
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 1), 8.0))  # 2 * 4 copies
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_float32_leaf_keeps_float32_grad_when_mixed_with_float64(device):
    x = _t([1.0, 2.0, 3.0], device)  # float32
    y = x * tg.Tensor(np.array([1.0, 2.0, 3.0]), device=device)  # float64 result
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.array([1, 2, 3], dtype=np.float32))


def test_non_leaf_grad_stays_none_without_retain_grad(device):
    x = _t([1.0, 2.0], device)
    y = x * 2.0
    z = y * 3.0
    z.sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf \(made by Mul\).*retain_grad"):
        assert y.grad is None
    with pytest.warns(UserWarning, match="not a leaf"):
        assert z.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_reading_grad_of_a_leaf_or_a_retained_non_leaf_does_not_warn(device, recwarn):
    x = _t([1.0, 2.0], device)
    assert x.grad is None  # a leaf before backward: None, silently
    y = (x * 2.0).retain_grad()
    assert y.grad is None  # retained, backward not run yet
    y.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    assert len(recwarn) == 0


def test_w_equals_w_minus_lr_grad_warns_before_the_none_error(device):
    # The micrograd habit `w = w - lr * w.grad` makes w an op's output: the next .grad
    # read is None, and the warning says why before Python's `float * None` error.
    w = _t([1.0, 2.0], device)
    (w * w).sum().backward()
    w = w - 0.1 * w.grad
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match="no_grad"):
        grad = w.grad
    assert grad is None


def test_retain_grad_keeps_a_non_leaf_gradient(device):
    x = _t([1.0, 2.0], device)
    y = x * 2.0
    y.retain_grad()
    (y * y).sum().backward()  # d/dy sum(y^2) = 2y = [4, 8]
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])  # 2y * 2
    assert y.grad.shape == y.shape and y.grad.dtype == y.dtype


# ---- the starting gradient ------------------------------------------------------------


def test_backward_on_non_scalar_without_grad_names_the_shape(device):
    x = _t(np.ones((2, 3), dtype=np.float32), device)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()
    assert x.grad is None


def test_backward_with_grad_of_wrong_shape_is_a_clear_error(device):
    x = _t([1.0, 2.0], device)
    y = x * 2.0
    with pytest.raises(RuntimeError) as info:
        y.backward(grad=tg.Tensor([1.0, 2.0, 3.0], device=device))
    message = str(info.value)
    assert "(3,)" in message and "(2,)" in message
    assert x.grad is None


def test_backward_on_one_element_non_0d_tensor_implies_ones(device):
    x = _t([[3.0]], device)
    (x * x).backward()  # shape (1, 1): grad implied, 2x = 6
    np.testing.assert_allclose(x.grad.numpy(), [[6.0]])


@pytest.mark.parametrize("kind", ["tensor", "list"])
def test_backward_accepts_grad_as_tensor_or_list(device, kind):
    upstream = [1.0, -2.0, 0.5]
    grad = tg.Tensor(upstream, device=device) if kind == "tensor" else upstream
    x = _t([1.0, 2.0, 3.0], device)
    (x * x).backward(grad=grad)  # 2x * upstream
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) * upstream)


def test_backward_accepts_grad_as_numpy_array_on_cpu():
    upstream = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    x = _t([1.0, 2.0, 3.0], "cpu")
    (x * x).backward(grad=upstream)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) * upstream)
    np.testing.assert_array_equal(upstream, [1.0, -2.0, 0.5])  # not changed


def test_backward_with_host_array_on_a_gpu_like_device_is_a_clear_error():
    # As CuPy: a host NumPy array is not silently copied to the device.
    x = _t([1.0, 2.0, 3.0], "strict")
    with pytest.raises(RuntimeError, match="host"):
        (x * x).backward(grad=np.ones(3, dtype=np.float32))


def test_backward_on_tensor_without_grad_is_a_clear_error(device):
    x = _t([1.0, 2.0], device, requires_grad=False)
    with pytest.raises(RuntimeError, match="requires_grad|require grad"):
        (x * 2.0).sum().backward()


# ---- freeing the graph ------------------------------------------------------------------


def test_second_backward_through_freed_graph_names_retain_graph(device):
    x = _t([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])  # unchanged by the failed call


def test_backward_through_a_freed_subgraph_is_an_error(device):
    x = _t([1.0, 2.0], device)
    y = x * x
    y.sum().backward()
    z = (y * 2.0).sum()  # new nodes on top of the freed Mul
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates(device):
    x = _t([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([2.0, 4.0]))


# ---- higher-order gradients --------------------------------------------------------------


def test_second_derivative_of_cube_via_backward_create_graph(device):
    x = _t([1.0, 2.0, -3.0], device)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(first.numpy(), 3 * np.array([1.0, 4.0, 9.0]))  # 3x^2
    assert first.requires_grad and first.grad_fn is not None
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0, -3.0]))  # 6x


def test_second_derivative_of_exp_via_backward_create_graph(device):
    # Exp's backward uses its output, so the recorded gradient graph runs through the
    # original Exp node: backward(create_graph=True) must keep that graph (as PyTorch,
    # where retain_graph defaults to create_graph).
    values = np.array([0.5, 1.0, -1.0])
    x = _t(values, device)
    x.exp().sum().backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(values), rtol=1e-12)  # (e^x)'' = e^x


def test_second_derivative_of_sin_is_minus_sin(device):
    values = np.array([0.5, -1.25, 2.0])
    x = _t(values, device)
    first = tg.grad(x.sin().sum(), x, create_graph=True)
    np.testing.assert_allclose(first.numpy(), np.cos(values), rtol=1e-12)
    second = tg.grad(first.sum(), x)
    np.testing.assert_allclose(second.numpy(), -np.sin(values), rtol=1e-12)


def test_second_derivative_of_a_composition(device):
    # f = sin(x^2):  f' = 2x cos(x^2),  f'' = 2 cos(x^2) - 4 x^2 sin(x^2)
    values = np.array([0.3, -1.2, 2.0])
    x = _t(values, device)
    first = tg.grad((x * x).sin().sum(), x, create_graph=True)
    np.testing.assert_allclose(first.numpy(), 2 * values * np.cos(values**2), rtol=1e-12)
    second = tg.grad(first.sum(), x)
    expected = 2 * np.cos(values**2) - 4 * values**2 * np.sin(values**2)
    np.testing.assert_allclose(second.numpy(), expected, rtol=1e-12)


def test_grad_of_grad_does_not_touch_dot_grad(device):
    x = _t([1.0, 2.0], device)
    g = tg.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])  # 3x^2
    assert g.requires_grad
    h = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])  # 6x
    assert x.grad is None


def test_third_derivative_of_x_to_the_fourth(device):
    values = np.array([1.5, -0.5])
    x = _t(values, device)
    d1 = tg.grad((x**4).sum(), x, create_graph=True)  # 4x^3
    d2 = tg.grad(d1.sum(), x, create_graph=True)  # 12x^2
    d3 = tg.grad(d2.sum(), x)  # 24x
    np.testing.assert_allclose(d1.numpy(), 4 * values**3, rtol=1e-12)
    np.testing.assert_allclose(d2.numpy(), 12 * values**2, rtol=1e-12)
    np.testing.assert_allclose(d3.numpy(), 24 * values, rtol=1e-12)


def test_hessian_vector_product_matches_numpy(device):
    # f(x) = sum(x^3) + x.(A x) + sum(tanh x)
    # H = diag(6x) + A + A^T + diag(-2 tanh(x) (1 - tanh(x)^2))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    v = rng.standard_normal(3)
    values = np.array([0.3, -1.2, 2.0])
    x = _t(values, device)
    a_t = tg.Tensor(a, device=device)

    f = (x**3).sum() + x @ (a_t @ x) + x.tanh().sum()
    g = tg.grad(f, x, create_graph=True)
    hv = tg.grad((g * tg.Tensor(v, device=device)).sum(), x)

    th = np.tanh(values)
    grad_expected = 3 * values**2 + (a + a.T) @ values + (1 - th**2)
    hessian = np.diag(6 * values) + a + a.T + np.diag(-2 * th * (1 - th**2))
    np.testing.assert_allclose(g.numpy(), grad_expected, rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), hessian @ v, rtol=1e-10)


# ---- hooks ---------------------------------------------------------------------------------


def test_hook_sees_the_total_gradient_once(device):
    x = _t([1.0, 2.0, 3.0], device)
    y = x * 2.0
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    (y * y + y).sum().backward()  # dL/dy = 2y + 1 = 4x + 1
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 9.0, 13.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([5.0, 9.0, 13.0]))


def test_hook_replacement_propagates_to_upstream_leaves(device):
    x = _t([1.0, 2.0], device)
    y = x * 3.0
    y.register_hook(lambda g: tg.ones_like(g))  # pretend dL/dy = 1
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])  # 1 * d(3x)/dx


def test_hook_on_leaf_replaces_what_is_stored(device):
    x = _t([1.0, 2.0], device)
    x.register_hook(lambda g: g * 10.0)
    (x * x).sum().backward()  # 2x * 10
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])


def test_hook_handle_remove(device):
    x = _t([1.0, 2.0], device)
    calls = []

    def hook(g):
        calls.append(1)
        return g * 0.0

    handle = x.register_hook(hook)
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0])
    handle.remove()
    x.grad = None
    (x * 1.0).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_hook_returning_wrong_shape_is_a_clear_error(device):
    x = _t([1.0, 2.0], device)
    y = x * 3.0
    y.register_hook(lambda g: tg.ones(3, device=device))
    with pytest.raises(RuntimeError) as info:
        (y * y).sum().backward()
    message = str(info.value)
    assert "hook" in message and "(2,)" in message


# ---- grad mode ------------------------------------------------------------------------------


def test_no_grad_context_records_nothing(device):
    x = _t([1.0, 2.0], device)
    with tg.no_grad():
        y = x * 2.0 + 1.0
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    np.testing.assert_allclose(y.numpy(), [3.0, 5.0])


def test_no_grad_as_decorator(device):
    x = _t([1.0, 2.0], device)

    @tg.no_grad()
    def double(t):
        """doc"""
        return t * 2.0

    y = double(x)
    assert y.requires_grad is False and y.grad_fn is None
    assert double.__name__ == "double" and double.__doc__ == "doc"
    assert tg.is_grad_enabled()
    z = x * 2.0  # outside the function recording works again
    assert z.requires_grad and type(z.grad_fn).__name__ == "Mul"


def test_enable_grad_records_inside_no_grad(device):
    x = _t([1.0, 2.0], device)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 2.0
        z = x * 2.0
        assert not tg.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_grad_mode_restored_after_exceptions(device):
    x = _t([1.0, 2.0], device)
    with pytest.raises(ValueError):
        with tg.no_grad():
            raise ValueError("boom")
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fails()
    assert tg.is_grad_enabled()

    with tg.no_grad():
        with pytest.raises(ValueError):
            with tg.enable_grad():
                raise ValueError("boom")
        assert not tg.is_grad_enabled()
    assert (x * 2.0).requires_grad


# ---- tg.grad ------------------------------------------------------------------------------


def test_tg_grad_returns_gradients_without_touching_dot_grad(device):
    a = _t([1.0, 2.0], device)
    b = _t([3.0], device)
    a.grad = tg.Tensor([100.0, 100.0], device=device)  # must stay as it is
    mid = a * b
    mid.retain_grad()
    out = (mid * mid).sum()  # sum(a^2 b^2): d/da = 2 a b^2, d/db = 2 b sum(a^2)
    ga, gb = tg.grad(out, [a, b])
    np.testing.assert_allclose(ga.numpy(), [18.0, 36.0])
    np.testing.assert_allclose(gb.numpy(), [30.0])
    np.testing.assert_allclose(a.grad.numpy(), [100.0, 100.0])
    assert b.grad is None and mid.grad is None


def test_tg_grad_single_input_returns_a_tensor(device):
    x = _t([1.0, 2.0], device)
    g = tg.grad((x * x).sum(), x)
    assert isinstance(g, tg.Tensor)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_tg_grad_multiple_outputs_with_grad_outputs(device):
    a = _t([1.0, 2.0], device)
    b = _t([3.0, 4.0], device)
    y1 = a * b
    y2 = a + b * b
    w1 = tg.Tensor([1.0, -1.0], device=device)
    w2 = tg.Tensor([0.5, 2.0], device=device)
    ga, gb = tg.grad([y1, y2], [a, b], [w1, w2])
    # dL/da = w1 * b + w2,  dL/db = w1 * a + w2 * 2b
    np.testing.assert_allclose(ga.numpy(), [1 * 3 + 0.5, -1 * 4 + 2.0])
    np.testing.assert_allclose(gb.numpy(), [1 * 1 + 0.5 * 6, -1 * 2 + 2.0 * 8])
    assert a.grad is None and b.grad is None


def test_tg_grad_input_not_reached_gets_zeros(device):
    a = _t([1.0, 2.0], device)
    c = _t(np.ones((2, 2)), device)  # float64, not used
    ga, gc_ = tg.grad((a * a).sum(), [a, c])
    np.testing.assert_allclose(ga.numpy(), [2.0, 4.0])
    assert gc_.shape == (2, 2) and gc_.dtype == np.float64
    np.testing.assert_array_equal(gc_.numpy(), np.zeros((2, 2)))


def test_tg_grad_with_respect_to_an_intermediate(device):
    x = _t([1.0, 2.0], device)
    y = x * 3.0
    g = tg.grad((y * y).sum(), y)  # 2y
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])
    assert x.grad is None and y._grad is None  # y._grad: .grad of a non-leaf would warn


# ---- graph shapes: diamonds, reuse, shared gradients ------------------------------------------


def test_diamond_y_equals_x_times_x_plus_x(device):
    x = _t([1.0, -2.0, 0.5], device)
    (x * x + x).sum().backward()  # 2x + 1
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -3.0, 2.0])


def test_reuse_z_equals_a_plus_a(device):
    a = _t([1.0, 2.0], device)
    (a + a).backward(tg.Tensor([1.0, 3.0], device=device))
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 6.0])


class CountingIdentity(tg.Function):
    """out = x; counts how often backward runs (once per backward pass is right)."""

    calls = 0

    def forward(self, x):
        return x

    def backward(self, xp, grad, out, x):
        CountingIdentity.calls += 1
        return (grad,)


def test_many_stacked_diamonds_are_visited_once_per_node(device):
    # y <- 0.5 y + 0.5 y, 2000 times: dy/dx = 1, but there are 2**2000 paths, so each
    # node must pass on its gradient once, after all its users have added theirs.
    x = _t([1.0, 2.0], device)
    CountingIdentity.calls = 0
    y = CountingIdentity.apply(x)
    for _ in range(2000):
        y = y * 0.5 + y * 0.5
    y.sum().backward()
    assert CountingIdentity.calls == 1
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_two_leaves_given_one_gradient_do_not_share_memory(device):
    a = _t([1.0, 2.0], device)
    b = _t([3.0, 4.0], device)
    (a + b).sum().backward()
    a.grad.data[0] = 100.0
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_two_leaves_given_the_users_gradient_do_not_share_memory(device):
    a = _t([1.0, 2.0], device)
    b = _t([3.0, 4.0], device)
    upstream = tg.Tensor([5.0, 6.0], device=device)
    (a + b).backward(upstream)
    a.grad.data[0] = 100.0
    b.grad.data[1] = 200.0
    np.testing.assert_array_equal(b.grad.numpy(), [5.0, 200.0])
    np.testing.assert_array_equal(a.grad.numpy(), [100.0, 6.0])
    # ... nor with the gradient the caller passed in
    np.testing.assert_array_equal(upstream.numpy(), [5.0, 6.0])


def test_two_leaves_do_not_share_gradients_with_create_graph(device):
    a = _t([1.0, 2.0], device)
    b = _t([3.0, 4.0], device)
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    a.grad.data[0] = 100.0
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


# ---- deep graphs and memory ---------------------------------------------------------------------


def test_chain_of_100000_ops_backpropagates(device):
    factor = 1.0000001
    x = _t([1.0], device, dtype=np.float64)
    y = x
    for _ in range(50_000):
        y = y * factor
        y = y + 0.0
    y.sum().backward()  # no RecursionError
    expected = 1.0
    for _ in range(50_000):
        expected *= factor  # the same roundings as the chain rule's products
    np.testing.assert_allclose(x.grad.numpy(), [expected], rtol=1e-12)
    np.testing.assert_allclose(expected, factor**50_000, rtol=1e-9)
    ref = weakref.ref(y)
    del y  # freeing a 100,000-deep graph must not recurse either
    assert ref() is None


def test_dropping_the_loss_frees_the_graph_by_refcounting(device):
    x = _t([1.0, 2.0], device)
    gc.disable()  # the graph must be freed by reference counting alone (no cycles)
    try:
        mid = x * 2.0
        node = weakref.ref(mid.grad_fn)
        loss = (mid.exp() * mid).sum()
        del mid
        assert node() is not None  # the graph holds the node (not the tensor)
        del loss
        assert node() is None
        mid = x * 2.0
        node = weakref.ref(mid.grad_fn)
        loss = (mid.exp() * mid).sum()
        del mid
        loss.backward()
        assert node() is not None  # the structure outlives backward while loss lives
        del loss
        assert node() is None
    finally:
        gc.enable()


def test_the_graph_holds_no_intermediate_tensor(device):
    # A tensor the user dropped is gone at once: the graph links nodes to nodes, and a
    # node keeps arrays (only those its backward reads), never a Tensor.
    x = _t([1.0, 2.0], device)
    gc.disable()
    try:
        mid = x * 2.0
        tensor = weakref.ref(mid)
        loss = (mid.tanh() ** 2).sum()
        del mid
        assert tensor() is None
        loss.backward()
        assert tensor() is None and loss.grad_fn is not None
        np.testing.assert_allclose(
            x.grad.numpy(), 4 * np.tanh([2.0, 4.0]) * (1 - np.tanh([2.0, 4.0]) ** 2), rtol=1e-3
        )
    finally:
        gc.enable()


def test_memory_stays_flat_over_training_iterations(device):
    tg.manual_seed(0)
    # Arrays large enough that one iteration's graph (about 1 MB) dwarfs the small
    # caches NumPy fills while warming up; a graph kept alive per step would add as much.
    # Elementwise only: a large matmul would time multithreaded BLAS, not the engine.
    w = tg.randn(128, 256, device=device, requires_grad=True)
    b = tg.zeros(256, device=device, requires_grad=True)
    x = tg.randn(128, 256, device=device)
    peaks = {}
    tracemalloc.start()
    try:
        for step in range(1, 301):
            tracemalloc.reset_peak()
            h = (x * w + b).tanh()
            loss = ((h - 0.5) * (h - 0.5)).mean()
            loss.backward()
            with tg.no_grad():
                w -= w.grad * 0.01
                b -= b.grad * 0.01
            w.grad = None
            b.grad = None
            if step in (10, 300):
                peaks[step] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peaks[300] <= 1.5 * peaks[10], peaks


# ---- in-place changes -------------------------------------------------------------------------


def _inplace_add(w):
    w += 1.0


def _inplace_sub(w):
    w -= 0.5


def _inplace_mul(w):
    w *= 2.0


def _inplace_setitem(w):
    w[0] = 5.0


@pytest.mark.parametrize(
    "change", [_inplace_add, _inplace_sub, _inplace_mul, _inplace_setitem], ids=lambda f: f.__name__
)
def test_inplace_change_of_saved_tensor_before_backward_is_detected(device, change):
    w = _t([1.0, 2.0], device)
    x = _t([3.0, 4.0], device)
    y = (w * x).sum()
    with tg.no_grad():
        change(w)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "Mul" in message and "in place" in message


def test_inplace_change_of_a_saved_output_is_detected(device):
    x = _t([0.0, 1.0], device)
    y = x.exp()  # Exp's backward uses its output
    with tg.no_grad():
        y *= 2.0
    with pytest.raises(RuntimeError) as info:
        y.backward(tg.ones(2, device=device))
    message = str(info.value)
    assert "Exp" in message and "in place" in message


def test_inplace_change_through_detach_is_detected(device):
    # detach() shares memory, so changing it changes the values Mul saved (PyTorch
    # shares the version counter between a tensor and its detached alias).
    w = _t([1.0, 2.0], device)
    y = (w * w).sum()
    alias = w.detach()
    alias += 1.0
    with pytest.raises(RuntimeError, match="in place"):
        y.backward()


@pytest.mark.parametrize(
    "change", [_inplace_add, _inplace_sub, _inplace_mul, _inplace_setitem], ids=lambda f: f.__name__
)
def test_inplace_on_leaf_requiring_grad_raises_immediately(device, change):
    w = _t([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="in-place"):
        change(w)
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])


def test_inplace_after_backward_is_fine(device):
    w = _t([1.0, 2.0], device)
    x = _t([3.0, 4.0], device)
    (w * x).sum().backward()
    with tg.no_grad():
        w -= w.grad * 0.1  # w = [0.7, 1.6]
    w.grad = None
    (w * w).sum().backward()  # 2w
    np.testing.assert_allclose(w.grad.numpy(), [1.4, 3.2], rtol=1e-6)


# ---- anomaly detection ------------------------------------------------------------------------


def test_detect_anomaly_names_forward_op_making_inf(device):
    x = _t([0.0, 1.0], device)
    with np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError, match="Log"):
            with tg.detect_anomaly():
                x.log().sum().backward()
    assert x.grad is None


def test_detect_anomaly_names_backward_op_making_inf(device):
    x = _t([0.0, 4.0], device)
    with np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError) as info:
            with tg.detect_anomaly():
                y = x.sqrt()  # finite: [0, 2]
                (y * 3.0).sum().backward()  # d sqrt at 0 = inf
    message = str(info.value)
    assert "Sqrt" in message and "Mul" not in message


def test_detect_anomaly_names_backward_op_making_nan(device):
    x = _t([0.0, 4.0], device)
    with np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError, match="Sqrt"):
            with tg.detect_anomaly():
                (x.sqrt() * 0.0).sum().backward()  # 0 * inf = NaN


def test_no_anomaly_error_outside_the_context(device):
    x = _t([0.0, 4.0], device)
    with np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError):
            with tg.detect_anomaly():
                x.log()
        y = x.log()  # the mode was restored after the exception
        y.sum().backward()
    assert y.numpy()[0] == -np.inf
    assert x.grad.numpy()[0] == np.inf  # 1/x at 0
    np.testing.assert_allclose(x.grad.numpy()[1], 0.25)


# ---- leaves, grad_fn, detach --------------------------------------------------------------------


def test_is_leaf_and_grad_fn_names(device):
    x = _t([1.0, 2.0], device)
    c = _t([1.0, 2.0], device, requires_grad=False)
    assert x.is_leaf and x.grad_fn is None
    assert c.is_leaf
    cases = {
        "Mul": x * 2.0,
        "Add": x + c,
        "Sub": x - 1.0,
        "Div": x / 2.0,
        "Neg": -x,
        "Exp": x.exp(),
        "Sum": x.sum(),
        "MatMul": x @ c,
        "GetItem": x[0],
    }
    for name, t in cases.items():
        assert type(t.grad_fn).__name__ == name
        assert not t.is_leaf and t.requires_grad
    constant = c * 2.0  # nothing requires grad: no graph, a leaf
    assert constant.grad_fn is None and constant.is_leaf and not constant.requires_grad


def test_detach_shares_data_and_has_no_graph(device):
    x = _t([1.0, 2.0], device)
    y = x * 2.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [2.0, 4.0])
    d.data[0] = 9.0  # the same memory
    np.testing.assert_array_equal(y.numpy(), [9.0, 4.0])
    z = (d * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [9.0, 4.0])  # d is a constant


# ---- Pow at base 0: the true derivative, not 0 * inf -------------------------------------


@pytest.mark.filterwarnings("ignore:divide by zero")  # d(x**0.3)/dx at 0 is inf, truly
def test_pow_gradients_at_base_zero_are_zero_where_the_math_says_so(device):
    # x**0 is the constant 1, so d/dx is 0 even at x = 0; 0**y is 0 for y > 0, so d/dy
    # is 0 there (PyTorch gives the same).  The naive formulas give 0 * inf = nan.
    x = _t([0.0], device)
    y = _t([0.3], device)
    np.testing.assert_array_equal(tg.grad((x**0.0).sum(), x).numpy(), [0.0])
    np.testing.assert_array_equal(tg.grad((x**y).sum(), y).numpy(), [0.0])
    e = _t([0.5, 1.0, 2.0], device)
    np.testing.assert_array_equal(tg.grad((0.0**e).sum(), e).numpy(), [0.0, 0.0, 0.0])


def test_pow_gradients_away_from_zero_are_unchanged(device):
    x = _t([0.0, 0.5, 2.0], device, dtype="float64")
    y = _t([2.0, 0.0, 3.0], device, dtype="float64")
    grad_x, grad_y = tg.grad((x**y).sum(), (x, y))
    np.testing.assert_allclose(grad_x.numpy(), [0.0, 0.0, 12.0])  # y * x**(y - 1)
    np.testing.assert_allclose(grad_y.numpy(), [0.0, np.log(0.5), 8.0 * np.log(2.0)])
    # second order through the guarded formula: d2(x**2)/dx2 = 2, also at x = 0
    (g,) = (tg.grad((x**2.0).sum(), x, create_graph=True),)
    np.testing.assert_allclose(tg.grad(g.sum(), x).numpy(), [2.0, 2.0, 2.0])


# ---- nodes link to nodes: next_functions, what each op keeps, when it is freed -----------


def test_next_functions_lead_to_the_nodes_of_the_inputs(device):
    x = _t([1.0, 2.0], device)
    w = _t([0.5, -1.0], device)
    loss = ((x * w).tanh() ** 2).sum()
    pow_node = loss.grad_fn.next_functions[0][0]
    assert loss.grad_fn.name == "Sum" and pow_node.name == "Pow"
    (tanh_node, _), (constant, index) = pow_node.next_functions
    assert tanh_node.name == "Tanh" and constant is None and index == 0  # the exponent 2
    ((mul_node, _),) = tanh_node.next_functions
    (acc_x, _), (acc_w, _) = mul_node.next_functions
    assert isinstance(acc_x, AccumulateGrad) and acc_x.variable is x and acc_w.variable is w
    assert acc_x.next_functions == () and (acc_x.shape, mul_node.shape) == ((2,), (2,))
    loss.backward()  # a plain backward: the structure stays, only saved arrays go
    assert loss.grad_fn.next_functions[0][0] is pow_node
    assert pow_node.saved is None and mul_node.next_functions[1][0] is acc_w


def test_a_leaf_used_twice_has_one_accumulate_node(device):
    x = _t([1.0, 2.0], device)
    y = x * x + x
    (mul, _), (acc, _) = y.grad_fn.next_functions
    assert mul.next_functions == ((acc, 0), (acc, 0))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])


def _kept(node):
    """The names of the arguments of backward whose arrays a node keeps."""
    return [
        n for n, v in zip(("out", "x", "y"), node.saved) if isinstance(v, type(node.xp.zeros(0)))
    ]


def test_each_op_keeps_only_what_its_backward_reads(device):
    x = _t([1.0, 2.0], device)
    y = _t([3.0, 4.0], device)
    assert _kept((x + y).grad_fn) == []  # d/dx (x + y) = 1: nothing
    assert _kept(x.tanh().grad_fn) == ["out"]  # 1 - out**2
    assert _kept((x * 2.0).grad_fn) == ["y"]  # d/dx = the constant; x is not needed
    assert _kept((x * y).grad_fn) == ["x", "y"]  # each gradient reads the other input
    z = _t([3.0, 4.0], device, requires_grad=False)
    assert _kept((x * z).grad_fn) == ["y"]
    assert _kept(x.exp().grad_fn) == ["out"] and _kept(x.log().grad_fn) == ["x"]
    total = (x + y).sum()
    assert _kept(total.grad_fn) == []  # only the shape: the node of its input records it
    assert total.grad_fn.saved[1] is total.grad_fn.next_functions[0][0]
    assert total.grad_fn.saved[1].shape == (2,)
    w = _t([[1.0], [2.0]], device)
    assert (w * z).grad_fn.saved[1] is w._accumulator  # a leaf's shape: its AccumulateGrad


def test_a_chain_keeps_one_array_per_tanh_and_none_for_the_affine_steps(device):
    x = _t(np.linspace(-1, 1, 50), device)
    y = x
    for _ in range(20):
        y = (y * 1.005 + 0.001).tanh()
    kept = {}
    for node in topological_order(y.grad_fn):
        if not isinstance(node, AccumulateGrad):
            kept.setdefault(node.name, []).extend(_kept(node))
    assert kept == {"Tanh": ["out"] * 20, "Add": [], "Mul": ["y"] * 20}  # y: the 1.005


def test_saved_arrays_are_freed_as_soon_as_backward_has_used_them(device):
    # While backward is still running (a hook on x fires when x's gradient is complete,
    # which is after the ops behind it), the nodes already passed hold nothing.
    x = _t([1.0, 2.0], device)
    h = x.exp()
    seen = []
    h.register_hook(lambda g: seen.append((loss.grad_fn.saved, tanh.saved)))
    out = h.tanh()
    tanh = out.grad_fn
    loss = (out * out).sum()
    loss.backward()
    assert seen == [(None, None)]
    assert h.grad_fn.saved is None  # and Exp's own, after it ran


def test_retain_graph_keeps_the_saved_arrays(device):
    x = _t([1.0, 2.0], device)
    loss = x.tanh().sum()
    loss.backward(retain_graph=True)
    ((tanh, _),) = loss.grad_fn.next_functions
    assert _kept(tanh) == ["out"]


def test_a_dropped_intermediate_is_dead_after_backward_while_loss_lives(device):
    x = _t([1.0, 2.0], device)
    h = (x * 3.0).exp()
    ref = weakref.ref(h)
    loss = h.sum()
    del h
    loss.backward()
    assert ref() is None and loss.grad_fn is not None


def test_inplace_change_through_a_view_is_detected():
    # NumPy (and CuPy) arrays name the array a view shares memory with (`.base`); the
    # strict test backend wraps arrays and cannot, so this runs on the CPU only.
    w = _t([1.0, 2.0, 3.0], "cpu", requires_grad=False)
    v = _t([1.0, 1.0, 1.0], "cpu")
    loss = (w * v).sum()  # Mul keeps w (for v's gradient)
    view = w[1:]  # shares w's memory
    view += 1.0
    with pytest.raises(RuntimeError, match="Mul: input 0 .* modified in place"):
        loss.backward()


def test_a_reads_declaration_with_an_unknown_name_is_a_clear_error():
    class Bad(tg.Function):
        reads = {"grad_x": "z"}

        def forward(self, x):
            return x * 2

        def backward(self, xp, grad, out, x):
            return (grad * 2,)

    with pytest.raises(ValueError, match="Bad.reads: 'z' is not one of out, x, y"):
        Bad.apply(_t([1.0], "cpu"))


def test_a_users_op_without_reads_keeps_output_and_inputs():
    class Square(tg.Function):
        def forward(self, x):
            return x * x

        def backward(self, xp, grad, out, x):
            return (2 * x * grad,)

    x = _t([3.0], "cpu")
    y = Square.apply(x)
    assert _kept(y.grad_fn) == ["out", "x"]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0])


def test_max_keeps_a_boolean_mask_not_its_input_and_backward_drops_it(device):
    x = _t([[1.0, 5.0, 5.0], [2.0, 0.0, 1.0]], device)
    out = x.max(axis=1)
    node = out.grad_fn
    assert _kept(node) == [] and node.hit.dtype == bool  # one byte per element
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    assert node.saved is None and node.hit is None


def test_writing_through_data_bypasses_the_inplace_check_and_setitem_does_not(device):
    # README: `.data` is the raw array, the one way around the in-place check (as in
    # PyTorch); `t[...] = v` under no_grad is seen by it.
    w = _t([1.0, 2.0], device)
    loss = (w * w).sum()  # Mul keeps w's array
    w.data[0] = 3.0  # untracked: backward silently reads the new value
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 4.0])
    loss = (w * w).sum()
    with tg.no_grad():
        w[0] = 1.0
    with pytest.raises(RuntimeError, match="Mul: input 0 .* modified in place"):
        loss.backward()


def test_a_leaf_whose_data_changes_dtype_or_shape_between_graphs_gets_the_right_grad(device):
    # A leaf's AccumulateGrad outlives graphs; Module.to(dtype=) and `p.data = ...` replace
    # the array in between, and the next gradient must follow the new array.
    layer = tg.nn.Linear(2, 1).to(device)
    x32 = tg.Tensor(np.ones((3, 2), np.float32), device=device)
    layer(x32).sum().backward()
    layer.to(dtype=tg.float64)
    layer.zero_grad()
    layer(tg.Tensor(np.ones((3, 2)), device=device)).sum().backward()
    assert layer.weight.grad.dtype == np.float64
    np.testing.assert_allclose(layer.weight.grad.numpy(), [[3.0, 3.0]])
    w = _t([1.0, 2.0], device)
    (w * w).sum().backward()
    w.data = tg.Tensor([1.0, 2.0, 3.0], device=device).data
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0, 6.0])
