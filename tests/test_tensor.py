"""The Tensor section of docs API.md: construction, factories, attributes, conversions,
repr, dtype rules, indexing, numerical stability of the losses, and error messages.

Expected values come from NumPy (the same formula in float64) or from hand derivations
written next to them.
"""

import re

import numpy as np
import pytest

import tinygrad_edu as tg


def _stable_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def _stable_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))  # never overflows


# ---- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("data", [2.5, [1.0, 2.0], [[1.0], [2.5]], [1, 2.5]])
def test_python_floats_and_lists_become_float32(device, data):
    t = tg.Tensor(data, device=device)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.array(data, dtype=np.float32))


@pytest.mark.parametrize("data", [3, [1, 2], [[1, 2], [3, 4]]])
def test_python_ints_become_int64(device, data):
    t = tg.Tensor(data, device=device)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), np.array(data))


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]
)
def test_numpy_arrays_keep_their_dtype(device, dtype):
    array = np.array([[0, 1, 2], [3, 4, 5]]).astype(dtype)
    t = tg.Tensor(array, device=device)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), array)


def test_dtype_argument_converts(device):
    t = tg.Tensor([1, 2], dtype=tg.float32, device=device, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad
    assert tg.Tensor([1.5], dtype=tg.float64, device=device).dtype == np.float64


@pytest.mark.parametrize("data", [[1, 2], np.array([1, 2], dtype=np.int32), [True, False]])
def test_requires_grad_on_non_float_dtype_is_a_type_error(device, data):
    with pytest.raises(TypeError, match="dtype"):
        tg.Tensor(data, requires_grad=True, device=device)


def test_tensor_of_tensor_copies(device):
    x = tg.Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 2.0
    copy = tg.Tensor(y)
    assert copy.grad_fn is None and not copy.requires_grad and copy.is_leaf
    assert copy.dtype == y.dtype and copy.device == y.device
    copy.data[0] = 100.0
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(copy.numpy(), [100.0, 4.0])


def test_tensor_of_numpy_array_copies():
    # As torch.tensor(array): a later in-place update (an optimizer step) must not
    # change the caller's array.  Sharing memory is what tg.from_dlpack is for.
    array = np.array([1.0, 2.0], dtype=np.float32)
    w = tg.Tensor(array, requires_grad=True)
    with tg.no_grad():
        w -= 1.0
    np.testing.assert_array_equal(array, [1.0, 2.0])
    np.testing.assert_array_equal(w.numpy(), [0.0, 1.0])


def test_tensor_alias_tg_tensor(device):
    t = tg.tensor([1.0, 2.0], requires_grad=True, device=device, name="w")
    assert isinstance(t, tg.Tensor) and t.requires_grad and t.name == "w"
    assert t.dtype == np.float32


# ---- factories ------------------------------------------------------------------------------


@pytest.mark.parametrize("factory, value", [(tg.zeros, 0.0), (tg.ones, 1.0)])
def test_zeros_and_ones(device, factory, value):
    for t in (
        factory(2, 3, device=device),
        factory((2, 3), device=device),
        factory([2, 3], device=device),
    ):
        assert t.shape == (2, 3) and t.dtype == np.float32
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value))
    assert factory(4, device=device).shape == (4,)
    assert factory(2, device=device, dtype=tg.float64).dtype == np.float64
    assert factory(2, device=device, requires_grad=True).requires_grad


def test_full(device):
    t = tg.full((2, 3), 7.5, device=device)
    assert t.shape == (2, 3) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 7.5))
    assert tg.full(4, 1.5, device=device).shape == (4,)
    assert tg.full((2,), 3, dtype=tg.int64, device=device).dtype == np.int64


def test_zeros_like_and_ones_like_keep_shape_and_dtype(device):
    ints = tg.Tensor([[1, 2, 3]], device=device)
    doubles = tg.Tensor(np.ones((2, 2)), device=device)
    z = tg.zeros_like(ints)
    o = tg.ones_like(doubles)
    assert z.shape == (1, 3) and z.dtype == np.int64
    assert o.shape == (2, 2) and o.dtype == np.float64
    np.testing.assert_array_equal(z.numpy(), [[0, 0, 0]])
    np.testing.assert_array_equal(o.numpy(), np.ones((2, 2)))
    assert tg.zeros_like(doubles, dtype=tg.float32).dtype == np.float32


