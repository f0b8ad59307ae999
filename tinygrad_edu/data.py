"""Feeding data to a training loop: `TensorDataset` and `DataLoader`.

    dataset = TensorDataset(x, y)                 # rows of x and y belong together
    loader = DataLoader(dataset, batch_size=32, shuffle=True, seed=0)
    for xb, yb in loader:                         # one epoch
        loss = loss_fn(model(xb), yb)

A `TensorDataset` is batched without a Python loop over rows: each batch is one
integer-array index into every tensor's array, made on the tensors' own device, so a
batch of a GPU dataset never visits the host.  Any other dataset (anything with
`__len__` and `__getitem__` returning a tuple of numbers, arrays or Tensors) is batched
row by row, stacked with NumPy and wrapped in Tensors.

Batches are plain data: they never require a gradient and never belong to a graph.
What does not live here: the datasets themselves (datasets.py), saving (serialization.py).
"""

import numbers

import numpy

from . import backend
from .tensor import Tensor


class TensorDataset:
    """Rows of several tensors that belong together: `dataset[i]` is `(t0[i], t1[i], ...)`.

    TensorDataset(*tensors): every tensor (or anything `Tensor(...)` accepts, such as a
    NumPy array from `tg.datasets`) must have the same first dimension, the number of rows.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is 0-d (a single number); every tensor needs "
                    "a first dimension that counts the rows"
                )
        lengths = [t.shape[0] for t in tensors]
        if len(set(lengths)) != 1:
            shapes = ", ".join(f"tensor {i}: {t.shape}" for i, t in enumerate(tensors))
            raise ValueError(
                f"TensorDataset: all tensors need the same first dimension (number of rows), "
                f"got {shapes}"
            )
        self.tensors = tensors

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __repr__(self):
        shapes = ", ".join(str(t.shape) for t in self.tensors)
        return f"TensorDataset({len(self)} rows: {shapes})"


class DataLoader:
    """Iterate over a dataset in batches; each batch is a tuple of Tensors.

    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, seed=None)

    - Each field of a batch has the rows stacked along a new first axis:
      `(batch_size, *row_shape)`; the last batch is smaller unless `drop_last=True`.
    - `shuffle=True` visits the rows in a new random order every epoch.  The order comes
      from the loader's own NumPy Generator, seeded with `seed`; with `seed=None` the seed
      is drawn when the loader is made from tinygrad_edu's generator, so `tg.manual_seed(n)`
      before making the loader makes the whole run repeat.
    - `len(loader)` is the number of batches in one epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader needs a dataset with __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = None
        if self.shuffle:
            if seed is None:
                # Drawn once, here: a loader made after tg.manual_seed(n) repeats exactly,
                # and iterating does not disturb the numbers tg.randn draws later.
                seed = int(backend.generator(backend.CPU).integers(2**63))
            self.rng = numpy.random.default_rng(seed)

    def __len__(self):
        rows = len(self.dataset)
        if self.drop_last:
            return rows // self.batch_size
        return -(-rows // self.batch_size)  # ceiling division: the last batch may be short

    def __iter__(self):
        rows = len(self.dataset)
        if self.shuffle:
            order = self.rng.permutation(rows)  # a new order every epoch
        else:
            order = numpy.arange(rows)
        if isinstance(self.dataset, TensorDataset):
            return self._tensor_batches(order)
        return self._collated_batches(order)

    def _batch_bounds(self, rows):
        """(start, stop) of each batch, in order."""
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield start, min(start + self.batch_size, rows)

    def _tensor_batches(self, order):
        """Batches of a TensorDataset: one fancy index per tensor, on its own device."""
        tensors = self.dataset.tensors
        # The order goes to each device once per epoch; slicing it there per batch keeps
        # host-to-device copies out of the loop (and the strict test device refuses a host
        # index into a device array, as CuPy does).
        orders = {}
        for t in tensors:
            if t.device.name not in orders:
                orders[t.device.name] = t.device.from_host(order)
        for start, stop in self._batch_bounds(len(order)):
            batch = []
            for t in tensors:
                index = orders[t.device.name][start:stop]
                # Fancy indexing copies, so a batch never aliases the dataset; wrapping the
                # array directly keeps it out of any graph (batches never require grad).
                batch.append(Tensor._wrap(t.data[index], t.device))
            yield tuple(batch)

    def _collated_batches(self, order):
        """Batches of any other dataset: fetch rows one by one, stack each field with NumPy."""
        for start, stop in self._batch_bounds(len(order)):
            rows = [self._row(int(i)) for i in order[start:stop]]
            fields = len(rows[0])
            for position, row in enumerate(rows):
                if len(row) != fields:
                    raise ValueError(
                        f"DataLoader: row {int(order[start + position])} of the dataset has "
                        f"{len(row)} fields, but row {int(order[start])} has {fields}"
                    )
            yield tuple(_collate([row[k] for row in rows], k) for k in range(fields))

    def _row(self, index):
        row = self.dataset[index]
        # A dataset of single values (not tuples) gives batches of one field.
        if isinstance(row, (tuple, list)):
            return tuple(row)
        return (row,)

    def __repr__(self):
        return (
            f"DataLoader({len(self)} batches of {self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last})"
        )


def _collate(values, field):
    """Stack one field of several rows into a Tensor with a new first axis."""
    device = None
    if isinstance(values[0], Tensor):
        device = values[0].device  # the batch goes where the rows came from
        values = [v.numpy() if isinstance(v, Tensor) else v for v in values]
    try:
        array = numpy.stack([numpy.asarray(v) for v in values])
    except ValueError as error:
        shapes = sorted({numpy.shape(v) for v in values})
        raise ValueError(
            f"DataLoader: field {field} of the rows cannot be stacked into a batch "
            f"(shapes {shapes}): {error}"
        ) from None
    if array.dtype == object:
        raise TypeError(
            f"DataLoader: field {field} holds {type(values[0]).__name__} values; rows must "
            "hold numbers, NumPy arrays or Tensors"
        )
    if array.dtype == numpy.float64 and all(type(v) in (int, float) for v in values):
        array = array.astype(backend.DEFAULT_FLOAT)  # Python floats become float32, as in Tensor()
    return Tensor(array, device=device)
