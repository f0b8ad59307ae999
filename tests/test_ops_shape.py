"""Shape and indexing ops with PyTorch's names: flip, repeat, repeat_interleave, split,
chunk, roll, tril, triu, diagonal, unflatten, gather, scatter, scatter_add, masked_fill,
sort, argsort, topk, pad (negative widths, modes), F.pad, F.one_hot, full_like, linspace,
randint.

Forward values are compared with NumPy's own functions (numpy.flip, tile, repeat, roll,
tril, diagonal, take_along_axis, put_along_axis, add.at, pad, eye...) on inputs drawn by
the registry's samplers; gradients of gather/scatter/sort against values worked out by
hand; ops that carry no graph; and the errors bad input gets.  Gradients against finite
differences (first and second order) are checked for every registry entry in
tests/test_ops_gradcheck.py.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import op_inputs

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F
from tinygrad_edu.registry import BY_NAME


def _block(shape):
    """The slices that cut an array down to `shape` (the part an index of that shape
    covers, off its own axis)."""
    return tuple(slice(0, n) for n in shape)


def _off_axis_block(index_shape, dim):
    return tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index_shape))


def _split_reference(a, split_size_or_sections, dim):
    n = a.shape[dim]
    if isinstance(split_size_or_sections, int):
        cuts = list(range(split_size_or_sections, n, split_size_or_sections))
    else:
        cuts = list(np.cumsum(split_size_or_sections)[:-1])
    pieces = np.split(a, cuts, axis=dim)
    return np.concatenate([p * (i + 1) for i, p in enumerate(pieces)], axis=dim)


def _chunk_reference(a, chunks, dim):
    size = max(1, -(-a.shape[dim] // chunks))
    return _split_reference(a, size, dim)


def _gather_reference(a, dim, index):
    return np.take_along_axis(a[_off_axis_block(index.shape, dim % a.ndim)], index, dim)


def _scatter_reference(a, src, dim, index):
    out = a.copy()
    view = out[_off_axis_block(index.shape, dim % a.ndim)]  # a view: writes land in out
    np.put_along_axis(view, index, src[_block(index.shape)], dim)
    return out


def _scatter_value_reference(a, dim, index, value):
    return _scatter_reference(a, np.full(index.shape, value), dim, index)


def _scatter_add_reference(a, src, dim, index):
    """Written as loops over the index, the definition in PyTorch's docs."""
    out = a.copy()
    for place in np.ndindex(*index.shape):
        target = list(place)
        target[dim % a.ndim] = index[place]
        out[tuple(target)] += src[place]
    return out


def _sort_reference(a, dim, descending):
    values = np.sort(a, axis=dim)
    return np.flip(values, dim) if descending else values


def _topk_reference(a, k, dim, largest):
    values = np.sort(a, axis=dim)
    if largest:
        values = np.flip(values, dim)
    return np.take(values, np.arange(k), axis=dim)


_NUMPY_MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def _pad_reference(a, pad_width, mode, value):
    crop = tuple(slice(max(0, -b), n - max(0, -e)) for (b, e), n in zip(pad_width, a.shape))
    grow = [(max(0, b), max(0, e)) for b, e in pad_width]
    if mode == "constant":  # pad first, then crop: the other order, the same result
        padded = np.pad(a, grow, mode="constant", constant_values=value)
        return padded[
            tuple(
                slice(max(0, -b), n + max(0, b) + max(0, e) - max(0, -e))
                for (b, e), n in zip(pad_width, a.shape)
            )
        ]
    return np.pad(a[crop], grow, mode=_NUMPY_MODES[mode])