def test_arange_int_and_float(device):
    a = tg.arange(5, device=device)
    assert a.dtype == np.int64
    np.testing.assert_array_equal(a.numpy(), [0, 1, 2, 3, 4])
    b = tg.arange(2, 8, 2, device=device)
    np.testing.assert_array_equal(b.numpy(), [2, 4, 6])
    c = tg.arange(0, 1, 0.25, device=device)
    assert c.dtype == np.float32
    np.testing.assert_array_equal(c.numpy(), [0.0, 0.25, 0.5, 0.75])
    assert tg.arange(3.0, device=device).dtype == np.float32


def test_eye(device):
    t = tg.eye(3, device=device)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.eye(3))
    np.testing.assert_array_equal(tg.eye(2, 3, device=device).numpy(), np.eye(2, 3))


def test_rand_shape_dtype_and_range(device):
    tg.manual_seed(0)
    t = tg.rand(50, 40, device=device)
    values = t.numpy()
    assert t.shape == (50, 40) and t.dtype == np.float32
    assert values.min() >= 0.0 and values.max() < 1.0
    # uniform [0, 1): mean 1/2, standard error 0.29 / sqrt(2000) ~ 0.0065
    assert abs(values.mean() - 0.5) < 0.03
    assert len(np.unique(values)) > 1900
    assert tg.rand((2, 3), device=device, dtype=tg.float64).dtype == np.float64


def test_randn_shape_dtype_and_moments(device):
    tg.manual_seed(0)
    t = tg.randn(100, 40, device=device)
    values = t.numpy()
    assert t.shape == (100, 40) and t.dtype == np.float32
    # standard normal: mean 0 (standard error 0.016), std 1 (standard error 0.011)
    assert abs(values.mean()) < 0.08
    assert abs(values.std() - 1.0) < 0.06
    assert (values < 0).any() and (values > 0).any()


