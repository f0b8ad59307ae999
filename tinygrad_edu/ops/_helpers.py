"""Shape helpers shared by the ops: `unbroadcast` and `normalize_axis`.

Both work on raw arrays and on Tensors alike (they use only `.shape`, `.sum` and
`.reshape`), so backward formulas can call them on either (see autograd.py).
"""


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size 1, so
    its gradient is the sum over those copies.  Example: x of shape (3, 1) broadcast
    to (2, 3, 4) gets grad summed over axis 0 (new) and axis 2 (size 1 in x).
    """
    if grad.shape == shape:
        return grad
    extra = len(grad.shape) - len(shape)
    if extra:  # leading axes x did not have
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if ones:  # axes where x had size 1
        grad = grad.sum(axis=ones, keepdims=True)
    return grad


def normalize_axis(axis, ndim, op="op"):
    """Turn `axis` (None, int or tuple, negatives allowed) into a sorted tuple of ints.

    None means every axis.  Out-of-range or repeated axes raise a clear error naming
    the op and the number of dimensions.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
        result.append(a % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def expand_reduced(grad, shape, axes, keepdims):
    """Put back the axes a reduction removed, so `grad` broadcasts against `shape`."""
    if keepdims or not axes:
        return grad
    kept = list(shape)
    for a in axes:
        kept[a] = 1
    return grad.reshape(tuple(kept))