REFERENCES = {
    "flip": lambda a, dims: np.flip(a, dims),
    "repeat": lambda a, sizes: np.tile(a, sizes),
    "repeat_interleave": lambda a, repeats, dim: np.repeat(a, repeats, axis=dim),
    "split": _split_reference,
    "chunk": _chunk_reference,
    "roll": lambda a, shifts, dims: np.roll(a, shifts, axis=dims),
    "tril": lambda a, diagonal: np.tril(a, diagonal),
    "triu": lambda a, diagonal: np.triu(a, diagonal),
    "diagonal": lambda a, offset, dim1, dim2: np.diagonal(a, offset, dim1, dim2),
    "unflatten": lambda a, dim, sizes: a.reshape(
        a.shape[: dim % a.ndim] + sizes + a.shape[dim % a.ndim + 1 :]
    ),
    "gather": _gather_reference,
    "scatter": _scatter_reference,
    "scatter_value": _scatter_value_reference,
    "scatter_add": _scatter_add_reference,
    "masked_fill": lambda a, mask, value: np.where(mask, value, a),
    "masked_fill_tensor_value": lambda a, v, mask: np.where(mask, v, a),
    "sort": _sort_reference,
    "topk": lambda a, k, dim, largest: _topk_reference(a, k, dim, largest),
    "pad_modes": _pad_reference,
    "F.pad": _pad_reference,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_forward_matches_numpy(name, device):
    op = BY_NAME[name]

    @given(st.data())
    def check(data):
        tensors, params = data.draw(op_inputs(op, device))
        ours = op.call(*tensors, **params).numpy()
        arrays = [t.numpy() for t in tensors]
        expected = REFERENCES[name](*arrays, **params)
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)

    check()


def test_every_new_registry_entry_has_a_numpy_reference():
    # The registry's block of PyTorch-named shape ops runs from flip to F.pad: an entry
    # added there without a NumPy reference above fails here.
    names = list(BY_NAME)
    block = names[names.index("flip") : names.index("F.pad") + 1]
    missing = sorted(set(block) - set(REFERENCES))
    assert not missing, f"registry entries without a NumPy reference: {missing}"
    assert set(REFERENCES) <= set(BY_NAME)


# ---- gradients worked out by hand ---------------------------------------------------


def test_gather_gradient_adds_repeated_picks(device):
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, device=device)
    index = tg.Tensor([[0, 0], [2, 1]], device=device)
    out = x.gather(1, index)
    np.testing.assert_array_equal(out.numpy(), [[0.0, 0.0], [5.0, 4.0]])
    out.backward(tg.Tensor([[1.0, 10.0], [100.0, 1000.0]], device=device))
    # row 0 picks column 0 twice: 1 + 10; row 1 picks columns 2 and 1
    np.testing.assert_array_equal(x.grad.numpy(), [[11.0, 0.0, 0.0], [0.0, 1000.0, 100.0]])


def test_scatter_gradient_masks_self_and_gathers_src(device):
    x = tg.Tensor(np.zeros((2, 3)), requires_grad=True, device=device)
    src = tg.Tensor([[7.0, 8.0], [9.0, 5.0]], requires_grad=True, device=device, dtype=tg.float64)
    index = tg.Tensor([[1], [0]], device=device)  # only src[:, :1] is used
    out = x.scatter(1, index, src)
    np.testing.assert_array_equal(out.numpy(), [[0.0, 7.0, 0.0], [9.0, 0.0, 0.0]])
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out.backward(tg.Tensor(w, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 3.0], [0.0, 5.0, 6.0]])
    np.testing.assert_array_equal(src.grad.numpy(), [[2.0, 0.0], [4.0, 0.0]])