def test_manual_seed_repeats_rand_and_randn_exactly(device):
    tg.manual_seed(1234)
    first = (tg.rand(5, device=device).numpy(), tg.randn(2, 3, device=device).numpy())
    tg.manual_seed(1234)
    second = (tg.rand(5, device=device).numpy(), tg.randn(2, 3, device=device).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    tg.manual_seed(4321)
    other = tg.rand(5, device=device).numpy()
    assert not np.array_equal(first[0], other)


# ---- attributes ------------------------------------------------------------------------------


def test_attributes(device):
    t = tg.Tensor(np.zeros((2, 3, 4), dtype=np.float64), device=device, name="x")
    assert t.shape == (2, 3, 4) and type(t.shape) is tuple
    assert t.ndim == 3
    assert t.size == 24
    assert t.dtype == np.float64
    assert t.device == device
    assert t.name == "x"
    assert t.grad is None and t.grad_fn is None and t.is_leaf and not t.requires_grad
    assert len(t) == 2


def test_cpu_device_and_to_returns_itself():
    t = tg.Tensor([1.0, 2.0])
    assert t.device == "cpu"
    assert t.to("cpu") is t
    assert t.cpu() is t


def test_to_same_device_returns_itself(device):
    t = tg.Tensor([1.0, 2.0], device=device)
    assert t.to(device) is t


# ---- conversions ----------------------------------------------------------------------------


def test_numpy_item_tolist(device):
    t = tg.Tensor([[1.5, 2.0], [3.0, 4.0]], device=device)
    array = t.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    np.testing.assert_array_equal(array, [[1.5, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    one = tg.Tensor([[2.5]], device=device)
    assert one.item() == 2.5 and isinstance(one.item(), float)
    assert tg.Tensor(3, device=device).item() == 3
    assert isinstance(tg.Tensor(3, device=device).item(), int)


def test_item_on_more_than_one_element_is_an_error(device):
    t = tg.Tensor([1.0, 2.0], device=device)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        t.item()


def test_np_asarray_on_cpu():
    t = tg.Tensor([1.0, 2.0], requires_grad=True)
    array = np.asarray(t)
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    np.testing.assert_array_equal(array, [1.0, 2.0])


def test_astype_float64_is_differentiable(device):
    x = tg.Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x.astype(tg.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()  # 2x
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_astype_to_int_has_no_graph(device):
    x = tg.Tensor([1.7, -2.2], requires_grad=True, device=device)
    y = x.astype(tg.int64)
    assert y.dtype == np.int64 and not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), np.array([1.7, -2.2], dtype=np.float32).astype(int))


def test_dlpack_roundtrip_shares_memory():
    t = tg.Tensor([1.0, 2.0, 3.0])
    array = np.from_dlpack(t)
    np.testing.assert_array_equal(array, [1.0, 2.0, 3.0])
    t.data[0] = 10.0
    assert array[0] == 10.0  # a view, not a copy

    source = np.arange(4.0)
    back = tg.from_dlpack(source)
    assert isinstance(back, tg.Tensor) and back.dtype == np.float64
    source[1] = -5.0
    np.testing.assert_array_equal(back.numpy(), [0.0, -5.0, 2.0, 3.0])


# ---- repr ---------------------------------------------------------------------------------------


def test_repr_plain_float32():
    text = repr(tg.Tensor([1.0, 2.5]))
    assert "1." in text and "2.5" in text
    assert "dtype" not in text and "grad" not in text and "shape=" not in text


def test_repr_leaf_requiring_grad():
    assert "requires_grad=True" in repr(tg.Tensor([1.0], requires_grad=True))


def test_repr_grad_fn():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    text = repr(x * 3.0)
    assert "grad_fn=<Mul>" in text and "3." in text and "6." in text
    assert "requires_grad=True" not in text


def test_repr_shape_for_large_tensors():
    text = repr(tg.zeros(20, 30))
    assert "shape=(20, 30)" in text
    assert "shape=" not in repr(tg.zeros(2, 3))


def test_repr_dtype_when_not_float32():
    assert "float64" in repr(tg.Tensor(np.array([1.0, 2.0])))
    assert "int64" in repr(tg.Tensor([1, 2]))


# ---- comparisons and dtype rules ---------------------------------------------------------------


def test_comparisons_return_bool_tensors_without_graph(device):
    a_values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b_values = np.array([3.0, 2.0, 1.0], dtype=np.float32)
    a = tg.Tensor(a_values, requires_grad=True, device=device)
    b = tg.Tensor(b_values, requires_grad=True, device=device)
    results = {
        "==": (a == b, a_values == b_values),
        "!=": (a != b, a_values != b_values),
        "<": (a < b, a_values < b_values),
        "<=": (a <= b, a_values <= b_values),
        ">": (a > 2.0, a_values > 2.0),
        ">=": (a >= 2.0, a_values >= 2.0),
    }
    for op, (result, expected) in results.items():
        assert isinstance(result, tg.Tensor), op
        assert result.dtype == np.bool_, op
        assert not result.requires_grad and result.grad_fn is None, op
        np.testing.assert_array_equal(result.numpy(), expected, err_msg=op)


def test_python_scalars_keep_float32(device):
    x = tg.Tensor([1.0, 2.0], device=device)
    for result in (x * 2.0, 2.0 * x, x + 1, x - 0.5, 1.0 - x, x / 3.0, 3.0 / x, x**2, 2.0**x):
        assert result.dtype == np.float32


def test_int_tensor_with_python_float_follows_numpy(device):
    x = tg.Tensor([1, 2], device=device)
    expected = np.array([1, 2]) * 2.5
    result = x * 2.5
    assert result.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(result.numpy(), expected)
    assert (x * 2).dtype == (np.array([1, 2]) * 2).dtype == np.int64


def test_reflected_ops_with_numpy_array_on_the_left():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = np.array([2.0, 3.0, 4.0], dtype=np.float32)
    y = w * x
    assert isinstance(y, tg.Tensor) and type(y.grad_fn).__name__ == "Mul"
    z = (w + x) + (w - x) + w / x + (np.ones((2, 3), dtype=np.float32) @ x).sum()
    assert isinstance(z, tg.Tensor)
    (y.sum() + z.sum()).backward()
    # z = A + s with A = (w + x) + (w - x) + w / x (shape (3,)) and s = sum(ones(2, 3) @ x)
    # a scalar broadcast over 3 entries: d/dx sum(w x) = w, d/dx sum(A) = -w / x^2,
    # d/dx 3 s = 3 * 2 (each of the two rows of ones sums x).
    xs = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), w - w / xs**2 + 6.0, rtol=1e-6)


# ---- indexing -----------------------------------------------------------------------------------


def _grid(device, requires_grad=True):
    return tg.Tensor(
        np.arange(12.0).reshape(3, 4), requires_grad=requires_grad, device=device, dtype=np.float64
    )


def _index_cases():
    rows = np.array([0, 2, 0])
    return [
        ("int", 1),
        ("negative int", -1),
        ("two ints", (1, 2)),
        ("slices", (slice(1, None), slice(None, None, 2))),
        ("negative steps", (slice(None, None, -1), slice(None, None, -2))),
        ("ellipsis", (Ellipsis, 1)),
        ("int array repeated", rows),
        ("int arrays pair", (rows, np.array([1, 3, 1]))),
        ("int array and slice", (slice(None), np.array([3, 3]))),
        ("bool mask rows", np.array([True, False, True])),
        ("bool mask full", np.arange(12).reshape(3, 4) % 5 == 0),
    ]


@pytest.mark.parametrize("name, index", _index_cases(), ids=[c[0] for c in _index_cases()])
def test_indexing_values_and_gradients_match_numpy(device, name, index):
    values = np.arange(12.0).reshape(3, 4)
    x = _grid(device)
    if device == "cpu":
        tensor_index = index
    else:  # arrays in an index must live on the tensor's device, as with CuPy
        parts = index if isinstance(index, tuple) else (index,)
        moved = tuple(
            tg.Tensor(p, device=device) if isinstance(p, np.ndarray) else p for p in parts
        )
        tensor_index = moved if isinstance(index, tuple) else moved[0]
    out = x[tensor_index]
    expected = values[index]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)

    upstream = np.random.default_rng(0).standard_normal(expected.shape)
    out.backward(tg.Tensor(upstream, device=device))
    grad = np.zeros_like(values)
    np.add.at(grad, index, upstream)  # repeated indices add up
    np.testing.assert_array_equal(x.grad.numpy(), grad)


