"""tg.data: TensorDataset and DataLoader — batch shapes and values, devices, shuffling
that is reproducible and new every epoch, drop_last, the row-by-row fallback for other
datasets, and clear errors.

Expected batches are computed with plain NumPy indexing of the source arrays.
"""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data


def _arrays(rows=10):
    x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
    y = np.arange(rows, dtype=np.int64) * 10
    return x, y


def _order_of(loader):
    """The row indices one epoch visits, read back from the y field (y = 10 * index)."""
    return np.concatenate([yb.numpy() for _, yb in loader]) // 10


# ---- TensorDataset ------------------------------------------------------------------------


def test_tensor_dataset_len_and_getitem(device):
    x, y = _arrays()
    dataset = data.TensorDataset(tg.Tensor(x, device=device), tg.Tensor(y, device=device))
    assert len(dataset) == 10
    row = dataset[3]
    assert isinstance(row, tuple) and len(row) == 2
    np.testing.assert_array_equal(row[0].numpy(), x[3])
    assert row[1].item() == 30
    rows = dataset[2:5]
    np.testing.assert_array_equal(rows[0].numpy(), x[2:5])


def test_tensor_dataset_accepts_numpy_arrays():
    x, y = _arrays()
    dataset = data.TensorDataset(x, y)
    assert all(isinstance(t, tg.Tensor) for t in dataset.tensors)
    np.testing.assert_array_equal(dataset[1][0].numpy(), x[1])