def test_scatter_add_repeated_indices_add(device):
    x = tg.Tensor([1.0, 1.0, 1.0], requires_grad=True, device=device)
    src = tg.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True, device=device)
    out = x.scatter_add(0, tg.Tensor([0, 0, 2, 0], device=device), src)
    np.testing.assert_array_equal(out.numpy(), [1.0 + 1 + 2 + 4, 1.0, 1.0 + 3])
    out.backward(tg.Tensor([10.0, 20.0, 30.0], device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(src.grad.numpy(), [10.0, 10.0, 30.0, 10.0])


def test_sort_and_topk_gradients_go_back_to_their_places(device):
    x = tg.Tensor([3.0, 1.0, 2.0], requires_grad=True, device=device)
    values, indices = x.sort()
    np.testing.assert_array_equal(indices.numpy(), [1, 2, 0])
    values.backward(tg.Tensor([10.0, 20.0, 30.0], device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 10.0, 20.0])
    x.grad = None
    top, where = x.topk(2)
    np.testing.assert_array_equal(top.numpy(), [3.0, 2.0])
    np.testing.assert_array_equal(where.numpy(), [0, 2])
    top.backward(tg.Tensor([1.0, 2.0], device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 2.0])


def test_split_pieces_send_gradients_to_their_slices(device):
    x = tg.Tensor(np.arange(5.0), requires_grad=True, device=device)
    first, second = tg.split(x, [2, 3])
    (first * 2.0).sum().backward()
    (second * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 3.0, 3.0, 3.0])
    assert [p.shape for p in x.chunk(2)] == [(3,), (2,)]
    assert [p.shape for p in x.split(2)] == [(2,), (2,), (1,)]


def test_pad_modes_gradient_adds_repeated_edges(device):
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    out = x.pad((2, 1), mode="replicate")  # [1, 1, 1, 2, 3, 3]
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 1.0, 2.0, 3.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_masked_fill_gives_the_tensor_value_the_filled_gradients(device):
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    value = tg.Tensor(5.0, requires_grad=True, device=device, dtype=np.float32)
    out = x.masked_fill(tg.Tensor([True, False, True], device=device), value)
    np.testing.assert_array_equal(out.numpy(), [5.0, 2.0, 5.0])
    out.backward(tg.Tensor([1.0, 2.0, 4.0], device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 0.0])
    assert value.grad.item() == 5.0


# ---- functions, aliases and ops with no graph ---------------------------------------


def test_free_functions_match_the_methods(device):
    a = np.arange(12.0).reshape(3, 4)
    x = tg.Tensor(a, device=device)
    index = tg.Tensor([[2, 0, 1, 0]], device=device)
    np.testing.assert_array_equal(tg.flip(x, 0).numpy(), np.flip(a, 0))
    np.testing.assert_array_equal(tg.roll(x, 1).numpy(), np.roll(a, 1))
    np.testing.assert_array_equal(tg.tril(x, -1).numpy(), np.tril(a, -1))
    np.testing.assert_array_equal(tg.triu(x).numpy(), np.triu(a))
    np.testing.assert_array_equal(tg.diagonal(x, 1).numpy(), np.diagonal(a, 1))
    np.testing.assert_array_equal(tg.unflatten(x, 1, (2, 2)).numpy(), a.reshape(3, 2, 2))
    np.testing.assert_array_equal(tg.repeat_interleave(x, 2).numpy(), np.repeat(a, 2))
    twice = x.repeat_interleave(tg.Tensor([2], device=device), dim=0).numpy()
    np.testing.assert_array_equal(twice, np.repeat(a, 2, axis=0))
    np.testing.assert_array_equal(tg.gather(x, 0, index).numpy(), [[8.0, 1.0, 6.0, 3.0]])
    scattered = tg.scatter(x, 0, index, value=-1.0).numpy()
    expected = a.copy()
    np.put_along_axis(expected, index.numpy(), -1.0, 0)
    np.testing.assert_array_equal(scattered, expected)
    added = tg.scatter_add(x, 0, index, tg.ones(1, 4, device=device, dtype=tg.float64))
    expected = a.copy()
    np.add.at(expected, (index.numpy()[0], np.arange(4)), 1.0)
    np.testing.assert_array_equal(added.numpy(), expected)
    filled = tg.masked_fill(x, x > 5, 0.0).numpy()
    np.testing.assert_array_equal(filled, np.where(a > 5, 0.0, a))
    np.testing.assert_array_equal(tg.sort(x, 0, True)[0].numpy(), np.flip(np.sort(a, 0), 0))
    np.testing.assert_array_equal(tg.argsort(-x).numpy(), np.argsort(-a, kind="stable"))
    np.testing.assert_array_equal(tg.topk(x, 1, 0)[0].numpy(), a[-1:])
    assert [p.shape for p in tg.chunk(x, 3, 1)] == [(3, 2), (3, 2)]
    assert x.repeat(2, 1, 1).shape == (2, 3, 4)


def test_indices_and_one_hot_carry_no_graph(device):
    x = tg.Tensor([[0.5, -1.0, 2.0]], requires_grad=True, device=device)
    for result in (x.argsort(), x.sort()[1], x.topk(2)[1], x.argsort(descending=True)):
        assert result.grad_fn is None and not result.requires_grad
        assert result.dtype == np.int64
    classes = tg.Tensor([[2, 0], [1, 1]], device=device)
    hot = F.one_hot(classes)
    assert hot.dtype == np.int64 and hot.grad_fn is None
    np.testing.assert_array_equal(hot.numpy(), np.eye(3, dtype=np.int64)[classes.numpy()])
    assert F.one_hot(classes, num_classes=5).shape == (2, 2, 5)
    np.testing.assert_array_equal(
        x.argsort(descending=True).numpy(), np.argsort(-x.numpy(), axis=-1)
    )


def test_functional_pad_takes_pytorch_widths_last_axis_first(device):
    a = np.arange(6.0).reshape(2, 3)
    x = tg.Tensor(a, device=device)
    # (left, right) of the last axis, then (top, bottom) of the one before
    out = F.pad(x, (1, 2, 0, 1), value=-1.0)
    np.testing.assert_array_equal(out.numpy(), np.pad(a, ((0, 1), (1, 2)), constant_values=-1))
    np.testing.assert_array_equal(
        F.pad(x, (1, 1), mode="reflect").numpy(), np.pad(a, ((0, 0), (1, 1)), mode="reflect")
    )
    np.testing.assert_array_equal(F.pad(x, (-1, 0)).numpy(), a[:, 1:])
    np.testing.assert_array_equal(
        x.pad(((0, 0), (2, 2)), mode="circular").numpy(), np.pad(a, ((0, 0), (2, 2)), "wrap")
    )


def test_full_like_linspace_randint(device):
    x = tg.ones(2, 3, device=device)
    filled = tg.full_like(x, 7.0)
    assert filled.shape == (2, 3) and filled.dtype == np.float32 and filled.device == x.device
    np.testing.assert_array_equal(filled.numpy(), np.full((2, 3), 7.0))
    np.testing.assert_allclose(
        tg.linspace(-1, 2, 7, device=device).numpy(), np.linspace(-1, 2, 7), rtol=1e-6
    )
    assert tg.linspace(0, 1, 5, dtype=tg.float64).dtype == np.float64
    tg.manual_seed(3)
    first = tg.randint(2, 9, (50,), device=device)
    tg.manual_seed(3)
    again = tg.randint(2, 9, size=(50,), device=device)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert first.dtype == np.int64 and first.numpy().min() >= 2 and first.numpy().max() < 9
    assert tg.randint(4, (3, 2), device=device).shape == (3, 2)  # randint(high, size)


# ---- errors: clear, at the user's call, naming op and shapes ------------------------


def test_gather_and_scatter_errors(device):
    x = tg.Tensor(np.zeros((2, 3)), device=device)
    with pytest.raises(TypeError, match=r"gather: index must be an integer tensor.*float"):
        x.gather(1, tg.Tensor([[0.0, 1.0]], device=device))
    with pytest.raises(IndexError, match=r"gather: index values must lie in \[0, 3\).*\(2, 3\)"):
        x.gather(1, tg.Tensor([[0, 3]], device=device))
    with pytest.raises(IndexError, match=r"gather: index values"):
        x.gather(0, tg.Tensor([[-1]], device=device))
    with pytest.raises(ValueError, match=r"gather: index of shape \(2,\).*\(2, 3\)"):
        x.gather(1, tg.Tensor([0, 1], device=device))
    with pytest.raises(ValueError, match=r"gather: index of shape \(3, 1\)"):
        x.gather(1, tg.Tensor([[0], [1], [0]], device=device))
    with pytest.raises(ValueError, match=r"gather: axis 2 is out of range"):
        x.gather(2, tg.Tensor([[0]], device=device))
    with pytest.raises(
        ValueError, match=r"scatter: src of shape \(1, 1\).*index of shape \(1, 2\)"
    ):
        x.scatter(1, tg.Tensor([[0, 1]], device=device), tg.Tensor([[1.0]], device=device))
    with pytest.raises(TypeError, match="scatter_add: src has dtype float32 but .* float64"):
        x.scatter_add(1, tg.Tensor([[0]], device=device), tg.ones(1, 1, device=device))
    with pytest.raises(TypeError, match="scatter: give src"):
        x.scatter(1, tg.Tensor([[0]], device=device))
    with pytest.raises(TypeError, match="scatter_add: src must be a Tensor"):
        x.scatter_add(1, tg.Tensor([[0]], device=device), 1.0)


def test_index_on_another_device_is_refused():
    x = tg.Tensor(np.zeros((2, 3)), device="strict")
    with pytest.raises(RuntimeError, match="gather: index is on cpu but the tensor is on strict"):
        x.gather(1, tg.Tensor([[0]]))
    # host data (a list, a NumPy array) is moved to the tensor's device, as indexing does
    assert x.gather(1, np.array([[0, 2]])).shape == (1, 2)
    assert x.gather(1, [[0, 2]]).device == x.device


def test_shape_op_errors(device):
    x = tg.Tensor(np.zeros((2, 3)), device=device)
    with pytest.raises(ValueError, match=r"repeat: sizes \(2,\).*\(2, 3\)"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats of shape \(2,\)"):
        x.repeat_interleave([1, 2], dim=1)
    with pytest.raises(TypeError, match="repeat_interleave: repeats must be integers"):
        x.repeat_interleave(1.5)
    with pytest.raises(ValueError, match=r"split: sections \[1, 1\] .* sum to 3.*\(2, 3\)"):
        x.split([1, 1], dim=1)
    with pytest.raises(ValueError, match="split: split_size must be positive"):
        x.split(0)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int"):
        x.chunk(0)
    with pytest.raises(ValueError, match="roll: 2 shifts for 1 dims"):
        x.roll((1, 2), 0)
    with pytest.raises(ValueError, match=r"tril: needs at least 2 dims.*\(3,\)"):
        tg.Tensor([1.0, 2.0, 3.0], device=device).tril()
    with pytest.raises(ValueError, match="diagonal: dim1 and dim2 must differ"):
        x.diagonal(0, 1, -1)
    with pytest.raises(ValueError, match=r"unflatten: sizes \(2, 2\) do not multiply to 3"):
        x.unflatten(1, (2, 2))
    with pytest.raises(ValueError, match=r"flip: axis 5 is out of range"):
        x.flip(5)
    with pytest.raises(TypeError, match="masked_fill: mask must be boolean"):
        x.masked_fill(tg.Tensor([1, 0, 1], device=device), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(3, 1\).*\(2, 3\)"):
        x.masked_fill(np.zeros((3, 1), dtype=bool), 0.0)
    with pytest.raises(ValueError, match=r"topk: k=4 must lie in \[0, 3\]"):
        x.topk(4)
    with pytest.raises(ValueError, match=r"sort: axis 2 is out of range"):
        x.sort(2)


def test_pad_and_factory_errors(device):
    x = tg.Tensor(np.zeros((2, 3)), device=device)
    with pytest.raises(ValueError, match="pad: mode must be 'constant', 'reflect'"):
        x.pad(1, mode="wrap")
    with pytest.raises(ValueError, match=r"pad: reflect padding of \(2, 2\).*\(2, 3\)"):
        x.pad(2, mode="reflect")
    with pytest.raises(ValueError, match=r"pad: circular padding of \(3, 3\).*at most 2"):
        x.pad(3, mode="circular")
    with pytest.raises(ValueError, match="pad: mode 'replicate' takes no value"):
        x.pad(1, value=3.0, mode="replicate")
    with pytest.raises(ValueError, match=r"pad: widths .* crop more than .*\(2, 3\)"):
        x.pad(((-2, -1), (0, 0)))
    with pytest.raises(ValueError, match=r"pad: pad \(1, 1, 1\) must hold"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match=r"one_hot: class values must lie in \[0, 2\)"):
        F.one_hot(tg.Tensor([0, 2], device=device), num_classes=2)
    with pytest.raises(TypeError, match="one_hot: needs an integer tensor"):
        F.one_hot(tg.Tensor([0.0, 1.0], device=device))
    with pytest.raises(ValueError, match="randint: need low < high"):
        tg.randint(3, 3, (2,))
    with pytest.raises(TypeError, match="randint: size is required"):
        tg.randint(0, 3)


def test_descending_sort_handles_the_smallest_integer_and_nan(device):
    ints = tg.Tensor(np.array([np.iinfo(np.int64).min, 0, 5]), device=device)
    np.testing.assert_array_equal(
        ints.sort(descending=True)[0].numpy(), [5, 0, np.iinfo(np.int64).min]
    )
    floats = tg.Tensor([1.0, float("nan"), 3.0], device=device)
    values, indices = floats.sort(descending=True)
    assert np.isnan(values.numpy()[0]) and indices.numpy()[0] == 1  # NaN first, as PyTorch
    np.testing.assert_array_equal(values.numpy()[1:], [3.0, 1.0])