def test_none_adds_axes(device):
    x = _grid(device)
    assert x[None].shape == (1, 3, 4)
    assert x[:, None].shape == (3, 1, 4)
    assert x[None, 1].shape == (1, 4)
    np.testing.assert_array_equal(x[None, 1].numpy(), [[4.0, 5.0, 6.0, 7.0]])
    x[None, 1, None].sum().backward()
    expected = np.zeros((3, 4))
    expected[1] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_repeated_index_gradient_accumulates(device):
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0, 0.0])


def test_boolean_mask_from_a_comparison(device):
    x = _grid(device)
    picked = x[x > 5.0]
    np.testing.assert_array_equal(picked.numpy(), np.arange(6.0, 12.0))
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (np.arange(12.0).reshape(3, 4) > 5) * 1.0)


@pytest.mark.parametrize(
    "index", [5, -4, (0, 4), (slice(None), -5), [0, 3], (Ellipsis, 4)], ids=repr
)
def test_out_of_range_index_is_an_index_error_naming_the_shape(device, index):
    x = _grid(device, requires_grad=False)
    with pytest.raises(IndexError, match=re.escape("(3, 4)")):
        x[index]


def test_setitem_under_no_grad(device):
    x = _grid(device)
    with tg.no_grad():
        x[0, 0] = 100.0
        x[1] = tg.Tensor([-1.0, -2.0, -3.0, -4.0], device=device, dtype=np.float64)
        x[x > 9.0] = 0.0
        x[:, -1] = 7.0
    expected = np.arange(12.0).reshape(3, 4)
    expected[0, 0] = 100.0
    expected[1] = [-1.0, -2.0, -3.0, -4.0]
    expected[expected > 9.0] = 0.0
    expected[:, -1] = 7.0
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x.is_leaf and x.requires_grad


def test_setitem_on_tensor_without_grad(device):
    x = tg.zeros(2, 2, device=device)
    x[1, 1] = 5.0
    np.testing.assert_array_equal(x.numpy(), [[0.0, 0.0], [0.0, 5.0]])


# ---- numerical stability ------------------------------------------------------------------------

_LOGITS = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [3.0, 1.0, -2.0]])


def test_cross_entropy_with_huge_logits(device):
    logits = tg.Tensor(_LOGITS, requires_grad=True, device=device)
    target = np.array([1, 2, 0])
    loss = tg.cross_entropy(logits, tg.Tensor(target, device=device))
    log_probs = _stable_log_softmax(_LOGITS)
    expected = -log_probs[np.arange(3), target].mean()  # (2000 + log 2 + ...) / 3
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    loss.backward()
    onehot = np.eye(3)[target]
    expected_grad = (_stable_softmax(_LOGITS) - onehot) / 3
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy(), expected_grad, atol=1e-7)