def test_tensor_dataset_mismatched_rows_is_a_clear_error():
    with pytest.raises(ValueError, match=r"same first dimension.*\(10, 3\).*\(9,\)"):
        data.TensorDataset(np.zeros((10, 3)), np.zeros(9))
    with pytest.raises(ValueError, match="0-d"):
        data.TensorDataset(np.zeros(3), np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        data.TensorDataset()


# ---- DataLoader over a TensorDataset --------------------------------------------------------


def test_batches_in_order_with_a_short_last_batch(device):
    x, y = _arrays(10)
    dataset = data.TensorDataset(tg.Tensor(x, device=device), tg.Tensor(y, device=device))
    loader = data.DataLoader(dataset, batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    for i, (xb, yb) in enumerate(batches):
        assert isinstance(xb, tg.Tensor) and isinstance(yb, tg.Tensor)
        assert xb.device == device and yb.device == device
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy(), x[4 * i : 4 * i + 4])
        np.testing.assert_array_equal(yb.numpy(), y[4 * i : 4 * i + 4])


def test_drop_last(device):
    x, y = _arrays(10)
    loader = data.DataLoader(
        data.TensorDataset(tg.Tensor(x, device=device), tg.Tensor(y, device=device)),
        batch_size=4,
        drop_last=True,
    )
    assert len(loader) == 2
    assert [xb.shape for xb, _ in loader] == [(4, 3), (4, 3)]
    assert len(data.DataLoader(data.TensorDataset(x), batch_size=5, drop_last=True)) == 2
    assert len(data.DataLoader(data.TensorDataset(x), batch_size=11, drop_last=True)) == 0
    assert len(data.DataLoader(data.TensorDataset(x), batch_size=11)) == 1


def test_batches_never_require_grad_and_do_not_alias_the_dataset(device):
    x, y = _arrays(6)
    source = tg.Tensor(x, device=device, requires_grad=True)
    loader = data.DataLoader(data.TensorDataset(source, tg.Tensor(y)), batch_size=3)
    xb, _ = next(iter(loader))
    assert not xb.requires_grad and xb.grad_fn is None
    xb.data[0, 0] = -1.0  # a batch is a copy: changing it leaves the dataset alone
    assert source.numpy()[0, 0] == 0.0


def test_shuffle_visits_every_row_once_in_a_new_order_each_epoch(device):
    x, y = _arrays(50)
    dataset = data.TensorDataset(tg.Tensor(x, device=device), tg.Tensor(y, device=device))
    loader = data.DataLoader(dataset, batch_size=8, shuffle=True, seed=3)
    first, second = _order_of(loader), _order_of(loader)
    assert sorted(first.tolist()) == list(range(50))
    assert sorted(second.tolist()) == list(range(50))
    assert first.tolist() != second.tolist()  # a new permutation every epoch
    assert first.tolist() != list(range(50))
    # x and y rows stay paired after shuffling
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy() // 10])


def test_shuffle_is_reproducible_with_a_seed(device):
    x, y = _arrays(30)
    dataset = data.TensorDataset(tg.Tensor(x, device=device), tg.Tensor(y, device=device))
    a = data.DataLoader(dataset, batch_size=7, shuffle=True, seed=11)
    b = data.DataLoader(dataset, batch_size=7, shuffle=True, seed=11)
    c = data.DataLoader(dataset, batch_size=7, shuffle=True, seed=12)
    epochs_a = [_order_of(a).tolist() for _ in range(3)]
    epochs_b = [_order_of(b).tolist() for _ in range(3)]
    assert epochs_a == epochs_b
    assert _order_of(c).tolist() != epochs_a[0]


def test_shuffle_without_seed_follows_manual_seed():
    x, y = _arrays(30)
    dataset = data.TensorDataset(x, y)
    tg.manual_seed(5)
    first = _order_of(data.DataLoader(dataset, batch_size=4, shuffle=True))
    tg.manual_seed(5)
    again = _order_of(data.DataLoader(dataset, batch_size=4, shuffle=True))
    tg.manual_seed(6)
    other = _order_of(data.DataLoader(dataset, batch_size=4, shuffle=True))
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


def test_tensor_dataset_is_batched_without_a_per_row_loop(monkeypatch):
    class Refuses(data.TensorDataset):
        def __getitem__(self, index):
            raise AssertionError("a TensorDataset must be batched by one index per batch")

    x, y = _arrays(20)
    batches = list(data.DataLoader(Refuses(x, y), batch_size=6, shuffle=True, seed=0))
    assert sum(xb.shape[0] for xb, _ in batches) == 20


# ---- DataLoader over any other dataset ------------------------------------------------------


class SquaresDataset:
    """Rows of mixed kinds: a Python float, a Python int, a NumPy vector."""

    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return self.rows

    def __getitem__(self, i):
        return float(i) / 2, i * i, np.full(2, i, dtype=np.float64)


def test_other_datasets_are_collated_with_numpy():
    loader = data.DataLoader(SquaresDataset(5), batch_size=2)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    halves, squares, vectors = batches[0]
    assert halves.dtype == np.float32  # Python floats become float32, as in tg.Tensor
    assert squares.dtype == np.int64
    assert vectors.dtype == np.float64  # NumPy arrays keep their dtype
    np.testing.assert_array_equal(halves.numpy(), [0.0, 0.5])
    np.testing.assert_array_equal(squares.numpy(), [0, 1])
    np.testing.assert_array_equal(vectors.numpy(), [[0.0, 0.0], [1.0, 1.0]])
    assert batches[2][0].shape == (1,)
    assert not any(t.requires_grad for batch in batches for t in batch)


def test_other_datasets_shuffle_reproducibly():
    a = data.DataLoader(SquaresDataset(20), batch_size=3, shuffle=True, seed=1)
    b = data.DataLoader(SquaresDataset(20), batch_size=3, shuffle=True, seed=1)
    squares_a = np.concatenate([batch[1].numpy() for batch in a])
    squares_b = np.concatenate([batch[1].numpy() for batch in b])
    np.testing.assert_array_equal(squares_a, squares_b)
    assert sorted(squares_a.tolist()) == [i * i for i in range(20)]
    assert squares_a.tolist() != [i * i for i in range(20)]


def test_rows_of_tensors_keep_their_device(device):
    class OnDevice:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return tg.Tensor([float(i), 1.0], device=device), i

    xb, ib = next(iter(data.DataLoader(OnDevice(), batch_size=4)))
    assert xb.device == device and xb.shape == (4, 2)
    np.testing.assert_array_equal(xb.numpy()[:, 0], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ib.numpy(), [0, 1, 2, 3])


def test_rows_that_cannot_be_stacked_are_a_clear_error():
    class Ragged:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (np.zeros(i + 1),)

    with pytest.raises(ValueError, match=r"field 0 .*cannot be stacked.*\(1,\).*\(2,\)"):
        list(data.DataLoader(Ragged(), batch_size=2))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_bad_batch_size_is_a_clear_error(batch_size):
    with pytest.raises((ValueError, TypeError), match="batch_size must be a positive int"):
        data.DataLoader(data.TensorDataset(np.zeros(3)), batch_size=batch_size)


def test_not_a_dataset_is_a_clear_error():
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        data.DataLoader(5)