def test_cross_entropy_float32_huge_logits(device):
    logits = tg.Tensor(_LOGITS.astype(np.float32), requires_grad=True, device=device)
    loss = tg.cross_entropy(logits, tg.Tensor([1, 2, 0], device=device))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.numpy()).all()
    expected = -_stable_log_softmax(_LOGITS)[np.arange(3), [1, 2, 0]].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)


def test_binary_cross_entropy_with_logits_huge_logits(device):
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    logits = tg.Tensor(x, requires_grad=True, device=device)
    loss = tg.binary_cross_entropy_with_logits(logits, tg.Tensor(y, device=device))
    # -[y log s + (1-y) log(1-s)] = softplus(x) - x y: [1000, 1000, 0, 0, softplus(-0.5)]
    expected = (np.logaddexp(0.0, x) - x * y).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.item(), (2000.0 + np.log1p(np.exp(-0.5))) / 5, rtol=1e-12)
    loss.backward()
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy(), (_sigmoid(x) - y) / 5, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_with_huge_logits(device, dtype):
    values = _LOGITS.astype(dtype)
    upstream = np.random.default_rng(0).standard_normal(values.shape)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)

    x = tg.Tensor(values, requires_grad=True, device=device)
    s = tg.softmax(x, axis=-1)
    expected_s = _stable_softmax(_LOGITS)
    np.testing.assert_allclose(s.numpy(), expected_s, **tol)
    s.backward(tg.Tensor(upstream.astype(dtype), device=device))
    # d softmax applied to g: s * (g - sum(g * s))
    expected_grad = expected_s * (upstream - (upstream * expected_s).sum(-1, keepdims=True))
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, **tol)

    x = tg.Tensor(values, requires_grad=True, device=device)
    ls = tg.log_softmax(x, axis=-1)
    expected_ls = _stable_log_softmax(_LOGITS)  # e.g. row 0: [0, -2000, -1000]
    assert np.isfinite(ls.numpy()).all()
    np.testing.assert_allclose(ls.numpy(), expected_ls, **tol)
    np.testing.assert_array_equal(expected_ls[0], [0.0, -2000.0, -1000.0])
    ls.backward(tg.Tensor(upstream.astype(dtype), device=device))
    # d log_softmax applied to g: g - softmax * sum(g)
    expected_grad = upstream - expected_s * upstream.sum(-1, keepdims=True)
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, **tol)


def test_logsumexp_of_two_thousands(device):
    x = tg.Tensor([1000.0, 1000.0], requires_grad=True, device=device, dtype=np.float64)
    out = x.logsumexp()
    np.testing.assert_allclose(out.item(), 1000.0 + np.log(2.0), rtol=1e-15)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])
    low = tg.Tensor([-1000.0, -1000.0], device=device).logsumexp()  # float32
    np.testing.assert_allclose(low.item(), -1000.0 + np.log(2.0), rtol=1e-6)


# ---- error messages name the op and the shapes ---------------------------------------------


def test_matmul_shape_mismatch_names_both_shapes(device):
    a = tg.ones(2, 3, device=device)
    b = tg.ones(4, 5, device=device)
    with pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert "(2, 3)" in message and "(4, 5)" in message and "matmul" in message.lower()


@pytest.mark.parametrize(
    "op, name",
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
    ],
    ids=["add", "sub", "mul", "div"],
)
def test_broadcasting_failure_names_the_op_and_both_shapes(device, op, name):
    a = tg.ones(2, 3, device=device, requires_grad=True)
    b = tg.ones(4, device=device)
    with pytest.raises((ValueError, RuntimeError)) as info:
        op(a, b)
    message = str(info.value)
    assert re.search(r"\(2,\s*3\)", message) and "(4,)" in message
    assert name in message.lower(), f"the message does not name the op: {message!r}"


def test_reshape_to_impossible_shape_names_both_shapes(device):
    x = tg.ones(2, 3, device=device)
    with pytest.raises(ValueError) as info:
        x.reshape(4, 2)
    message = str(info.value)
    assert "reshape" in message and "(2, 3)" in message and "(4, 2)" in message


def test_concatenate_mismatch_names_op_and_shapes(device):
    with pytest.raises(ValueError) as info:
        tg.concatenate([tg.ones(2, 3, device=device), tg.ones(2, 4, device=device)], axis=0)
    message = str(info.value)
    assert "concatenate" in message and "(2, 3)" in message and "(2, 4)" in message
    joined = tg.concatenate([tg.ones(2, 3, device=device), tg.ones(2, 4, device=device)], axis=1)
    assert joined.shape == (2, 7)


def test_stack_mismatch_names_op_and_shapes(device):
    with pytest.raises(ValueError) as info:
        tg.stack([tg.ones(2, 3, device=device), tg.ones(3, 2, device=device)])
    message = str(info.value)
    assert "stack" in message and "(2, 3)" in message and "(3, 2)" in message


def test_cross_entropy_with_float_targets_is_a_type_error(device):
    logits = tg.ones(2, 3, device=device, requires_grad=True)
    with pytest.raises(TypeError) as info:
        tg.cross_entropy(logits, tg.Tensor([0.0, 1.0], device=device))
    message = str(info.value)
    assert "dtype" in message and "float32" in message and "cross_entropy" in message


@pytest.mark.parametrize("bad", [3, -1])
def test_cross_entropy_with_out_of_range_targets(device, bad):
    logits = tg.ones(2, 3, device=device, requires_grad=True)
    with pytest.raises((IndexError, ValueError)) as info:
        tg.cross_entropy(logits, tg.Tensor([0, bad], device=device))
    message = str(info.value)
    assert "cross_entropy" in message and "3" in message


def test_mse_loss_with_different_shapes_names_both(device):
    with pytest.raises(ValueError) as info:
        tg.mse_loss(tg.ones(2, 3, device=device), tg.ones(3, device=device))
    message = str(info.value)
    assert "mse_loss" in message and "(2, 3)" in message and "(3,)" in message


# ---- indexing: arrays next to an Ellipsis, tuples as index sequences --------------------


@pytest.mark.parametrize(
    "index",
    [
        (np.array([0, 1]), Ellipsis),
        (Ellipsis, np.array([0, 1])),
        (0, Ellipsis, np.array([2, 0])),
        (np.array([1, 0]), Ellipsis, None),
        ((1, 0), 2),  # a tuple inside the index is a sequence, as in NumPy
        ((1, 0), Ellipsis, [3, 1]),
    ],
)
def test_index_arrays_next_to_ellipsis_and_tuples_match_numpy(index):
    values = np.arange(24.0).reshape(2, 3, 4)
    a = tg.Tensor(values)
    np.testing.assert_array_equal(a[index].numpy(), values[index])


def test_a_tensor_index_followed_by_ellipsis(device):
    values = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    a = tg.Tensor(values, device=device, requires_grad=True)
    index = tg.Tensor(np.array([1, 0, 1]), device=device)
    out = a[index, ...]
    assert out.shape == (3, 3, 4)
    np.testing.assert_array_equal(out.numpy(), values[[1, 0, 1], ...])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy()[:, 0, 0], [1.0, 2.0])


# ---- NumPy functions and in-place array updates on Tensors -------------------------------


def test_array_operators_on_the_left_keep_the_graph():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0], dtype=np.float32)
    for out in (a * w, a + w, a - w, a / w, a**w, np.float32(2.0) * w):
        assert isinstance(out, tg.Tensor) and out.grad_fn is not None
    np.testing.assert_array_equal((a - w).numpy(), [2.0, 2.0])
    np.testing.assert_array_equal((a < w).numpy(), [False, False])
    np.testing.assert_array_equal((a >= w).numpy(), [True, True])


def test_numpy_ufunc_on_a_tensor_says_what_to_use_instead():
    t = tg.Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"numpy\.exp .*t\.exp\(\).*t\.numpy\(\)"):
        np.exp(t)


def test_writing_a_tensor_into_data_in_place_says_what_to_write():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    before = w.data.copy()
    with pytest.raises(TypeError, match=r"with tg\.no_grad\(\): w -= lr \* w\.grad"):
        w.data -= 0.1 * w.grad
    np.testing.assert_array_equal(w.data, before)  # nothing was half-written


def test_device_prints_as_its_name():
    assert str(tg.zeros(1).device) == "cpu"
    assert repr(tg.zeros(1).device) == "device('cpu')"
    assert f"{tg.zeros(1).device}" == "cpu"
